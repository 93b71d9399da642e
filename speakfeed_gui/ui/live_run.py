"""One running live session of the Live Feedback tab: capture, analyzer, session file, result queue.

`LiveRun.open` starts the pieces in order and undoes what it started when a later one fails, so
the tab only sees a running session or a SpeakFeedError saying what to check. Each run has its
own queue: a slow analyzer thread that outlives `close()` cannot put stale results into the next
session.
"""

from __future__ import annotations

import queue
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

from speakfeed_gui.core.audio.capture import AudioCapture, InputDevice
from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.live.analyzer import LiveAnalyzer
from speakfeed_gui.core.live.preparation import Prepared, limit_torch_threads
from speakfeed_gui.core.live.session import SessionRecorder, recorder_cipher


@dataclass
class LiveRun:
    capture: AudioCapture
    analyzer: LiveAnalyzer
    session: SessionRecorder
    model: Any
    origin: int  # ring position of session time 0
    messages: queue.SimpleQueue = field(default_factory=queue.SimpleQueue)  # ("result"|"error", item)
    errors: int = 0
    torch_threads: int | None = None  # to restore when the session ends

    @classmethod
    def open(cls, prepared: Prepared, device: InputDevice | None, devices: list[InputDevice], config: Any,
             sessions_dir: Path, *, record_audio: bool) -> "LiveRun":
        """Open the microphone, the session file and the analyzer; start analysing."""
        names = [d.name for d in devices]
        try:
            if device is None:
                raise SpeakFeedError("no microphone selected; connect one and press Refresh")
            capture = AudioCapture(device.name if names.count(device.name) == 1 else device.index)
            capture.start()
        except SpeakFeedError as exc:
            raise SpeakFeedError(f"Cannot listen to the microphone: {exc}. Check it and press Refresh.") from exc
        live = config.live
        try:
            session = SessionRecorder(
                sessions_dir, model_info=prepared.model.get_model_info(), settings=asdict(live),
                add_timestamps=config.inference.add_timestamps, record_audio=record_audio,
                sample_rate=capture.samplerate, source=capture.device.label, cipher=recorder_cipher(config.privacy))
        except SpeakFeedError as exc:
            capture.stop()
            raise SpeakFeedError(f"Cannot save the session: {exc}") from exc
        messages: queue.SimpleQueue = queue.SimpleQueue()
        try:
            analyzer = LiveAnalyzer(
                capture, prepared.model, live, session=session, vad=prepared.vad, transcriber=prepared.transcriber,
                on_result=lambda result: messages.put(("result", result)),
                on_error=lambda message: messages.put(("error", message)))
        except BaseException as exc:  # a settings combination the analyzer refuses: release the device
            capture.stop()
            session.close("error", message=f"{type(exc).__name__}: {exc}")
            raise
        run = cls(capture, analyzer, session, prepared.model, capture.ring.total_written, messages,
                  torch_threads=limit_torch_threads(1))
        analyzer.start()
        return run

    def elapsed(self) -> float:
        """Seconds of audio captured since the start."""
        return (self.capture.ring.total_written - self.origin) / self.capture.samplerate

    def pending(self) -> Iterator[tuple[str, Any]]:
        """The analyzer's results and error messages that arrived since the last call."""
        while True:
            try:
                yield self.messages.get_nowait()
            except queue.Empty:
                return

    def close(self) -> None:
        """Stop analysing and capturing (the session file is closed by the analyzer)."""
        self.analyzer.stop()
        self.capture.stop()
        limit_torch_threads(self.torch_threads)

    @property
    def device_lost(self) -> bool:
        return self.analyzer.stopped_reason == "device_lost"

    @property
    def ended_by_itself(self) -> bool:
        """The analyzer stopped without being asked (the device was lost, or the analysis died)."""
        return self.analyzer.stopped_reason is not None and not self.analyzer.running
