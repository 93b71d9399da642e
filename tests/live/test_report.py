"""Session report: durations, emotion share, medians against bands, observations, exports."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict

import numpy as np
import pytest

from speakfeed_gui.core.audio.vad import EnergyVAD
from speakfeed_gui.core.live.analyzer import analyze_array
from speakfeed_gui.core.live.report import export_csv, export_json, summarize
from speakfeed_gui.core.live.session import SessionRecorder, load_session
from speakfeed_gui.core.settings.config import DEFAULT_TARGETS
from tests.live.conftest import SR, live_settings, silence, syllables


def window(t, label="calm", speech=True, **prosody):
    probs = {"calm": 0.7, "anxious": 0.3} if label == "calm" else {"calm": 0.3, "anxious": 0.7}
    return {
        "t_start": t, "t_end": t + 2.0, "is_speech": speech, "speech_fraction": 0.9 if speech else 0.0,
        "level_dbfs": -20.0, "label": label if speech else "silence", "confidence": 0.7,
        "prediction": {"label": label, "probabilities": probs} if speech else None,
        "smoothed": probs if speech else None, "prosody": prosody if speech else {}, "transcript": None,
    }


def test_emotion_share_and_plain_language_observations():
    windows = [window(0.5 * i, "calm" if i < 5 else "anxious", pitch_variation_semitones=1.2,
                      loudness_dbfs=-20.0, speaking_rate_sps=6.5 + 0.1 * i) for i in range(8)]
    windows.append(window(4.0, speech=False))
    report = summarize({"status": "completed", "model": {"name": "dummy"}, "windows": windows}, DEFAULT_TARGETS)
    assert report.emotion_share == {"calm": 0.625, "anxious": 0.375}
    assert report.prosody["pitch_variation_semitones"] == 1.2
    assert report.prosody["speaking_rate_sps"] == pytest.approx(6.85)
    assert report.prosody_status["pitch_variation_semitones"] == "low"
    assert report.prosody_status["loudness_dbfs"] == "ok"
    assert report.prosody_status["pause_share"] is None  # not measured
    assert report.observations == [
        "Your pitch varied little (1.2 semitones): add emphasis to key words",
        "You spoke fast (6.8 syllables/s): slow down",
        "Mostly calm (62%)",
    ]
    # 9 windows of 2 s every 0.5 s: 6 s covered, the last 0.5 s silent; speech fraction 0.9
    assert report.duration_seconds == 6.0
    assert report.speech_seconds == pytest.approx(0.9 * 5.5)
    assert report.timeline[-1] == {"t": 6.0, "label": "silence", "probabilities": None}


def test_mixed_emotions_and_no_speech():
    labels = ["calm", "anxious", "calm", "anxious", "energetic"]
    report = summarize({"windows": [window(i, label) for i, label in enumerate(labels)]})
    assert report.observations[-1] == "Mixed emotions: calm 40%, anxious 40%, energetic 20%"
    silent = summarize({"status": "device_lost", "windows": [window(0.0, speech=False)]})
    assert silent.observations == [
        "The session ended early: the microphone was lost",
        "No speech was detected: check the microphone and its input level",
    ]
    assert silent.emotion_share == {} and silent.speech_seconds == 0.0


def test_report_of_a_real_session_with_long_pauses(tmp_path, dummy_model):
    """Monotone bursts of 0.6 s with 0.6 s gaps: low pitch variation, frequent pauses."""
    burst = np.concatenate([syllables(160, 0.6, rate_hz=5.0, amp=0.3), silence(0.6)])
    audio = np.concatenate([silence(0.5)] + [burst] * 6 + [silence(2.5)])
    settings = live_settings(window_seconds=2.0, hop_seconds=1.0)
    recorder = SessionRecorder(tmp_path, model_info=dummy_model.get_model_info(), settings=asdict(settings))
    analyze_array(audio, SR, dummy_model, settings, vad=EnergyVAD(), on_result=recorder.append)
    report = summarize(load_session(recorder.close()), settings.targets)
    assert report.prosody_status["pitch_variation_semitones"] == "low"
    assert report.prosody_status["pause_share"] == "high"
    assert report.prosody["mean_pause_seconds"] == pytest.approx(0.6, abs=0.1)
    assert "You paused often" in " ".join(report.observations)
    assert sum(report.emotion_share.values()) == pytest.approx(1.0)
    assert report.path == str(recorder.path)

    out = export_json(report, tmp_path / "report.json")
    assert json.loads(out.read_text())["prosody_status"]["pause_share"] == "high"
    rows = list(csv.DictReader(export_csv(load_session(recorder.path), tmp_path / "windows.csv").open()))
    assert len(rows) == report.windows
    speech_row = next(r for r in rows if r["is_speech"] == "True")
    assert float(speech_row["pitch_hz"]) == pytest.approx(160, rel=0.06)
    assert sum(float(speech_row[f"p_{label}"]) for label in dummy_model.labels) == pytest.approx(1.0)
    assert next(r for r in rows if r["is_speech"] == "False")["p_calm"] == ""


def test_pauses_between_sentences_count_in_the_session_figures(tmp_path, dummy_model):
    """Issue 16: two 1.2 s pauses between sentences make mostly-silent windows, which the old medians lost."""
    sentence = syllables(170, 5.0, rate_hz=4.0, amp=0.3)
    audio = np.concatenate([silence(0.5), sentence, silence(1.2), sentence, silence(1.2), sentence, silence(0.5)])
    settings = live_settings()  # 2 s windows every 0.5 s
    recorder = SessionRecorder(tmp_path, model_info=dummy_model.get_model_info(), settings=asdict(settings))
    analyze_array(audio, SR, dummy_model, settings, vad=EnergyVAD(), on_result=recorder.append)
    session = load_session(recorder.close())
    report = summarize(session, settings.targets)
    assert report.prosody["pause_count"] == 2
    assert report.prosody["mean_pause_seconds"] == pytest.approx(1.2, abs=0.1)
    assert report.prosody["longest_pause_seconds"] == pytest.approx(1.2, abs=0.1)
    assert report.prosody["pause_share"] == pytest.approx(2.4 / 17.4, abs=0.02)
    assert "You rarely paused" not in " ".join(report.observations)
    # every second of the talk was added once to the timeline, whatever the window overlap
    windows = session["windows"]
    assert windows[0]["new_from"] == 0.0
    assert all(b["new_from"] == pytest.approx(a["t_end"]) for a, b in zip(windows, windows[1:]))
    segments = [seg for w in windows for seg in w["speech_segments"]]
    assert all(a[1] <= b[0] + 1e-6 for a, b in zip(segments, segments[1:]))  # no speech counted twice
    assert 12.0 < sum(e - s for s, e in segments) <= 15.0 + 0.1  # 15 s of syllables, their short dips left out


def test_sessions_recorded_before_the_timeline_keep_their_window_medians():
    windows = [window(0.5 * i, pause_count=1, pause_share=0.2) for i in range(4)]
    report = summarize({"windows": windows}, DEFAULT_TARGETS)
    assert report.prosody["pause_count"] == 1 and report.prosody["pause_share"] == 0.2
