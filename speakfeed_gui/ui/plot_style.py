"""How every plot of the app looks: one colour per label, grey axes, no mouse zoom, pan or menu.

The live plots, the report's charts and the training results' confusion matrix all call
`style_plot`, so a change of look (or of the left axis width that lines stacked plots up) is made
once.
"""

from __future__ import annotations

from typing import Sequence

import pyqtgraph as pg
from PySide6.QtGui import QColor

# Tableau 10: distinct and readable on white; label i always gets colour i of its model's label list.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
AXIS_PEN = (90, 90, 90)
AXIS_TEXT = (40, 40, 40)
LEFT_AXIS_WIDTH = 58  # the same for every time plot, so stacked time axes line up


def label_colors(labels: Sequence[str]) -> dict[str, QColor]:
    """One stable colour per label, in the model's label order."""
    return {label: QColor(PALETTE[i % len(PALETTE)]) for i, label in enumerate(labels)}


def style_plot(plot: pg.PlotItem, left: str | None, bottom: str | None = "seconds", *, grid: bool = True,
               invert_y: bool = False, left_width: int | None = LEFT_AXIS_WIDTH) -> None:
    """A static plot (no mouse zoom, menu or buttons) with grey axes.

    `left_width` fixes the left axis width when there is a left title (None: as wide as its
    tick labels need, e.g. label names); `invert_y` puts the first row at the top.
    """
    plot.setMenuEnabled(False)
    plot.hideButtons()
    view = plot.getViewBox()
    view.setMouseEnabled(False, False)
    if invert_y:
        view.invertY(True)
    if grid:
        plot.showGrid(x=True, y=True, alpha=0.15)
    for side in ("left", "bottom"):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen(AXIS_PEN))
        axis.setTextPen(pg.mkPen(AXIS_TEXT))
    if left:
        plot.setLabel("left", left)
        if left_width is not None:
            plot.getAxis("left").setWidth(left_width)
    if bottom:
        plot.setLabel("bottom", bottom)
