"""Moments of a talk worth replaying: the stretches where delivery left its target band.

Read.ai-style coaching lists "the moments" with a jump into the recording; here they come from
the session timeline alone (the saved windows), so every session has them, recorded or not:

- a run of speech windows whose measure stays on one side of its band (too fast, too slow, a
  monotone stretch, too quiet...) for at least `min_seconds`;
- a long pause: a run of silent windows between speech lasting at least `long_pause_seconds`;
- a cluster of fillers: `filler_cluster` or more filler words within `filler_window_seconds`
  of transcript (overlapping windows counted once);
- a run of one emotion: the same label for at least `emotion_run_seconds`, unless it is most
  of the talk (then it is the talk's mood, stated by the report, not a moment).

Times are seconds since the session start, spanning the audio the windows measured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from speakfeed_gui.core.live.transcript import count_fillers

# (measure, side of the band) -> what the moment is called
KINDS: dict[tuple[str, str], str] = {
    ("speaking_rate_sps", "high"): "too fast",
    ("speaking_rate_sps", "low"): "too slow",
    ("words_per_minute", "high"): "too fast (words)",
    ("words_per_minute", "low"): "too slow (words)",
    ("pitch_variation_semitones", "low"): "monotone",
    ("pitch_variation_semitones", "high"): "pitch jumps",
    ("loudness_dbfs", "low"): "too quiet",
    ("loudness_dbfs", "high"): "too loud",
    ("loudness_variation_db", "low"): "flat volume",
    ("pause_share", "low"): "no pauses",
    ("pause_share", "high"): "halting",
    ("filler_per_minute", "high"): "many fillers",
}
LONG_PAUSE = "long pause"
FILLERS = "filler cluster"
EMOTION = "emotion run"


@dataclass
class Moment:
    kind: str  # e.g. "too fast", "long pause", "filler cluster", "emotion run"
    start: float
    end: float
    measure: str | None = None  # the prosody measure (or "label" for an emotion run)
    value: float | str | None = None  # the run's median, the filler count, or the label
    detail: str = ""

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _side(value: Any, band: tuple[float, float]) -> str | None:
    if not isinstance(value, (int, float)):
        return None
    return "low" if value < band[0] else "high" if value > band[1] else "ok"


def _runs(windows: Sequence[Mapping[str, Any]], key) -> Iterable[tuple[Any, list[Mapping[str, Any]]]]:
    """Maximal runs of consecutive windows with the same key(window) (None breaks every run)."""
    run: list[Mapping[str, Any]] = []
    current: Any = None
    for w in windows:
        k = key(w)
        if run and k != current:
            if current is not None:
                yield current, run
            run = []
        current = k
        run.append(w)
    if run and current is not None:
        yield current, run


def _band_moments(windows: Sequence[Mapping[str, Any]], targets: Mapping[str, tuple[float, float]],
                  min_seconds: float) -> list[Moment]:
    found = []
    for measure, band in targets.items():
        if not any(isinstance((w.get("prosody") or {}).get(measure), (int, float)) for w in windows):
            continue

        def side(w: Mapping[str, Any], measure: str = measure, band: tuple[float, float] = band) -> str | None:
            return _side((w.get("prosody") or {}).get(measure), band) if w.get("is_speech") else None

        for state, run in _runs(windows, side):  # a silent window ends a run
            kind = KINDS.get((measure, state))
            start, end = run[0]["t_start"], run[-1]["t_end"]
            if kind is None or end - start < min_seconds:
                continue
            value = round(float(np.median([w["prosody"][measure] for w in run])), 3)
            found.append(Moment(kind, start, end, measure, value,
                                f"{measure} {value:g} for {end - start:.0f} s (target {band[0]:g}–{band[1]:g})"))
    return found


def _pauses(windows: Sequence[Mapping[str, Any]], long_pause_seconds: float) -> list[Moment]:
    found = []
    runs = list(_runs(windows, lambda w: bool(w.get("is_speech"))))
    for n, (speaking, run) in enumerate(runs):
        inner = 0 < n < len(runs) - 1  # silence before the first word or after the last is no pause
        if speaking or not inner:
            continue
        # silent windows hold under MIN_SPEECH_FRACTION speech, so their span is the silence itself
        start, end = run[0]["t_start"], run[-1]["t_end"]
        if end - start >= long_pause_seconds:
            found.append(Moment(LONG_PAUSE, start, end, "pause", round(end - start, 2),
                                f"{end - start:.1f} s without speech"))
    return found


def _fillers(windows: Sequence[Mapping[str, Any]], filler_words: Sequence[str], cluster: int,
             span: float) -> list[Moment]:
    if not filler_words:
        return []
    hits: list[tuple[float, float, int]] = []
    covered = -np.inf
    for w in windows:  # windows that do not overlap the last counted one, as the transcript log keeps them
        text = w.get("transcript")
        if not text or w["t_start"] < covered - 1e-6:
            continue
        covered = w["t_end"]
        count = count_fillers(text, filler_words)
        if count:
            hits.append((w["t_start"], w["t_end"], count))
    found: list[Moment] = []
    i = 0
    while i < len(hits):
        j, total = i, 0
        while j < len(hits) and hits[j][1] - hits[i][0] <= span:
            total += hits[j][2]
            j += 1
        if total >= cluster:
            start, end = hits[i][0], hits[j - 1][1]
            found.append(Moment(FILLERS, start, end, "fillers", total, f"{total} filler words in {end - start:.0f} s"))
            i = j
        else:
            i += 1
    return found


def _emotion_runs(speech: Sequence[Mapping[str, Any]], run_seconds: float, most: float) -> list[Moment]:
    classified = [w for w in speech if w.get("prediction")]
    if not classified:
        return []
    total = classified[-1]["t_end"] - classified[0]["t_start"]
    found = []
    for label, run in _runs(classified, lambda w: w.get("label") if w.get("label") != "uncertain" else None):
        start, end = run[0]["t_start"], run[-1]["t_end"]
        if end - start >= run_seconds and (total <= 0 or (end - start) / total < most):
            found.append(Moment(EMOTION, start, end, "label", label,
                                f"{str(label).replace('_', ' ')} for {end - start:.0f} s"))
    return found


def find_moments(
    session: Mapping[str, Any],
    targets: Mapping[str, tuple[float, float]],
    *,
    filler_words: Sequence[str] = (),
    min_seconds: float = 3.0,
    long_pause_seconds: float = 3.0,
    filler_cluster: int = 3,
    filler_window_seconds: float = 15.0,
    emotion_run_seconds: float = 10.0,
    emotion_most: float = 0.8,
) -> list[Moment]:
    """Every moment of a session document (see the module docstring), in time order."""
    windows = sorted((w for w in session.get("windows") or [] if isinstance(w, Mapping)), key=lambda w: w["t_start"])
    speech = [w for w in windows if w.get("is_speech")]
    moments = (_band_moments(windows, targets, min_seconds) + _pauses(windows, long_pause_seconds)
               + _fillers(windows, filler_words, filler_cluster, filler_window_seconds)
               + _emotion_runs(speech, emotion_run_seconds, emotion_most))
    for m in moments:
        m.start, m.end = round(float(m.start), 3), round(float(m.end), 3)
    return sorted(moments, key=lambda m: (m.start, m.kind))
