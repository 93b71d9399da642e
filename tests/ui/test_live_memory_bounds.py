"""A long live session costs the Live tab no more memory than its first minute.

The tab is fed a long session's worth of analysed windows (real WindowResults, real Qt widgets,
offscreen) and must keep only what it shows: the plots' visible span, the cards' last seconds of
speech, the transcript's last seconds, and a symbol cache that does not grow with every redraw.
"""

from __future__ import annotations

import pytest

from speakfeed_gui.core.live.analyzer import WindowResult
from speakfeed_gui.core.live.preparation import recent_medians
from speakfeed_gui.core.live.prosody import ProsodyMetrics
from speakfeed_gui.core.models.factory import ModelFactory
from speakfeed_gui.core.models.prediction import make_prediction
from speakfeed_gui.core.settings.workspace import init_workspace
from speakfeed_gui.ui.live_display import CARD_SECONDS, TRANSCRIPT_SECONDS, LiveDisplay
from speakfeed_gui.ui.live_plots import PitchLevelPlot, span_capacity
from speakfeed_gui.ui.prosody_cards import TranscriptLog

SESSION_WINDOWS = 3997  # 33 minutes at the default 0.5 s hop, ending with speech (the cards follow speech)


@pytest.fixture
def dummy(tmp_path):
    factory = ModelFactory(workspace=init_workspace(tmp_path / "ws"))
    return factory.get_model("dummy"), factory.config.live


@pytest.fixture
def display(qtbot, dummy):
    """The Live tab's display, shown at a realistic size and reset for a session of the dummy model."""
    model, live = dummy
    shown = LiveDisplay()
    qtbot.addWidget(shown)
    shown.resize(1200, 700)
    shown.show()
    shown.reset(model, live)
    qtbot.waitExposed(shown)
    return shown


def window(i: int, hop: float, labels: list[str]) -> WindowResult:
    """The i-th window of a session: speech in 7 of every 10, with a transcript, pitch and loudness."""
    t_end = 2.0 + i * hop
    speech = i % 10 < 7
    result = WindowResult(t_end - 2.0, t_end, speech, 0.8 if speech else 0.0, -25.0,
                          ProsodyMetrics(pitch_hz=100.0 + i % 50, loudness_dbfs=-30.0 + i % 7) if speech
                          else ProsodyMetrics(), transcript=f"word {i} um" if speech else None)
    if speech:
        weights = {label: 1.0 + (i + k) % len(labels) for k, label in enumerate(labels)}
        total = sum(weights.values())
        result.prediction = make_prediction({k: v / total for k, v in weights.items()}, model_name="dummy",
                                            model_version="1")
        result.smoothed = dict(result.prediction.probabilities)
        result.label, result.confidence = result.prediction.label, result.prediction.confidence
    return result


def test_a_long_session_keeps_only_what_the_live_tab_shows(display, dummy):
    model, live = dummy
    hop = live.hop_seconds
    results = [window(i, hop, list(model.labels)) for i in range(SESSION_WINDOWS)]
    for i, result in enumerate(results):
        display.add_result(result)
        if i % 40 == 0:
            display.show_latest(result)
    display.show_latest(results[-1])
    now = results[-1].t_end
    for k in range(int(now * 30)):  # the level meter's 30 ticks a second over the whole session
        display.pitch_level.add_level(k / 30.0, -30.0)
    display.show_level(now, -30.0)

    assert display.results_shown == SESSION_WINDOWS
    span = display.timeline.span
    assert len(display.timeline.series) == span_capacity(span, 1.0 / hop) < 200
    assert len(display.pitch_level.pitch) == span_capacity(span, 1.0 / hop)
    assert len(display.pitch_level.level) == span_capacity(span, 30.0) < 2100
    assert display.timeline.series.x[-1] == now and display.pitch_level.pitch.x[-1] == now
    assert display.timeline.series.x[0] <= now - span  # the visible span is still filled to its left edge
    assert display.pitch_level.level.x[0] <= now - span
    # the cards hold the last CARD_SECONDS of speech and still show their medians
    assert all(r.t_end >= now - CARD_SECONDS for r in display.speech)
    recent = [r for r in results if r.is_speech and r.t_end >= now - CARD_SECONDS]
    assert list(display.speech) == recent
    assert display.cards.values == recent_medians(recent, now - CARD_SECONDS)
    # the transcript log keeps about TRANSCRIPT_SECONDS (windows overlap: every 4th one is kept) and rates it
    # as the whole session's transcript would be rated
    segments = display.transcript_log.segments
    assert 0 < len(segments) <= TRANSCRIPT_SECONDS / 2.0 + 2
    whole = TranscriptLog.from_windows(r.to_dict() for r in results)
    assert len(whole.segments) > 10 * len(segments)
    since = now - TRANSCRIPT_SECONDS
    assert display.transcript_log.metrics(live.filler_words, since) == whole.metrics(live.filler_words, since)


def test_redrawing_the_pitch_plot_does_not_grow_its_symbol_cache(qtbot):
    plot = PitchLevelPlot(hop_seconds=0.5)
    qtbot.addWidget(plot)
    plot.resize(800, 300)
    plot.show()
    for i in range(400):
        plot.add_pitch(i * 0.5, 120.0 + i % 40 if i % 3 else None)
        plot.redraw(i * 0.5)
        if i % 50 == 0:
            qtbot.wait(1)  # painted now and then, as the GUI timer's redraws are
    atlas = plot.pitch_curve.scatter.fragmentAtlas
    assert len(atlas) <= 2  # one rendered symbol (pen and brush are the same objects at every setData)
    assert len(plot.pitch) == span_capacity(plot.span, 2.0)


def test_a_bounded_transcript_log_rates_the_recent_transcript_like_a_full_one():
    full, recent = TranscriptLog(), TranscriptLog(keep_seconds=30.0)
    for i in range(600):
        start = i * 0.5
        for log in (full, recent):
            log.add(start, start + 2.0, f"so um word {i}" if i % 5 else "uh")
    end = recent.segments[-1][1]
    assert len(full.segments) == 150 and len(recent.segments) <= 17
    for since in (end - 30.0, end - 10.0):
        assert recent.metrics(["um", "uh"], since=since) == full.metrics(["um", "uh"], since=since)
    assert not recent.add(end - 1.0, end + 1.0, "overlaps the last kept window")  # still checked after pruning
    assert recent.add(end, end + 2.0, "follows it")


def test_a_counter_gaining_digits_does_not_resize_the_plots(qtbot, display):
    widths = []
    for results in (999, 1000, 123456):
        display.panel.show_stats(0, 0, results)
        qtbot.wait(20)  # the layout request is handled
        widths.append((display.panel.width(), display.timeline.width()))
    assert widths[0] == widths[1] == widths[2]
