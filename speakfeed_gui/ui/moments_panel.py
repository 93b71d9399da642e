"""The report's moments: a list with times, shaded on the emotion timeline, and replay of the recording.

The moments come from core (`find_moments` over the saved windows), drawn as one coloured lane
per kind under the emotion curves; the one clicked is shaded across the plot. When the session was
recorded (its WAV beside it), clicking a moment plays the audio from its start, and a
play/pause button with a seek slider controls the whole talk; a cursor follows on the timeline.
Playback is core's sounddevice `Player`: the GUI only polls its position on a timer.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.live.moments import Moment, find_moments
from speakfeed_gui.ui.error_dialog import report_error
from speakfeed_gui.ui.prosody_cards import METRICS

log = logging.getLogger(__name__)

# dark tones, apart from the labels' Tableau colours of the curves above the lanes
KIND_COLORS = ("#bf360c", "#4a148c", "#004d40", "#37474f", "#880e4f", "#0d47a1", "#827717", "#3e2723")
SLIDER_STEPS_PER_SECOND = 10
LANE = 0.06  # height of one moment lane under the timeline's 0..1 probabilities


def _clock(seconds: float) -> str:
    seconds = max(0.0, seconds)
    return f"{int(seconds // 60)}:{seconds % 60:04.1f}"


def session_audio(session: Mapping[str, Any]) -> Path | None:
    """The session's recording beside its file, when it exists."""
    name, path = session.get("audio_file"), session.get("path")
    if not name or not path:
        return None
    audio = Path(str(path)).parent / Path(str(name)).name
    return audio if audio.is_file() else None


class MomentsPanel(QWidget):
    """Moments table + playback controls; shades the moments on `timeline` (an EmotionTimeline)."""

    played = Signal(float)  # playback started at this second

    def __init__(self, session: Mapping[str, Any], targets: Mapping[str, tuple[float, float]],
                 filler_words: Sequence[str] = (), timeline: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.targets = dict(targets)
        self.moments: list[Moment] = find_moments(session, targets, filler_words=filler_words)
        self.audio_path = session_audio(session)
        self.player: Any = None
        self.keys: Any = None  # KeySource of an encrypted recording (None: the OS keyring)
        self.timeline = timeline
        self.bars: dict[str, pg.PlotDataItem] = {}  # one lane per kind of moment
        self.kind_colors: dict[str, str] = {}
        self.highlight = pg.LinearRegionItem(values=(0.0, 0.0), movable=False, brush=pg.mkBrush(255, 193, 7, 50),
                                             pen=pg.mkPen(None))
        self.highlight.setZValue(-10)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["From", "To", "Moment", "What happened"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.cellClicked.connect(self._clicked)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.play_button = QPushButton("▶ Play")
        self.play_button.clicked.connect(self.toggle)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.sliderReleased.connect(lambda: self.seek(self.slider.value() / SLIDER_STEPS_PER_SECOND))
        self.position_label = QLabel("0:00.0")
        self.timer = QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self._tick)
        self.cursor = pg.InfiniteLine(pos=0.0, angle=90, pen=pg.mkPen("#212121", width=2))
        self.cursor.setVisible(False)
        self._build()
        self._fill()

    def _build(self) -> None:
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.position_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(self.table)
        layout.addLayout(controls)
        recorded = self.audio_path is not None
        for widget in (self.play_button, self.slider, self.position_label):
            widget.setVisible(recorded)

    def _fill(self) -> None:
        recorded = self.audio_path is not None
        if not self.moments:
            self.hint.setText("No moments: delivery stayed within its bands.")
        elif recorded:
            self.hint.setText("Click a moment (here or its bar under the timeline) to hear it.")
        else:
            self.hint.setText("This session was not recorded: turn on <i>Record audio</i> to replay moments.")
        self.table.setRowCount(len(self.moments))
        self.kind_colors = {kind: KIND_COLORS[n % len(KIND_COLORS)]
                            for n, kind in enumerate(dict.fromkeys(m.kind for m in self.moments))}
        for row, m in enumerate(self.moments):
            color = QColor(self.kind_colors.get(m.kind, KIND_COLORS[0]))
            for column, text in enumerate((_clock(m.start), _clock(m.end), m.kind, self.describe(m))):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setForeground(color)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        rows = min(len(self.moments), 8)
        self.table.setFixedHeight(self.table.horizontalHeader().height() + 4
                                  + sum(self.table.rowHeight(i) for i in range(rows)))
        self.table.setVisible(bool(self.moments))

    def describe(self, m: Moment) -> str:
        """The moment in words, with the measure's title and unit where it is a band moment."""
        metric = METRICS.get(m.measure or "")
        if metric is None or not isinstance(m.value, (int, float)):
            return m.detail
        band = self.targets.get(m.measure or "")
        target = f" ({metric.format_band(band)})" if band else ""
        return f"{metric.title} {metric.format(m.value)} for {m.seconds:.0f} s{target}"

    def draw(self) -> None:
        """One lane per kind of moment under the timeline's curves (call after the curves are set:
        setting labels clears the legend), plus the highlight of the moment being played."""
        kinds = list(self.kind_colors)
        if self.timeline is None or self.bars:
            return
        plot = self.timeline.getPlotItem()
        for kind in kinds:
            y = -LANE * (kinds.index(kind) + 1)
            xs: list[float] = []
            for m in (m for m in self.moments if m.kind == kind):
                xs += [m.start, m.end, float("nan")]
            bar = pg.PlotDataItem(xs, [y if x == x else float("nan") for x in xs], connect="finite", name=kind,
                                  pen=pg.mkPen(self.kind_colors[kind], width=6))
            plot.addItem(bar)  # the timeline's legend names each lane
            self.bars[kind] = bar
        if kinds:
            plot.setYRange(-LANE * (len(kinds) + 0.6), 1.0, padding=0.02)
            plot.getAxis("left").setTicks([[(v / 5, f"{v / 5:.1f}") for v in range(6)]])
        self.highlight.setVisible(False)
        plot.addItem(self.highlight)
        self.timeline.scene().sigMouseClicked.connect(self._timeline_clicked)
        plot.addItem(self.cursor)

    def moment_at(self, x: float, y: float) -> int | None:
        """The row of the moment whose lane bar is at (x seconds, y) on the timeline, if any."""
        kinds = list(self.kind_colors)
        lane = round(-y / LANE) - 1
        if y >= 0 or not 0 <= lane < len(kinds):
            return None
        rows = [i for i, m in enumerate(self.moments) if m.kind == kinds[lane] and m.start <= x <= m.end]
        return rows[0] if rows else None

    def _timeline_clicked(self, event: Any) -> None:
        """A click on a lane bar plays that moment, like a click in the list."""
        view = self.timeline.getPlotItem().getViewBox()
        point = view.mapSceneToView(event.scenePos())
        row = self.moment_at(point.x(), point.y())
        if row is not None:
            self.table.selectRow(row)
            self._clicked(row, 0)

    def show_moment(self, row: int) -> None:
        """Shade one moment across the whole timeline (the one clicked)."""
        if 0 <= row < len(self.moments):
            m = self.moments[row]
            self.highlight.setRegion((m.start, m.end))
            self.highlight.setVisible(True)

    # -- playback -----------------------------------------------------------------------
    def _ensure_player(self) -> Any:
        if self.player is None and self.audio_path is not None:
            from speakfeed_gui.core.audio.playback import Player
            from speakfeed_gui.core.live.session import load_recording

            samples, rate = load_recording(self.audio_path, self.keys)  # a .wav, or an encrypted .wav.enc
            if samples.ndim > 1:
                samples = samples.mean(axis=1)
            self.player = Player(samples, rate, name=self.audio_path.name)
            self.slider.setRange(0, int(self.player.duration * SLIDER_STEPS_PER_SECOND))
        return self.player

    def play_from(self, seconds: float) -> bool:
        """Play the recording from `seconds`; False (with a message) when it cannot."""
        try:
            player = self._ensure_player()
            if player is None:
                return False
            player.pause()
            player.play(from_seconds=seconds)
        except SpeakFeedError as exc:
            report_error(exc, title="Play recording")
            return False
        self.timer.start()
        self.cursor.setVisible(True)
        self._tick()
        self.played.emit(float(seconds))
        return True

    def _clicked(self, row: int, _column: int) -> None:
        self.show_moment(row)
        self.play_moment(row)

    def play_moment(self, row: int) -> bool:
        if not 0 <= row < len(self.moments) or self.audio_path is None:
            return False
        return self.play_from(self.moments[row].start)

    def toggle(self) -> None:
        player = self._ensure_player_quietly()
        if player is not None and player.playing:
            player.pause()
            self._tick()
        else:
            self.play_from(player.position if player is not None else 0.0)

    def _ensure_player_quietly(self) -> Any:
        try:
            return self._ensure_player()
        except SpeakFeedError as exc:
            report_error(exc, title="Play recording")
            return None

    def seek(self, seconds: float) -> None:
        player = self._ensure_player_quietly()
        if player is None:
            return
        if player.playing:
            self.play_from(seconds)
        else:
            player.seek(seconds)
            self._tick()

    def stop(self) -> None:
        if self.player is not None:
            self.player.stop()
        self.timer.stop()
        self._tick()

    def _tick(self) -> None:
        player = self.player
        if player is None:
            return
        position = player.position
        if not self.slider.isSliderDown():
            self.slider.setValue(int(position * SLIDER_STEPS_PER_SECOND))
        self.position_label.setText(f"{_clock(position)} / {_clock(player.duration)}")
        self.cursor.setValue(position)
        playing = player.playing
        self.play_button.setText("⏸ Pause" if playing else "▶ Play")
        if not playing:
            self.timer.stop()

    def hideEvent(self, event: Any) -> None:  # closing the report stops the sound
        if self.player is not None and self.player.playing:
            self.player.pause()
            self._tick()
        super().hideEvent(event)
