"""Displays of the Live Feedback tab and the report: emotion timeline, pitch and level, meter, current label.

Data is appended cheaply (numpy arrays with amortised shifting, no Python lists of points) and
drawn only when `redraw()` is called by the tab's GUI timer, so a burst of results costs one
`setData` per curve. Silence is a NaN gap in a curve (`connect="finite"`), not a drop to zero.
The live plots keep only the points of their visible time span (the session file keeps them all),
so a long session costs no more memory or drawing time than its first minute.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QVBoxLayout, QWidget

from speakfeed_gui.core.live.analyzer import SILENCE, WindowResult
from speakfeed_gui.core.models.prediction import UNCERTAIN
from speakfeed_gui.ui.plot_style import AXIS_TEXT, label_colors, style_plot
from speakfeed_gui.ui.prosody_cards import restyle

METER_FLOOR_DB = -60.0


def span_capacity(span_seconds: float, rate_hz: float) -> int:
    """Points a live plot keeps: those of its visible span at `rate_hz` points per second, plus 10 % and a few
    (timer ticks come slightly faster than nominal at times), so the plot's left edge never shows a gap."""
    return int(span_seconds * rate_hz * 1.1) + 16


def hop_series(width: int, span_seconds: float, hop_seconds: float) -> "RollingSeries":
    """A series of one point per analysed window (every `hop_seconds`, at least 20 ms) over the span."""
    return RollingSeries(width, span_capacity(span_seconds, 1.0 / max(hop_seconds, 0.02)))


class RollingSeries:
    """x values with `width` y columns; keeps the newest `capacity` points as contiguous views."""

    def __init__(self, width: int, capacity: int) -> None:
        self.capacity = max(1, int(capacity))
        self._x = np.empty(2 * self.capacity)
        self._y = np.empty((2 * self.capacity, max(1, width)))
        self._start = self._end = 0

    def __len__(self) -> int:
        return self._end - self._start

    def clear(self) -> None:
        self._start = self._end = 0

    def append(self, x: float, ys: Sequence[float] | float) -> None:
        if self._end == self._x.size:  # move the kept points to the front (amortised O(1))
            n = len(self)
            self._x[:n] = self._x[self._start : self._end]
            self._y[:n] = self._y[self._start : self._end]
            self._start, self._end = 0, n
        self._x[self._end] = x
        self._y[self._end] = ys
        self._end += 1
        if len(self) > self.capacity:
            self._start += 1

    @property
    def x(self) -> np.ndarray:
        return self._x[self._start : self._end]

    @property
    def y(self) -> np.ndarray:
        return self._y[self._start : self._end]


def _scroll(plot: pg.PlotItem, now: float, span: float | None) -> None:
    """Show the last `span` seconds up to `now` (everything since 0 when span is None)."""
    if span is None:
        plot.setXRange(0.0, max(now, 1.0), padding=0.01)
    else:
        plot.setXRange(max(0.0, now - span), max(span, now), padding=0.0)


class EmotionTimeline(pg.PlotWidget):
    """Smoothed probability of each label over time, one coloured line per label with a legend."""

    def __init__(self, parent: QWidget | None = None, *, span_seconds: float | None = 60.0,
                 hop_seconds: float = 0.25) -> None:
        super().__init__(parent, background="w")
        self.span = span_seconds
        self.hop = hop_seconds
        self.plot = self.getPlotItem()
        style_plot(self.plot, "probability")
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self.legend = self.plot.addLegend(offset=(6, 4), colCount=5, labelTextColor=AXIS_TEXT,
                                          brush=pg.mkBrush(255, 255, 255, 200))
        self.labels: list[str] = []
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.series = RollingSeries(1, 16)
        self._now = 0.0
        self._dirty = False
        self.setMinimumHeight(160)

    def sizeHint(self) -> QSize:
        return QSize(600, 300)  # pyqtgraph's 480 px would make the report scroll

    def set_labels(self, labels: Sequence[str]) -> None:
        """Start over with these labels (a new session or another model)."""
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.legend.clear()
        self.labels = list(labels)
        colors = label_colors(self.labels)
        self.curves = {}
        for label in self.labels:
            curve = self.plot.plot([], [], pen=pg.mkPen(colors[label], width=2), name=label.replace("_", " "),
                                   connect="finite")
            curve.setSkipFiniteCheck(True)
            self.curves[label] = curve
        width = len(self.labels)
        self.series = hop_series(width, self.span, self.hop) if self.span else RollingSeries(width, 1 << 16)
        self._now = 0.0
        self._dirty = True

    def append(self, t: float, probabilities: Mapping[str, float] | None) -> None:
        """One window's smoothed distribution at time `t`; None (silence) leaves a gap."""
        if probabilities is None:
            values = [math.nan] * len(self.labels)
        else:
            values = [float(probabilities.get(label, math.nan)) for label in self.labels]
        self.series.append(t, values or [math.nan])
        self._now = max(self._now, t)
        self._dirty = True

    def set_points(self, points: Sequence[Mapping]) -> None:
        """A whole timeline at once: dicts with `t` and `probabilities` (report.timeline's shape)."""
        labels: list[str] = []
        for point in points:
            labels += [k for k in point.get("probabilities") or {} if k not in labels]
        self.set_labels(labels)
        for point in points:
            self.append(float(point["t"]), point.get("probabilities"))
        self.redraw()

    def point_count(self) -> int:
        """Windows drawn with a probability (gaps for silence not counted)."""
        y = self.series.y
        return int(np.isfinite(y).any(axis=1).sum()) if len(self.series) else 0

    def redraw(self) -> None:
        """Draw what was appended since the last call and scroll to the newest window."""
        if not self._dirty:
            return
        x, y = self.series.x, self.series.y
        for column, label in enumerate(self.labels):
            self.curves[label].setData(x, y[:, column], connect="finite")
        _scroll(self.plot, self._now, self.span)
        self._dirty = False


class PitchLevelPlot(pg.GraphicsLayoutWidget):
    """Pitch per analysed window (Hz) above the input level (dBFS) on the same time axis."""

    def __init__(self, parent: QWidget | None = None, *, span_seconds: float = 60.0, level_rate: float = 30.0,
                 hop_seconds: float = 0.25) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self.ci.layout.setContentsMargins(0, 0, 0, 0)  # line the time axis up with the timeline's above
        self.span = span_seconds
        self.pitch_plot = self.addPlot(row=0, col=0)
        self.level_plot = self.addPlot(row=1, col=0)
        style_plot(self.pitch_plot, "pitch (Hz)", None)
        style_plot(self.level_plot, "level (dBFS)")
        self.level_plot.setXLink(self.pitch_plot)
        self.pitch_plot.setYRange(60.0, 400.0, padding=0.02)
        self.level_plot.setYRange(METER_FLOOR_DB, 0.0, padding=0.02)
        # The symbol's pen and brush are objects made once: pyqtgraph keys its cache of rendered symbols by their
        # identity, so a colour string (a new QBrush at every setData) would add a cache entry per redraw.
        self.pitch_curve = self.pitch_plot.plot([], [], pen=pg.mkPen("#1f77b4", width=2), symbol="o", symbolSize=4,
                                                symbolBrush=pg.mkBrush("#1f77b4"), symbolPen=pg.mkPen(None),
                                                connect="finite")
        self.level_curve = self.level_plot.plot([], [], pen=pg.mkPen("#555555", width=1))
        for curve in (self.pitch_curve, self.level_curve):
            curve.setSkipFiniteCheck(True)
        self.pitch = hop_series(1, span_seconds, hop_seconds)
        self.level = RollingSeries(1, span_capacity(span_seconds, level_rate))
        self._pitch_dirty = self._level_dirty = False
        self.setMinimumHeight(160)

    def clear_data(self, hop_seconds: float | None = None) -> None:
        """Start over; `hop_seconds` (the analysis hop of the new session) sizes the pitch points kept."""
        if hop_seconds is not None:
            self.pitch = hop_series(1, self.span, hop_seconds)
        self.pitch.clear()
        self.level.clear()
        self._pitch_dirty = self._level_dirty = True

    def add_pitch(self, t: float, hz: float | None) -> None:
        self.pitch.append(t, math.nan if hz is None else float(hz))
        self._pitch_dirty = True

    def add_level(self, t: float, dbfs: float) -> None:
        self.level.append(t, max(METER_FLOOR_DB, float(dbfs)))
        self._level_dirty = True

    def redraw(self, now: float) -> None:
        if self._pitch_dirty:
            x, y = self.pitch.x, self.pitch.y[:, 0]
            if not np.isfinite(y).any():  # the scatter's bounds would warn on all-NaN data
                x = y = np.zeros(0)
            self.pitch_curve.setData(x, y, connect="finite")
            self._pitch_dirty = False
        if self._level_dirty:
            self.level_curve.setData(self.level.x, self.level.y[:, 0])
            self._level_dirty = False
        _scroll(self.pitch_plot, now, self.span)


class LevelMeter(QWidget):
    """A horizontal input-level bar from -60 to 0 dBFS: green, amber above -20, red above -6."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.level_db = -100.0
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Input level of the newest 50 ms (dBFS)")

    def sizeHint(self) -> QSize:
        return QSize(200, 20)

    def set_level(self, dbfs: float) -> None:
        if abs(dbfs - self.level_db) >= 0.25:
            self.level_db = float(dbfs)
            self.update()

    def fraction(self) -> float:
        return min(1.0, max(0.0, (self.level_db - METER_FLOOR_DB) / -METER_FLOOR_DB))

    def paintEvent(self, _event: object) -> None:
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        painter.fillRect(rect, QColor("#eeeeee"))
        color = "#2e9d48" if self.level_db < -20 else "#e0a000" if self.level_db < -6 else "#d62728"
        painter.fillRect(QRectF(rect.left(), rect.top(), rect.width() * self.fraction(), rect.height()), QColor(color))
        painter.setPen(QColor("#999999"))
        painter.drawRect(rect)
        painter.setPen(QColor("#222222"))
        text = "silent" if self.level_db <= METER_FLOOR_DB else f"{self.level_db:.0f} dBFS"
        painter.drawText(rect.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, text)
        painter.end()


class EmotionPanel(QFrame):
    """The current label in large type with its confidence, the input level meter and counters.

    "silence" (no speech) and "speech" (a text model with nothing to classify) are grey italic,
    "uncertain" amber with the model's best guess, a real label in its timeline colour.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.emotion_label = QLabel("–")
        self.emotion_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.emotion_label.font()
        font.setPointSizeF(font.pointSizeF() * 2.6)
        font.setBold(True)
        self.emotion_label.setFont(font)
        self.emotion_label.setMinimumWidth(220)
        self.detail_label = QLabel("Press Start and speak")
        self.detail_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail_label.setWordWrap(True)
        self.meter = LevelMeter()
        self.stats_label = QLabel()
        self.stats_label.setWordWrap(True)  # a counter gaining a digit must not widen the panel (and shrink the plots)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.emotion_label)
        layout.addWidget(self.detail_label)
        layout.addStretch(1)
        layout.addWidget(QLabel("Input level"))
        layout.addWidget(self.meter)
        layout.addWidget(self.stats_label)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.show_stats(0, 0, 0)

    def reset(self) -> None:
        self._show("…", "listening", "color: #757575;")
        self.meter.set_level(-100.0)

    def _show(self, text: str, detail: str, style: str) -> None:
        self.emotion_label.setText(text.replace("_", " "))
        restyle(self.emotion_label, style)
        self.detail_label.setText(detail)

    def show_result(self, result: WindowResult, colors: Mapping[str, QColor]) -> None:
        quiet = "color: #757575; font-style: italic;"
        if not result.is_speech:
            self._show(SILENCE, "no speech in the last window", quiet)
        elif result.prediction is None:
            self._show(result.label, "speech heard; nothing transcribed to classify yet", quiet)
        elif result.label == UNCERTAIN:
            probs = result.smoothed or {}
            best = max(probs, key=probs.__getitem__) if probs else "?"
            self._show(UNCERTAIN, f"best guess {best.replace('_', ' ')} at {result.confidence:.0%} "
                                  "(below the model's threshold)", "color: #b26a00;")
        else:
            color = colors.get(result.label)
            self._show(result.label, f"confidence {result.confidence:.0%}",
                       f"color: {color.name() if color else '#222222'};")

    def show_stats(self, overflows: int, skipped: int, results: int) -> None:
        color = "#c62828" if overflows else "#555555"
        self.stats_label.setText(f"<span style='color:{color}'>input overflows: {overflows}</span>"
                                 f"<span style='color:#555555'> · windows skipped: {skipped}<br>results: {results}</span>")
