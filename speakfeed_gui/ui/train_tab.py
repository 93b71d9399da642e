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
from speakfeed_gui.core.training.trainer import check_option
from speakfeed_gui.ui.context import AppContext
from speakfeed_gui.ui.error_dialog import format_error, report_error
from speakfeed_gui.ui.hyperparam_form import HyperparamForm
from speakfeed_gui.ui.model_details import read_metadata
from speakfeed_gui.ui.train_dataset import DatasetPanel, dropped_dataset_in
from speakfeed_gui.ui.train_run import RunPanel
from speakfeed_gui.ui.validation import check_field, mark_invalid
from speakfeed_gui.ui.workers import Worker

log = logging.getLogger(__name__)
_TYPE_TITLES = {"random_forest": "Random forest", "logistic_regression": "Logistic regression",
                "gradient_boosting": "Gradient boosting", "svm": "Support vector machine", "mlp": "Neural network (MLP)"}


_FEATURES_TIP = ("Feature set: empty for the built-in sf-prosody-mfcc, or ssl:<model folder or hub id>[@layer] "
                 "for the mean-pooled hidden states of a wav2vec2/HuBERT/WavLM model")


class CvSpinBox(QSpinBox):
    """The cross-validation field: "leave one speaker out", "off", or 2 to 20 speaker-grouped folds.

    One field, as the CLI's `--cv loso|0|N`: the value -1 stands for leave-one-speaker-out.
    """

    LOSO_TEXT = "leave one speaker out"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, minimum=-1, maximum=20, value=0)
        self.setToolTip("Leave one speaker out, off, or 2 to 20 folds; the predictions of all folds are pooled "
                        "(UAR, confusion matrix, per-speaker accuracy)")
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(self.LOSO_TEXT) + 40)

    def textFromValue(self, value: int) -> str:
        return self.LOSO_TEXT if value < 0 else "off" if value == 0 else f"{value} folds"

    def valueFromText(self, text: str) -> int:
        text = text.strip().lower()
        if text.startswith("l"):
            return -1
        digits = "".join(ch for ch in text if ch.isdigit())
        return int(digits) if digits else 0

    def validate(self, text: str, pos: int):  # noqa: ANN201 - Qt's (state, text, pos) tuple
        from PySide6.QtGui import QValidator

        lowered = text.strip().lower()
        if lowered in (self.LOSO_TEXT, "off"):
            return QValidator.State.Acceptable, text, pos
        if not lowered or self.LOSO_TEXT.startswith(lowered) or "off".startswith(lowered):
            return QValidator.State.Intermediate, text, pos
        number = lowered.removesuffix("folds").removesuffix("fold").strip()
        if number.isdigit() and int(number) <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Invalid, text, pos

    def cv(self) -> int | str:
        """The trainer's `cv_folds`: "loso" or a fold count (0: off)."""
        return "loso" if self.value() < 0 else self.value()

    def set_cv(self, value: object) -> None:
        try:
            self.setValue(-1 if str(value).lower() == "loso" else int(value))  # type: ignore[call-overload]
        except (TypeError, ValueError):
            self.setValue(0)


class TrainTab(QWidget):
    run_finished = Signal(str)
    run_failed = Signal(str)
    run_cancelled = Signal()
    dataset_checked = Signal()
    trial_reported = Signal(object)
    data_shown = Signal()  # a search trial's record, emitted from the worker thread (queued)

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
        self.features_edit = QLineEdit()
        self.features_edit.setPlaceholderText("sf-prosody-mfcc (built-in)")
        self.features_edit.setToolTip(_FEATURES_TIP)
        model_box = QGroupBox("Model")
        model_form = QFormLayout(model_box)
        model_form.addRow("Experiment name", self.experiment_edit)
        model_form.addRow("Feature set", self.features_edit)
        model_form.addRow("Model type", self.model_combo)
        model_form.addRow(self.hyper_form)
        self.search_check = QCheckBox("Search hyperparameters")
        self.search_check.setToolTip(
            "Try many values of the parameters above (Optuna) and keep the best by the pooled cross-validated UAR; "
            "needs cross-validation (leave one speaker out or folds). The best model is registered with every trial."
        )
        self.trials_spin = QSpinBox(minimum=1, maximum=1000, value=20)
        self.trials_spin.setSuffix(" trials")
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_check)
        search_row.addWidget(self.trials_spin)
        search_row.addStretch(1)
        model_form.addRow(search_row)

        self.test_fraction = QDoubleSpinBox(decimals=2, minimum=0.05, maximum=0.5, singleStep=0.05, value=0.2)
        self.seed = QSpinBox(minimum=0, maximum=2**31 - 1, value=42)
        self.group_by_speaker = QCheckBox("Speaker-independent split")
        self.group_by_speaker.setToolTip("No speaker appears in both the training and the test clips")
        self.group_by_speaker.setChecked(True)
        self.cv_folds = CvSpinBox()
        self.normalize_combo = QComboBox()
        self.normalize_combo.addItem("None (one scaling for all)", "none")
        self.normalize_combo.addItem("Per speaker (z-score within each voice)", "speaker")
        self.normalize_combo.setToolTip(
            "Per speaker: every feature relative to that speaker's own typical values; stored with the model, "
            "which then learns a live speaker's statistics as the talk goes on. Needs a speaker for every clip."
        )
        self.importance_check = QCheckBox("Permutation feature importance")
        self.importance_check.setToolTip("After training, shuffle each feature of the held-out clips and record how "
                                         "much the UAR drops")
        self.skip_bad = QCheckBox("Skip unusable files")
        self.skip_bad.setToolTip("Train on the usable clips and record the skipped ones in the metadata")
        eval_box = QGroupBox("Evaluation")
        eval_form = QFormLayout(eval_box)
        eval_form.addRow("Test fraction", self.test_fraction)
        eval_form.addRow("Seed", self.seed)
        eval_form.addRow("Cross-validation", self.cv_folds)
        eval_form.addRow("Normalisation", self.normalize_combo)
        eval_form.addRow(self.group_by_speaker)
        eval_form.addRow(self.importance_check)
        eval_form.addRow(self.skip_bad)

        self.data_button = QPushButton("Look at the data…")
        self.data_button.setToolTip("Clips per label and speaker, the duration histogram and a PCA projection "
                                    "of the features coloured by label")
        self.data_button.clicked.connect(self.show_data)
        self.data_dialog: Any = None
        self.data_worker: Worker | None = None
        self.form = QWidget()
        form_layout = QVBoxLayout(self.form)
        form_layout.addWidget(self.dataset)
        form_layout.addWidget(self.data_button, 0, Qt.AlignmentFlag.AlignRight)
        for box in (model_box, eval_box):
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
        self.search_check.toggled.connect(self._on_search_toggled)
        self.trial_reported.connect(self.run_panel.show_trial)
        for signal in (self.experiment_edit.textChanged, self.features_edit.textChanged, self.test_fraction.valueChanged, self.seed.valueChanged,
                       self.cv_folds.valueChanged, self.skip_bad.toggled, self.hyper_form.changed,
                       self.search_check.toggled):
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
        self.features_edit.setText(str(s("train/features", "")))
        self.test_fraction.setValue(float(s("train/test_fraction", 0.2)))
        self.seed.setValue(int(s("train/seed", 42)))
        self.group_by_speaker.setChecked(bool(s("train/group_by_speaker", True)))
        self.cv_folds.set_cv(s("train/cv_folds", "0"))
        self.normalize_combo.setCurrentIndex(max(0, self.normalize_combo.findData(str(s("train/normalize", "none")))))
        self.skip_bad.setChecked(bool(s("train/skip_bad", False)))
        self.trials_spin.setValue(int(s("train/trials", 20)))
        self.search_check.setChecked(bool(s("train/search", False)))
        self._on_search_toggled()
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
            "train/group_by_speaker": self.group_by_speaker.isChecked(), "train/cv_folds": str(self.cv_folds.cv()),
            "train/skip_bad": self.skip_bad.isChecked(), "train/normalize": self.normalize(),
            "train/search": self.searching(), "train/features": self.features_edit.text().strip(), "train/trials": self.trials_spin.value(),
            "train/label_map": self.dataset.map_edit.text(),
        }
        for key, value in values.items():
            self.context.set_setting(key, value)

    # -- dataset ---------------------------------------------------------------------------
    def model_type(self) -> str:
        return str(self.model_combo.currentData())

    def normalize(self) -> str:
        return str(self.normalize_combo.currentData())

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
        for widget, option, value in ((self.experiment_edit, "experiment_name", name),
                                      (self.test_fraction, "test_fraction", self.test_fraction.value()),
                                      (self.cv_folds, "cv_folds", self.cv_folds.cv()),
                                      (self.seed, "seed", self.seed.value())):
            problem = check_field(widget, lambda o=option, v=value: check_option(o, v))
            if problem:
                found.append(problem)
        hyper_problem = self.hyper_form.validate()
        if hyper_problem:
            found.append(hyper_problem)
        from speakfeed_gui.core.features.sets import parse_spec

        problem = check_field(self.features_edit, lambda: parse_spec(self.features_edit.text().strip() or None),
                              tooltip=_FEATURES_TIP)
        if problem:  # syntax only: a model loads in the worker
            found.append(problem)
        if self.searching() and self.cv_folds.cv() == 0:
            problem = "a search needs cross-validation: choose leave one speaker out or 2 to 20 folds"
            mark_invalid(self.cv_folds, problem)
            found.append(problem)
        try:
            read_only = self.context.registry().read_only  # registry.maintainers, a folder the user cannot write
        except SpeakFeedError:
            read_only = None
        if read_only:
            found.append(f"Read-only registry: {read_only}")
        return found

    def show_data(self) -> Worker | None:
        """Explore the chosen dataset in the background, then show the data window."""
        if self.data_worker is not None and self.data_worker.running:
            return None
        dataset, normalize, workspace = self.dataset.text(), self.normalize(), self.context.workspace

        def work(progress: Any, cancel: Any) -> Any:
            from speakfeed_gui.core.training.explore import explore_dataset

            return explore_dataset(dataset, workspace=workspace, normalize=normalize, progress=progress, cancel=cancel)

        self.data_worker = Worker(work, name="explore dataset", parent=self)
        self.data_worker.finished.connect(lambda overview: self._on_explored(overview, dataset))
        self.data_worker.failed.connect(lambda exc: report_error(exc, title="Cannot look at the data"))
        self.data_worker.done.connect(lambda: self.data_button.setEnabled(True))
        self.data_button.setEnabled(False)
        self.data_worker.start()
        return self.data_worker

    def _on_explored(self, overview: Any, dataset: str) -> None:
        from speakfeed_gui.ui.data_view import DataDialog

        if self.data_dialog is None:
            self.data_dialog = DataDialog(self)
        self.data_dialog.view.set_overview(overview, Path(dataset).name)
        self.data_dialog.show()
        self.data_dialog.raise_()
        self.data_shown.emit()

    def revalidate(self) -> None:
        problems = self.problems()
        running = self.running()
        more = f" (+{len(problems) - 1} more: see the red fields)" if len(problems) > 1 else ""
        self.message_label.setText(problems[0] + more if problems and not running else "")
        self.start_button.setEnabled(not problems and not running)
        self.data_button.setEnabled(self.dataset.report is not None and not (self.data_worker and self.data_worker.running))

    def searching(self) -> bool:
        return self.search_check.isChecked()

    def _on_search_toggled(self) -> None:
        self.trials_spin.setEnabled(self.searching())
        self.start_button.setText("Start search" if self.searching() else "Start training")

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
            "cv_folds": self.cv_folds.cv(),
            "normalize": self.normalize(),
            "skip_bad": self.skip_bad.isChecked(),
            "importance": self.importance_check.isChecked(),
            "feature_extractor": self.features_edit.text().strip() or None,
            "label_map": self.dataset.label_map() or None,
        }
        dataset, model_type, params = self.dataset.text(), self.model_type(), self.hyper_form.values()
        search: tuple[list[str], int] | None = None
        if self.searching():
            from speakfeed_gui.core.training.search import searched_specs

            search = ([s.name for s in searched_specs(model_type)], self.trials_spin.value())
        trials, report_trial = self.trials_spin.value(), self.trial_reported.emit

        def work(progress: Any, cancel: Any) -> str:
            if search is not None:
                from speakfeed_gui.core.training.search import run_search

                fixed = {k: v for k, v in params.items() if k not in search[0]}
                kept = {k: options[k] for k in ("experiment_name", "workspace", "seed", "cv_folds", "normalize",
                                                "skip_bad", "feature_extractor", "label_map")}
                result = run_search(dataset, model_type, trials=trials, fixed=fixed, progress=progress,
                                    cancel=cancel, on_trial=lambda t: report_trial(t.to_dict()), **kept)
                return result.model_id
            from speakfeed_gui.core.training.trainer import run_training_experiment

            return run_training_experiment(dataset, model_type, params, progress=progress, cancel=cancel, **options)

        self.worker = Worker(work, name="training", parent=self)
        self.worker.progress.connect(self.run_panel.show_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.done.connect(self._on_done)
        self.model_id, self._failure = "", ""
        self.run_panel.begin(model_type, dataset, search)
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
