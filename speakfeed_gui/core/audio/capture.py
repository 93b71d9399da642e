"""Microphone capture: a PortAudio callback that only copies into a RingBuffer.

The rest (level meter, analysis, recording) reads the ring buffer from other threads, as in
friture and sounddevice's rec_gui example. A small watchdog thread turns a stream that dies
(device unplugged, sound server gone, no callbacks for `stall_seconds`) into `error` plus one
`on_error(message)` call, so nothing ever raises into the GUI thread after `start()`.
`sounddevice` is imported inside functions: the GUI imports this module at start-up.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from speakfeed_gui.core.audio.decode import SAMPLE_RATE
from speakfeed_gui.core.audio.levels import dbfs
from speakfeed_gui.core.audio.ringbuffer import RingBuffer
from speakfeed_gui.core.errors import DeviceError

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class InputDevice:
    """One PortAudio device that can record."""

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    default_samplerate: float
    is_default: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({self.hostapi})"


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the wheel does not bundle PortAudio on Linux
        raise DeviceError(f"PortAudio is not available ({exc}); install libportaudio2") from None
    return sounddevice


def list_input_devices(refresh: bool = False) -> list[InputDevice]:
    """Input-capable devices; `refresh` re-initialises PortAudio to see newly plugged devices.

    Do not refresh while a stream is open: re-initialising PortAudio invalidates it.
    """
    sd = _sounddevice()
    if refresh:
        sd._terminate()
        sd._initialize()
    hostapis = sd.query_hostapis()
    try:
        default_in = sd.default.device[0]
        if default_in is None or default_in < 0:
            default_in = sd.query_devices(kind="input")["index"]
    except (sd.PortAudioError, ValueError, TypeError, KeyError):
        default_in = -1
    devices = []
    for info in sd.query_devices():
        if info["max_input_channels"] < 1:
            continue
        devices.append(
            InputDevice(
                index=int(info["index"]),
                name=str(info["name"]),
                hostapi=str(hostapis[info["hostapi"]]["name"]),
                max_input_channels=int(info["max_input_channels"]),
                default_samplerate=float(info["default_samplerate"]),
                is_default=int(info["index"]) == default_in,
            )
        )
    return devices


def find_input_device(device: int | str | None) -> InputDevice:
    """The device for an index, a (unique part of a) name, or None for the system default."""
    devices = list_input_devices()
    if not devices:
        raise DeviceError("no audio input device found; connect a microphone (PortAudio lists no input devices)")
    if device is None:
        return next((d for d in devices if d.is_default), devices[0])
    if isinstance(device, int) or (isinstance(device, str) and device.strip().isdigit()):
        index = int(device)
        match = [d for d in devices if d.index == index]
    else:
        exact = [d for d in devices if d.name == device]
        match = exact or [d for d in devices if str(device).lower() in d.name.lower()]
    if len(match) != 1:
        known = ", ".join(f"{d.index}: {d.name}" for d in devices)
        problem = "matches several devices" if match else "is not an input device"
        raise DeviceError(f"input device {device!r} {problem}; input devices: {known}")
    return match[0]


class AudioCapture:
    """Mono capture from one input device into a ring buffer of `buffer_seconds`."""

    def __init__(
        self,
        device: int | str | None = None,
        *,
        samplerate: int | None = None,
        blocksize: int | None = None,
        buffer_seconds: float = 120.0,
        on_error: Callable[[str], None] | None = None,
        stall_seconds: float = 2.0,
        first_audio_timeout: float = 5.0,
    ) -> None:
        self.device = find_input_device(device)
        self.samplerate, self.channels = self._choose_format(samplerate)
        self.blocksize = int(blocksize or self.samplerate // 50)
        self.ring = RingBuffer(int(buffer_seconds * self.samplerate))
        self.on_error = on_error
        self.stall_seconds = stall_seconds
        self.first_audio_timeout = max(first_audio_timeout, stall_seconds)
        self.overflows = 0
        self.error: str | None = None
        self._stream: Any = None
        self._stopping = False
        self._finished = threading.Event()
        self._halt = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._fail_lock = threading.Lock()

    def _choose_format(self, samplerate: int | None) -> tuple[int, int]:
        """16 kHz mono when the device accepts it, else its default rate and/or two channels."""
        sd = _sounddevice()
        rates = [samplerate] if samplerate else [SAMPLE_RATE, int(self.device.default_samplerate)]
        channel_options = sorted({1, min(2, self.device.max_input_channels)})
        problem = ""
        for rate in rates:
            for channels in channel_options:
                try:
                    sd.check_input_settings(device=self.device.index, samplerate=rate, channels=channels, dtype="float32")
                    return int(rate), channels
                except (sd.PortAudioError, ValueError) as exc:
                    problem = str(exc)
        raise DeviceError(f"input device {self.device.label} does not accept {' or '.join(map(str, rates))} Hz: {problem}")

    # -- audio thread ---------------------------------------------------------
    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.input_overflow:
            self.overflows += 1
        self.ring.write(indata)

    def _finished_callback(self) -> None:
        self._finished.set()

    # -- control ----------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._stream is not None and self.error is None and not self._stopping

    @property
    def seconds_captured(self) -> float:
        return self.ring.total_written / self.samplerate

    def start(self) -> None:
        """Open and start the stream; DeviceError if the device refuses."""
        if self._stream is not None:
            return
        sd = _sounddevice()
        try:
            stream = sd.InputStream(
                device=self.device.index,
                samplerate=self.samplerate,
                channels=self.channels,
                dtype="float32",
                blocksize=self.blocksize,
                callback=self._callback,
                finished_callback=self._finished_callback,
            )
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise DeviceError(f"cannot open input device {self.device.label} at {self.samplerate} Hz: {exc}") from None
        self._stream = stream
        self._stopping = False
        self._watchdog = threading.Thread(target=self._watch, name="speakfeed-capture-watchdog", daemon=True)
        self._watchdog.start()
        log.info("capturing from %s at %d Hz, %d channel(s)", self.device.label, self.samplerate, self.channels)

    def stop(self) -> None:
        """Stop and close the stream (abort(): stop() can hang when no callbacks arrive)."""
        self._stopping = True
        self._halt.set()
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join(timeout=2.0)
        self._close_stream()

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            stream.abort()
            stream.close()
        except Exception as exc:  # a dead device can refuse even to close
            log.debug("closing the input stream failed: %s", exc)

    def level_dbfs(self, seconds: float = 0.05) -> float:
        """Level of the newest `seconds` of audio, for a meter (computed on the reader side)."""
        return dbfs(self.ring.latest(int(seconds * self.samplerate)))

    # -- failure detection --------------------------------------------------------
    def _watch(self) -> None:
        started = time.monotonic()
        last_total, last_change = self.ring.total_written, started
        while not self._halt.wait(0.1):
            now = time.monotonic()
            total = self.ring.total_written
            if total != last_total:
                last_total, last_change = total, now
            if self._finished.is_set():
                self._fail(f"input device {self.device.label} stopped delivering audio (unplugged, or the sound server went away)")
            elif total == 0 and now - started > self.first_audio_timeout:
                self._fail(f"input device {self.device.label} delivered no audio within {self.first_audio_timeout:.0f} s of starting")
            elif total and now - last_change > self.stall_seconds:
                self._fail(f"input device {self.device.label} stopped delivering audio for {now - last_change:.1f} s")
            else:
                continue
            return

    def _fail(self, message: str) -> None:
        """Record the first failure, release the stream and tell the owner once."""
        with self._fail_lock:
            if self.error is not None or self._stopping:
                return
            self.error = message
        log.error("%s", message)
        self._close_stream()
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                log.exception("on_error callback failed")

    def __enter__(self) -> "AudioCapture":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
