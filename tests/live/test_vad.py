"""Voice activity: energy VAD on silence and tone bursts, silero on real (espeak-ng) speech."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from speakfeed_gui.core.audio.decode import load_audio
from speakfeed_gui.core.audio.vad import FRAME, EnergyVAD, SileroVAD, frame_db, make_vad
from tests.live.conftest import SR, harmonic, silence


def test_frame_db_of_known_levels():
    full_scale_sine = np.sin(2 * np.pi * 250 * np.arange(4 * FRAME) / SR).astype(np.float32)
    levels = frame_db(np.concatenate([full_scale_sine, 0.1 * full_scale_sine, silence(0.01)]))
    np.testing.assert_allclose(levels[:4], -3.01, atol=0.05)
    np.testing.assert_allclose(levels[4:8], -23.01, atol=0.05)
    assert levels[-1] == pytest.approx(-100.0)


def test_energy_vad_marks_tone_bursts_and_not_silence():
    rng = np.random.default_rng(1)
    noise = lambda s: (0.001 * rng.standard_normal(int(s * SR))).astype(np.float32)  # -60 dBFS room noise
    audio = np.concatenate([noise(0.5), harmonic(150, 0.5) + noise(0.5), noise(0.5), harmonic(220, 0.5) + noise(0.5)])
    mask = EnergyVAD().speech_mask(audio)
    frames = lambda a, b: mask[int(a * SR) // FRAME : int(b * SR) // FRAME]
    assert not frames(0.0, 0.45).any()
    assert frames(0.55, 0.95).all()
    assert not frames(1.05, 1.45).any()
    assert frames(1.55, 1.95).all()
    assert EnergyVAD().speech_fraction(silence(1.0)) == 0.0


def test_energy_vad_floor_rises_with_loud_noise_but_loud_voice_still_counts():
    vad = EnergyVAD()
    hum = (0.03 * np.sin(2 * np.pi * 50 * np.arange(SR) / SR)).astype(np.float32)  # -33 dBFS steady hum
    for _ in range(10):
        vad.speech_fraction(hum)
    assert vad.speech_fraction(hum) == 0.0
    assert vad.speech_fraction(harmonic(200, 1.0, amp=0.5)) == 1.0


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    path = tmp_path_factory.mktemp("speech") / "hello.wav"
    subprocess.run(["espeak-ng", "-w", str(path), "Good morning everyone, thank you for coming."], check=True)
    return load_audio(path)


def test_silero_finds_speech_and_ignores_silence_and_tones(spoken):
    vad = SileroVAD()
    audio = np.concatenate([silence(1.0), spoken, silence(1.0)])
    mask = vad.speech_mask(audio)
    assert mask.size == -(-audio.size // FRAME)
    speech_frames = slice(int(1.2 * SR) // FRAME, int((1.0 + spoken.size / SR - 0.3) * SR) // FRAME)
    assert mask[speech_frames].mean() > 0.8
    assert not mask[: int(0.9 * SR) // FRAME].any()
    assert vad.speech_fraction(harmonic(200, 1.0)) < 0.2  # a pure harmonic tone is not speech to silero


def test_make_vad_kinds():
    assert isinstance(make_vad("energy"), EnergyVAD)
    assert isinstance(make_vad("silero"), SileroVAD)
    assert isinstance(make_vad("auto"), SileroVAD)  # silero-vad is installed here
    with pytest.raises(ValueError, match="auto, silero or energy"):
        make_vad("loud")


def test_loading_silero_keeps_the_torch_thread_count():
    """In a fresh process: importing silero_vad alone would leave torch on one thread."""
    code = (
        "import torch; torch.set_num_threads(2)\n"
        "from speakfeed_gui.core.audio.vad import SileroVAD; SileroVAD()\n"
        "print(torch.get_num_threads())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "2"


def test_silero_streams_overlapping_windows_like_one_pass_over_the_whole_stream(spoken):
    """Each frame is run once with the network's state carried on, as over the whole stream."""
    audio = np.concatenate([silence(0.7), spoken, silence(0.7), spoken, silence(0.5)])
    whole = SileroVAD().speech_probabilities(audio) > 0.5
    vad, size, hop = SileroVAD(), 2 * SR, SR // 2  # the live defaults: 2 s every 0.5 s
    for start in range(0, audio.size - size + 1, hop):
        mask = vad.speech_mask(audio[start : start + size], start=start)
        centres = (start + np.arange(mask.size) * FRAME + FRAME // 2) // FRAME
        np.testing.assert_array_equal(mask, whole[np.minimum(centres, (start + size) // FRAME - 1)])
    assert vad._stream.probs.size <= size // FRAME + 1  # only the last window's frames are kept


def test_silero_stream_starts_over_after_a_gap_or_a_reset(spoken):
    audio = np.concatenate([spoken, silence(1.0), spoken])
    size = 40 * FRAME
    vad = SileroVAD()
    vad.speech_mask(audio[:size], start=0)
    later = 60 * FRAME  # windows were skipped: the frames in between were never seen
    alone = SileroVAD().speech_probabilities(audio[later : later + size]) > 0.5
    np.testing.assert_array_equal(vad.speech_mask(audio[later : later + size], start=later), alone)
    vad.reset()
    np.testing.assert_array_equal(vad.speech_mask(audio[later : later + size], start=later), alone)
