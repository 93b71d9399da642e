"""Evaluation results of one model: headline metrics, per-class table, confusion matrix.

Shared by the Model Browser's details pane and the Train tab's results, fed with the
`evaluation_results` dict of a model's metadata.
"""

from __future__ import annotations

from typing import Any, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
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
        text += "<br>" + cv_text(cv)
    importance = evaluation.get("permutation_importance")
    features = importance.get("features") if isinstance(importance, Mapping) else None
    if isinstance(features, list) and features:
        text += "<br>Permutation importance (drop in held-out UAR): " + ", ".join(
            f"{f.get('name')} {f.get('mean', 0):+.3f}" for f in features[:8] if isinstance(f, Mapping))
    return text


def cv_text(cv: Mapping[str, Any]) -> str:
    """The pooled cross-validation line (UAR first), or the fold means of models trained before pooling."""
    if not isinstance(cv.get("macro_recall"), (int, float)):
        return (f"{cv['folds']}-fold cross-validation: accuracy {cv.get('accuracy_mean', 0):.3f} "
                f"± {cv.get('accuracy_std', 0):.3f}, macro-F1 {cv.get('macro_f1_mean', 0):.3f} "
                f"± {cv.get('macro_f1_std', 0):.3f}")
    scheme = str(cv.get("scheme") or f"{cv['folds']}-fold")
    norm = " per-speaker normalisation," if cv.get("normalization") == "speaker" else ""
    text = (f"{scheme[:1].upper() + scheme[1:]} ({cv['folds']} folds pooled,{norm} {cv.get('n_test', '?')} clips): "
            f"<b>UAR {cv['macro_recall']:.3f}</b> · accuracy {cv.get('accuracy', 0):.3f} · "
            f"macro-F1 {cv.get('macro_f1', 0):.3f}")
    speakers = cv.get("per_speaker")
    if isinstance(speakers, Mapping) and speakers:
        text += "<br>Accuracy per speaker: " + ", ".join(
            f"{name} {v.get('accuracy', 0):.2f}" for name, v in speakers.items() if isinstance(v, Mapping))
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
        self.view_combo = QComboBox()
        self.view_combo.addItem("Held-out split", "holdout")
        self.view_combo.addItem("Cross-validation, all folds pooled", "cv")
        self.view_combo.setToolTip("Which evaluation the table and the confusion matrix show")
        self.view_combo.currentIndexChanged.connect(self._show_details)
        self._evaluation: Mapping[str, Any] | None = None
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
        layout.addWidget(self.view_combo, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(row, 1)
        self.set_evaluation(None)

    def set_evaluation(self, evaluation: Mapping[str, Any] | None, empty_text: str = "No evaluation results") -> None:
        self._evaluation = evaluation
        if not evaluation:
            self.view_combo.setVisible(False)
            self.summary.setText(f"<i>{empty_text}</i>")
            self.table.setRowCount(0)
            self._fit_table_height()
            self.confusion.clear_matrix(empty_text)
            return
        self.summary.setText(summary_text(evaluation))
        has_cv = self._has_cv()
        self.view_combo.setVisible(has_cv)
        self.view_combo.blockSignals(True)
        self.view_combo.setCurrentIndex(1 if has_cv else 0)  # the pooled figures are the speaker-independent ones
        self.view_combo.blockSignals(False)
        self._show_details()

    def shown(self) -> str:
        """'cv' when the table and matrix show the pooled cross-validation, else 'holdout'."""
        return "cv" if self._has_cv() and self.view_combo.currentData() == "cv" else "holdout"

    def _has_cv(self) -> bool:
        cv = (self._evaluation or {}).get("cv")
        return isinstance(cv, Mapping) and isinstance(cv.get("per_class"), Mapping)

    def _show_details(self) -> None:
        evaluation = self._evaluation or {}
        if self._has_cv() and self.view_combo.currentData() == "cv":
            evaluation = evaluation["cv"]
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
