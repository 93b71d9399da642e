"""Edit a trained model's description and tags (the only mutable parts of a registry entry)."""

from __future__ import annotations

from typing import Iterable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLineEdit, QPlainTextEdit, QWidget


def parse_tags(text: str) -> list[str]:
    """'a, b,,c ' -> ['a', 'b', 'c'] (order kept, repeats dropped)."""
    tags: list[str] = []
    for part in text.replace(";", ",").split(","):
        tag = part.strip()
        if tag and tag not in tags:
            tags.append(tag)
    return tags


class ModelEditDialog(QDialog):
    def __init__(self, name: str, description: str, tags: Iterable[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Edit {name}")
        self.description = QPlainTextEdit(description)
        self.description.setPlaceholderText("What this model is for, what it was trained on…")
        self.tags = QLineEdit(", ".join(tags))
        self.tags.setPlaceholderText("comma-separated, e.g. baseline, speaker-independent")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        form = QFormLayout(self)
        form.addRow("Description", self.description)
        form.addRow("Tags", self.tags)
        form.addRow(buttons)
        self.resize(460, 260)

    def values(self) -> tuple[str, list[str]]:
        return self.description.toPlainText().strip(), parse_tags(self.tags.text())
