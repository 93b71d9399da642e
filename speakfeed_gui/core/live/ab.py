"""A/B on one recording: the live analysis run once per model over the same audio, and where they disagree.

Each model gets the same windows (`analyze_array` with its own voice detector of the configured
kind), so their smoothed timelines line up window by window; a disagreement is a speech window
where both models classified and their labels differ, merged into stretches a coach can replay.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Sequence

import numpy as np

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel, no_progress


@dataclass
class ABResult:
    models: list[str]
    labels: list[str]
    times: list[float]  # each window's end, seconds
    smoothed: list[list[dict[str, float] | None]]  # per model, per window
    top: list[list[str]]  # per model, per window: the decided label (silence, uncertain...)
    disagreements: list[tuple[float, float]] = field(default_factory=list)
    agreement: float | None = None  # share of windows both classified where they agree

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _stretches(times: Sequence[float], starts: Sequence[float], flags: Sequence[bool]) -> list[tuple[float, float]]:
    """Merge consecutive flagged windows into (start, end) stretches."""
    out: list[tuple[float, float]] = []
    for t_start, t_end, flag in zip(starts, times, flags):
        if not flag:
            continue
        if out and t_start <= out[-1][1]:
            out[-1] = (out[-1][0], t_end)
        else:
            out.append((t_start, t_end))
    return out


class SharedVAD:
    """One voice detection for every model: the first run's masks are replayed for the others.

    Every model then sees exactly the same speech windows, and silero (about 18 s per 10 s of
    audio at 0.5 s hops on a busy 2-core machine) runs once instead of once per model.
    """

    def __init__(self, vad: Any) -> None:
        self.vad = vad
        self.frame_seconds = vad.frame_seconds
        self._masks: dict[tuple[int | None, int], np.ndarray] = {}

    def speech_mask(self, audio: np.ndarray, start: int | None = None) -> np.ndarray:
        key = (start, int(audio.size))
        if key not in self._masks:
            self._masks[key] = self.vad.speech_mask(audio, start=start)
        return self._masks[key]

    def speech_fraction(self, audio: np.ndarray) -> float:
        mask = self.speech_mask(audio)
        return float(mask.mean()) if mask.size else 0.0

    def reset(self) -> None:
        """Kept masks stay: they are what the next model must see."""


def ab_compare(audio: np.ndarray, rate: int, models: Sequence[Any], settings: Any, *,
               progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> ABResult:
    """Run every (loaded) audio model over `audio` with the live settings and line up their timelines."""
    from speakfeed_gui.core.audio.vad import make_vad
    from speakfeed_gui.core.live.analyzer import analyze_array

    progress = progress or no_progress
    if len(models) < 2:
        raise SpeakFeedError(f"A/B: give two or more models, got {len(models)}")
    for model in models:
        if getattr(model, "input_kind", "audio") == "text":
            raise SpeakFeedError(f"A/B: {model.name} classifies text; compare audio models on a recording")
    runs = []
    vad = SharedVAD(make_vad(settings.vad))
    for n, model in enumerate(models):
        progress("analysing", n, len(models), model.name)

        def step(_result: Any) -> None:
            check_cancel(cancel)

        runs.append(analyze_array(audio, rate, model, settings, vad=vad, on_result=step))
    progress("analysing", len(models), len(models), "done")
    count = min(len(r) for r in runs)
    labels: list[str] = []
    for model in models:
        labels += [label for label in (getattr(model, "labels", None) or []) if label not in labels]
    for run in runs:
        for w in run[:count]:
            labels += [k for k in (w.smoothed or {}) if k not in labels]
    times = [runs[0][i].t_end for i in range(count)]
    starts = [runs[0][i].t_start for i in range(count)]
    both = [all(r[i].smoothed is not None for r in runs) for i in range(count)]
    differ = [both[i] and len({r[i].label for r in runs}) > 1 for i in range(count)]
    classified = sum(both)
    return ABResult(
        models=[m.name for m in models],
        labels=labels,
        times=times,
        smoothed=[[w.smoothed for w in run[:count]] for run in runs],
        top=[[w.label for w in run[:count]] for run in runs],
        disagreements=_stretches(times, starts, differ),
        agreement=(1.0 - sum(differ) / classified) if classified else None,
    )
