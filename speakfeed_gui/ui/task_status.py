"""Status-bar indicator of background tasks (default model, dataset checks, training, bundles)."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from speakfeed_gui.ui.workers import Worker


class TaskStatus(QWidget):
    """Shows the newest running task with its stage and a small progress bar; hidden when idle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(140)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self._tasks: list[tuple[Worker, str]] = []
        self._text: dict[Worker, str] = {}
        self.setVisible(False)

    def track(self, worker: Worker, title: str) -> None:
        self._tasks.append((worker, title))
        self._text[worker] = title
        worker.progress.connect(lambda stage, done, total, _m, w=worker: self._on_progress(w, stage, done, total))
        worker.done.connect(lambda w=worker: self._on_done(w))
        self.bar.setRange(0, 0)  # busy until the first progress report
        self._show()

    def titles(self) -> list[str]:
        return [title for _worker, title in self._tasks]

    def _on_progress(self, worker: Worker, stage: str, done: int, total: int) -> None:
        title = next((t for w, t in self._tasks if w is worker), "")
        self._text[worker] = f"{title}: {stage} {done}/{total}" if total else f"{title}: {stage}"
        if self._tasks and self._tasks[-1][0] is worker:
            self.bar.setRange(0, max(total, 0))
            self.bar.setValue(done)
        self._show()

    def _on_done(self, worker: Worker) -> None:
        self._tasks = [(w, t) for w, t in self._tasks if w is not worker]
        self._text.pop(worker, None)
        self._show()

    def _show(self) -> None:
        if not self._tasks:
            self.setVisible(False)
            return
        worker, _title = self._tasks[-1]
        more = f" (+{len(self._tasks) - 1} more)" if len(self._tasks) > 1 else ""
        self.label.setText(self._text.get(worker, "") + more)
        self.setVisible(True)
