"""A coloured one-message strip at the top of a tab: an error, a warning or a note, hidden when empty.

Problems the user can act on in place (no microphone, a model that cannot start, a lost
device) are shown here instead of in a dialog, so a live session is never interrupted by a box.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

log = logging.getLogger(__name__)
BANNER_STYLES = {
    "error": "background: #fdecea; color: #8a1c1c; border: 1px solid #e57373;",
    "warning": "background: #fff6e5; color: #6d4a00; border: 1px solid #ffb74d;",
    "info": "background: #e8f1fb; color: #17405f; border: 1px solid #90b8e0;",
}


class Banner(QLabel):
    """`kind` is "error", "warning", "info", or "" while nothing is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.kind = ""
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setVisible(False)

    def show_message(self, text: str, kind: str = "error") -> None:
        self.kind = kind
        self.setText(text)
        self.setStyleSheet(f"QLabel {{ {BANNER_STYLES[kind]} padding: 6px; border-radius: 4px; }}")
        self.setVisible(True)
        log.info("banner (%s): %s", kind, text)

    def clear_message(self) -> None:
        self.setVisible(False)
        self.clear()
        self.kind = ""

    def message(self) -> str:
        """The text shown ("" when hidden)."""
        return self.text() if self.kind else ""
