"""Evaluation results of one model: headline metrics, per-class table, confusion matrix.

Shared by the Model Browser's details pane and the Train tab's results, fed with the
`evaluation_results` dict of a model's metadata.
"""

from __future__ import annotations

from typing import Any, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.ui.confusion_plot import ConfusionPlot

_PER_CLASS_COLUMNS = ("Label", "Precision", "Recall", "F1", "Support")


def summary_text(evaluation: Mapping[str, Any]) -> str:
    """One or two lines: accuracy, macro scores, test size and the cross-validation mean."""
    def fmt(key: str) -> str:
        value = evaluation.get(key)
        return f"{value:.3f}" if isinstance(value, (int, float)) else "–"

    parts = [f"<b>Accuracy {fmt('accuracy')}</b>", f"<b>macro-F1 {fmt('macro_f1')}</b>",
             f"macro precision {fmt('macro_precision')}", f"macro recall {fmt('macro_recall')}"]
    if evaluation.get("n_test"):
        parts.append(f"{evaluation['n_test']} test clips")
    text = " · ".join(parts)
    cv = evaluation.get("cv")
    if isinstance(cv, Mapping) and cv.get("folds"):
        text += (f"<br>{cv['folds']}-fold cross-validation: accuracy {cv.get('accuracy_mean', 0):.3f} "
                 f"± {cv.get('accuracy_std', 0):.3f}, macro-F1 {cv.get('macro_f1_mean', 0):.3f} "
                 f"± {cv.get('macro_f1_std', 0):.3f}")
    return text


class MetricsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(_PER_CLASS_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(_PER_CLASS_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        self.table.setMinimumWidth(220)
        self.confusion = ConfusionPlot()
        table_column = QVBoxLayout()
        table_column.addWidget(self.table)
        table_column.addStretch(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addLayout(table_column, 1)
        row.addWidget(self.confusion, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addLayout(row, 1)
        self.set_evaluation(None)

    def set_evaluation(self, evaluation: Mapping[str, Any] | None, empty_text: str = "No evaluation results") -> None:
        if not evaluation:
            self.summary.setText(f"<i>{empty_text}</i>")
            self.table.setRowCount(0)
            self._fit_table_height()
            self.confusion.clear_matrix(empty_text)
            return
        self.summary.setText(summary_text(evaluation))
        per_class: Mapping[str, Mapping[str, Any]] = evaluation.get("per_class") or {}
        self.table.setRowCount(len(per_class))
        for n, (label, scores) in enumerate(per_class.items()):
            values = [label] + [
                f"{scores.get(k, 0):.3f}" for k in ("precision", "recall", "f1")
            ] + [str(scores.get("support", ""))]
            for col, value in enumerate(values):
                item = QTableWidgetItem(value)
                if col:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(n, col, item)
        self._fit_table_height()
        labels = evaluation.get("labels") or list(per_class)
        matrix = evaluation.get("confusion_matrix")
        if matrix:
            self.confusion.set_matrix(matrix, labels)
        else:
            self.confusion.clear_matrix("No confusion matrix recorded")

    def _fit_table_height(self) -> None:
        """As tall as its rows (no empty grid below them)."""
        rows = sum(self.table.rowHeight(n) for n in range(self.table.rowCount()))
        height = self.table.horizontalHeader().height() + rows + 2 * self.table.frameWidth()
        self.table.setMaximumHeight(height)
