"""Confusion-matrix heat map: pyqtgraph ImageItem coloured by row share, counts as text.

Rows are the true labels (top to bottom), columns the predicted ones. Colour is the share of a
true class predicted as each label (the recall row), so a rare class is as readable as a common
one; the number in each cell is the raw count.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QWidget

from speakfeed_gui.ui.plot_style import style_plot

_COLORMAP = pg.ColorMap(pos=[0.0, 1.0], color=[(247, 251, 255), (8, 48, 107)])
_MAX_LABEL_CHARS = 10


def _short(label: str) -> str:
    return label if len(label) <= _MAX_LABEL_CHARS else label[: _MAX_LABEL_CHARS - 1] + "…"


def _abbreviations(labels: Sequence[str], least: int = 4) -> list[str]:
    """Shortest distinct prefixes (at least `least` characters) for narrow columns; rows keep full names."""
    size = least
    while size < max(map(len, labels)) and len({label[:size] for label in labels}) < len(labels):
        size += 1
    return [label[:size] for label in labels]


class ConfusionPlot(pg.PlotWidget):
    """A static heat map (no mouse zoom/pan); `set_matrix` redraws it, `clear_matrix` empties it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        plot = self.getPlotItem()
        style_plot(plot, "True", "Predicted", grid=False, invert_y=True, left_width=None)
        plot.showAxis("right")
        plot.getAxis("right").setStyle(showValues=False)
        plot.getAxis("right").setPen(pg.mkPen(None))
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(_COLORMAP)
        plot.addItem(self.image)
        self._texts: list[pg.TextItem] = []
        self._placeholder = pg.TextItem("", color=(110, 110, 110), anchor=(0.5, 0.5))
        plot.addItem(self._placeholder)
        self.counts: np.ndarray = np.zeros((0, 0), dtype=int)
        self.labels: list[str] = []
        self.setMinimumSize(200, 200)
        self.clear_matrix()

    def set_matrix(self, matrix: Sequence[Sequence[int]], labels: Sequence[str]) -> None:
        counts = np.asarray(matrix, dtype=int)
        n = len(labels)
        if counts.shape != (n, n) or n == 0:
            self.clear_matrix(f"confusion matrix of shape {counts.shape} does not match {n} labels")
            return
        totals = counts.sum(axis=1, keepdims=True)
        share = np.divide(counts, totals, out=np.zeros(counts.shape, dtype=float), where=totals > 0)
        self.counts, self.labels = counts, list(labels)
        self._placeholder.setText("")
        self.image.setImage(share, levels=(0.0, 1.0))
        self.image.setRect(0, 0, n, n)
        self.image.setVisible(True)
        self._clear_texts()
        plot = self.getPlotItem()
        for row in range(n):
            for col in range(n):
                color = (255, 255, 255) if share[row, col] > 0.55 else (20, 20, 20)
                text = pg.TextItem(str(counts[row, col]), color=color, anchor=(0.5, 0.5))
                text.setPos(col + 0.5, row + 0.5)
                plot.addItem(text)
                self._texts.append(text)
        ticks = [[(i + 0.5, _short(label)) for i, label in enumerate(labels)]]
        columns = _abbreviations(labels) if n >= 4 else [text for _, text in ticks[0]]
        plot.getAxis("bottom").setTicks([[(i + 0.5, text) for i, text in enumerate(columns)]])
        plot.getAxis("left").setTicks(ticks)
        # room for the longest row name on the left and half a column name on the right
        metrics = QFontMetrics(plot.getAxis("left").font())
        plot.getAxis("left").setWidth(max(metrics.horizontalAdvance(text) for _, text in ticks[0]) + 34)
        plot.getAxis("right").setWidth(max(metrics.horizontalAdvance(text) for text in columns) // 2 + 4)
        plot.getViewBox().setRange(xRange=(0, n), yRange=(0, n), padding=0.02)

    def clear_matrix(self, message: str = "No evaluation to show") -> None:
        self.counts, self.labels = np.zeros((0, 0), dtype=int), []
        self._clear_texts()
        self.image.clear()
        self.image.setVisible(False)
        plot = self.getPlotItem()
        plot.getAxis("bottom").setTicks([[]])
        plot.getAxis("left").setTicks([[]])
        plot.getViewBox().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self._placeholder.setText(message)
        self._placeholder.setPos(0.5, 0.5)

    def cell_texts(self) -> list[str]:
        """The numbers drawn in the cells, row by row (what a user reads)."""
        return [item.toPlainText() for item in self._texts]

    def _clear_texts(self) -> None:
        plot = self.getPlotItem()
        for item in self._texts:
            plot.removeItem(item)
        self._texts = []
