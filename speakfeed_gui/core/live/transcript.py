"""The words of a session: speech segments to transcribe, the timed transcript, and measures from words.

`SpeechSegmenter` turns the analyzer's windows into speech segments (a pause, or at most
MAX_SEGMENT_SECONDS, ends one), so the recogniser hears each stretch of speech once and never the
silence between. `LiveTranscription` runs the recogniser on those segments in its own thread, so
neither the analysis nor a GUI waits for it; `transcribe_segments` does the same in line (a file).
`word_metrics` gives words per minute over the talk, filler words and repeated words and phrases.
"""

from __future__ import annotations

import collections
import logging
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from speakfeed_gui.core.models.asr import Word, recognize

log = logging.getLogger(__name__)

_WORD = re.compile(r"[\w']+")
MAX_SEGMENT_SECONDS = 10.0  # a talk without pauses is still transcribed every ~10 s
MIN_SEGMENT_SECONDS = 0.3  # shorter speech is a click or a breath; Whisper would invent a word
PHRASE_MIN_COUNT = 3  # a 2-3 word phrase said this often in a talk is reported as repeated


@dataclass
class TranscriptSegment:
    """What was said in one speech segment; times (of the segment and its words) are session seconds."""

    start: float
    end: float
    text: str
    words: list[Word] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text,
                "words": [w.to_dict() for w in self.words]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TranscriptSegment":
        words = [Word(float(w["start"]), float(w["end"]), str(w["text"]), w.get("probability"))
                 for w in data.get("words") or [] if isinstance(w, Mapping)]
        return cls(float(data["start"]), float(data["end"]), str(data.get("text") or ""), words)


def filler_pattern(filler_words: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex matching any filler word or phrase as whole words.

    A one-word filler also matches its drawn-out spellings ("umm", "uhh"), as recognisers write them.
    """
    phrases = sorted({" ".join(w.lower().split()) for w in filler_words if w.strip()}, key=len, reverse=True)
    if not phrases:
        return None

    def part(word: str) -> str:
        return "".join(f"{re.escape(c)}+" for c in word) if word.isalpha() and " " not in word else re.escape(word)

    alternatives = "|".join(r"[\s,]+".join(part(p) for p in phrase.split()) for phrase in phrases)
    return re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w'])", re.IGNORECASE)


def count_fillers(text: str, filler_words: Iterable[str]) -> int:
    """Occurrences of the fillers in `text`; a longer phrase wins over a word inside it."""
    pattern = filler_pattern(filler_words)
    return len(pattern.findall(text)) if pattern else 0


def filler_counts(text: str, filler_words: Sequence[str]) -> dict[str, int]:
    """How often each configured filler occurs (drawn-out spellings counted as the filler)."""
    counts: dict[str, int] = {}
    pattern = filler_pattern(filler_words)
    if pattern is None:
        return counts
    singles = {" ".join(w.lower().split()): filler_pattern([w]) for w in filler_words if w.strip()}
    for found in pattern.findall(text):
        name = next((k for k, p in singles.items() if p is not None and p.fullmatch(found)), found.lower())
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


def _tokens(text: str) -> list[str]:
    return [t.lower() for t in _WORD.findall(text)]


def repeats(text: str, max_words: int = 3) -> dict[str, Any]:
    """Immediate repetitions ("the the", "I think I think") and phrases said PHRASE_MIN_COUNT times or more."""
    tokens = _tokens(text)
    immediate: dict[str, int] = {}
    i = 0
    while i < len(tokens):
        for n in range(max_words, 0, -1):
            if i + 2 * n <= len(tokens) and tokens[i:i + n] == tokens[i + n:i + 2 * n]:
                phrase = " ".join(tokens[i:i + n])
                immediate[phrase] = immediate.get(phrase, 0) + 1
                i += n
                break
        else:
            i += 1
    grams: collections.Counter[str] = collections.Counter()
    for n in (2, 3):
        grams.update(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    phrases = {g: c for g, c in grams.most_common() if c >= PHRASE_MIN_COUNT}
    # a bigram inside a reported trigram said as often adds nothing
    phrases = {g: c for g, c in phrases.items()
               if not any(g != h and f" {g} " in f" {h} " and phrases[h] == c for h in phrases)}
    return {"immediate": immediate, "immediate_count": sum(immediate.values()), "phrases": phrases}


def _segments(items: Iterable[Any]) -> list[TranscriptSegment]:
    """TranscriptSegments from segments, their dicts or (start, end, text) tuples."""
    out = []
    for item in items:
        if isinstance(item, TranscriptSegment):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(TranscriptSegment.from_dict(item))
        else:
            start, end, text = item
            out.append(TranscriptSegment(float(start), float(end), str(text or "")))
    return out


def talk_span(segments: Sequence[TranscriptSegment]) -> float:
    """Seconds from the first word to the last (pauses included, as speaking pace is measured)."""
    words = [w for s in segments for w in s.words]
    if words:
        return max(0.0, max(w.end for w in words) - min(w.start for w in words))
    if segments:
        return max(0.0, max(s.end for s in segments) - min(s.start for s in segments))
    return 0.0


def transcript_metrics(segments: Iterable[Any], filler_words: Iterable[str]) -> dict[str, float]:
    """word_count, filler_count, speech_seconds, words_per_minute and filler_per_minute.

    `segments` are TranscriptSegments (or their dicts, or (start, end, text) tuples). Pace is
    measured from the first word to the last, pauses included. Rates are 0.0 over no time.
    """
    chosen = _segments(segments)
    pattern = filler_pattern(filler_words)
    words = sum(len(_WORD.findall(s.text)) for s in chosen)
    fillers = sum(len(pattern.findall(s.text)) for s in chosen) if pattern else 0
    span = talk_span(chosen)
    minutes = span / 60.0
    return {
        "word_count": words,
        "filler_count": fillers,
        "speech_seconds": span,
        "words_per_minute": words / minutes if minutes > 0 else 0.0,
        "filler_per_minute": fillers / minutes if minutes > 0 else 0.0,
    }


def word_metrics(segments: Iterable[Any], filler_words: Sequence[str]) -> dict[str, Any]:
    """The report's measures from words: transcript_metrics plus each filler's count and the repeats."""
    chosen = _segments(segments)
    text = " ".join(s.text for s in chosen if s.text)
    metrics: dict[str, Any] = {k: (round(v, 3) if isinstance(v, float) else v)
                               for k, v in transcript_metrics(chosen, filler_words).items()}
    metrics["fillers"] = filler_counts(text, filler_words)
    metrics["repeats"] = repeats(text)
    return metrics


class TranscriptLog:
    """Transcript segments that do not overlap the previous kept one.

    Text models' windows overlap, so appending every window's text would repeat words.
    `keep_seconds` (live use) forgets segments that ended that long before the newest one, so a long
    session does not accumulate its whole transcript; None (a report) keeps everything.
    """

    def __init__(self, keep_seconds: float | None = None) -> None:
        self.segments: collections.deque[tuple[float, float, str]] = collections.deque()
        self.keep_seconds = keep_seconds

    def add(self, t_start: float, t_end: float, text: str | None) -> bool:
        """Keep the text if it starts where the last kept segment ended (or later)."""
        if text is None or (self.segments and t_start < self.segments[-1][1] - 1e-6):
            return False
        self.segments.append((float(t_start), float(t_end), text.strip()))
        if self.keep_seconds is not None:
            while self.segments[0][1] < t_end - self.keep_seconds:
                self.segments.popleft()
        return True

    def metrics(self, filler_words: Sequence[str], since: float | None = None) -> dict[str, float]:
        """transcript_metrics over the kept segments (those ending after `since`, when given)."""
        chosen = [s for s in self.segments if since is None or s[1] > since]
        return transcript_metrics(chosen, filler_words)

    @classmethod
    def from_windows(cls, windows: Iterable[Mapping[str, Any]]) -> "TranscriptLog":
        log = cls()
        for w in sorted(windows, key=lambda w: w["t_start"]):
            log.add(w["t_start"], w["t_end"], w.get("transcript"))
        return log


def session_transcript(session: Mapping[str, Any]) -> list[TranscriptSegment]:
    """The session's transcript: its speech segments, else (older text-model sessions) its windows' texts."""
    saved = session.get("transcript")
    if isinstance(saved, list) and saved:
        return [TranscriptSegment.from_dict(s) for s in saved if isinstance(s, Mapping) and "start" in s]
    kept = TranscriptLog.from_windows(session.get("windows") or [])
    return [TranscriptSegment(a, b, text) for a, b, text in kept.segments if text]


class SpeechSegmenter:
    """Speech segments from the analyzer's windows: a window without speech, or the length cap, closes one.

    `feed` takes each window result (oldest first) and returns the (start, end) segments that
    closed; `flush` the one still open at the end of the session. Segments never overlap.
    """

    def __init__(self, max_seconds: float = MAX_SEGMENT_SECONDS, min_seconds: float = MIN_SEGMENT_SECONDS) -> None:
        self.max_seconds = max_seconds
        self.min_seconds = min_seconds
        self.start: float | None = None
        self.end = 0.0
        self.closed_until = 0.0

    def feed(self, t_start: float, t_end: float, is_speech: bool) -> list[tuple[float, float]]:
        done = []
        if is_speech:
            if self.start is None:
                self.start = max(t_start, self.closed_until)
            self.end = max(self.end, t_end)
            if self.end - self.start >= self.max_seconds:
                done += self._close()
        elif self.start is not None and t_start >= self.start:
            done += self._close()
        return done

    def flush(self) -> list[tuple[float, float]]:
        return self._close() if self.start is not None else []

    def _close(self) -> list[tuple[float, float]]:
        start, end = self.start, self.end
        self.start, self.closed_until = None, max(self.closed_until, end)
        return [(start, end)] if start is not None and end - start >= self.min_seconds else []


def transcribe_clip(recogniser: Callable[[np.ndarray], str], audio16k: np.ndarray, start: float,
                    end: float) -> TranscriptSegment:
    """One speech segment through the recogniser, its word times placed on the session clock."""
    heard = recognize(recogniser, audio16k)
    return TranscriptSegment(start, end, heard.text, [w.shifted(start) for w in heard.words])


def transcribe_segments(recogniser: Callable[[np.ndarray], str], audio16k: np.ndarray,
                        spans: Iterable[tuple[float, float]], rate: int = 16_000) -> list[TranscriptSegment]:
    """The segments of a whole recording (session time 0 = its first sample), in line."""
    out = []
    for start, end in spans:
        clip = audio16k[int(round(start * rate)):int(round(end * rate))]
        segment = transcribe_clip(recogniser, clip, start, end)
        if segment.text:
            out.append(segment)
    return out


class LiveTranscription:
    """The recogniser in its own thread over the segments a live session's windows close.

    `feed(result)` is called from the analysis thread with each window result; the audio of a
    segment is copied when it closes (`audio_between(start, end)` gives 16 kHz samples), so the
    ring buffer may move on while the recogniser catches up. Each transcribed segment goes to
    `on_segment` (from this thread). `finish(timeout)` transcribes what is left, waiting at most
    `timeout` seconds, and returns every segment of the session.
    """

    def __init__(self, recogniser: Callable[[np.ndarray], str], audio_between: Callable[[float, float], np.ndarray],
                 *, on_segment: Callable[[TranscriptSegment], None] | None = None,
                 on_error: Callable[[str], None] | None = None) -> None:
        self.recogniser = recogniser
        self.audio_between = audio_between
        self.on_segment = on_segment
        self.on_error = on_error
        self.segmenter = SpeechSegmenter()
        self.segments: list[TranscriptSegment] = []
        self.compute_seconds: list[tuple[float, float]] = []  # (audio seconds, recognition seconds)
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="speakfeed-transcription", daemon=True)
        self._thread.start()

    def feed(self, result: Any) -> None:
        for span in self.segmenter.feed(result.t_start, result.t_end, result.is_speech):
            self._enqueue(span)

    def _enqueue(self, span: tuple[float, float]) -> None:
        try:
            audio = self.audio_between(*span)
        except (IndexError, ValueError) as exc:  # overwritten in the ring buffer: nothing to hear any more
            log.warning("speech segment %.1f-%.1f s lost: %s", span[0], span[1], exc)
            return
        self._queue.put((span, audio))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            (start, end), audio = item
            began = time.perf_counter()
            try:
                segment = transcribe_clip(self.recogniser, audio, start, end)
            except Exception as exc:  # a failing recogniser must not end the session
                log.exception("speech recognition of %.1f-%.1f s failed", start, end)
                if self.on_error is not None:
                    self.on_error(f"speech recognition failed at {start:.1f} s: {type(exc).__name__}: {exc}")
                continue
            self.compute_seconds.append((end - start, time.perf_counter() - began))
            if not segment.text:
                continue
            with self._lock:
                self.segments.append(segment)
            if self.on_segment is not None:
                try:
                    self.on_segment(segment)
                except Exception:
                    log.exception("on_segment callback failed")

    def finish(self, timeout: float = 30.0) -> list[TranscriptSegment]:
        """Close the open segment, wait for the recogniser (at most `timeout` s) and stop the thread."""
        for span in self.segmenter.flush():
            self._enqueue(span)
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("speech recognition did not finish within %.0f s; the transcript may miss the end", timeout)
        with self._lock:
            return sorted(self.segments, key=lambda s: s.start)
