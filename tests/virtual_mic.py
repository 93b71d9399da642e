"""The PulseAudio virtual microphone for tests (see .ci/virtual-mic and shared RECIPES).

`virtual_mic` (session fixture) uses the daemon that .ci/test started (SPEAKFEED_MIC_FIFO set)
or starts a private one in a temporary folder and exports its environment into os.environ.
PortAudio only sees the `pulse` device if PULSE_SERVER is set when it enumerates devices, so if
sounddevice was imported before, PortAudio is re-initialised. `mic_feeder` writes float audio
as s16le into the FIFO at real-time pace, with silence in between so callbacks never stop.

Other test folders use it from their conftest.py:
    from tests.virtual_mic import mic_feeder, virtual_mic  # noqa: F401
"""

from __future__ import annotations

import collections
import errno
import os
import select
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "virtual-mic"
RATE = 16_000
SOURCE_MODULE = "module-pipe-source"
SINK_MODULE = "module-null-sink"


def pactl(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=check)


def _daemon_alive() -> bool:
    fifo = os.environ.get("SPEAKFEED_MIC_FIFO")
    if not fifo or not os.environ.get("PULSE_SERVER") or not Path(fifo).exists():
        return False
    return pactl("info", check=False).returncode == 0


def _rescan_portaudio() -> None:
    """PortAudio enumerates devices at initialisation: make it look again with the new env."""
    sd = sys.modules.get("sounddevice")
    if sd is not None:
        sd._terminate()
        sd._initialize()


@dataclass
class VirtualMic:
    fifo: Path
    folder: Path | None  # set when this process started the daemon
    saved_env: dict[str, str | None] = field(default_factory=dict)
    _unplugged: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def start(cls, folder: Path) -> "VirtualMic":
        if _daemon_alive():
            return cls(Path(os.environ["SPEAKFEED_MIC_FIFO"]), None)
        env = dict(os.environ, SPEAKFEED_MIC_DIR=str(folder))
        out = subprocess.run(["bash", str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            pytest.fail(f"virtual microphone did not start: {out.stderr.strip()}")
        exports = dict(item.split("=", 1) for item in shlex.split(out.stdout.strip()) if "=" in item)
        mic = cls(Path(exports["SPEAKFEED_MIC_FIFO"]), folder)
        mic.saved_env = {key: os.environ.get(key) for key in exports}
        os.environ.update(exports)
        _rescan_portaudio()
        return mic

    def stop(self) -> None:
        if self.folder is None:
            return
        env = dict(os.environ, SPEAKFEED_MIC_DIR=str(self.folder))
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, capture_output=True, timeout=30)
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        _rescan_portaudio()

    def unplug(self) -> None:
        """Remove the microphone AND the null sink.

        With only the pipe source unloaded PulseAudio moves the recording stream to
        vsink.monitor (after about 1-1.5 s without callbacks) and it goes on with silence;
        without any source left it kills the stream, as a real unplugged USB microphone does.
        """
        modules = [line.split("\t") for line in pactl("list", "short", "modules").stdout.splitlines()]
        for index, name, args, *_ in modules:
            if name in (SOURCE_MODULE, SINK_MODULE):
                pactl("unload-module", index)
                self._unplugged.append((name, args))

    def replug(self) -> None:
        """Load the unplugged modules again with their original arguments."""
        while self._unplugged:
            name, args = self._unplugged.pop()
            pactl("load-module", name, *shlex.split(args))
        pactl("set-default-source", "fifosrc")


class Clip:
    """Audio queued on a MicFeeder; `done` is set once its last sample went into the FIFO."""

    def __init__(self, audio: np.ndarray) -> None:
        pcm = np.clip(np.asarray(audio, dtype=np.float64), -1.0, 1.0)
        self.data = (pcm * 32767.0).round().astype("<i2").tobytes()
        self.offset = 0
        self.done = threading.Event()


class MicFeeder:
    """Writes queued clips, and silence whenever nothing is queued, into the FIFO at real time.

    Keeps `lead` seconds ahead of the clock. If the pipe source goes away (unplug) the writer
    waits for it to come back and reopens the FIFO; `stop()` always returns promptly.
    """

    def __init__(self, fifo: str | Path, *, block_seconds: float = 0.02, lead: float = 0.1) -> None:
        self.fifo = str(fifo)
        self.block_bytes = int(block_seconds * RATE) * 2
        self.lead = lead
        self.samples_written = 0
        self._queue: collections.deque[Clip] = collections.deque()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mic-feeder", daemon=True)

    def start(self) -> "MicFeeder":
        self._thread.start()
        return self

    def play(self, audio: np.ndarray) -> Clip:
        clip = Clip(audio)
        self._queue.append(clip)
        return clip

    def play_and_wait(self, audio: np.ndarray, timeout: float | None = None) -> Clip:
        clip = self.play(audio)
        if not clip.done.wait(timeout if timeout is not None else len(clip.data) / 2 / RATE + 5.0):
            raise TimeoutError("the virtual microphone did not take the clip in time")
        return clip

    def stop(self) -> None:
        self._halt.set()
        self._thread.join(timeout=5.0)
        for clip in self._queue:
            clip.done.set()

    def _next_block(self) -> bytes:
        while self._queue:
            clip = self._queue[0]
            chunk = clip.data[clip.offset : clip.offset + self.block_bytes]
            clip.offset += len(chunk)
            if clip.offset >= len(clip.data):
                self._queue.popleft()
                clip.done.set()
            if chunk:
                return chunk.ljust(self.block_bytes, b"\0")
        return bytes(self.block_bytes)

    def _open(self) -> int | None:
        while not self._halt.is_set():
            try:  # non-blocking open fails with ENXIO while no reader (pipe source) has the FIFO open
                return os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno not in (errno.ENXIO, errno.ENOENT):
                    raise
            self._halt.wait(0.05)
        return None

    def _write_all(self, fd: int, data: bytes) -> bool:
        """False when the reader went away."""
        view = memoryview(data)
        while view and not self._halt.is_set():
            _, writable, _ = select.select([], [fd], [], 0.05)
            if not writable:
                continue
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                return False
        return True

    def _run(self) -> None:
        while not self._halt.is_set():
            fd = self._open()
            if fd is None:
                return
            try:
                started, written = time.monotonic(), 0
                while not self._halt.is_set():
                    ahead = written / RATE - (time.monotonic() - started)
                    if ahead > self.lead:
                        time.sleep(min(ahead - self.lead, 0.02))
                        continue
                    block = self._next_block()
                    if not self._write_all(fd, block):
                        break
                    written += len(block) // 2
                    self.samples_written += len(block) // 2
            finally:
                os.close(fd)


@pytest.fixture(scope="session")
def virtual_mic(tmp_path_factory: pytest.TempPathFactory):
    mic = VirtualMic.start(tmp_path_factory.mktemp("mic"))
    yield mic
    mic.stop()


@pytest.fixture
def mic_feeder(virtual_mic: VirtualMic):
    feeder = MicFeeder(virtual_mic.fifo).start()
    yield feeder
    feeder.stop()
