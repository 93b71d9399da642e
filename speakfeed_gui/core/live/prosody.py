"""Delivery measures of a speech window: pitch, its variation, loudness, pauses, speaking rate.

Plain numpy on 16 kHz float audio, on the app's one pitch tracker (core.audio.pitch), one dBFS
(core.audio.levels) and one definition of a pause (core.audio.pauses); tested like friture's pitch
tracker, with known answers on synthetic signals, and against hand-marked syllables of real speech.
Values that a window cannot define (no voiced frames, no speech) are None, never NaN.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

import numpy as np

from speakfeed_gui.core.audio.levels import power_db
from speakfeed_gui.core.audio.pauses import MIN_PAUSE_SECONDS, PauseStats, fill_short_gaps, pauses, runs
from speakfeed_gui.core.audio.pitch import FRAME_SECONDS as PITCH_FRAME_SECONDS
from speakfeed_gui.core.audio.pitch import PitchTrack, pitch_track
from speakfeed_gui.core.audio.vad import FRAME, frame_db

__all__ = ["PauseStats", "PitchTrack", "ProsodyMetrics", "band_status", "fill_short_gaps", "measure_prosody",
           "pauses", "pitch_track", "speaking_rate_sps", "speech_segments", "syllable_nuclei", "timeline_measures"]

MIN_VOICED_FRAMES = 5
# syllable nuclei (de Jong & Wempe 2009, on our own intensity and pitch)
NUCLEUS_SMOOTH_SECONDS = 0.04  # intensity envelope: mean power over 40 ms, every 10 ms
NUCLEUS_SILENCE_DB = -25.0  # peaks below the envelope's 99th percentile minus this are silence
NUCLEUS_MIN_DIP_DB = 2.0  # a peak counts when the envelope falls this far before the next peak
NUCLEUS_MAX_APERIODICITY = 0.5  # and the pitch tracker finds it periodic enough to be a vowel
# Nuclei per second of speaking time -> hand-counted syllables per second: a line fitted on EmoDB's 386
# hand-counted utterances (the detector misses about one syllable in six); fitted leaving each speaker
# out, every speaker's mean stays within 10 % (bench/speaking_rate.py, tests/live/test_prosody.py).
RATE_OFFSET, RATE_SLOPE = 1.40, 0.92


@dataclass
class ProsodyMetrics:
    """Everything measured on one window (None where undefined)."""

    pitch_hz: float | None = None
    pitch_variation_semitones: float | None = None
    loudness_dbfs: float | None = None
    loudness_variation_db: float | None = None
    pause_count: int | None = None
    mean_pause_seconds: float | None = None
    pause_share: float | None = None
    longest_pause_seconds: float | None = None
    speaking_rate_sps: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> "ProsodyMetrics":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


def _clean(value: float | None, digits: int = 3) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def warm_up() -> None:
    """Import scipy.fft and run the pitch tracker once, before the first live window."""
    pitch_track(np.sin(np.arange(4096) * 0.08).astype(np.float32), 16000)


def pitch_variation_semitones(f0: np.ndarray) -> float | None:
    """Standard deviation in semitones over voiced frames (octave jumps beyond ±12 st dropped)."""
    f0 = np.asarray(f0, dtype=float)
    voiced = f0[np.isfinite(f0) & (f0 > 0)]
    if voiced.size < MIN_VOICED_FRAMES:
        return None
    semis = 12.0 * np.log2(voiced / np.median(voiced))
    semis = semis[np.abs(semis) <= 12.0]
    return float(np.std(semis))


def loudness_dbfs(audio: np.ndarray, speech_mask: np.ndarray | None = None, frame: int = FRAME) -> float | None:
    """Mean power in dBFS, over the speech frames when a mask is given."""
    levels = frame_db(audio, frame)
    if speech_mask is not None:
        levels = levels[_fit(speech_mask, levels.size)]
    if levels.size == 0:
        return None
    return float(10.0 * np.log10(np.mean(10.0 ** (levels / 10.0))))


def loudness_variation_db(audio: np.ndarray, speech_mask: np.ndarray, frame: int = FRAME) -> float | None:
    """Standard deviation of frame dB over speech frames: how much the voice rises and falls."""
    levels = frame_db(audio, frame)[_fit(speech_mask, -1)]
    return float(np.std(levels)) if levels.size >= 2 else None


def _fit(mask: np.ndarray, size: int) -> np.ndarray:
    """A bool mask cut or padded (with False) to `size` frames; -1 keeps it as it is."""
    mask = np.asarray(mask, dtype=bool)
    if size < 0 or mask.size == size:
        return mask
    return mask[:size] if mask.size > size else np.pad(mask, (0, size - mask.size))


def _moving_mean(x: np.ndarray, width: int, step: int) -> np.ndarray:
    """Centred moving mean (cut at the edges) at every `step`-th sample, from one cumulative sum.

    Equal to dividing two `np.convolve(..., mode="same")` by a box kernel, at a fraction of the cost
    (the two 800-tap convolutions were about 4.5 ms of a 2 s window's prosody).
    """
    csum = np.concatenate(([0.0], np.cumsum(x)))
    centres = np.arange(0, x.size, step)
    lo = np.maximum(centres - width // 2, 0)
    hi = np.minimum(centres + (width - 1) // 2, x.size - 1) + 1
    return (csum[hi] - csum[lo]) / (hi - lo)


def _speech_at(mask: np.ndarray, frame_seconds: float, times: np.ndarray) -> np.ndarray:
    """The mask's value at each time (seconds)."""
    if mask.size == 0:
        return np.zeros(times.size, dtype=bool)
    return mask[np.clip((times / frame_seconds).astype(int), 0, mask.size - 1)]


def syllable_nuclei(
    audio: np.ndarray,
    sr: int,
    speech_mask: np.ndarray,
    *,
    frame_seconds: float | None = None,
    pitch: PitchTrack | None = None,
) -> np.ndarray:
    """Times (s) of syllable nuclei: de Jong & Wempe's (2009) rule on our intensity and pitch.

    Peaks of a 40 ms intensity envelope (10 ms steps) above the 99th percentile minus 25 dB,
    kept when the envelope dips at least 2 dB before the next peak (the script's own rule),
    inside speech, and periodic at the pitch tracker's frame (a vowel, not a fricative burst).
    """
    audio = np.asarray(audio, dtype=np.float64)
    frame_seconds = frame_seconds or FRAME / 16000
    hop = max(1, sr // 100)
    if audio.size < 3 * hop:
        return np.zeros(0)
    env = power_db(_moving_mean(np.square(audio), max(1, int(NUCLEUS_SMOOTH_SECONDS * sr)), hop))
    times = np.arange(env.size) * hop / sr
    peaks = np.flatnonzero((env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:])) + 1
    peaks = peaks[env[peaks] > np.percentile(env, 99) + NUCLEUS_SILENCE_DB]
    if peaks.size == 0:
        return np.zeros(0)
    # the lowest point between each peak and the next (the window's end after the last)
    dips = np.minimum.reduceat(env, peaks)  # min over [peak_i, peak_i+1), the last up to the end
    peaks = peaks[env[peaks] - dips > NUCLEUS_MIN_DIP_DB]
    peaks = peaks[_speech_at(np.asarray(speech_mask, dtype=bool), frame_seconds, times[peaks])]
    track = pitch if pitch is not None else pitch_track(audio.astype(np.float32), sr)
    if track.aperiodicity.size == 0:
        return np.zeros(0)
    nearest = np.minimum(np.rint(times[peaks] / PITCH_FRAME_SECONDS).astype(int), track.aperiodicity.size - 1)
    return times[peaks[track.aperiodicity[nearest] < NUCLEUS_MAX_APERIODICITY]]


def speaking_rate_sps(
    audio: np.ndarray,
    sr: int,
    speech_mask: np.ndarray,
    *,
    frame_seconds: float | None = None,
    pitch: PitchTrack | None = None,
    min_pause: float = MIN_PAUSE_SECONDS,
    nuclei: np.ndarray | None = None,
) -> float | None:
    """Syllables per second of speaking time (pauses of at least `min_pause` left out).

    Nuclei per second (`syllable_nuclei`) calibrated to hand-counted syllables of real speech
    (`calibrated_rate`); None with less than 0.5 s of speech. `nuclei` (times) when already found.
    """
    frame_seconds = frame_seconds or FRAME / 16000
    talk = fill_short_gaps(speech_mask, frame_seconds, min_pause)
    speech_seconds = float(talk.sum()) * frame_seconds
    if speech_seconds < 0.5:
        return None
    if nuclei is None:
        nuclei = syllable_nuclei(audio, sr, talk, frame_seconds=frame_seconds, pitch=pitch)
    return calibrated_rate(nuclei.size, speech_seconds)


def calibrated_rate(nuclei: int, speech_seconds: float) -> float | None:
    """Syllables per second from a nucleus count over speaking time (0 without a nucleus)."""
    if speech_seconds <= 0:
        return None
    return RATE_OFFSET + RATE_SLOPE * nuclei / speech_seconds if nuclei else 0.0


def measure_prosody(audio: np.ndarray, sr: int, speech_mask: np.ndarray, frame_seconds: float,
                    pitch: PitchTrack | None = None, nuclei: np.ndarray | None = None) -> ProsodyMetrics:
    """All measures of one window given its VAD mask (frames of `frame_seconds`); `pitch` and
    `nuclei` when the caller already computed them for this window."""
    frame = int(round(frame_seconds * sr))
    mask = _fit(speech_mask, frame_db(audio, frame).size)
    if not mask.any():
        return ProsodyMetrics(loudness_dbfs=_clean(loudness_dbfs(audio, None, frame), 2))
    track = pitch if pitch is not None else pitch_track(audio, sr)
    voiced = track.f0[np.isfinite(track.f0)]
    paused = pauses(mask, frame_seconds)
    return ProsodyMetrics(
        pitch_hz=_clean(float(np.median(voiced)), 2) if voiced.size >= MIN_VOICED_FRAMES else None,
        pitch_variation_semitones=_clean(pitch_variation_semitones(track.f0)),
        loudness_dbfs=_clean(loudness_dbfs(audio, mask, frame), 2),
        loudness_variation_db=_clean(loudness_variation_db(audio, mask, frame)),
        pause_count=paused.count,
        mean_pause_seconds=_clean(paused.mean_seconds),
        pause_share=_clean(paused.share),
        longest_pause_seconds=_clean(paused.longest_seconds),
        speaking_rate_sps=_clean(speaking_rate_sps(audio, sr, mask, frame_seconds=frame_seconds, pitch=track,
                                                    nuclei=nuclei)),
    )


TIMELINE_STEP = 0.01  # seconds per frame of the session's speech mask


def speech_segments(mask: np.ndarray, frame_seconds: float, t_start: float, since: float,
                    until: float) -> list[list[float]]:
    """[start, end] session times of the mask's speech runs within [since, until) (a window's new part)."""
    segments = []
    for value, a, b in runs(mask):
        start, end = max(t_start + a * frame_seconds, since), min(t_start + b * frame_seconds, until)
        if value and end > start:
            segments.append([round(start, 4), round(end, 4)])
    return segments


@dataclass(frozen=True)
class TimelineMeasures:
    """Pauses and speaking rate of a whole session, from its continuous voice activity."""

    pause_count: int
    mean_pause_seconds: float | None
    longest_pause_seconds: float | None
    pause_share: float | None
    speaking_seconds: float
    speaking_rate_sps: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def timeline_measures(segments: list[list[float]] | list[tuple[float, float]], nuclei: int) -> TimelineMeasures:
    """Pause figures (core.audio.pauses on the joined speech segments) and syllables per second of speaking time."""
    end = max((float(b) for _, b in segments), default=0.0)
    mask = np.zeros(int(math.ceil(end / TIMELINE_STEP)) + 1, dtype=bool)
    for a, b in segments:
        mask[int(round(float(a) / TIMELINE_STEP)) : int(round(float(b) / TIMELINE_STEP))] = True
    stats = pauses(mask, TIMELINE_STEP)
    rate = calibrated_rate(int(nuclei), stats.speaking_seconds) if stats.speaking_seconds >= 0.5 else None
    return TimelineMeasures(
        pause_count=stats.count,
        mean_pause_seconds=_clean(stats.mean_seconds),
        longest_pause_seconds=_clean(stats.longest_seconds),
        pause_share=_clean(stats.share),
        speaking_seconds=round(stats.speaking_seconds, 3),
        speaking_rate_sps=_clean(rate),
    )


def band_status(metrics: ProsodyMetrics | Mapping[str, Any], targets: Mapping[str, tuple[float, float]]) -> dict[str, str | None]:
    """"low" / "ok" / "high" against each [low, high] target band; None where a value is missing.

    Only metrics present in `metrics` are rated, so transcript measures (words_per_minute...)
    join in when a caller adds them to the mapping.
    """
    values = metrics.to_dict() if isinstance(metrics, ProsodyMetrics) else dict(metrics)
    status: dict[str, str | None] = {}
    for name, (low, high) in targets.items():
        if name not in values:
            continue
        value = values[name]
        if value is None:
            status[name] = None
        elif value < low:
            status[name] = "low"
        elif value > high:
            status[name] = "high"
        else:
            status[name] = "ok"
    return status
