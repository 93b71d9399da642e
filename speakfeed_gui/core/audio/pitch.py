"""The one pitch tracker: a vectorised YIN (de Cheveigné & Kawahara 2002) on 16 kHz audio.

Used by the feature extractor (pitch features for training and live prediction) and by the live
prosody cards, so a window's pitch is computed one way. One frame every 10 ms, a 20 ms
integration window, f0 from 50 to 500 Hz (low male voices to high, excited female ones). A frame
is voiced when YIN's aperiodicity is below VOICING_THRESHOLD and its level is within
VOICED_RANGE_DB of the loudest frame (and above VOICED_FLOOR_DBFS). Plain numpy and scipy.fft: no
numba compile at start-up, about 1 ms per second of audio. Checked against Praat's pitch
(parselmouth) on real speech in tests/live/test_prosody.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from speakfeed_gui.core.audio.decode import SAMPLE_RATE, resample
from speakfeed_gui.core.audio.levels import power_db

HOP = 160  # 10 ms
WINDOW = 320  # 20 ms integration window
FMIN, FMAX = 50.0, 500.0
TAU_MIN = int(SAMPLE_RATE // FMAX)
TAU_MAX = int(SAMPLE_RATE // FMIN)
VOICING_THRESHOLD = 0.2  # cumulative-mean-normalised difference below this = periodic
VOICED_RANGE_DB = 35.0
VOICED_FLOOR_DBFS = -60.0
MIN_SAMPLES = WINDOW + TAU_MAX  # one whole analysis frame
FRAME_SECONDS = HOP / SAMPLE_RATE
_EPS = 1e-10


@dataclass
class PitchTrack:
    """Per 10 ms frame: f0 in Hz (NaN where unvoiced), aperiodicity (0 periodic .. 1 noise), level
    (dBFS of the integration window) at frame centres `times` (seconds)."""

    f0: np.ndarray
    times: np.ndarray
    aperiodicity: np.ndarray
    level_db: np.ndarray

    @property
    def voiced(self) -> np.ndarray:
        return np.isfinite(self.f0)


def yin(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame f0 candidate (Hz), aperiodicity and window power of 16 kHz audio (frames centred every HOP).

    Difference function from one FFT cross-correlation per frame, cumulative-mean normalisation,
    first dip below VOICING_THRESHOLD (else the global minimum), parabolic refinement.
    """
    import scipy.fft

    frame_len = WINDOW + TAU_MAX
    y = np.pad(np.asarray(y, dtype=np.float32), (frame_len // 2, frame_len // 2))
    if y.size < frame_len:
        y = np.pad(y, (0, frame_len - y.size))
    frames = np.lib.stride_tricks.sliding_window_view(y, frame_len)[::HOP]
    n_fft = 1 << int(np.ceil(np.log2(frame_len + WINDOW)))
    spec = scipy.fft.rfft(frames, n_fft, axis=1)
    head = scipy.fft.rfft(frames[:, :WINDOW], n_fft, axis=1)
    acf = scipy.fft.irfft(spec * np.conj(head), n_fft, axis=1)[:, : TAU_MAX + 1]
    cumulative = np.concatenate([[0.0], np.cumsum(np.square(y, dtype=np.float64))])
    sliding = (cumulative[WINDOW:] - cumulative[:-WINDOW]).astype(np.float32)  # window energy from j
    window_energy = np.lib.stride_tricks.sliding_window_view(sliding, TAU_MAX + 1)[::HOP][: len(frames)]
    diff = np.maximum(window_energy[:, :1] + window_energy - 2 * acf, 0.0)
    taus = np.arange(1, TAU_MAX + 1, dtype=np.float32)
    cmnd = diff[:, 1:] * taus / (np.cumsum(diff[:, 1:], axis=1) + _EPS)  # column i <-> tau i+1
    search = cmnd[:, TAU_MIN - 1 :]
    is_dip = np.zeros_like(search, dtype=bool)
    is_dip[:, 1:-1] = (search[:, 1:-1] < search[:, :-2]) & (search[:, 1:-1] <= search[:, 2:])
    candidates = is_dip & (search < VOICING_THRESHOLD)
    best = np.where(candidates.any(axis=1), np.argmax(candidates, axis=1), np.argmin(search, axis=1))
    rows = np.arange(len(search))
    inner = np.clip(best, 1, search.shape[1] - 2)
    left, mid, right = search[rows, inner - 1], search[rows, inner], search[rows, inner + 1]
    curvature = left + right - 2 * mid
    safe = np.where(np.abs(curvature) > _EPS, curvature, 1.0)
    shift = np.where((best == inner) & (np.abs(curvature) > _EPS), np.clip(0.5 * (left - right) / safe, -1, 1), 0.0)
    tau = best + TAU_MIN + shift
    power = window_energy[:, 0] / WINDOW
    aperiodicity = np.where(power > _EPS, np.clip(search[rows, best], 0.0, 1.0), 1.0)
    return SAMPLE_RATE / tau, aperiodicity, power


def pitch_track(audio: np.ndarray, sr: int = SAMPLE_RATE) -> PitchTrack:
    """The voiced f0 contour of a mono clip at any rate (resampled to 16 kHz first)."""
    y = np.asarray(audio, dtype=np.float32)
    if sr != SAMPLE_RATE:
        y = resample(y, int(sr), SAMPLE_RATE)
    if y.size == 0:
        empty = np.zeros(0)
        return PitchTrack(empty, empty, empty, empty)
    f0, aperiodicity, power = yin(y)
    level = power_db(power)
    loud = level > max(float(level.max()) - VOICED_RANGE_DB, VOICED_FLOOR_DBFS)
    voiced = (aperiodicity < VOICING_THRESHOLD) & loud
    return PitchTrack(f0=np.where(voiced, f0, np.nan), times=np.arange(f0.size) * FRAME_SECONDS,
                      aperiodicity=aperiodicity, level_db=level)
