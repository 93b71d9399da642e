"""Moments: runs out of band, long pauses, filler clusters, emotion runs; playback of a real recording."""

from __future__ import annotations

import subprocess
import time
from dataclasses import asdict

import numpy as np
import pytest

from speakfeed_gui.core.audio.vad import EnergyVAD
from speakfeed_gui.core.live.analyzer import analyze_array
from speakfeed_gui.core.live.moments import find_moments
from speakfeed_gui.core.live.session import SessionRecorder, load_session
from speakfeed_gui.core.settings.config import DEFAULT_TARGETS
from tests.history.helpers import real_talk, record, window
from tests.live.conftest import dummy_model, live_settings  # noqa: F401  (fixture)
from tests.virtual_mic import virtual_mic  # noqa: F401  (fixture)


def _talk() -> list[dict]:
    """0-10 s fine, 10-15 s fast, 15-20 s monotone, 20-24 s silent, 24-30 s fine but filler-heavy."""
    windows = []
    for i in range(60):
        t = 0.5 * i
        if 20 <= t < 24:
            windows.append(window(t, None))
            continue
        rate = 7.0 if 10 <= t < 15 else 4.5
        pitch = 1.0 if 15 <= t < 20 else 4.0
        w = window(t, "anxious" if t >= 24 else "calm", speaking_rate_sps=rate, pitch_variation_semitones=pitch)
        if t >= 24 and i % 4 == 0:  # one transcribed window per 2 s (the others overlap it)
            w["transcript"] = "um so uh"
        windows.append(w)
    return windows


def test_moments_of_a_session_timeline(tmp_path):
    session = load_session(record(tmp_path, _talk()))
    moments = find_moments(session, DEFAULT_TARGETS, filler_words=["um", "uh"], emotion_run_seconds=5.0)
    found = {(m.kind, m.start, m.end) for m in moments}
    assert ("too fast", 10.0, 15.0) in found
    assert ("monotone", 15.0, 20.0) in found
    assert ("long pause", 20.0, 24.0) in found
    fillers = [m for m in moments if m.kind == "filler cluster"]
    assert fillers and fillers[0].start == 24.0 and fillers[0].value >= 3
    runs = [m for m in moments if m.kind == "emotion run"]
    assert [(m.value, m.start) for m in runs] == [("calm", 0.0), ("anxious", 24.0)]
    assert [m.start for m in moments] == sorted(m.start for m in moments)
    assert "too slow" not in {m.kind for m in moments}


def test_thresholds_and_a_talk_without_moments(tmp_path):
    calm = [window(0.5 * i, "calm", speaking_rate_sps=4.5, pitch_variation_semitones=4.0) for i in range(40)]
    assert find_moments({"windows": calm}, DEFAULT_TARGETS) == []  # one mood all along is no moment
    brief = calm[:10] + [window(5.0 + 0.5 * i, "calm", speaking_rate_sps=7.0) for i in range(3)]
    assert find_moments({"windows": brief}, DEFAULT_TARGETS) == []  # 1.5 s fast: under min_seconds
    assert [m.kind for m in find_moments({"windows": brief}, DEFAULT_TARGETS, min_seconds=1.5)] == ["too fast"]


def test_long_pause_found_in_real_speech(tmp_path, dummy_model):
    """Real EmoDB speech with a 4 s silence, analysed and recorded like a live session."""
    settings = live_settings(window_seconds=2.0, hop_seconds=0.5)
    recorder = SessionRecorder(tmp_path, model_info=dummy_model.get_model_info(), settings=asdict(settings),
                               record_audio=True)
    audio = real_talk(gap_seconds=4.0)
    recorder.write_audio(audio)
    analyze_array(audio, 16000, dummy_model, settings, vad=EnergyVAD(), on_result=recorder.append)
    session = load_session(recorder.close())
    pauses = [m for m in find_moments(session, settings.targets) if m.kind == "long pause"]
    assert len(pauses) == 1
    assert pauses[0].start == pytest.approx(4.5, abs=0.6) and pauses[0].end == pytest.approx(8.5, abs=0.6)


def test_player_plays_a_recording_from_a_moment_through_the_sound_server(tmp_path, virtual_mic):
    """The output reaches PulseAudio's null sink: its monitor hears the speech, from the chosen second."""
    from speakfeed_gui.core.audio.playback import Player

    audio = real_talk(gap_seconds=1.0)
    path = tmp_path / "talk.wav"
    import soundfile as sf

    sf.write(str(path), audio, 16000, subtype="PCM_16")
    done = []
    player = Player.from_file(path, on_finished=lambda: done.append(True))
    assert player.duration == pytest.approx(audio.size / 16000)
    monitor = subprocess.Popen(["parec", "--device=vsink.monitor", "--format=s16le", "--rate=16000", "--channels=1",
                                "--latency-msec=20"], stdout=subprocess.PIPE)
    try:
        player.play(from_seconds=player.duration - 2.5)  # the last utterance
        deadline = time.monotonic() + 30
        while not done and time.monotonic() < deadline:
            time.sleep(0.05)
        assert done, "playback did not reach the end"
        assert player.position == pytest.approx(player.duration)
    finally:
        time.sleep(0.3)
        monitor.terminate()
        heard, _ = monitor.communicate(timeout=10)
        player.stop()
    samples = np.frombuffer(heard, dtype=np.int16).astype(np.float32) / 32768
    assert samples.size > 16000  # about 2.5 s reached the sink
    assert np.sqrt(np.mean(samples**2)) > 0.01  # speech, not silence
    assert player.position == 0.0  # stop rewinds


def test_player_errors_are_one_line(tmp_path):
    from speakfeed_gui.core.audio.playback import Player
    from speakfeed_gui.core.errors import AudioError, DeviceError

    broken = tmp_path / "talk.wav"
    broken.write_bytes(b"RIFF, but not really")
    with pytest.raises(AudioError, match="talk.wav: not a readable audio file"):
        Player.from_file(broken)
    import soundfile as sf

    sf.write(str(broken), np.zeros(1600, dtype=np.float32), 16000)
    player = Player.from_file(broken, device=10_000)  # no such output device
    with pytest.raises(DeviceError, match="cannot play talk.wav: no usable audio output") as info:
        player.play()
    assert "\n" not in str(info.value) and not player.playing
