"""Play a recording from any second: a PortAudio output callback over a numpy array.

Qt Multimedia is not part of PySide6-Essentials, so the report's play/seek control and its
"play this moment" jumps use sounddevice (already needed for capture). The callback only
copies the next block and advances the position; `position` is safe to read from any thread,
and `on_finished` is called (from the audio thread) when the end is reached.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np

from speakfeed_gui.core.audio.capture import _sounddevice
from speakfeed_gui.core.audio.decode import load_audio
from speakfeed_gui.core.errors import AudioError, DeviceError, SpeakFeedError

log = logging.getLogger(__name__)

PLAYBACK_RATE = 16_000  # sessions record at 16 kHz; from_file resamples other files to it


class Player:
    """One recording, one output stream at a time; play(from) / pause() / seek() / stop()."""

    def __init__(self, audio: np.ndarray, rate: int = PLAYBACK_RATE, *, name: str = "the recording",
                 device: Any = None, on_finished: Callable[[], None] | None = None) -> None:
        self.audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        self.rate = int(rate)
        self.name = name
        self.device = device
        self.on_finished = on_finished
        self._pos = 0
        self._lock = threading.Lock()
        self._stream: Any = None

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any) -> "Player":
        """A player of any audio file soundfile reads (mono, 16 kHz)."""
        path = Path(path)
        try:
            audio = load_audio(path, PLAYBACK_RATE)
        except SpeakFeedError:
            raise
        except Exception as exc:  # noqa: BLE001 - any decoder failure is one line about the file
            raise AudioError(f"{path}: cannot read the recording ({exc.__class__.__name__}: {exc})") from None
        return cls(audio, PLAYBACK_RATE, name=path.name, **kwargs)

    @property
    def duration(self) -> float:
        return self.audio.size / self.rate

    @property
    def position(self) -> float:
        with self._lock:
            return self._pos / self.rate

    @property
    def playing(self) -> bool:
        return self._stream is not None and bool(self._stream.active)

    def seek(self, seconds: float) -> None:
        with self._lock:
            self._pos = int(min(max(seconds, 0.0), self.duration) * self.rate)

    def play(self, from_seconds: float | None = None) -> None:
        """Start (or restart) output at `from_seconds` (default: where it stands)."""
        if from_seconds is not None:
            self.seek(from_seconds)
        if self.playing:
            return
        self._close()
        if self.position >= self.duration:
            self.seek(0.0)
        sd = _sounddevice()
        try:
            self._stream = sd.OutputStream(samplerate=self.rate, channels=1, dtype="float32", device=self.device,
                                           callback=self._callback, finished_callback=self._finished)
            self._stream.start()
        except Exception as exc:  # noqa: BLE001 - PortAudio errors become one line
            self._stream = None
            raise DeviceError(f"cannot play {self.name}: no usable audio output ({exc})") from None

    def _callback(self, outdata: np.ndarray, frames: int, _time: Any, _status: Any) -> None:
        with self._lock:
            chunk = self.audio[self._pos : self._pos + frames]
            self._pos += chunk.size
        outdata[: chunk.size, 0] = chunk
        if chunk.size < frames:
            outdata[chunk.size :, 0] = 0.0
            raise _sounddevice().CallbackStop

    def _finished(self) -> None:
        if self.position >= self.duration and self.on_finished is not None:
            try:
                self.on_finished()
            except Exception:
                log.exception("on_finished callback failed")

    def pause(self) -> None:
        """Stop output, keeping the position."""
        self._close()

    def stop(self) -> None:
        self._close()
        self.seek(0.0)

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()  # abort, not stop: it never waits for a stalled device
                stream.close()
            except Exception:  # noqa: BLE001 - a device gone mid-play leaves nothing to close
                log.debug("closing the output stream failed", exc_info=True)
