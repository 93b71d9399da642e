"""The one acoustic feature extractor shared by training and live prediction (no train/serve skew).

`extract_features` turns any clip into a fixed-length float32 vector (`feature_names()` names every
column). Every spectral feature comes from ONE short-time Fourier transform (512-sample Hann window,
10 ms hop at 16 kHz); pitch comes from the app's one tracker (core.audio.pitch, the live cards use it
too). Audio at another rate is resampled to 16 kHz first. Clips shorter than 40 ms are
zero-padded, silent frames are floored at -100 dB, so the vector is always finite.

Columns (FEATURE_SET_VERSION 2, 80 in all):
- MFCC 1-13 (40 Slaney mel bands, log power, orthonormal DCT) and their deltas (9-frame
  regression): mean and std over frames.
- Loudness: frame RMS in dBFS: mean, std, 10th/90th percentile, max.
- Zero-crossing rate: mean, std.
- Spectral centroid, bandwidth, 85 % rolloff (Hz) and flatness (0..1): mean, std.
- Spectral contrast (dB) of 7 octave bands from 200 Hz: mean.
- Pitch over voiced frames: mean (Hz), std and 10-90 % range (semitones), voiced fraction.
- Rhythm: pause fraction (the share of pauses, core.audio.pauses, in a mask of the 32 ms frames within
  30 dB of the loudest) and envelope onsets per second.

Change anything here and bump FEATURE_SET_VERSION: the feature cache and trained models key on it.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

import numpy as np

from speakfeed_gui.core.audio.decode import SAMPLE_RATE, resample, to_mono
from speakfeed_gui.core.audio.levels import frame_db, power_db
from speakfeed_gui.core.audio.pauses import pauses
from speakfeed_gui.core.audio.pitch import MIN_SAMPLES as PITCH_MIN_SAMPLES
from speakfeed_gui.core.audio.pitch import pitch_track

log = logging.getLogger(__name__)


FEATURE_SET_ID = "sf-prosody-mfcc"
FEATURE_SET_VERSION: int = 2  # 2: pitch from core.audio.pitch, pause share from core.audio.pauses

N_FFT = 512
HOP = 160
N_MELS = 40
N_MFCC = 13
DELTA_WIDTH = 4  # frames each side: a 9-frame regression
PAUSE_FRAME = 512  # 32 ms, the VAD frame
CONTRAST_EDGES_HZ = (0.0, 200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0, SAMPLE_RATE / 2)
_MIN_SAMPLES = PITCH_MIN_SAMPLES  # shorter clips are zero-padded to this
_EPS = 1e-10


def _build_names() -> tuple[str, ...]:
    names: list[str] = []
    for prefix in ("mfcc", "mfcc_delta"):
        names += [f"{prefix}{i}_{stat}" for stat in ("mean", "std") for i in range(1, N_MFCC + 1)]
    names += ["rms_db_mean", "rms_db_std", "rms_db_p10", "rms_db_p90", "rms_db_max", "zcr_mean", "zcr_std"]
    for feature in ("centroid_hz", "bandwidth_hz", "rolloff_hz", "flatness"):
        names += [f"spectral_{feature}_mean", f"spectral_{feature}_std"]
    names += [f"contrast_band{b}_db_mean" for b in range(1, len(CONTRAST_EDGES_HZ))]
    names += ["pitch_mean_hz", "pitch_std_st", "pitch_range_st", "voiced_fraction"]
    names += ["pause_fraction", "onset_rate_hz"]
    return tuple(names)


_NAMES = _build_names()
N_FEATURES = len(_NAMES)


def feature_names() -> list[str]:
    """One name per column of `extract_features`'s vector."""
    return list(_NAMES)


_F_SP = 200.0 / 3  # Slaney mel scale: linear below 1 kHz, logarithmic above
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOGSTEP = float(np.log(6.4) / 27.0)


def _hz_to_mel(hz: float) -> float:
    return _MIN_LOG_MEL + float(np.log(hz / _MIN_LOG_HZ)) / _LOGSTEP if hz >= _MIN_LOG_HZ else hz / _F_SP


def _mel_filterbank() -> np.ndarray:
    """(mels x bins) Slaney-normalised triangles, bit-identical to librosa.filters.mel's defaults.

    Computed here because importing librosa's filters costs about 0.7 s in every worker process.
    """
    bins = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE)
    mels = np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2.0), N_MELS + 2)
    edges = np.where(mels >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOGSTEP * (mels - _MIN_LOG_MEL)), _F_SP * mels)
    widths = np.diff(edges)
    ramps = np.subtract.outer(edges, bins)
    rising, falling = -ramps[:-2] / widths[:-1, None], ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    return (weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _matrices() -> tuple[np.ndarray, Any, np.ndarray, np.ndarray]:
    """Hann window, mel filterbank (sparse, mels x bins), DCT-II (mels x mfcc), bin frequencies; built once.

    The products with them avoid BLAS: on a busy 2-core machine OpenBLAS's two-thread sgemm took
    about 7.8 ms for a 2 s clip's mel projection, against 24 us for this sparse product (the
    filterbank is 95 % zeros) and a few us for einsum's own loops.
    """
    import scipy.sparse

    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    mel = scipy.sparse.csr_array(_mel_filterbank())
    n = np.arange(N_MELS)
    dct = np.cos(np.pi / N_MELS * (n[:, None] + 0.5) * np.arange(N_MFCC)[None, :]) * np.sqrt(2.0 / N_MELS)
    dct[:, 0] /= np.sqrt(2.0)
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SAMPLE_RATE).astype(np.float32)
    return window, mel, dct.astype(np.float32), freqs


def _frames(y: np.ndarray, length: int) -> np.ndarray:
    """Centred frames (n_frames x length) every HOP samples, as a strided view of a zero-padded copy."""
    padded = np.pad(y, (length // 2, length // 2))
    return np.lib.stride_tricks.sliding_window_view(padded, length)[::HOP]


def _delta(x: np.ndarray) -> np.ndarray:
    """Regression slope over +-DELTA_WIDTH frames (edges repeated), per column."""
    n = DELTA_WIDTH
    padded = np.pad(x, ((n, n), (0, 0)), mode="edge")
    rows = x.shape[0]
    out = sum(k * (padded[n + k : n + k + rows] - padded[n - k : n - k + rows]) for k in range(1, n + 1))
    return out / (2 * sum(k * k for k in range(1, n + 1)))


def _mean_std(x: np.ndarray) -> list[np.ndarray]:
    return [x.mean(axis=0), x.std(axis=0)]


def _spectral(power: np.ndarray, freqs: np.ndarray) -> list[float]:
    """Centroid, bandwidth, rolloff (magnitude-weighted, Hz) and flatness (power): mean and std."""
    mag = np.sqrt(power)
    total = mag.sum(axis=1) + _EPS
    centroid = np.einsum("ij,j->i", mag, freqs) / total
    spread = np.einsum("ij,j->i", mag, freqs * freqs) / total - centroid * centroid  # E[f^2] - E[f]^2
    bandwidth = np.sqrt(np.maximum(spread, 0.0))
    cumulative = np.cumsum(mag, axis=1)
    rolloff = freqs[np.argmax(cumulative >= 0.85 * cumulative[:, -1:], axis=1)]
    floored = np.maximum(power, _EPS)
    flatness = np.exp(np.log(floored).mean(axis=1)) / floored.mean(axis=1)
    return [float(f(v)) for v in (centroid, bandwidth, rolloff, flatness) for f in (np.mean, np.std)]


def _contrast(power: np.ndarray, freqs: np.ndarray) -> list[float]:
    """Peak-minus-valley level (dB) of each octave band, averaged over frames (librosa's definition)."""
    out = []
    for low, high in zip(CONTRAST_EDGES_HZ[:-1], CONTRAST_EDGES_HZ[1:]):
        band = np.sort(power[:, (freqs >= low) & (freqs <= high)], axis=1)
        k = max(1, int(round(0.02 * band.shape[1])))
        peak = band[:, -k:].mean(axis=1)
        valley = band[:, :k].mean(axis=1)
        out.append(float(np.mean(10 * np.log10((peak + _EPS) / (valley + _EPS)))))
    return out


def _pitch_stats(y: np.ndarray) -> list[float]:
    track = pitch_track(y)
    f0 = track.f0[track.voiced]
    if not f0.size:
        return [0.0, 0.0, 0.0, 0.0]
    semitones = 12 * np.log2(f0 / 100.0)
    p10, p90 = np.percentile(semitones, [10, 90])
    return [float(np.mean(f0)), float(np.std(semitones)), float(p90 - p10), float(track.voiced.mean())]


def _rhythm(y: np.ndarray, rms_db: np.ndarray, seconds: float) -> list[float]:
    """Pause share (core.audio.pauses on frames within 30 dB of the loudest) and envelope onsets per second.

    Onsets are rises through a mid-level threshold, with 3 dB hysteresis.
    """
    levels = frame_db(y, PAUSE_FRAME)
    speech = levels > max(float(levels.max()) - 30.0, -60.0)
    pause_share = pauses(speech, PAUSE_FRAME / SAMPLE_RATE).share or 0.0
    p10, p90 = np.percentile(rms_db, [10, 90])
    threshold = max((p10 + p90) / 2, p90 - 20.0, -60.0)
    state = np.where(rms_db > threshold + 1.5, 1, np.where(rms_db < threshold - 1.5, 0, -1))
    known = np.maximum.accumulate(np.where(state >= 0, np.arange(len(state)), 0))
    filled = np.where(state[known] >= 0, state[known], 0)
    onsets = int(np.count_nonzero(np.diff(filled) == 1)) + int(filled[0] == 1)
    return [pause_share, onsets / seconds]


def extract_features(audio: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Fixed-length float32 feature vector (see the module docstring) of a mono or (frames, channels) clip."""
    import scipy.fft

    y = np.nan_to_num(to_mono(np.asarray(audio, dtype=np.float32)), nan=0.0, posinf=0.0, neginf=0.0)
    if sr != SAMPLE_RATE:
        y = resample(y, int(sr), SAMPLE_RATE)
    seconds = max(y.size, 1) / SAMPLE_RATE
    if y.size < _MIN_SAMPLES:
        y = np.pad(y, (0, _MIN_SAMPLES - y.size))
    window, mel, dct, freqs = _matrices()
    raw = _frames(y, N_FFT)
    spectrum = scipy.fft.rfft(raw * window, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    log_mel = 10 * np.log10(np.maximum((mel @ power.T).T, _EPS))
    mfcc = np.einsum("ij,jk->ik", log_mel, dct)
    rms_db = power_db(np.mean(raw**2, axis=1))
    zcr = np.count_nonzero(np.diff(np.signbit(raw), axis=1), axis=1) / N_FFT
    loudness = [rms_db.mean(), rms_db.std(), *np.percentile(rms_db, [10, 90]), rms_db.max()]
    parts = [
        *_mean_std(mfcc),
        *_mean_std(_delta(mfcc)),
        np.asarray(loudness),
        np.asarray([zcr.mean(), zcr.std()]),
        np.asarray(_spectral(power, freqs)),
        np.asarray(_contrast(power, freqs)),
        np.asarray(_pitch_stats(y)),
        np.asarray(_rhythm(y, rms_db, seconds)),
    ]
    vector = np.concatenate([np.ravel(p) for p in parts]).astype(np.float32)
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0)


def warm_up() -> None:
    """Import scipy.fft, build the filterbanks and run once (call in a background thread at app start)."""
    rng = np.random.default_rng(0)
    extract_features((0.1 * rng.standard_normal(SAMPLE_RATE)).astype(np.float32))
