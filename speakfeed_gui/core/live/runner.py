"""One live runner for every front end: the Live tab, `speakfeed live` and `speakfeed analyze`.

`prepare_analysis` (core/live/preparation.py) loads the model, the voice detector and the speech
recogniser and warms them up; `LiveRunner.start` then opens the microphone, the session file, the
analyzer and the transcription beside it with torch on one thread, and `analyze_recording` runs
the same windows and the same transcription over a file. `session_report` is the report both
print or show, words per minute and fillers included. Nothing here knows Qt: a GUI drains
`LiveRunner.pending()` from its timer; the CLI prints from the callbacks.
"""

from __future__ import annotations

import logging
import queue
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from speakfeed_gui.core.audio.decode import SAMPLE_RATE, resample
from speakfeed_gui.core.live.analyzer import LiveAnalyzer, WindowResult, analyze_array
from speakfeed_gui.core.live.preparation import Prepared, limit_torch_threads, prepare_analysis
from speakfeed_gui.core.live.report import SessionReport, summarize
from speakfeed_gui.core.live.session import SessionRecorder, recorder_cipher
from speakfeed_gui.core.live.transcript import LiveTranscription, SpeechSegmenter, transcribe_segments

__all__ = ["LiveRunner", "Prepared", "analyze_recording", "prepare_analysis", "session_report"]

log = logging.getLogger(__name__)
TORCH_THREADS = 1  # see limit_torch_threads: small per-window torch ops stall on several threads
FINISH_SECONDS = 30.0  # at Stop, wait this long at most for the recogniser to transcribe the last words


def open_recorder(prepared: Prepared, config: Any, sessions_dir: str | Path, *, sample_rate: int,
                  source: str | None, record_audio: bool = False) -> SessionRecorder:
    """The session file, with the model, the live settings and whether words are transcribed; encrypted
    (with its recording) when the workspace says `privacy.encrypt_recordings`."""
    return SessionRecorder(
        sessions_dir, model_info=prepared.model.get_model_info(), settings=asdict(config.live),
        add_timestamps=config.inference.add_timestamps, record_audio=record_audio,
        sample_rate=sample_rate, source=source, cipher=recorder_cipher(config.privacy))


def session_report(document: dict[str, Any], live: Any, path: str | Path | None = None) -> SessionReport:
    """The end-of-session report against the live settings' target bands and filler words."""
    report = summarize(document, live.targets, live.filler_words)
    if path is not None:
        report.path = str(path)
    return report


class _SessionTap:
    """The analyzer's view of the session: windows go to the file and the transcription.

    The analyzer closes its session when it stops (asked to, or when the device is lost); the
    tap first lets the recogniser finish the last words, so the file closes with its transcript.
    """

    def __init__(self, recorder: SessionRecorder, transcription: LiveTranscription | None) -> None:
        self.recorder = recorder
        self.transcription = transcription

    @property
    def record_audio(self) -> bool:
        return self.recorder.record_audio

    def append(self, result: WindowResult) -> None:
        self.recorder.append(result)
        if self.transcription is not None:
            self.transcription.feed(result)

    def write_audio(self, samples: np.ndarray) -> None:
        self.recorder.write_audio(samples)

    def close(self, reason: str = "stopped", *, message: str | None = None,
              skipped_windows: int | None = None) -> Path:
        if self.transcription is not None and not self.recorder.closed:
            self.recorder.set_transcript(self.transcription.finish(FINISH_SECONDS))
        return self.recorder.close(reason, message=message, skipped_windows=skipped_windows)


@dataclass
class LiveRunner:
    """A running live session: capture, analyzer, transcription, session file and one message queue.

    Messages are ("result", WindowResult), ("transcript", TranscriptSegment) and ("error", str).
    Each runner has its own queue: a slow thread that outlives `close()` cannot put stale
    results into the next session.
    """

    capture: Any
    analyzer: LiveAnalyzer
    session: SessionRecorder
    model: Any
    transcription: LiveTranscription | None
    messages: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)
    errors: int = 0
    torch_threads: int | None = None  # to restore when the session ends

    @classmethod
    def start(cls, prepared: Prepared, config: Any, sessions_dir: str | Path, *, device: Any = None,
              record_audio: bool = False, capture: Any = None,
              on_message: Callable[[str, Any], None] | None = None) -> "LiveRunner":
        """Open the microphone (`device`: index, name or None for the default; or a ready `capture`),
        the session file, the transcription and the analyzer; start analysing.

        `on_message(kind, item)` also receives every message, from the worker threads (a terminal
        prints them; a GUI drains `pending()` instead). Whatever started is undone on failure.
        """
        from speakfeed_gui.core.audio.capture import AudioCapture

        if capture is None:
            capture = AudioCapture(device)
            capture.start()
        messages: queue.SimpleQueue = queue.SimpleQueue()

        def post(kind: str, item: Any) -> None:
            messages.put((kind, item))
            if on_message is not None:
                on_message(kind, item)

        try:
            session = open_recorder(prepared, config, sessions_dir, sample_rate=capture.samplerate,
                                    source=capture.device.label, record_audio=record_audio)
        except BaseException:
            capture.stop()
            raise
        transcription = None
        analyzer: LiveAnalyzer | None = None
        try:
            if prepared.transcriber is not None and config.live.transcribe:
                def audio_between(start: float, end: float) -> np.ndarray:
                    origin = analyzer.origin if analyzer is not None else 0
                    rate = capture.samplerate
                    samples = capture.ring.read_range(origin + round(start * rate), origin + round(end * rate))
                    return resample(samples, rate, SAMPLE_RATE)

                def heard(segment: Any) -> None:
                    session.add_transcript(segment)  # journaled at once: a crash keeps the words so far
                    post("transcript", segment)

                transcription = LiveTranscription(prepared.transcriber, audio_between, on_segment=heard,
                                                  on_error=lambda message: post("error", message))
            analyzer = LiveAnalyzer(
                capture, prepared.model, config.live, session=_SessionTap(session, transcription), vad=prepared.vad,
                transcriber=prepared.transcriber, on_result=lambda result: post("result", result),
                on_error=lambda message: post("error", message))
        except BaseException as exc:  # a settings combination the analyzer refuses: release the device
            capture.stop()
            if transcription is not None:
                transcription.finish(0.0)
            session.close("error", message=f"{type(exc).__name__}: {exc}")
            raise
        run = cls(capture, analyzer, session, prepared.model, transcription, messages,
                  torch_threads=limit_torch_threads(TORCH_THREADS))
        analyzer.start()
        return run

    @property
    def origin(self) -> int:
        """Ring position of session time 0."""
        return self.analyzer.origin

    def elapsed(self) -> float:
        """Seconds of audio captured since the start."""
        return (self.capture.ring.total_written - self.origin) / self.capture.samplerate

    def pending(self) -> Iterator[tuple[str, Any]]:
        """The messages that arrived since the last call."""
        while True:
            try:
                yield self.messages.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        """Stop analysing and capturing (the session file closes with its transcript); give torch its threads back."""
        self.stop()
        self.restore_threads()

    def stop(self) -> None:
        """Stop analysing and capturing; may wait for the recogniser's last words, so a GUI calls it in a worker."""
        self.analyzer.stop()
        self.capture.stop()

    def restore_threads(self) -> None:
        """Torch's thread count as before the session; call it from the thread that started the runner
        (with OpenMP the count belongs to the calling thread)."""
        limit_torch_threads(self.torch_threads)
        self.torch_threads = None

    def report(self) -> SessionReport:
        """The report of this session (after `close`)."""
        return session_report(self.session.document, self.analyzer.settings, self.session.path)

    @property
    def device_lost(self) -> bool:
        return self.analyzer.stopped_reason == "device_lost"

    @property
    def ended_by_itself(self) -> bool:
        """The analyzer stopped without being asked (the device was lost, or the analysis died)."""
        return self.analyzer.stopped_reason is not None and not self.analyzer.running


def analyze_recording(prepared: Prepared, config: Any, audio: np.ndarray, rate: int, sessions_dir: str | Path, *,
                      source: str | None = None,
                      on_result: Callable[[WindowResult], None] | None = None) -> SessionRecorder:
    """The live windows and the transcription over a whole recording, saved as a closed session."""
    live = config.live
    recorder = open_recorder(prepared, config, sessions_dir, sample_rate=SAMPLE_RATE, source=source)
    segmenter = SpeechSegmenter()
    spans: list[tuple[float, float]] = []

    def take(result: WindowResult) -> None:
        recorder.append(result)
        spans.extend(segmenter.feed(result.t_start, result.t_end, result.is_speech))
        if on_result is not None:
            on_result(result)

    previous = limit_torch_threads(TORCH_THREADS)
    try:
        analyze_array(audio, rate, prepared.model, live, vad=prepared.vad, transcriber=prepared.transcriber,
                      on_result=take)
        spans.extend(segmenter.flush())
        if prepared.transcriber is not None and live.transcribe:
            audio16k = resample(np.asarray(audio, dtype=np.float32), rate, SAMPLE_RATE)
            recorder.set_transcript(transcribe_segments(prepared.transcriber, audio16k, spans))
    except BaseException as exc:
        recorder.close("error", message=f"{exc.__class__.__name__}: {exc}")
        raise
    finally:
        limit_torch_threads(previous)
    recorder.close("completed")
    return recorder
