"""The Train tab's right side: the running stage, a progress bar and a log, then the run's results.

It only displays; the tab owns the worker and calls `begin`, `show_progress` and one of
`show_registered` / `show_failed` / `show_cancelled`, then `end`.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.ui.metrics_view import MetricsView
from speakfeed_gui.ui.search_view import SearchView

STAGES = {"check": "Checking clips", "features": "Extracting features", "split": "Splitting",
          "train": "Training", "evaluate": "Evaluating", "save": "Saving", "search": "Searching"}
LOG_STEPS = 10  # log about every tenth of a stage, its first and its last report


def progress_text(done: int, total: int, message: str, separator: str = " ") -> str:
    """'3/12 clip.wav'; a message that already starts with the count is shown alone ('200/200 estimators')."""
    count = f"{done}/{total}"
    if message == count or message.startswith(count + " "):
        return message
    return f"{count}{separator}{message}" if message else count


class RunPanel(QSplitter):
    """Run box (stage, progress, log) above the Results box (metrics and what to do with the model)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Vertical, parent)
        self._last_stage = ("", -1)
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
        self.search_view = SearchView()
        self.search_view.setVisible(False)
        self.show_button = QPushButton("Show in Model Browser")
        self.live_button = QPushButton("Use for Live Feedback")
        result_buttons = QHBoxLayout()
        result_buttons.addStretch(1)
        result_buttons.addWidget(self.show_button)
        result_buttons.addWidget(self.live_button)
        results_box = QGroupBox("Results")
        results_layout = QVBoxLayout(results_box)
        results_layout.addWidget(self.search_view, 1)
        results_layout.addWidget(self.metrics, 1)
        results_layout.addLayout(result_buttons)
        run_box = QGroupBox("Run")
        run_layout = QVBoxLayout(run_box)
        run_layout.addWidget(self.stage_label)
        run_layout.addWidget(self.progress_bar)
        run_layout.addWidget(self.log_view, 1)
        self.setChildrenCollapsible(False)
        self.addWidget(run_box)
        self.addWidget(results_box)
        self.setStretchFactor(0, 2)
        self.setStretchFactor(1, 3)
        self.set_result_buttons(False)

    def begin(self, model_type: str, dataset: str, search: tuple[list[str], int] | None = None) -> None:
        """A new run; `search` = (parameter names, trials) for a hyperparameter search."""
        self.log_view.clear()
        self.search_view.setVisible(search is not None)
        if search is not None:
            self.search_view.begin(*search)
            self.log(f"Searching {search[1]} trials of {model_type} on {dataset}")
        else:
            self.log(f"Training {model_type} on {dataset}")
        self._last_stage = ("", -1)
        self.metrics.set_evaluation(None, "Training…")
        self.set_result_buttons(False)

    def show_progress(self, stage: str, done: int, total: int, message: str) -> None:
        title = STAGES.get(stage, stage)
        self.stage_label.setText(f"{title}: {progress_text(done, total, message, ' — ')}")
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)
        else:
            self.progress_bar.setRange(0, 0)
        step = max(1, total // LOG_STEPS)
        last_stage, last_done = self._last_stage
        if stage != last_stage or done == total or done - last_done >= step:
            self.log(f"[{stage}] {progress_text(done, total, message)}")
            self._last_stage = (stage, done)

    def show_trial(self, trial: dict) -> None:
        """One finished search trial (from the worker, queued to the GUI thread)."""
        self.search_view.add_trial(trial)

    def show_cancelling(self) -> None:
        self.stage_label.setText("Cancelling…")
        self.log("Cancelling…")

    def show_registered(self, model_id: str, evaluation: Any, problem: str) -> None:
        self.stage_label.setText(f"Done: model {model_id[:8]} registered")
        self.log(f"Registered model {model_id}")
        self.metrics.set_evaluation(evaluation, problem or "No evaluation recorded")
        self.set_result_buttons(True)

    def show_failed(self, message: str) -> None:
        self.stage_label.setText("Failed")
        self.log(f"Failed: {message}")
        self.metrics.set_evaluation(None, "The run failed; nothing was saved.")

    def show_cancelled(self) -> None:
        self.stage_label.setText("Cancelled")
        self.log("Cancelled; nothing was saved.")
        self.metrics.set_evaluation(None, "Cancelled; nothing was saved.")

    def end(self, succeeded: bool) -> None:
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1 if succeeded else 0)

    def set_result_buttons(self, enabled: bool) -> None:
        self.show_button.setEnabled(enabled)
        self.live_button.setEnabled(enabled)

    def log(self, line: str) -> None:
        self.log_view.appendPlainText(line)
