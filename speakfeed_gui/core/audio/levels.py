"""Levels in dB relative to full scale: the one dBFS of the app.

A signal's level is its mean power (mean square of float samples in [-1, 1]) in decibels, floored at
SILENCE_DBFS so digital silence and empty input give a finite number. The meter, the VAD, the
extractor's loudness features and the dataset check all use these functions.
"""

from __future__ import annotations

import numpy as np

SILENCE_DBFS = -100.0
_FLOOR_POWER = 10.0 ** (SILENCE_DBFS / 10.0)


def power_db(power: np.ndarray | float) -> np.ndarray | float:
    """Mean power (mean square) in dBFS, floored at SILENCE_DBFS; arrays element-wise."""
    if np.ndim(power) == 0:
        return float(10.0 * np.log10(max(float(power), _FLOOR_POWER)))
    return 10.0 * np.log10(np.maximum(power, _FLOOR_POWER))


def dbfs(samples: np.ndarray) -> float:
    """RMS level of a whole signal in dBFS (SILENCE_DBFS for empty input or digital silence)."""
    samples = np.asarray(samples)
    if samples.size == 0:
        return SILENCE_DBFS
    return power_db(float(np.mean(np.square(samples, dtype=np.float64))))


def frame_db(audio: np.ndarray, frame: int) -> np.ndarray:
    """RMS level in dBFS of consecutive non-overlapping frames (a last partial frame included)."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.size == 0:
        return np.zeros(0)
    n = -(-audio.size // frame)
    padded = np.zeros(n * frame, dtype=np.float64)
    padded[: audio.size] = audio
    power = np.mean(np.square(padded.reshape(n, frame)), axis=1)
    if audio.size % frame:  # the last frame's mean over its real samples only
        power[-1] *= frame / (audio.size % frame)
    return power_db(power)
