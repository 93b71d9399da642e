"""Ask which labelled dataset to evaluate a model on, and how its labels map onto the model's."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from speakfeed_gui.ui.train_dataset import MAP_HINT, dataset_picker_row


class EvaluateDialog(QDialog):
    """Dataset path (folder or CSV) and an optional label mapping; OK needs a dataset that exists."""

    def __init__(self, name: str, labels: list[str], start_dir: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Evaluate {name} on a dataset")
        self._start_dir = start_dir
        self.dataset = QLineEdit()
        row = dataset_picker_row(self, self.dataset, lambda: self._start_dir, self.dataset.setText)
        self.mapping = QLineEdit()
        self.mapping.setPlaceholderText(MAP_HINT)
        hint = QLabel(f"The model predicts: {', '.join(labels)}. Every dataset label must be one of them "
                      "after the mapping.")
        hint.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.dataset.textChanged.connect(self._update_ok)
        form = QFormLayout(self)
        form.addRow("Dataset", row)
        form.addRow("Label mapping", self.mapping)
        form.addRow(hint)
        form.addRow(self.buttons)
        self.resize(620, 180)
        self._update_ok()

    def _update_ok(self) -> None:
        text = self.dataset.text().strip()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(text) and Path(text).exists())

    def values(self) -> tuple[str, str]:
        return self.dataset.text().strip(), self.mapping.text().strip()
