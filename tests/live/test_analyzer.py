"""Window analysis offline: silence is not classified, smoothing math, windows, live worker over a ring."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from speakfeed_gui.core.audio.decode import resample
from speakfeed_gui.core.audio.ringbuffer import RingBuffer
from speakfeed_gui.core.audio.vad import EnergyVAD
from speakfeed_gui.core.live.analyzer import (
    SILENCE,
    UNCLASSIFIED,
    LiveAnalyzer,
    WindowAnalyzer,
    analyze_array,
    smooth,
    window_starts,
)
from speakfeed_gui.core.models.prediction import UNCERTAIN
from tests.live.conftest import SR, harmonic, live_settings, silence, syllables


def collector():
    """A list, a semaphore released once per item, and the callback that fills both."""
    items, arrived = [], threading.Semaphore(0)

    def add(item):
        items.append(item)
        arrived.release()

    return items, arrived, add


def start_live(model, ring_seconds: float, settings, *, samplerate: int = SR, collect: str = "on_result"):
    """A ring buffer and a started LiveAnalyzer (energy VAD) on it, collecting its results (or errors)."""
    ring = RingBuffer(int(ring_seconds * samplerate))
    items, arrived, add = collector()
    live = LiveAnalyzer(ring, model, settings, vad=EnergyVAD(), samplerate=samplerate, **{collect: add})
    live.start()
    return ring, live, items, arrived


def test_smoothing_is_exponential():
    first = smooth(None, {"calm": 0.8, "anxious": 0.2}, 0.25)
    assert first == {"calm": 0.8, "anxious": 0.2}
    second = smooth(first, {"calm": 0.0, "anxious": 1.0}, 0.25)
    assert second["calm"] == pytest.approx(0.25 * 0.0 + 0.75 * 0.8)
    assert second["anxious"] == pytest.approx(0.25 * 1.0 + 0.75 * 0.2)
    assert smooth(second, {"calm": 0.1, "anxious": 0.9}, 1.0) == {"calm": 0.1, "anxious": 0.9}


def test_silence_is_not_classified_and_keeps_smoothing_state(dummy_model):
    analyzer = WindowAnalyzer(dummy_model, live_settings(smoothing=0.5), vad=EnergyVAD())
    voice_a, voice_b = harmonic(200, 1.0), harmonic(230, 1.0)
    first = analyzer.analyze(voice_a, 0.0)
    quiet = analyzer.analyze(silence(1.0), 1.0)
    second = analyzer.analyze(voice_b, 2.0)

    assert quiet.label == SILENCE and quiet.prediction is None and quiet.smoothed is None
    assert not quiet.is_speech and quiet.prosody.pitch_hz is None
    assert first.is_speech and first.prediction is not None
    assert first.smoothed == pytest.approx(first.prediction.probabilities)
    # the silent window did not reset or dilute the running average
    raw_b = second.prediction.probabilities
    for label, p in second.smoothed.items():
        assert p == pytest.approx(0.5 * raw_b[label] + 0.5 * first.smoothed[label])
    assert (second.t_start, second.t_end) == (2.0, 3.0)
    assert abs(12 * np.log2(second.prosody.pitch_hz / 230)) < 1.0


def test_label_after_smoothing_respects_the_confidence_threshold(dummy_model, tmp_path):
    from speakfeed_gui.core.models.factory import ModelFactory
    from speakfeed_gui.core.settings.workspace import init_workspace

    strict = ModelFactory(workspace=init_workspace(tmp_path)).with_spec("dummy", confidence_threshold=0.99)
    result = WindowAnalyzer(strict, live_settings(), vad=EnergyVAD()).analyze(harmonic(200, 1.0), 0.0)
    assert result.label == UNCERTAIN
    assert result.confidence == pytest.approx(max(result.smoothed.values()))
    lenient = WindowAnalyzer(dummy_model, live_settings(), vad=EnergyVAD()).analyze(harmonic(200, 1.0), 0.0)
    assert lenient.label == max(lenient.smoothed, key=lenient.smoothed.get)


def test_text_model_uses_the_transcriber(dummy_model, tmp_path):
    from speakfeed_gui.core.models.factory import ModelFactory
    from speakfeed_gui.core.settings.workspace import init_workspace

    # the dummy model with input_kind "text" stands in for a sentiment model
    text_model = ModelFactory(workspace=init_workspace(tmp_path)).with_spec("dummy")
    text_model.input_kind = "text"
    heard = []

    def transcriber(window):
        heard.append(window.size)
        return "  I am happy to be here  "

    with_asr = WindowAnalyzer(text_model, live_settings(), vad=EnergyVAD(), transcriber=transcriber)
    result = with_asr.analyze(harmonic(200, 1.0), 0.0)
    assert heard == [SR] and result.transcript == "I am happy to be here"
    assert result.prediction.probabilities == dummy_model.predict("I am happy to be here").probabilities
    assert with_asr.analyze(silence(1.0), 1.0).transcript is None and heard == [SR]

    without = WindowAnalyzer(text_model, live_settings(), vad=EnergyVAD()).analyze(harmonic(200, 1.0), 0.0)
    assert without.prediction is None and without.label == UNCLASSIFIED


def test_window_starts():
    assert window_starts(10, 4, 2) == [0, 2, 4, 6]
    assert window_starts(3, 4, 2) == [0]
    assert window_starts(0, 4, 2) == []


def test_analyze_array_windows_and_resampling(dummy_model):
    audio = np.concatenate([silence(1.0), syllables(180, 2.0), silence(1.0)])
    at_44k = resample(audio, SR, 44100)
    results = analyze_array(at_44k, 44100, dummy_model, live_settings(window_seconds=1.0, hop_seconds=0.5))
    assert [r.t_start for r in results] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0])
    speech = [r.is_speech for r in results]
    assert speech == [False, True, True, True, True, True, False]
    assert all((r.prediction is None) == (not r.is_speech) for r in results)
    mid = results[3].to_dict()
    assert mid["prosody"]["pitch_hz"] == pytest.approx(180, rel=0.06)
    assert mid["prediction"]["model_name"] == "dummy"


def test_each_window_adds_only_its_new_part_to_the_timeline(dummy_model):
    """Overlapping windows: every syllable nucleus and speech second reaches the session once."""
    audio = np.concatenate([silence(0.7), syllables(180, 4.0, rate_hz=4.0), silence(0.8), syllables(180, 2.0, rate_hz=4.0)])
    results = analyze_array(audio, SR, dummy_model, live_settings(), vad=EnergyVAD())
    assert results[0].new_from == 0.0
    assert [r.new_from for r in results[1:]] == pytest.approx([r.t_end for r in results[:-1]])
    assert sum(r.nuclei for r in results) == pytest.approx(24, abs=2)  # 6 s of syllables at 4 per second
    segments = [seg for r in results for seg in r.speech_segments]
    assert segments[0][0] == pytest.approx(0.7, abs=0.05)
    assert all(r.t_start - 1e-6 <= s <= e <= r.t_end + 1e-6 for r in results for s, e in r.speech_segments)


def test_live_analyzer_over_a_ring_buffer_always_takes_the_newest_window(dummy_model):
    """Ten seconds arrive at once: the worker analyses the newest window and counts the skipped ones."""
    ring, live, results, arrived = start_live(dummy_model, 20, live_settings(window_seconds=1.0, hop_seconds=0.5))
    ring.write(np.concatenate([silence(9.0), harmonic(200, 1.0)]))
    assert arrived.acquire(timeout=10)
    live.stop()
    assert results[0].t_start == pytest.approx(9.0) and results[0].is_speech
    assert live.skipped == 18  # windows ending at 1.0, 1.5 ... 9.5 s were never analysed
    assert live.results == results


def test_live_analyzer_resamples_other_capture_rates(dummy_model):
    ring, live, results, arrived = start_live(dummy_model, 5, live_settings(window_seconds=1.0, hop_seconds=1.0),
                                              samplerate=44100)
    ring.write(harmonic(300, 1.0, sr=44100))
    assert arrived.acquire(timeout=10)
    live.stop()
    [result] = results
    assert (result.t_start, result.t_end) == (0.0, pytest.approx(1.0))
    assert result.prediction.metadata["duration_s"] == pytest.approx(1.0)  # 16 kHz samples reached the model
    assert abs(12 * np.log2(result.prosody.pitch_hz / 300)) < 1.0


def test_live_analyzer_reports_model_errors_and_goes_on(tmp_path):
    """The `emotion` model of a fresh workspace has no trained model behind its alias: every window fails."""
    from speakfeed_gui.core.models.factory import ModelFactory
    from speakfeed_gui.core.settings.workspace import init_workspace

    untrained = ModelFactory(workspace=init_workspace(tmp_path)).get_model("emotion")
    ring, live, errors, two = start_live(untrained, 10, live_settings(window_seconds=1.0, hop_seconds=1.0),
                                         collect="on_error")
    ring.write(harmonic(200, 1.0))
    assert two.acquire(timeout=10)
    ring.write(harmonic(200, 1.0))
    assert two.acquire(timeout=10)
    assert live.running  # still analysing after two failures
    live.stop()
    assert live.errors == 2 and live.results == []
    assert errors[0].startswith("analysis failed at 0.0 s: ModelNotFoundError: no model 'live'")
    assert errors[1].startswith("analysis failed at 1.0 s:")


def test_live_analyzer_keeps_a_bounded_history_but_every_compute_time(dummy_model):
    """An hour-long talk must not grow memory: `results` keeps the newest RESULT_HISTORY windows."""
    from speakfeed_gui.core.live.analyzer import RESULT_HISTORY

    ring, live, results, arrived = start_live(dummy_model, 5, live_settings(window_seconds=0.25, hop_seconds=0.05))
    ring.write(silence(0.25))
    hop = harmonic(200, 0.05)
    while len(results) < RESULT_HISTORY + 20:  # one hop at a time, each analysed before the next arrives
        assert arrived.acquire(timeout=10)
        ring.write(hop)
    assert arrived.acquire(timeout=10)
    live.stop()
    assert live.skipped == 0
    assert live.results == results[-RESULT_HISTORY:]
    assert list(live.compute_ms) == [r.compute_ms for r in results]
