"""The shared feature extractor and the cached, parallel, cancellable file featuriser."""

from __future__ import annotations

import numpy as np
import pytest

from speakfeed_gui.core.audio.decode import load_audio
from speakfeed_gui.core.errors import AudioError, Cancelled
from speakfeed_gui.core.features.batch import cache_folder, featurize_files
from speakfeed_gui.core.features.extractor import (
    FEATURE_SET_ID,
    FEATURE_SET_VERSION,
    extract_features,
    feature_names,
    warm_up,
)
from speakfeed_gui.core.progress import CancelToken
from speakfeed_gui.core.storage.hashing import sha256_file
from tests.synth import noise, silence, speechlike, tone, write_wav

NAMES = feature_names()


def col(vector: np.ndarray, name: str) -> float:
    return float(vector[NAMES.index(name)])


def test_vector_has_one_named_column_each():
    vector = extract_features(speechlike(160, 1.0))
    assert vector.dtype == np.float32
    assert vector.shape == (len(NAMES),)
    assert len(set(NAMES)) == len(NAMES)
    assert FEATURE_SET_ID == "sf-prosody-mfcc" and FEATURE_SET_VERSION == 2


@pytest.mark.parametrize(
    "audio",
    [
        silence(1.0),
        silence(0.3),
        noise(0.3),
        tone(200, 0.01),
        np.zeros(0, dtype=np.float32),
        np.sign(tone(150, 1.0, amp=1.0)),  # full-scale square wave
        np.full(16000, 1.0, dtype=np.float32),  # DC
        np.array([np.nan, np.inf, -np.inf, 0.5] * 1000, dtype=np.float32),
    ],
    ids=["silence", "silence-0.3s", "noise-0.3s", "10ms", "empty", "square", "dc", "nan-inf"],
)
def test_always_finite(audio):
    vector = extract_features(audio)
    assert vector.shape == (len(NAMES),)
    assert np.all(np.isfinite(vector))


def test_silence_has_floor_loudness_and_no_pitch():
    vector = extract_features(silence(1.0))
    assert col(vector, "rms_db_max") == pytest.approx(-100.0, abs=0.01)
    assert col(vector, "voiced_fraction") == 0.0
    assert col(vector, "pitch_mean_hz") == 0.0


def test_deterministic():
    audio = speechlike(140, 1.5, seed=3)
    assert np.array_equal(extract_features(audio), extract_features(audio.copy()))


@pytest.mark.parametrize("freq", [110.0, 220.0, 440.0])
def test_pitch_of_a_known_tone(freq):
    vector = extract_features(tone(freq, 1.0))
    assert col(vector, "pitch_mean_hz") == pytest.approx(freq, rel=0.01)
    assert col(vector, "voiced_fraction") > 0.9
    assert col(vector, "pitch_std_st") < 0.1


def test_vibrato_raises_pitch_variation():
    steady = extract_features(tone(220, 1.0))
    wobbly = extract_features(tone(220, 1.0, vibrato=2.0))
    assert col(wobbly, "pitch_std_st") > 1.0 > col(steady, "pitch_std_st")
    assert col(wobbly, "pitch_range_st") > 2.0


def test_noise_is_unvoiced():
    assert col(extract_features(noise(1.0, amp=0.3)), "voiced_fraction") < 0.1


def test_louder_clip_has_higher_loudness_features():
    quiet = extract_features(speechlike(150, 1.0, amp=0.05, seed=1))
    loud = extract_features(speechlike(150, 1.0, amp=0.5, seed=1))
    for name in ("rms_db_mean", "rms_db_p90", "rms_db_max"):
        assert col(loud, name) - col(quiet, name) == pytest.approx(20.0, abs=1.5)


def test_faster_syllables_give_higher_onset_rate():
    slow = extract_features(speechlike(150, 3.0, rate_hz=2.0, seed=2))
    fast = extract_features(speechlike(150, 3.0, rate_hz=6.0, seed=2))
    assert col(slow, "onset_rate_hz") == pytest.approx(2.0, abs=0.7)
    assert col(fast, "onset_rate_hz") == pytest.approx(6.0, abs=1.5)
    assert col(slow, "pause_fraction") > 0.2


def test_other_rates_and_stereo_are_converted():
    audio44 = tone(330, 1.0, sr=44100)
    stereo = np.stack([audio44, audio44], axis=1)
    vector = extract_features(stereo, sr=44100)
    assert col(vector, "pitch_mean_hz") == pytest.approx(330, rel=0.01)
    native = extract_features(tone(330, 1.0))
    for name in ("rms_db_mean", "spectral_centroid_hz_mean", "mfcc1_mean", "mfcc2_mean", "voiced_fraction"):
        assert col(vector, name) == pytest.approx(col(native, name), rel=0.02, abs=0.05)


def test_warm_up_runs():
    warm_up()


# -- featurize_files ---------------------------------------------------------------------------


def _clips(folder, n, seconds=0.3):
    return [write_wav(folder / f"clip{i:02d}.wav", speechlike(100 + 15 * i, seconds, seed=i)) for i in range(n)]


def test_featurize_matches_extract_and_reports_progress(tmp_path):
    paths = _clips(tmp_path, 5)
    calls = []
    matrix = featurize_files(paths, cache_dir=None, n_jobs=1, progress=lambda *a: calls.append(a))
    expected = np.stack([extract_features(load_audio(p)) for p in paths])
    np.testing.assert_array_equal(matrix, expected)
    assert {c[0] for c in calls} == {"features"}
    assert calls[-1][1:3] == (5, 5)
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)


def test_cache_is_keyed_by_content_and_reused(tmp_path):
    paths = _clips(tmp_path / "audio", 4)
    cache = tmp_path / "cache"
    first = featurize_files(paths, cache_dir=cache, n_jobs=1)
    folder = cache_folder(cache)
    assert folder.name == f"{FEATURE_SET_ID}-v{FEATURE_SET_VERSION}"
    files = sorted(folder.iterdir())
    assert sorted(f.name for f in files) == sorted(f"{sha256_file(p)}.npy" for p in paths)
    # Plant a sentinel in one cache entry: a second run must return it, so it did not re-extract.
    sentinel = np.full(len(NAMES), 7.0, dtype=np.float32)
    np.save(folder / f"{sha256_file(paths[2])}.npy", sentinel)
    calls = []
    second = featurize_files(paths, cache_dir=cache, n_jobs=1, progress=lambda *a: calls.append(a))
    np.testing.assert_array_equal(second[2], sentinel)
    np.testing.assert_array_equal(np.delete(second, 2, axis=0), np.delete(first, 2, axis=0))
    assert calls == [("features", 4, 4, "4 cached")]
    assert not list(folder.glob(".tmp-*"))


def test_corrupt_cache_entry_is_recomputed(tmp_path):
    (path,) = _clips(tmp_path, 1)
    cache = tmp_path / "cache"
    good = featurize_files([path], cache_dir=cache, n_jobs=1)
    entry = cache_folder(cache) / f"{sha256_file(path)}.npy"
    entry.write_bytes(b"not a numpy file")
    np.testing.assert_array_equal(featurize_files([path], cache_dir=cache, n_jobs=1), good)
    np.testing.assert_array_equal(np.load(entry), good[0])


def test_cancel_between_chunks(tmp_path):
    paths = _clips(tmp_path / "audio", 8)
    cache = tmp_path / "cache"
    token = CancelToken()

    def progress(stage, done, total, message=""):
        if done > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        featurize_files(paths, cache_dir=cache, n_jobs=1, progress=progress, cancel=token)
    assert 0 < len(list(cache_folder(cache).glob("*.npy"))) < len(paths)
    with pytest.raises(Cancelled):
        featurize_files(paths, cache_dir=None, cancel=token)


def test_parallel_equals_sequential_and_cancels(tmp_path):
    paths = _clips(tmp_path / "audio", 20, seconds=0.25)
    parallel = featurize_files(paths, cache_dir=tmp_path / "cache", n_jobs=2)
    np.testing.assert_array_equal(parallel, featurize_files(paths, cache_dir=None, n_jobs=1))
    assert len(list(cache_folder(tmp_path / "cache").glob("*.npy"))) == 20

    token = CancelToken()
    seen = []

    def progress(stage, done, total, message=""):
        seen.append(done)
        if done > 0:
            token.cancel()

    with pytest.raises(Cancelled):
        featurize_files(paths, cache_dir=None, n_jobs=2, progress=progress, cancel=token)
    assert seen[-1] < 20


def test_unreadable_file_names_the_file(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioError, match="bad.wav"):
        featurize_files([bad], cache_dir=tmp_path / "cache", n_jobs=1)
