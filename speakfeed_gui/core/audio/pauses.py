"""The one definition of a pause: a silence of at least MIN_PAUSE_SECONDS between two stretches of speech.

Works on any per-frame speech mask (the VAD's for live windows and whole sessions, a level mask
for the feature extractor). Silence before the first and after the last speech is not a pause;
`share` is pause time over the speaking span (first speech to last speech), so a talk's figure
does not depend on how long the recording ran before and after it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_PAUSE_SECONDS = 0.25  # shorter silences are stop closures and breaths inside phrases (Goldman-Eisler 1968)


@dataclass(frozen=True)
class PauseStats:
    count: int
    mean_seconds: float | None
    share: float | None
    longest_seconds: float | None = None
    speaking_seconds: float = 0.0  # the span minus its pauses


def runs(mask: np.ndarray) -> list[tuple[bool, int, int]]:
    """(value, start, stop) of each run of equal values."""
    mask = np.asarray(mask, dtype=bool)
    if mask.size == 0:
        return []
    edges = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    bounds = np.concatenate(([0], edges, [mask.size]))
    return [(bool(mask[a]), int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def pauses(speech_mask: np.ndarray, frame_seconds: float, min_pause: float = MIN_PAUSE_SECONDS) -> PauseStats:
    """Silences of at least `min_pause` between speech; share = pause time / speaking span."""
    parts = runs(speech_mask)
    speech = [r for r in parts if r[0]]
    if not speech:
        return PauseStats(0, None, None)
    first, last = speech[0][1], speech[-1][2]
    gaps = [(b - a) * frame_seconds for value, a, b in parts if not value and a > first and b < last]
    gaps = [g for g in gaps if g >= min_pause - 1e-9]
    span = (last - first) * frame_seconds
    return PauseStats(
        count=len(gaps),
        mean_seconds=float(np.mean(gaps)) if gaps else None,
        share=float(sum(gaps) / span) if span > 0 else None,
        longest_seconds=float(max(gaps)) if gaps else None,
        speaking_seconds=float(span - sum(gaps)),
    )


def fill_short_gaps(speech_mask: np.ndarray, frame_seconds: float, min_pause: float = MIN_PAUSE_SECONDS) -> np.ndarray:
    """The mask with silences shorter than `min_pause` counted as speech: what is left silent is pause.

    Short silences at the mask's edges count too: they are dips of speech a window cut.
    """
    mask = np.asarray(speech_mask, dtype=bool).copy()
    if not mask.any():
        return mask
    for value, a, b in runs(mask):
        if not value and (b - a) * frame_seconds < min_pause:
            mask[a:b] = True
    return mask
