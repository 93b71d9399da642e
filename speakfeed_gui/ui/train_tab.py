"""Train tab: pick a dataset, set options, run `run_training_experiment` in a worker.

The form checks everything in place before Start is enabled: the dataset is checked as soon as
it is chosen (train_dataset.py), options and hyperparameters are validated with the core's own
rules. One run at a time; Cancel sets the core's CancelToken (the trainer leaves nothing behind).
The run's progress, log and results are shown by train_run.py.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.training.estimators import ESTIMATOR_NAMES
from speakfeed_gui.core.training.trainer import validate_options
from speakfeed_gui.ui.context import AppContext
from speakfeed_gui.ui.error_dialog import format_error, report_error
from speakfeed_gui.ui.hyperparam_form import HyperparamForm
from speakfeed_gui.ui.model_details import read_metadata
from speakfeed_gui.ui.train_dataset import DatasetPanel, dropped_dataset_in
from speakfeed_gui.ui.train_run import RunPanel
from speakfeed_gui.ui.validation import mark_invalid
from speakfeed_gui.ui.workers import Worker

log = logging.getLogger(__name__)
_TYPE_TITLES = {"random_forest": "Random forest", "logistic_regression": "Logistic regression",
                "gradient_boosting": "Gradient boosting", "svm": "Support vector machine", "mlp": "Neural network (MLP)"}


class TrainTab(QWidget):
    run_finished = Signal(str)
    run_failed = Signal(str)
    run_cancelled = Signal()
    dataset_checked = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.worker: Worker | None = None
        self.model_id = ""
        self._failure = ""
        self._hyper_by_type: dict[str, dict[str, Any]] = dict(self.context.setting("train/hyperparameters", {}))
        self.setAcceptDrops(True)
        self._build()
        self._restore()
        self.revalidate()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.dataset = DatasetPanel(self.context)
        self.dataset_edit, self.dataset_summary = self.dataset.edit, self.dataset.summary
        self.dataset.changed.connect(self.revalidate)
        self.dataset.checked.connect(self.dataset_checked)

        self.experiment_edit = QLineEdit()
        self.experiment_edit.setPlaceholderText("(defaults to the model type)")
        self.experiment_edit.setToolTip("1-64 letters, digits, '.', '_' or '-'; the models/ sub-folder")
        self.model_combo = QComboBox()
        for name in ESTIMATOR_NAMES:
            self.model_combo.addItem(_TYPE_TITLES.get(name, name), name)
        self.hyper_form = HyperparamForm()
        model_box = QGroupBox("Model")
        model_form = QFormLayout(model_box)
        model_form.addRow("Experiment name", self.experiment_edit)
        model_form.addRow("Model type", self.model_combo)
        model_form.addRow(self.hyper_form)

        self.test_fraction = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=0.5, singleStep=0.05, value=0.2)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=42)
        self.group_by_speaker = QCheckBox("Speaker-independent split")
        self.group_by_speaker.setToolTip("No speaker appears in both the training and the test clips")
        self.group_by_speaker.setChecked(True)
        self.cv_folds = QSpinBox(minimum=0, maximum=20, value=0)
        self.cv_folds.setSpecialValueText("off")
        self.cv_folds.setToolTip("0 = off, or 2 to 20 folds of cross-validation on the whole dataset")
        self.skip_bad = QCheckBox("Skip unusable files")
        self.skip_bad.setToolTip("Train on the usable clips and record the skipped ones in the metadata")
        eval_box = QGroupBox("Evaluation")
        eval_form = QFormLayout(eval_box)
        eval_form.addRow("Test fraction", self.test_fraction)
        eval_form.addRow("Seed", self.seed)
        eval_form.addRow("Cross-validation folds", self.cv_folds)
        eval_form.addRow(self.group_by_speaker)
        eval_form.addRow(self.skip_bad)

        self.form = QWidget()
        form_layout = QVBoxLayout(self.form)
        for box in (self.dataset, model_box, eval_box):
            form_layout.addWidget(box)
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(self.form.sizeHint().width() + scroll.verticalScrollBar().sizeHint().width() + 4)

        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #c62828;")
        self.start_button = QPushButton("Start training")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message_label, 1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addLayout(buttons)

        self.run_panel = RunPanel()
        panel = self.run_panel
        self.stage_label, self.progress_bar, self.log_view = panel.stage_label, panel.progress_bar, panel.log_view
        self.metrics, self.show_button, self.live_button = panel.metrics, panel.show_button, panel.live_button
        self.show_button.clicked.connect(lambda: self.context.show_model_requested.emit(self.model_id))
        self.live_button.clicked.connect(self.use_for_live)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(panel)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([500, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

        self.model_combo.currentIndexChanged.connect(self._on_model_type_changed)
        for signal in (self.experiment_edit.textChanged, self.test_fraction.valueChanged, self.seed.valueChanged,
                       self.cv_folds.valueChanged, self.skip_bad.toggled, self.hyper_form.changed):
            signal.connect(self.revalidate)

    # -- settings ---------------------------------------------------------------------------
    def _restore(self) -> None:
        s = self.context.setting
        model_type = str(s("train/model_type", ESTIMATOR_NAMES[0]))
        index = self.model_combo.findData(model_type)
        self.model_combo.blockSignals(True)
        self.model_combo.setCurrentIndex(max(index, 0))
        self.model_combo.blockSignals(False)
        self.hyper_form.set_model_type(self.model_type(), self._hyper_by_type.get(self.model_type()))
        self.experiment_edit.setText(str(s("train/experiment", "")))
        self.test_fraction.setValue(float(s("train/test_fraction", 0.2)))
        self.seed.setValue(int(s("train/seed", 42)))
        self.group_by_speaker.setChecked(bool(s("train/group_by_speaker", True)))
        self.cv_folds.setValue(int(s("train/cv_folds", 0)))
        self.skip_bad.setChecked(bool(s("train/skip_bad", False)))
        self.dataset.map_edit.setText(str(s("train/label_map", "")))
        dataset = str(s("train/dataset", ""))
        if dataset:
            self.set_dataset(dataset)

    def save_state(self) -> None:
        self._hyper_by_type[self.model_type()] = self.hyper_form.values()
        values = {
            "train/dataset": self.dataset.text(), "train/experiment": self.experiment_edit.text(),
            "train/model_type": self.model_type(), "train/hyperparameters": self._hyper_by_type,
            "train/test_fraction": self.test_fraction.value(), "train/seed": self.seed.value(),
            "train/group_by_speaker": self.group_by_speaker.isChecked(), "train/cv_folds": self.cv_folds.value(),
            "train/skip_bad": self.skip_bad.isChecked(), "train/label_map": self.dataset.map_edit.text(),
        }
        for key, value in values.items():
            self.context.set_setting(key, value)

    # -- dataset ---------------------------------------------------------------------------
    def model_type(self) -> str:
        return str(self.model_combo.currentData())

    def set_dataset(self, path: str | Path) -> None:
        """Use this dataset and check it now (picker, drop, restore, tests)."""
        self.dataset.set_path(path)

    @property
    def check_worker(self) -> Worker | None:
        """The running dataset check, if any."""
        return self.dataset.check_worker

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if not self.running() and dropped_dataset_in(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_dataset_in(event.mimeData())
        if path and not self.running():
            self.set_dataset(path)
            event.acceptProposedAction()

    # -- validation -------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every reason Start is disabled, in form order (each bad field is flagged in place)."""
        dataset_problem = self.dataset.problem(self.skip_bad.isChecked())
        found = [dataset_problem] if dataset_problem else []
        name = self.experiment_edit.text().strip() or self.model_type()
        for widget, args in ((self.experiment_edit, (name, 0.2, 0, 0)),
                             (self.test_fraction, ("x", self.test_fraction.value(), 0, 0)),
                             (self.cv_folds, ("x", 0.2, self.cv_folds.value(), 0)),
                             (self.seed, ("x", 0.2, 0, self.seed.value()))):
            try:
                validate_options(*args)
                mark_invalid(widget, "")
            except SpeakFeedError as exc:
                mark_invalid(widget, str(exc))
                found.append(str(exc))
        hyper_problem = self.hyper_form.validate()
        if hyper_problem:
            found.append(hyper_problem)
        return found

    def revalidate(self) -> None:
        problems = self.problems()
        running = self.running()
        more = f" (+{len(problems) - 1} more: see the red fields)" if len(problems) > 1 else ""
        self.message_label.setText(problems[0] + more if problems and not running else "")
        self.start_button.setEnabled(not problems and not running)

    def _on_model_type_changed(self) -> None:
        previous = self.hyper_form.model_type
        if previous:
            self._hyper_by_type[previous] = self.hyper_form.values()
        self.hyper_form.set_model_type(self.model_type(), self._hyper_by_type.get(self.model_type()))

    # -- running ----------------------------------------------------------------------------
    def running(self) -> bool:
        return self.worker is not None and self.worker.running

    def start(self) -> Worker | None:
        """Start a training run with the form's values (no-op while a run is active or invalid)."""
        if self.running():
            return None
        problems = self.problems()
        if problems:
            self.message_label.setText(problems[0])
            return None
        self.save_state()
        options: dict[str, Any] = {
            "experiment_name": self.experiment_edit.text().strip() or None,
            "workspace": self.context.workspace,
            "test_fraction": self.test_fraction.value(),
            "seed": self.seed.value(),
            "group_by_speaker": self.group_by_speaker.isChecked(),
            "cv_folds": self.cv_folds.value(),
            "skip_bad": self.skip_bad.isChecked(),
            "label_map": self.dataset.label_map() or None,
        }
        dataset, model_type, params = self.dataset.text(), self.model_type(), self.hyper_form.values()

        def work(progress: Any, cancel: Any) -> str:
            from speakfeed_gui.core.training.trainer import run_training_experiment

            return run_training_experiment(dataset, model_type, params, progress=progress, cancel=cancel, **options)

        self.worker = Worker(work, name="training", parent=self)
        self.worker.progress.connect(self.run_panel.show_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.done.connect(self._on_done)
        self.model_id, self._failure = "", ""
        self.run_panel.begin(model_type, dataset)
        self.context.track(self.worker, "Training")
        self.worker.start()
        self._set_running(True)
        return self.worker

    def cancel(self) -> None:
        if self.running():
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.run_panel.show_cancelling()

    def _set_running(self, running: bool) -> None:
        self.form.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.setAcceptDrops(not running)
        self.revalidate()

    def _on_finished(self, model_id: str) -> None:
        self.model_id = str(model_id)
        self.context.notify_registry_changed()
        try:
            entry = self.context.registry().get_model_info(self.model_id)
            metadata, problem = read_metadata(entry)
        except SpeakFeedError as exc:
            metadata, problem = {}, str(exc)
        self.run_panel.show_registered(self.model_id, metadata.get("evaluation_results"), problem)
        self.context.status_message.emit(f"Trained model {self.model_id[:8]}")
        self.run_finished.emit(self.model_id)

    def _on_failed(self, exc: BaseException) -> None:
        message = format_error(exc)[0]
        self.run_panel.show_failed(message)
        self._failure = message
        report_error(exc, title="Training failed")
        self.run_failed.emit(message)

    def _on_cancelled(self) -> None:
        self.run_panel.show_cancelled()
        self.run_cancelled.emit()

    def _on_done(self) -> None:
        self.run_panel.end(bool(self.model_id))
        self._set_running(False)
        if self._failure:
            self.message_label.setText(self._failure)

    def use_for_live(self) -> None:
        if self.model_id:
            self.context.use_for_live(self.model_id, configured=False)
