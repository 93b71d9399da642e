"""Train tab: pick a dataset, set options, run `run_training_experiment` in a worker.

The form checks everything in place before Start is enabled: the dataset is listed and every
file opened in a worker as soon as it is chosen (picker, typed path or drag-and-drop), options
and hyperparameters are validated with the core's own rules. One run at a time; Cancel sets the
core's CancelToken (the trainer leaves nothing behind).
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit,
    QPlainTextEdit, QProgressBar, QPushButton, QScrollArea, QSpinBox, QSplitter, QVBoxLayout, QWidget,
)

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.estimators import ESTIMATOR_NAMES
from speakfeed_gui.core.trainer import validate_options
from speakfeed_gui.ui.context import AppContext
from speakfeed_gui.ui.error_dialog import format_error, report_error
from speakfeed_gui.ui.hyperparam_form import HyperparamForm
from speakfeed_gui.ui.metrics_view import MetricsView
from speakfeed_gui.ui.model_details import read_metadata
from speakfeed_gui.ui.validation import mark_invalid
from speakfeed_gui.ui.workers import Worker

log = logging.getLogger(__name__)
STAGES = {"check": "Checking clips", "features": "Extracting features", "split": "Splitting",
          "train": "Training", "evaluate": "Evaluating", "save": "Saving"}
_TYPE_TITLES = {"random_forest": "Random forest", "logistic_regression": "Logistic regression",
                "gradient_boosting": "Gradient boosting", "svm": "Support vector machine", "mlp": "Neural network (MLP)"}


def dropped_dataset(paths: list[str]) -> str | None:
    """The first dropped path that can be a dataset (a folder or a .csv file)."""
    for text in paths:
        path = Path(text)
        if path.is_dir() or (path.is_file() and path.suffix.lower() == ".csv"):
            return str(path)
    return None


class TrainTab(QWidget):
    run_finished = Signal(str)
    run_failed = Signal(str)
    run_cancelled = Signal()
    dataset_checked = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.report: Any = None
        self.dataset_error = ""
        self.check_worker: Worker | None = None
        self.worker: Worker | None = None
        self.model_id = ""
        self._failure = ""
        self._hyper_by_type: dict[str, dict[str, Any]] = dict(self.context.setting("train/hyperparameters", {}))
        self._last_stage = ("", -1)
        self._check_timer = QTimer(self, singleShot=True, interval=400)
        self._check_timer.timeout.connect(self.check_dataset)
        self.setAcceptDrops(True)
        self._build()
        self._restore()
        self.revalidate()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.dataset_edit = QLineEdit()
        self.dataset_edit.setPlaceholderText("Folder of label folders, RAVDESS folder, or CSV (path,label,speaker)")
        self.dataset_edit.textEdited.connect(lambda _t: self._check_timer.start())
        self.dataset_edit.editingFinished.connect(self._on_path_committed)
        folder_button = QPushButton("Folder…")
        folder_button.clicked.connect(self.pick_folder)
        csv_button = QPushButton("CSV…")
        csv_button.clicked.connect(self.pick_csv)
        path_row = QHBoxLayout()
        path_row.addWidget(self.dataset_edit, 1)
        path_row.addWidget(folder_button)
        path_row.addWidget(csv_button)
        self.dataset_summary = QLabel("<i>Choose a dataset, or drop a folder or CSV file here.</i>")
        self.dataset_summary.setWordWrap(True)
        self.dataset_summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        dataset_box = QGroupBox("Dataset")
        dataset_layout = QVBoxLayout(dataset_box)
        dataset_layout.addLayout(path_row)
        dataset_layout.addWidget(self.dataset_summary)

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
        for box in (dataset_box, model_box, eval_box):
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

        self.stage_label = QLabel("Idle")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(5000)
        self.log_view.setPlaceholderText("Training progress appears here.")
        self.metrics = MetricsView()
        self.metrics.set_evaluation(None, "Results appear here after a run.")
        self.show_button = QPushButton("Show in Model Browser")
        self.show_button.clicked.connect(lambda: self.context.show_model_requested.emit(self.model_id))
        self.live_button = QPushButton("Use for Live Feedback")
        self.live_button.clicked.connect(self.use_for_live)
        result_buttons = QHBoxLayout()
        result_buttons.addStretch(1)
        result_buttons.addWidget(self.show_button)
        result_buttons.addWidget(self.live_button)
        results_box = QGroupBox("Results")
        results_layout = QVBoxLayout(results_box)
        results_layout.addWidget(self.metrics, 1)
        results_layout.addLayout(result_buttons)
        run_box = QGroupBox("Run")
        run_layout = QVBoxLayout(run_box)
        run_layout.addWidget(self.stage_label)
        run_layout.addWidget(self.progress_bar)
        run_layout.addWidget(self.log_view, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.setChildrenCollapsible(False)
        right.addWidget(run_box)
        right.addWidget(results_box)
        right.setStretchFactor(0, 2)
        right.setStretchFactor(1, 3)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([500, 900])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)
        self._set_result_buttons(False)

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
        dataset = str(s("train/dataset", ""))
        if dataset:
            self.set_dataset(dataset)

    def save_state(self) -> None:
        self._hyper_by_type[self.model_type()] = self.hyper_form.values()
        values = {
            "train/dataset": self.dataset_edit.text().strip(), "train/experiment": self.experiment_edit.text(),
            "train/model_type": self.model_type(), "train/hyperparameters": self._hyper_by_type,
            "train/test_fraction": self.test_fraction.value(), "train/seed": self.seed.value(),
            "train/group_by_speaker": self.group_by_speaker.isChecked(), "train/cv_folds": self.cv_folds.value(),
            "train/skip_bad": self.skip_bad.isChecked(),
        }
        for key, value in values.items():
            self.context.set_setting(key, value)

    # -- dataset ---------------------------------------------------------------------------
    def model_type(self) -> str:
        return str(self.model_combo.currentData())

    def _start_dir(self) -> str:
        current = Path(self.dataset_edit.text().strip())
        if current.exists():
            return str(current if current.is_dir() else current.parent)
        return str(self.context.setting("paths/last_dataset_dir", str(Path.home())))

    def pick_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Choose dataset folder", self._start_dir())
        if chosen:
            self.set_dataset(chosen)

    def pick_csv(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Choose dataset CSV", self._start_dir(), "CSV files (*.csv)")
        if chosen:
            self.set_dataset(chosen)

    def set_dataset(self, path: str | Path) -> None:
        """Use this dataset and check it now (picker, drop, restore, tests)."""
        self.dataset_edit.setText(str(path))
        self.check_dataset()

    def _on_path_committed(self) -> None:
        if self._check_timer.isActive():
            self._check_timer.stop()
            self.check_dataset()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        if not self.running() and dropped_dataset([u.toLocalFile() for u in urls if u.isLocalFile()]):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_dataset([u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()])
        if path and not self.running():
            self.set_dataset(path)
            event.acceptProposedAction()

    def check_dataset(self) -> None:
        """List and open every clip of the chosen dataset in a worker; a newer check replaces it."""
        if self.check_worker is not None:
            self.check_worker.cancel()
            self.check_worker = None
        self.report, self.dataset_error = None, ""
        text = self.dataset_edit.text().strip()
        if not text:
            self.dataset_summary.setText("<i>Choose a dataset, or drop a folder or CSV file here.</i>")
            self.revalidate()
            return
        path = Path(text).expanduser()
        if path.exists():
            self.context.set_setting("paths/last_dataset_dir", str(path if path.is_dir() else path.parent))

        def work(progress: Any, cancel: Any) -> Any:
            from speakfeed_gui.core.datasets import check_dataset, load_dataset

            return check_dataset(load_dataset(path), progress=progress, cancel=cancel)

        worker = Worker(work, name="check dataset", parent=self)
        worker.progress.connect(lambda _s, done, total, _m, w=worker: self._on_check_progress(w, done, total))
        worker.finished.connect(lambda report, w=worker: self._on_checked(w, report, ""))
        worker.failed.connect(lambda exc, w=worker: self._on_checked(w, None, format_error(exc)[0]))
        worker.cancelled.connect(lambda: None)
        self.check_worker = worker
        self.dataset_summary.setText("<i>Checking the dataset…</i>")
        self.revalidate()
        worker.start()

    def _on_check_progress(self, worker: Worker, done: int, total: int) -> None:
        if worker is self.check_worker:
            self.dataset_summary.setText(f"<i>Checking the dataset… {done}/{total} files</i>")

    def _on_checked(self, worker: Worker, report: Any, error: str) -> None:
        if worker is not self.check_worker:
            return  # a stale check of an earlier path
        self.check_worker = None
        self.report, self.dataset_error = report, error
        if report is not None:
            self.dataset_summary.setText(self._summary_html(report))
        else:
            self.dataset_summary.setText(f"<span style='color:#c62828'>{html.escape(error)}</span>")
        self.revalidate()
        self.dataset_checked.emit()

    @staticmethod
    def _summary_html(report: Any) -> str:
        minutes = report.total_seconds / 60
        speakers = f"{len(report.speakers)} speakers" if report.speakers else "speakers unknown"
        counts = ", ".join(f"{html.escape(k)}: {v}" for k, v in report.label_counts.items()) or "none"
        lines = [
            f"<b>{report.n_clips} clips</b> ({len(report.usable)} usable) · {minutes:.1f} min · "
            f"{len(report.label_counts)} labels · {speakers} · layout {html.escape(report.layout)}",
            f"Labels: {counts}",
        ]
        if report.problems:
            shown = "<br>".join(f"&nbsp;&nbsp;{html.escape(p.path.name)}: {html.escape(p.reason)}"
                                for p in report.problems[:5])
            more = f"<br>&nbsp;&nbsp;… and {len(report.problems) - 5} more" if len(report.problems) > 5 else ""
            lines.append(f"<span style='color:#b26a00'>{len(report.problems)} unusable files:</span><br>{shown}{more}")
        return "<br>".join(lines)

    # -- validation -------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every reason Start is disabled, in form order (each bad field is flagged in place)."""
        found: list[str] = []
        dataset_problem = ""
        text = self.dataset_edit.text().strip()
        if not text:
            found.append("Choose a dataset folder or CSV file.")
        elif self.check_worker is not None:
            found.append("Checking the dataset…")
        elif self.dataset_error:
            dataset_problem = self.dataset_error
        elif self.report is not None:
            if len(self.report.label_counts) < 2:
                dataset_problem = (f"{text}: {len(self.report.label_counts)} usable label(s); "
                                   "training needs at least 2 labels")
            elif self.report.problems and not self.skip_bad.isChecked():
                dataset_problem = (f"{len(self.report.problems)} unusable files: tick 'Skip unusable files' "
                                   "or fix them")
        mark_invalid(self.dataset_edit, dataset_problem)
        found += [dataset_problem] if dataset_problem else []
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
        }
        dataset, model_type, params = self.dataset_edit.text().strip(), self.model_type(), self.hyper_form.values()

        def work(progress: Any, cancel: Any) -> str:
            from speakfeed_gui.core.trainer import run_training_experiment

            return run_training_experiment(dataset, model_type, params, progress=progress, cancel=cancel, **options)

        self.worker = Worker(work, name="training", parent=self)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.done.connect(self._on_done)
        self.model_id, self._failure = "", ""
        self.log_view.clear()
        self._log(f"Training {model_type} on {dataset}")
        self._last_stage = ("", -1)
        self.metrics.set_evaluation(None, "Training…")
        self._set_result_buttons(False)
        self.context.track(self.worker, "Training")
        self.worker.start()
        self._set_running(True)
        return self.worker

    def cancel(self) -> None:
        if self.running():
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.stage_label.setText("Cancelling…")
            self._log("Cancelling…")

    def _set_running(self, running: bool) -> None:
        self.form.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.setAcceptDrops(not running)
        self.revalidate()

    def _on_progress(self, stage: str, done: int, total: int, message: str) -> None:
        title = STAGES.get(stage, stage)
        self.stage_label.setText(f"{title}: {done}/{total}" + (f" — {message}" if message else ""))
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
        else:
            self.progress_bar.setRange(0, 0)
        step = max(1, total // 10)
        last_stage, last_done = self._last_stage
        if stage != last_stage or done == total or done - last_done >= step:
            self._log(f"[{stage}] {done}/{total} {message}".rstrip())
            self._last_stage = (stage, done)

    def _on_finished(self, model_id: str) -> None:
        self.model_id = str(model_id)
        self.stage_label.setText(f"Done: model {self.model_id[:8]} registered")
        self._log(f"Registered model {self.model_id}")
        self.context.notify_registry_changed()
        try:
            entry = self.context.registry().get_model_info(self.model_id)
            metadata, problem = read_metadata(entry)
        except SpeakFeedError as exc:
            metadata, problem = {}, str(exc)
        self.metrics.set_evaluation(metadata.get("evaluation_results"), problem or "No evaluation recorded")
        self._set_result_buttons(True)
        self.context.status_message.emit(f"Trained model {self.model_id[:8]}")
        self.run_finished.emit(self.model_id)

    def _on_failed(self, exc: BaseException) -> None:
        message = format_error(exc)[0]
        self.stage_label.setText("Failed")
        self._log(f"Failed: {message}")
        self.metrics.set_evaluation(None, "The run failed; nothing was saved.")
        self._failure = message
        report_error(exc, title="Training failed")
        self.run_failed.emit(message)

    def _on_cancelled(self) -> None:
        self.stage_label.setText("Cancelled")
        self._log("Cancelled; nothing was saved.")
        self.metrics.set_evaluation(None, "Cancelled; nothing was saved.")
        self.run_cancelled.emit()

    def _on_done(self) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1 if self.model_id else 0)
        self._set_running(False)
        if self._failure:
            self.message_label.setText(self._failure)

    def use_for_live(self) -> None:
        if self.model_id:
            self.context.use_for_live(self.model_id, configured=False)

    def _set_result_buttons(self, enabled: bool) -> None:
        self.show_button.setEnabled(enabled)
        self.live_button.setEnabled(enabled)

    def _log(self, line: str) -> None:
        self.log_view.appendPlainText(line)
