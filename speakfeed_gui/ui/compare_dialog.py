"""Compare models (coach): core's comparison shown side by side, with "only differences".

One tree holds the sections (metrics, hyperparameters, training data and features, extra
evaluations), one column per model; rows where the models differ are bold on a tinted
background and "Only differences" hides the rest. The confusion matrices sit next to each
other below, and "A/B on a recording…" runs the first two models over the same audio.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.core.registry.compare import Comparison, compare_models
from speakfeed_gui.ui.confusion_plot import ConfusionPlot

log = logging.getLogger(__name__)
DIFF_BRUSH = QBrush(QColor("#fff3cd"))
SECTION_TITLES = {"metrics": "Metrics (test split)", "hyperparameters": "Hyperparameters",
                  "training": "Training data and features", "extra evaluations": "Other datasets"}


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def model_title(model: dict[str, Any]) -> str:
    return f"{model['id'][:8]} · {model.get('type') or '?'}"


class CompareDialog(QDialog):
    """Side-by-side comparison of two or more registry models."""

    def __init__(self, context: Any, refs: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.comparison: Comparison = compare_models(context.registry(), list(refs))
        self.ab_dialog: Any = None
        self.setWindowTitle(f"Compare {len(refs)} models")
        models = self.comparison.models
        self.header = QLabel("<br>".join(
            f"<b>{model_title(m)}</b> — {m.get('name') or ''} (experiment {m.get('experiment') or '?'}, "
            f"{str(m.get('created_at') or '')[:16].replace('T', ' ')})"
            + (f" <span style='color:#c62828'>{m['problem']}</span>" if m.get("problem") else "")
            for m in models))
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.only_differences = QCheckBox("Only differences")
        self.only_differences.toggled.connect(self._apply_filter)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["", *(model_title(m) for m in models)])
        self.tree.setAlternatingRowColors(False)
        self.items: dict[tuple[str, str], QTreeWidgetItem] = {}
        self.placeholders: dict[str, QTreeWidgetItem] = {}
        self._fill_tree()
        self.matrices: list[ConfusionPlot] = []
        matrices = QWidget()
        row = QHBoxLayout(matrices)
        row.setContentsMargins(0, 0, 0, 0)
        for model, confusion in zip(models, self.comparison.confusion):
            box = QWidget()
            column = QVBoxLayout(box)
            column.setContentsMargins(0, 0, 0, 0)
            column.addWidget(QLabel(f"<b>{model_title(model)}</b> confusion matrix"))
            plot = ConfusionPlot()
            if confusion:
                plot.set_matrix(confusion["matrix"], confusion["labels"])
            else:
                plot.clear_matrix("No confusion matrix recorded")
            column.addWidget(plot, 1)
            row.addWidget(box, 1)
            self.matrices.append(plot)
        self.ab_button = QPushButton("A/B on a recording…")
        self.ab_button.setToolTip("Run the first two models over the same recording and overlay their timelines")
        self.ab_button.clicked.connect(lambda: self.open_ab())
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.only_differences)
        buttons.addStretch(1)
        buttons.addWidget(self.ab_button)
        buttons.addWidget(close)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.tree)
        split.addWidget(matrices)
        split.setSizes([420, 320])
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.resize(max(900, 260 + 300 * len(models)), 860)

    def _fill_tree(self) -> None:
        bold = QFont()
        bold.setBold(True)
        for section, rows in self.comparison.sections.items():
            top = QTreeWidgetItem([SECTION_TITLES.get(section, section)])
            top.setFont(0, bold)
            self.tree.addTopLevelItem(top)
            for r in rows:
                item = QTreeWidgetItem([r.key, *(_text(v) for v in r.values)])
                if r.differs:
                    for column in range(len(r.values) + 1):
                        item.setBackground(column, DIFF_BRUSH)
                        item.setFont(column, bold)
                item.setToolTip(0, "the models differ here" if r.differs else "the same for every model")
                top.addChild(item)
                self.items[(section, r.key)] = item
            placeholder = QTreeWidgetItem(["(nothing recorded)" if not rows else "(the same for every model)"])
            placeholder.setForeground(0, QBrush(QColor("#757575")))
            placeholder.setHidden(bool(rows))
            top.addChild(placeholder)
            self.placeholders[section] = placeholder
            top.setExpanded(True)
        for column in range(self.tree.columnCount()):
            self.tree.resizeColumnToContents(column)

    def _apply_filter(self, only: bool) -> None:
        for (section, key), item in self.items.items():
            row = next(r for r in self.comparison.sections[section] if r.key == key)
            item.setHidden(only and not row.differs)
        for section, placeholder in self.placeholders.items():
            rows = self.comparison.sections[section]
            placeholder.setHidden(bool(rows) and not (only and not any(r.differs for r in rows)))

    def visible_rows(self, section: str) -> list[str]:
        return [key for (s, key), item in self.items.items() if s == section and not item.isHidden()]

    def open_ab(self, path: str | Path | None = None) -> Any:
        """The A/B view for the first two models (runs on `path` at once when given)."""
        from speakfeed_gui.ui.ab_view import ABDialog, ABView

        models = self.comparison.models[:2]
        view = ABView(self.context, [m["id"] for m in models], [model_title(m) for m in models],
                      recordings_dir=self.context.workspace.sessions_dir)
        dialog = ABDialog(view, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.ab_dialog = dialog
        dialog.show()
        if path is not None:
            view.run(path)
        else:
            view.choose()
        return dialog
