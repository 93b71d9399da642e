"""The report's moments: listed with times, shaded on the timeline, replayed from the real recording."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from PySide6.QtCore import QPointF, Qt

from speakfeed_gui.core.audio.vad import EnergyVAD
from speakfeed_gui.core.live.analyzer import analyze_array
from speakfeed_gui.core.live.session import SessionRecorder, load_session
from speakfeed_gui.ui.moments_panel import LANE
from speakfeed_gui.ui.report_view import ReportView
from tests.history.helpers import real_talk
from tests.live.conftest import dummy_model, live_settings  # noqa: F401  (fixture)
from tests.virtual_mic import virtual_mic  # noqa: F401  (fixture)


def recorded_session(folder, model, *, record_audio: bool = True):
    """Real EmoDB speech with a 4 s silence in the middle, analysed and saved like a live session."""
    settings = live_settings(window_seconds=2.0, hop_seconds=0.5)
    recorder = SessionRecorder(folder, model_info=model.get_model_info(), settings=asdict(settings),
                               record_audio=record_audio)
    audio = real_talk(gap_seconds=4.0)
    if record_audio:
        recorder.write_audio(audio)
    analyze_array(audio, 16000, model, settings, vad=EnergyVAD(), on_result=recorder.append)
    return load_session(recorder.close())


def _bars(view):
    """(start, end) of every moment drawn, lane by lane."""
    spans = []
    for bar in view.moments.bars.values():
        xs = list(bar.getData()[0])
        spans += [(float(xs[i]), float(xs[i + 1])) for i in range(0, len(xs), 3)]
    return sorted(spans)


def test_report_lists_moments_and_plays_one_from_the_recording(qtbot, tmp_path, dummy_model, virtual_mic):
    view = ReportView(recorded_session(tmp_path, dummy_model))
    qtbot.addWidget(view)
    view.resize(960, 1000)
    view.show()
    qtbot.waitExposed(view)
    panel = view.moments
    kinds = [panel.table.item(row, 2).text() for row in range(panel.table.rowCount())]
    assert "long pause" in kinds
    row = kinds.index("long pause")
    moment = panel.moments[row]
    assert panel.table.item(row, 0).text() == f"0:{moment.start:04.1f}"
    assert _bars(view) == sorted((m.start, m.end) for m in panel.moments)  # one bar per moment on the timeline
    assert set(panel.bars) == set(kinds)
    legend = [label.text for _sample, label in view.timeline.legend.items]
    assert set(kinds) <= set(legend)  # each lane is named in the legend
    assert not panel.highlight.isVisible()
    assert panel.play_button.isVisible() and "Click a moment" in panel.hint.text()

    rect = panel.table.visualItemRect(panel.table.item(row, 0))
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: panel.player is not None and panel.player.playing, timeout=10_000)
    assert panel.highlight.isVisible() and panel.highlight.getRegion() == (moment.start, moment.end)
    qtbot.waitUntil(lambda: panel.player.position > moment.start + 0.3, timeout=10_000)
    assert panel.player.position < moment.end + 5.0  # it started at the moment, not at 0
    qtbot.waitUntil(lambda: panel.cursor.value() > moment.start, timeout=5_000)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)  # pause
    assert not panel.player.playing
    paused_at = panel.player.position
    assert panel.play_button.text() == "▶ Play"
    panel.seek(1.0)
    assert panel.player.position == pytest.approx(1.0) and paused_at > 1.0

    other = next(i for i, m in enumerate(panel.moments) if m.kind != "long pause")  # its bar on the timeline
    m = panel.moments[other]
    lane = list(panel.kind_colors).index(m.kind) + 1
    scene = view.timeline.getPlotItem().getViewBox().mapViewToScene(QPointF((m.start + m.end) / 2, -LANE * lane))
    qtbot.mouseClick(view.timeline.viewport(), Qt.MouseButton.LeftButton, pos=view.timeline.mapFromScene(scene))
    qtbot.waitUntil(lambda: panel.player.playing, timeout=10_000)
    assert panel.table.currentRow() == other and panel.highlight.getRegion() == (m.start, m.end)
    assert panel.player.position >= m.start
    view.hide()


def test_report_of_an_unrecorded_session_lists_moments_without_playback(qtbot, tmp_path, dummy_model):
    view = ReportView(recorded_session(tmp_path, dummy_model, record_audio=False))
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    panel = view.moments
    assert panel.audio_path is None and not panel.play_button.isVisible()
    assert "not recorded" in panel.hint.text()
    assert panel.table.rowCount() == len(panel.moments) >= 1
    assert panel.play_moment(0) is False and panel.player is None
