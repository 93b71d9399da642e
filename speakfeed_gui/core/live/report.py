"""End-of-session summary in the spirit of PowerPoint's Speaker Coach.

`summarize` turns a session document (SessionRecorder.document or load_session) into durations,
the emotion share over speech windows, the probability timeline, the delivery measures against
their target bands, the transcript with words per minute, fillers and repeats over the whole talk,
and a few plain-language observations. Pauses and speaking rate come from the whole timeline (each
window's new speech segments and syllable nuclei, joined), so pauses between sentences count; the
other acoustic measures are medians over speech windows.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from speakfeed_gui.core.live.prosody import ProsodyMetrics, band_status, timeline_measures
from speakfeed_gui.core.live.transcript import session_transcript, word_metrics
from speakfeed_gui.core.settings.measures import DEFAULT_TARGETS, MEASURES
from speakfeed_gui.core.storage.atomic import atomic_write_json

DOMINANT_SHARE = 0.5  # below this no single emotion is called "mostly"


@dataclass
class SessionReport:
    path: str | None
    model: str | None
    status: str
    started_at: str | None
    duration_seconds: float
    speech_seconds: float
    windows: int
    speech_windows: int
    emotion_share: dict[str, float] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    prosody: dict[str, float | None] = field(default_factory=dict)
    prosody_status: dict[str, str | None] = field(default_factory=dict)
    observations: list[str] = field(default_factory=list)
    words_per_minute: float | None = None  # over the talk, from the transcript (None: nothing transcribed)
    transcript: str = ""
    transcript_segments: list[dict[str, Any]] = field(default_factory=list)
    words: dict[str, Any] = field(default_factory=dict)  # word and filler counts, fillers by word, repeats

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _speech_seconds(windows: list[dict[str, Any]]) -> float:
    """Speech time without counting window overlap twice: each window adds its new part."""
    total, covered = 0.0, None
    for w in sorted(windows, key=lambda w: w["t_start"]):
        start = w["t_start"] if covered is None else max(w["t_start"], covered)
        new = max(0.0, w["t_end"] - start)
        total += new * float(w.get("speech_fraction") or 0.0)
        covered = w["t_end"] if covered is None else max(covered, w["t_end"])
    return total


def _medians(speech: list[dict[str, Any]]) -> dict[str, float | None]:
    names = list(ProsodyMetrics().to_dict())
    for w in speech:
        names += [k for k in (w.get("prosody") or {}) if k not in names]
    medians: dict[str, float | None] = {}
    for name in names:
        values = [w["prosody"].get(name) for w in speech if w.get("prosody")]
        values = [float(v) for v in values if isinstance(v, (int, float))]
        medians[name] = round(float(np.median(values)), 3) if values else None
    return medians


def _timeline(windows: list[dict[str, Any]]) -> dict[str, float | None]:
    """Session pause and rate figures from the windows' new parts; {} for sessions recorded before them."""
    if not windows or not all("speech_segments" in w for w in windows):
        return {}
    segments = [seg for w in windows for seg in (w.get("speech_segments") or [])]
    measures = timeline_measures(segments, sum(int(w.get("nuclei") or 0) for w in windows)).to_dict()
    measures.pop("speaking_seconds")
    return measures


def _observations(report: SessionReport, status: str) -> list[str]:
    notes = []
    if status == "device_lost":
        notes.append("The session ended early: the microphone was lost")
    if not report.speech_windows:
        notes.append("No speech was detected: check the microphone and its input level")
        return notes
    for name, state in report.prosody_status.items():
        advice = MEASURES[name].advice(state) if name in MEASURES else ""
        if advice:
            notes.append(advice.format(v=report.prosody[name]))
    rated = [s for s in report.prosody_status.values() if s is not None]
    if rated and all(s == "ok" for s in rated):
        notes.append("Your delivery stayed within all target bands")
    if report.emotion_share:
        ranked = sorted(report.emotion_share.items(), key=lambda kv: -kv[1])
        label, share = ranked[0]
        if share >= DOMINANT_SHARE and (len(ranked) == 1 or share > ranked[1][1]):
            notes.append(f"Mostly {label.replace('_', ' ')} ({share:.0%})")
        else:
            mix = ", ".join(f"{k.replace('_', ' ')} {v:.0%}" for k, v in ranked[:3])
            notes.append(f"Mixed emotions: {mix}")
    return notes


def summarize(session: Mapping[str, Any], targets: Mapping[str, tuple[float, float]] | None = None,
              filler_words: Sequence[str] | None = None) -> SessionReport:
    """The report of one session document against target bands (default: the config defaults).

    `filler_words` default to the ones the session was recorded with.
    """
    targets = targets or DEFAULT_TARGETS
    if filler_words is None:
        filler_words = list((session.get("settings") or {}).get("filler_words") or ())
    windows = list(session.get("windows") or [])
    speech = [w for w in windows if w.get("is_speech")]
    classified = [w for w in speech if w.get("prediction")]
    share: dict[str, float] = {}
    for w in classified:
        share[w["label"]] = share.get(w["label"], 0.0) + 1.0 / len(classified)
    last_end = max((w["t_end"] for w in windows), default=0.0)
    prosody = {**_medians(speech), **_timeline(windows)}
    segments = session_transcript(session)
    words = word_metrics(segments, filler_words) if segments else {}
    if words:  # over the whole talk, not a median of windows
        prosody["words_per_minute"] = words["words_per_minute"]
        prosody["filler_per_minute"] = words["filler_per_minute"]
    report = SessionReport(
        path=session.get("path"),
        model=(session.get("model") or {}).get("name"),
        status=str(session.get("status", "completed")),
        started_at=session.get("started_at"),
        duration_seconds=round(float(max(session.get("duration_seconds") or 0.0, last_end)), 3),
        speech_seconds=round(_speech_seconds(windows), 3),
        windows=len(windows),
        speech_windows=len(speech),
        emotion_share={k: round(v, 4) for k, v in sorted(share.items(), key=lambda kv: -kv[1])},
        timeline=[{"t": w["t_end"], "label": w.get("label"), "probabilities": w.get("smoothed")} for w in windows],
        prosody=prosody,
        prosody_status=band_status(prosody, targets),
        words_per_minute=words.get("words_per_minute"),
        transcript=" ".join(s.text for s in segments),
        transcript_segments=[s.to_dict() for s in segments],
        words=words,
    )
    report.observations = _observations(report, report.status)
    return report


def export_json(report: SessionReport, path: str | Path) -> Path:
    path = Path(path)
    atomic_write_json(path, report.to_dict())
    return path


def export_csv(session: Mapping[str, Any], path: str | Path) -> Path:
    """One row per window: times, speech, level, label, prosody measures, smoothed probabilities, words.

    `words` holds the transcript's words that ended within the window's new part (since the
    previous window's end), so overlapping windows list each word once.
    """
    windows = sorted(session.get("windows") or [], key=lambda w: w["t_end"])
    timed = sorted((w.end, w.text) for s in session_transcript(session) for w in s.words)
    labels: list[str] = []
    measures = list(ProsodyMetrics().to_dict())
    for w in windows:
        labels += [k for k in (w.get("smoothed") or {}) if k not in labels]
        measures += [k for k in (w.get("prosody") or {}) if k not in measures]
    base = ["t_start", "t_end", "timestamp", "is_speech", "speech_fraction", "level_dbfs", "label", "confidence"]
    header = base + measures + [f"p_{label}" for label in labels] + ["transcript", "words"]
    path = Path(path)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        taken = 0
        for w in windows:
            said = []
            while taken < len(timed) and timed[taken][0] <= w["t_end"]:
                said.append(timed[taken][1])
                taken += 1
            prosody = w.get("prosody") or {}
            smoothed = w.get("smoothed") or {}
            row = [w.get(k) for k in base] + [prosody.get(k) for k in measures]
            row += [smoothed.get(label) for label in labels] + [w.get("transcript"), " ".join(said) or None]
            writer.writerow(["" if v is None else v for v in row])
    return path
