"""Real PortAudio capture through the PulseAudio virtual microphone (marked `mic`)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import soundfile as sf

from speakfeed_gui.core.audio.capture import AudioCapture, find_input_device, list_input_devices
from speakfeed_gui.core.audio.vad import EnergyVAD
from speakfeed_gui.core.errors import DeviceError
from speakfeed_gui.core.live.analyzer import LiveAnalyzer
from speakfeed_gui.core.live.session import SessionRecorder, load_session
from tests.live.conftest import harmonic, live_settings, silence, syllables
from tests.virtual_mic import pactl

pytestmark = pytest.mark.mic


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_virtual_microphone_is_listed(virtual_mic):
    names = [d.name for d in list_input_devices(refresh=True)]
    assert "pulse" in names
    assert find_input_device("pulse").max_input_channels >= 1
    assert sum(d.is_default for d in list_input_devices()) == 1
    with pytest.raises(DeviceError, match=r"input device 'no such mic' is not an input device; input devices: .*pulse"):
        find_input_device("no such mic")
    with pytest.raises(DeviceError, match=r"input device pulse \(ALSA\) does not accept 1 Hz: "):
        AudioCapture("pulse", samplerate=1)


def test_capture_at_the_device_rate(virtual_mic, mic_feeder):
    """At 44.1 kHz PulseAudio resamples the 16 kHz microphone; the pitch must survive."""
    from speakfeed_gui.core.live.prosody import pitch_track

    capture = AudioCapture("pulse", samplerate=44100)
    mic_feeder.play(harmonic(300, 1.5, amp=0.2))
    with capture:
        assert wait_for(lambda: capture.level_dbfs(0.5) > -25 and capture.seconds_captured > 1.0, 5.0)
        recent = capture.ring.latest(int(0.5 * 44100))
    assert capture.samplerate == 44100
    f0 = np.nanmedian(pitch_track(recent, 44100).f0)
    assert abs(12 * np.log2(f0 / 300)) < 1.0


def test_end_to_end_live_analysis(virtual_mic, mic_feeder, dummy_model, tmp_path):
    """Silence, a quiet 200 Hz voice, the same 12 dB louder, silence: through PortAudio to a session file."""
    settings = live_settings(window_seconds=1.0, hop_seconds=0.25)
    capture = AudioCapture("pulse")
    assert capture.samplerate == 16000 and capture.channels == 1
    session = SessionRecorder(tmp_path, model_info=dummy_model.get_model_info(), settings={}, flush_seconds=0.5,
                              record_audio=True, sample_rate=capture.samplerate)
    live = LiveAnalyzer(capture, dummy_model, settings, session=session, vad=EnergyVAD())
    clip = np.concatenate([silence(0.7), harmonic(200, 1.3, amp=0.05), harmonic(200, 1.3, amp=0.2), silence(1.0)])
    capture.start()
    live.start()
    try:
        assert wait_for(lambda: capture.ring.total_written > 0, 5.0), "no audio arrived"
        mic_feeder.play(clip)
        assert wait_for(lambda: len(load_session(session.path)["windows"]) >= 6, 10.0)  # partial file on disk
        assert wait_for(lambda: any(r.label == "silence" for r in live.results[8:]), 10.0)
        meter = capture.level_dbfs()
    finally:
        live.stop()
        capture.stop()
    assert capture.error is None and not capture.running

    results = live.results
    speech = [r for r in results if r.is_speech]
    quiet = [r for r in results if not r.is_speech]
    assert quiet and all(r.prediction is None and r.label == "silence" for r in quiet)
    assert len(speech) >= 5 and all(r.prediction is not None for r in speech)
    full = [r for r in speech if r.speech_fraction == 1.0]
    assert all(abs(12 * np.log2(r.prosody.pitch_hz / 200.0)) < 1.0 for r in full)
    levels = [r.level_dbfs for r in full]
    assert max(levels) - min(levels) == pytest.approx(20 * np.log10(4), abs=1.0)  # the loud part, 4x amplitude
    assert meter == -100.0  # the meter reads the newest samples: silence at the end

    data = load_session(session.path)
    assert data["status"] == "completed" and len(data["windows"]) == len(results)
    assert [w["label"] for w in data["windows"]] == [r.label for r in results]
    assert data["windows"][-1]["t_end"] == pytest.approx(results[-1].t_end)

    recording, rate = sf.read(str(session.audio_path), dtype="float32")
    heard = capture.ring.total_written - live.origin
    assert rate == 16000 and heard - 0.3 * rate <= recording.size <= heard
    assert 20 * np.log10(np.abs(recording).max() / np.abs(clip).max()) == pytest.approx(0.0, abs=0.1)


def test_device_vanishing_mid_stream(virtual_mic, mic_feeder, dummy_model, tmp_path):
    """Unplugging the microphone: capture.error, on_error, session closed as device_lost with its windows."""
    errors, failed = [], threading.Event()

    def on_error(message):
        errors.append(message)
        failed.set()

    capture = AudioCapture("pulse", on_error=on_error)
    session = SessionRecorder(tmp_path, model_info=dummy_model.get_model_info(), settings={})
    analyzer_errors = []
    live = LiveAnalyzer(capture, dummy_model, live_settings(), session=session, on_error=analyzer_errors.append,
                        vad=EnergyVAD())
    mic_feeder.play(syllables(180, 30.0, amp=0.2))
    capture.start()
    live.start()
    try:
        assert wait_for(lambda: len(live.results) >= 2, 8.0)
        virtual_mic.unplug()
        assert failed.wait(5.0), "the capture did not notice the device going away"
        assert wait_for(lambda: not live.running, 5.0)
    finally:
        live.stop()
        capture.stop()
        virtual_mic.replug()
    assert capture.error == errors[0] and len(errors) == 1
    assert "pulse" in capture.error and "stopped delivering audio" in capture.error
    assert not capture.running
    assert analyzer_errors == [f"audio device lost: {capture.error}"]
    data = load_session(session.path)
    assert data["status"] == "device_lost" and data["message"] == capture.error
    assert len(data["windows"]) == len(live.results) >= 2


def test_stalled_stream_is_reported(virtual_mic, mic_feeder, dummy_model, tmp_path):
    """A suspended source delivers nothing: after stall_seconds the capture reports it.

    The owner stops the analyzer at once from on_error; the session still says device_lost.
    """
    failed = threading.Event()
    capture = AudioCapture("pulse", on_error=lambda message: failed.set(), stall_seconds=1.0)
    session = SessionRecorder(tmp_path, model_info=dummy_model.get_model_info(), settings={})
    live = LiveAnalyzer(capture, dummy_model, live_settings(), session=session, vad=EnergyVAD())
    capture.start()
    live.start()
    try:
        assert wait_for(lambda: capture.ring.total_written > 0, 5.0)
        pactl("suspend-source", "fifosrc", "1")
        assert failed.wait(4.0)
        live.stop()
    finally:
        pactl("suspend-source", "fifosrc", "0")
        live.stop()
        capture.stop()
    assert "stopped delivering audio for 1." in capture.error
    assert load_session(session.path)["status"] == "device_lost"


def test_no_audio_at_all_is_reported(virtual_mic):
    """Nobody writes to the microphone: no callbacks ever arrive, and stop() must not hang."""
    failed = threading.Event()
    capture = AudioCapture("pulse", on_error=lambda message: failed.set(), first_audio_timeout=1.0, stall_seconds=1.0)
    capture.start()
    assert failed.wait(4.0)
    began = time.monotonic()
    capture.stop()
    assert time.monotonic() - began < 1.0
    assert capture.error.endswith("delivered no audio within 1 s of starting")
