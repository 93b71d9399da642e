"""The Train tab's dataset box: path field, Folder…/CSV… pickers, label mapping, and a summary checked in a worker.

A dataset is listed and every clip opened (core `check_dataset`) as soon as it is chosen — by a
picker, a typed path (after a pause or Enter) or a drop on the tab — so the form can tell what is
wrong before Start. A newer check replaces an older one; a stale result is ignored. The label mapping
(`old=new` pairs or a mapping file) is applied in the check, so the summary shows the labels training will use.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.ui.context import AppContext
from speakfeed_gui.ui.error_dialog import format_error
from speakfeed_gui.ui.validation import is_marked_invalid, mark_invalid
from speakfeed_gui.ui.workers import Worker

EMPTY_HINT = "<i>Choose a dataset, or drop a folder or CSV file here.</i>"
TYPING_PAUSE_MS = 400  # a typed path is checked once the typing pauses this long


def dropped_dataset(paths: list[str]) -> str | None:
    """The first dropped path that can be a dataset (a folder or a .csv file)."""
    for text in paths:
        path = Path(text)
        if path.is_dir() or (path.is_file() and path.suffix.lower() == ".csv"):
            return str(path)
    return None


def dropped_dataset_in(mime: QMimeData) -> str | None:
    """`dropped_dataset` of a drag's local file URLs."""
    urls = mime.urls() if mime.hasUrls() else []
    return dropped_dataset([url.toLocalFile() for url in urls if url.isLocalFile()])


def summary_html(report: Any) -> str:
    """What a user wants to know of a checked dataset: size, labels, speakers, unusable files."""
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


DATASET_HINT = "Folder of label folders, RAVDESS folder, or CSV (path,label,speaker)"
MAP_HINT = "old=new, … e.g. neutral=calm, anger=frustrated; or a .yaml/.csv mapping file"


def dataset_picker_row(parent: QWidget, edit: QLineEdit, start_dir: Callable[[], str],
                       chosen: Callable[[str], None]) -> QHBoxLayout:
    """The path field with Folder… and CSV… pickers (Train tab, Evaluate dialog); `chosen` gets the pick."""
    def pick_folder() -> None:
        path = QFileDialog.getExistingDirectory(parent, "Choose dataset folder", start_dir())
        if path:
            chosen(path)

    def pick_csv() -> None:
        path, _ = QFileDialog.getOpenFileName(parent, "Choose dataset CSV", start_dir(), "CSV files (*.csv)")
        if path:
            chosen(path)

    edit.setPlaceholderText(DATASET_HINT)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    for text, slot in (("Folder…", pick_folder), ("CSV…", pick_csv)):
        button = QPushButton(text, parent)
        button.clicked.connect(slot)
        row.addWidget(button)
    return row


class DatasetPanel(QGroupBox):
    """Path, pickers and summary; `report`/`error` hold the last finished check."""

    changed = Signal()  # a check started or ended: the form's validity may have changed
    checked = Signal()  # a check ended (with a report or an error)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__("Dataset", parent)
        self.context = context
        self.report: Any = None
        self.error = ""
        self.check_worker: Worker | None = None
        self._checked_text = ""  # the path + mapping the report/error (or the running check) is about
        self._check_timer = QTimer(self, singleShot=True, interval=TYPING_PAUSE_MS)
        self._check_timer.timeout.connect(self.check)

        self.edit = QLineEdit()
        self.edit.textEdited.connect(self._on_text_edited)
        self.edit.editingFinished.connect(self._on_path_committed)
        path_row = dataset_picker_row(self, self.edit, self._start_dir, self.set_path)
        self.map_edit = QLineEdit()
        self.map_edit.setPlaceholderText(f"Label mapping (optional): {MAP_HINT}")
        self.map_edit.setToolTip("Rename or merge the dataset's labels before training; labels not named stay as they are")
        self.map_edit.textEdited.connect(self._on_text_edited)
        self.map_edit.editingFinished.connect(self._on_path_committed)
        self.summary = QLabel(EMPTY_HINT)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addLayout(path_row)
        layout.addWidget(self.map_edit)
        layout.addWidget(self.summary)

    def text(self) -> str:
        return self.edit.text().strip()

    def _key(self) -> str:
        return f"{self.text()}\n{self.map_edit.text().strip()}"

    def label_map(self) -> dict[str, str]:
        """The mapping typed in the field ({} when empty); raises DatasetError for a malformed one."""
        from speakfeed_gui.core.training.datasets import label_map_from_text

        return label_map_from_text(self.map_edit.text())

    def set_label_map(self, text: str) -> None:
        """Use this mapping text and check the dataset again (restore, tests)."""
        self.map_edit.setText(text)
        self.check()

    # -- choosing -------------------------------------------------------------------------
    def _start_dir(self) -> str:
        current = Path(self.text())
        if current.exists():
            return str(current if current.is_dir() else current.parent)
        return str(self.context.setting("paths/last_dataset_dir", str(Path.home())))

    def set_path(self, path: str | Path) -> None:
        """Use this dataset and check it now (picker, drop, restore, tests)."""
        self.edit.setText(str(path))
        self.check()

    def _on_text_edited(self, _text: str) -> None:
        self._check_timer.start()
        self.changed.emit()  # Start waits for the check of the new path

    def _on_path_committed(self) -> None:
        if self._check_timer.isActive():
            self._check_timer.stop()
            self.check()

    # -- checking -------------------------------------------------------------------------
    def check(self) -> None:
        """List and open every clip of the chosen dataset in a worker; a newer check replaces it."""
        if self.check_worker is not None:
            self.check_worker.cancel()
            self.check_worker = None
        self.report, self.error = None, ""
        self._checked_text = self._key()
        text = self.text()
        mark_invalid(self.map_edit, "")
        if not text:
            self.summary.setText(EMPTY_HINT)
            self.changed.emit()
            return
        try:
            mapping = self.label_map()
        except SpeakFeedError as exc:
            self.error = str(exc)
            mark_invalid(self.map_edit, self.error)
            self.summary.setText(f"<span style='color:#c62828'>{html.escape(self.error)}</span>")
            self.changed.emit()
            self.checked.emit()
            return
        path = Path(text).expanduser()
        if path.exists():
            self.context.set_setting("paths/last_dataset_dir", str(path if path.is_dir() else path.parent))

        def work(progress: Any, cancel: Any) -> Any:
            from speakfeed_gui.core.training.datasets import check_dataset, load_dataset

            return check_dataset(load_dataset(path, mapping), progress=progress, cancel=cancel)

        worker = Worker(work, name="check dataset", parent=self)
        worker.progress.connect(lambda _s, done, total, _m, w=worker: self._on_check_progress(w, done, total))
        worker.finished.connect(lambda report, w=worker: self._on_checked(w, report, ""))
        worker.failed.connect(lambda exc, w=worker: self._on_checked(w, None, format_error(exc)[0]))
        worker.cancelled.connect(lambda: None)
        self.check_worker = worker
        self.summary.setText("<i>Checking the dataset…</i>")
        self.changed.emit()
        worker.start()

    def _on_check_progress(self, worker: Worker, done: int, total: int) -> None:
        if worker is self.check_worker:
            self.summary.setText(f"<i>Checking the dataset… {done}/{total} files</i>")

    def _on_checked(self, worker: Worker, report: Any, error: str) -> None:
        if worker is not self.check_worker:
            return  # a stale check of an earlier path
        self.check_worker = None
        self.report, self.error = report, error
        if error.startswith("label mapping"):  # the dataset lacks a label the mapping names
            mark_invalid(self.map_edit, error)
        if report is not None:
            self.summary.setText(summary_html(report))
        else:
            self.summary.setText(f"<span style='color:#c62828'>{html.escape(error)}</span>")
        self.changed.emit()
        self.checked.emit()

    # -- validity ---------------------------------------------------------------------------
    def problem(self, skip_bad: bool) -> str:
        """Why this dataset cannot be trained on now ("" if it can); a bad dataset is flagged in place."""
        text = self.text()
        flagged = ""
        if not text:
            reason = "Choose a dataset folder or CSV file."
        elif self.check_worker is not None or self._key() != self._checked_text:
            reason = "Checking the dataset…"
        elif self.error:
            reason = self.error
            flagged = "" if is_marked_invalid(self.map_edit) else self.error  # a mapping error is flagged on its field
        elif self.report is not None and len(self.report.label_counts) < 2:
            reason = flagged = (f"{text}: {len(self.report.label_counts)} usable label(s); "
                                "training needs at least 2 labels")
        elif self.report is not None and self.report.problems and not skip_bad:
            reason = flagged = f"{len(self.report.problems)} unusable files: tick 'Skip unusable files' or fix them"
        else:
            reason = ""
        mark_invalid(self.edit, flagged)
        return reason
