"""A speaker's history: one summary per saved session, trends over sessions, personal bests.

Summaries come from `summarize` (the report's session medians and emotion share) and are cached
in `<sessions folder>/.history_index.json` keyed by each file's mtime and size, so listing
hundreds of sessions reads only the files that changed since the last look, not every window of
every talk. The cache is a convenience: a missing or damaged one is rebuilt, never an error, and
so is one written by other summary code (another app version).
Sessions are read only through `load_session`.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable, Mapping

from speakfeed_gui.core.errors import SessionError, SpeakFeedError
from speakfeed_gui.core.live.report import summarize
from speakfeed_gui.core.live.session import ENCRYPTED_AUDIO_SUFFIX, JOURNAL_SUFFIX, PREFIX, load_session
from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel, no_progress
from speakfeed_gui.core.storage.atomic import atomic_write_json, read_json
from speakfeed_gui.core.storage.crypto import KeySource, is_encrypted

log = logging.getLogger(__name__)

# The delivery measures a history follows, in display order (names as in the session's prosody).
MEASURES = ("speaking_rate_sps", "words_per_minute", "pause_share", "pitch_variation_semitones",
            "loudness_dbfs", "filler_per_minute")
LOWER_IS_BETTER = frozenset({"filler_per_minute"})  # a best here is the fewest, not the middle of the band
INDEX_NAME = ".history_index.json"
# Summaries of encrypted sessions never go to the plain-text cache file: they are kept in memory
# only (path -> (stamp, summary)), so the app re-decrypts each one once per run, not per look.
_PRIVATE: dict[tuple[str, str], tuple[list[int], "SessionSummary"]] = {}
INDEX_VERSION = 1  # bump when SessionSummary changes: old caches are then rebuilt


def _code_stamp() -> str:
    """A digest of the code that makes a summary (this module and the report's summarize).

    The cache is derived data: when a new version of the app measures more (say, words per
    minute in the report), every summary is rebuilt once instead of keeping the old ones.
    """
    from speakfeed_gui.core.live import report

    digest = hashlib.sha256(str(INDEX_VERSION).encode())
    for module_file in (__file__, report.__file__):
        try:
            digest.update(Path(module_file).read_bytes())
        except OSError:
            digest.update(str(module_file).encode())
    return digest.hexdigest()[:16]


@dataclass
class SessionSummary:
    """What the history shows of one session; `id` is the file stem after `pipeline_results_`."""

    id: str
    path: str
    started_at: str | None
    status: str
    duration_seconds: float
    speech_seconds: float
    model: str | None
    windows: int
    audio_path: str | None
    measures: dict[str, float | None] = field(default_factory=dict)
    emotion_share: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def day(self) -> date | None:
        return parse_day(self.started_at)


def parse_day(text: str | None) -> date | None:
    """The calendar day of an ISO timestamp (None when missing or malformed)."""
    try:
        return datetime.fromisoformat(str(text)).date() if text else None
    except ValueError:
        return None


def session_id(path: str | Path) -> str:
    return Path(path).stem.removeprefix(PREFIX)


def summarize_session(session: Mapping[str, Any]) -> SessionSummary:
    """The summary of one loaded session document."""
    report = summarize(session)
    path = Path(str(session.get("path") or ""))
    audio = session.get("audio_file")
    audio_path = path.parent / Path(str(audio)).name if audio else None
    return SessionSummary(
        id=session_id(path),
        path=str(path),
        started_at=report.started_at,
        status=report.status,
        duration_seconds=report.duration_seconds,
        speech_seconds=report.speech_seconds,
        model=report.model,
        windows=report.windows,
        audio_path=str(audio_path) if audio_path is not None and audio_path.is_file() else None,
        measures={name: report.prosody.get(name) for name in MEASURES},
        emotion_share=dict(report.emotion_share),
    )


def _stamp(path: Path) -> list[int]:
    """mtime and size of the session file and its journal (an unfinished session grows there)."""
    stamp = []
    for p in (path, path.with_suffix(JOURNAL_SUFFIX)):
        try:
            st = p.stat()
            stamp += [st.st_mtime_ns, st.st_size]
        except FileNotFoundError:
            stamp += [0, 0]
    return stamp


class HistoryIndex:
    """Summaries of every readable session in a folder, cached by file mtime/size."""

    def __init__(self, sessions_dir: str | Path, keys: KeySource | None = None) -> None:
        """`keys` decrypts encrypted sessions (privacy.key_file; None: the OS keyring)."""
        self.dir = Path(sessions_dir)
        self.keys = keys
        self.index_path = self.dir / INDEX_NAME
        self.skipped: list[str] = []  # one line per unreadable session of the last load
        self.reread = 0  # sessions read from disk (not the cache) by the last load

    def _read_cache(self) -> dict[str, Any]:
        if not self.index_path.is_file():
            return {}
        try:
            data = read_json(self.index_path, "history index")
        except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, never fatal
            log.warning("rebuilding the history index: %s", exc)
            return {}
        ok = isinstance(data, dict) and data.get("version") == _code_stamp() and isinstance(data.get("sessions"), dict)
        return data["sessions"] if ok else {}

    def load(self, progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> list[SessionSummary]:
        """All readable sessions, newest first; only new or changed files are read."""
        progress = progress or no_progress
        paths = sorted(self.dir.glob(f"{PREFIX}*.json"), reverse=True) if self.dir.is_dir() else []
        cached = self._read_cache()
        fresh: dict[str, Any] = {}
        summaries: list[SessionSummary] = []
        self.skipped, self.reread = [], 0
        keys = self.keys or KeySource()  # one key look-up for all encrypted sessions
        for n, path in enumerate(paths):
            check_cancel(cancel)
            stamp = _stamp(path)
            private = is_encrypted(path)
            secret = (str(path), str(keys.key_file))  # a summary is only given back with the same key
            hit = _PRIVATE.get(secret) if private else cached.get(path.name)
            summary = None
            if private and hit is not None and hit[0] == stamp:
                summary = hit[1]
            elif isinstance(hit, dict) and hit.get("stamp") == stamp:
                try:
                    summary = SessionSummary(**hit["summary"])
                except (TypeError, KeyError):
                    summary = None
            if summary is not None:  # paths as they are now: the folder may have moved, a WAV gone
                summary.path = str(path)
                audio = path.parent / Path(summary.audio_path).name if summary.audio_path else None
                summary.audio_path = str(audio) if audio is not None and audio.is_file() else None
            if summary is None:
                try:
                    summary = summarize_session(load_session(path, keys))
                except SessionError as exc:
                    log.warning("history: skipping %s", exc)
                    self.skipped.append(str(exc))
                    continue
                self.reread += 1
            if private:
                _PRIVATE[secret] = (stamp, summary)
            else:
                fresh[path.name] = {"stamp": stamp, "summary": summary.to_dict()}
            summaries.append(summary)
            progress("history", n + 1, len(paths), path.name)
        if fresh.keys() != cached.keys() or self.reread:
            try:
                atomic_write_json(self.index_path, {"version": _code_stamp(), "sessions": fresh})
            except (OSError, ValueError, SpeakFeedError) as exc:  # a read-only folder still shows its history
                log.warning("cannot write the history index %s: %s", self.index_path, exc)
        summaries.sort(key=lambda s: (s.started_at or "", s.id), reverse=True)
        return summaries

    def find(self, ref: str, summaries: Iterable[SessionSummary] | None = None) -> SessionSummary:
        """A session by id, unique id prefix or file path; SessionError naming the choices otherwise."""
        known = list(summaries if summaries is not None else self.load())
        ref = str(ref)
        exact = [s for s in known if ref in (s.id, s.path, Path(s.path).name)]
        matches = exact or [s for s in known if s.id.startswith(ref)]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            hint = f"; known: {', '.join(s.id for s in known[:5])}{' …' if len(known) > 5 else ''}" if known else ""
            raise SessionError(f"session {ref!r}: no such session in {self.dir}{hint}")
        raise SessionError(f"session {ref!r}: ambiguous, matches {', '.join(s.id for s in matches)}")

    def delete(self, ref: str) -> list[Path]:
        """Remove a session for good: its file, journal and recording; returns what was removed."""
        summary = self.find(ref)
        path = Path(summary.path)
        doomed = [path, path.with_suffix(JOURNAL_SUFFIX)]
        try:
            audio = load_session(path, self.keys).get("audio_file")
        except SessionError:
            audio = None
        doomed += [path.parent / Path(str(audio)).name] if audio else []
        doomed += [path.with_suffix(".wav"), path.with_suffix(ENCRYPTED_AUDIO_SUFFIX)]
        removed = []
        for p in dict.fromkeys(doomed):
            try:
                p.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise SessionError(f"{p}: cannot delete ({exc.strerror or exc})") from None
            removed.append(p)
        log.info("deleted session %s (%d files)", summary.id, len(removed))
        self.load()  # drop it from the index now
        return removed


def in_range(summaries: Iterable[SessionSummary], since: date | None = None,
             until: date | None = None) -> list[SessionSummary]:
    """Sessions started between `since` and `until` (both days included); undated ones only unfiltered."""
    if since is None and until is None:
        return list(summaries)
    kept = []
    for s in summaries:
        day = s.day
        if day is None or (since and day < since) or (until and day > until):
            continue
        kept.append(s)
    return kept


def _distance(value: float, band: tuple[float, float] | None) -> float:
    if band is None:
        return 0.0
    low, high = band
    return max(low - value, 0.0, value - high)


def personal_best(summaries: Iterable[SessionSummary], measure: str,
                  band: tuple[float, float] | None) -> SessionSummary | None:
    """The session closest to the target band (inside it: closest to its middle; fillers: fewest)."""
    rated = [s for s in summaries if isinstance(s.measures.get(measure), (int, float))]
    if not rated:
        return None
    if measure in LOWER_IS_BETTER:
        return min(rated, key=lambda s: s.measures[measure])
    middle = (band[0] + band[1]) / 2 if band else 0.0
    return min(rated, key=lambda s: (_distance(s.measures[measure], band),
                                     abs(s.measures[measure] - middle) if band else 0.0))


def trend(summaries: Iterable[SessionSummary], targets: Mapping[str, tuple[float, float]],
          since: date | None = None, until: date | None = None) -> dict[str, Any]:
    """Each measure and each emotion's share over the chosen sessions, oldest first, with bands and bests."""
    chosen = sorted(in_range(summaries, since, until), key=lambda s: (s.started_at or "", s.id))
    measures = {}
    for name in MEASURES:
        band = targets.get(name)
        points = [{"session": s.id, "started_at": s.started_at, "value": s.measures.get(name)}
                  for s in chosen if s.measures.get(name) is not None]
        best = personal_best(chosen, name, band)
        measures[name] = {
            "band": list(band) if band else None,
            "points": points,
            "best": {"session": best.id, "started_at": best.started_at, "value": best.measures[name]} if best else None,
        }
    labels: list[str] = []
    for s in chosen:
        labels += [k for k in s.emotion_share if k not in labels]
    emotions = {label: [{"session": s.id, "started_at": s.started_at, "share": s.emotion_share.get(label, 0.0)}
                        for s in chosen if s.emotion_share] for label in labels}
    return {"sessions": len(chosen), "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None, "measures": measures, "emotions": emotions}

