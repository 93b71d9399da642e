"""A hyperparameter search's trials as they arrive: a table (values and scores) and a plot of UAR per trial.

Fed with `Trial.to_dict()` records (core/training/search.py); the plot shows every trial's
pooled cross-validated UAR and the best so far, the table one row per trial, best first marked.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.ui.plot_style import style_plot

_SCORES = ("UAR", "accuracy", "macro-F1")


def _text(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


class SearchView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QLabel()
        self.table = QTableWidget(0, 1 + len(_SCORES))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.plot = pg.PlotWidget()
        self.plot.setBackground("w")
        style_plot(self.plot.getPlotItem(), "UAR", "trial")
        self.plot.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.plot.setMinimumHeight(140)
        self._points = pg.ScatterPlotItem(size=8, brush=pg.mkBrush(30, 110, 200, 200), pen=None)
        self._best_line = pg.PlotDataItem(pen=pg.mkPen((200, 80, 30), width=2), stepMode=None)
        self.plot.addItem(self._points)
        self.plot.addItem(self._best_line)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.table, 3)
        row.addWidget(self.plot, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addLayout(row, 1)
        self._names: list[str] = []
        self._trials: list[dict[str, Any]] = []
        self.begin([], 0)

    def begin(self, names: Sequence[str], total: int) -> None:
        """A new search over the parameters `names`, `total` trials planned."""
        self._names = list(names)
        self._trials = []
        self._total = total
        self.table.setRowCount(0)
        self.table.setColumnCount(1 + len(_SCORES) + len(self._names))
        self.table.setHorizontalHeaderLabels(["trial", *_SCORES, *self._names])
        self._points.setData([], [])
        self._best_line.setData([], [])
        self.summary.setText(f"Search: {total} trials planned" if total else "")

    def add_trial(self, trial: Mapping[str, Any]) -> None:
        self._trials.append(dict(trial))
        params = trial.get("params", {})
        row = self.table.rowCount()
        self.table.insertRow(row)
        values = [trial["number"], trial["uar"], trial["accuracy"], trial["macro_f1"],
                  *(params.get(name) for name in self._names)]
        for col, value in enumerate(values):
            item = QTableWidgetItem(f"{value:.3f}" if 0 < col <= len(_SCORES) else _text(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, col, item)
        numbers = [t["number"] for t in self._trials]
        scores = [t["uar"] for t in self._trials]
        best_so_far = [max(scores[: i + 1]) for i in range(len(scores))]
        self._points.setData(numbers, scores)
        self._best_line.setData(numbers, best_so_far)
        best = self.best()
        self._mark_best(best["number"] if best else None)
        self.summary.setText(f"Search: {len(self._trials)} of {self._total} trials; best UAR {best['uar']:.3f} "
                             f"(trial {best['number']})")

    def _mark_best(self, number: int | None) -> None:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            font = item.font()
            font.setBold(item.text() == str(number))
            for col in range(self.table.columnCount()):
                cell = self.table.item(row, col)
                if cell is not None:
                    cell.setFont(font)

    def trials(self) -> list[dict[str, Any]]:
        return list(self._trials)

    def best(self) -> dict[str, Any] | None:
        return max(self._trials, key=lambda t: t["uar"]) if self._trials else None

    def plotted(self) -> tuple[list[float], list[float]]:
        """(trial numbers, UAR) as drawn, for tests."""
        x, y = self._points.getData()
        return [float(v) for v in x], [float(v) for v in y]
