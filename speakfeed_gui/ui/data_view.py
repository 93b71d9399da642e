"""A checked dataset at a glance: clips per label and speaker, the duration histogram, and a PCA
projection of the features coloured by label (from core.training.explore.DataOverview)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.ui.plot_style import label_colors, style_plot


class DataView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.counts = QTableWidget(0, 0)
        self.counts.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.counts.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.durations = pg.PlotWidget()
        self.projection = pg.PlotWidget()
        for plot, left, bottom in ((self.durations, "clips", "seconds"), (self.projection, "PC 2", "PC 1")):
            plot.setBackground("w")
            style_plot(plot.getPlotItem(), left, bottom)
            plot.setMinimumSize(280, 220)
        self.legend = self.projection.getPlotItem().addLegend(offset=(5, 5))
        plots = QHBoxLayout()
        plots.addWidget(self.durations, 1)
        plots.addWidget(self.projection, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.counts)
        layout.addLayout(plots, 1)
        self.histogram: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
        self.points: dict[str, int] = {}

    def set_overview(self, overview, source: str = "") -> None:
        speakers = [s or "(none)" for s in overview.speakers]
        self.counts.setRowCount(len(overview.labels))
        self.counts.setColumnCount(len(speakers) + 1)
        self.counts.setHorizontalHeaderLabels([*speakers, "total"])
        self.counts.setVerticalHeaderLabels(overview.labels)
        for r, row in enumerate(overview.counts):
            for c, value in enumerate([*row, sum(row)]):
                item = QTableWidgetItem(str(value))
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.counts.setItem(r, c, item)
        durations = np.asarray(overview.durations, dtype=float)
        self.durations.clear()
        if durations.size:
            counts, edges = np.histogram(durations, bins=min(30, max(1, durations.size // 3)))
            self.histogram = (counts, edges)
            width = float(edges[1] - edges[0]) if len(edges) > 1 else 0.1
            self.durations.addItem(pg.BarGraphItem(x=(edges[:-1] + edges[1:]) / 2, height=counts,
                                                   width=max(width * 0.9, 0.01), brush=pg.mkBrush(60, 120, 190)))
        self.projection.clear()
        self.legend.clear()
        colors = label_colors(overview.labels)
        labels = np.asarray(overview.clip_labels)
        self.points = {}
        for label in overview.labels:
            rows = overview.projection[labels == label]
            self.points[label] = len(rows)
            scatter = pg.ScatterPlotItem(rows[:, 0], rows[:, 1], size=7, pen=None, brush=pg.mkBrush(colors[label]),
                                         name=label)
            self.projection.addItem(scatter)
        ex1, ex2 = overview.explained
        self.projection.getPlotItem().setLabel("bottom", f"PC 1 ({ex1:.0%} of the variance)")
        self.projection.getPlotItem().setLabel("left", f"PC 2 ({ex2:.0%})")
        total = sum(map(sum, overview.counts))
        self.title.setText(f"<b>{total} clips</b>, {len(overview.labels)} labels, {len(speakers)} speakers"
                           f"{' · ' + source if source else ''}; durations {durations.min():.2f}-"
                           f"{durations.max():.2f} s" if durations.size else "No usable clips")


class DataDialog(QDialog):
    """A non-modal window holding a DataView."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Data: clips, durations, projection")
        self.view = DataView()
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        self.resize(900, 620)
