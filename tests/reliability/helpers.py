"""Shared tools of the reliability tests: real processes, real mounts, workspace fingerprints.

Nothing here fakes the system under test: workers are separate Python processes driving the real
core, disks are real tmpfs mounts, and "nothing changed" is proven by hashing every file.
"""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable

import pytest
from hypothesis import HealthCheck, settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Modest example counts: the whole folder must stay well under two minutes.
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)

_PROGRESS_LINE = re.compile(r"^[a-z_]+: \d+/\d+( .*)?$")  # TerminalProgress on a non-tty stderr
ERROR_PREFIX = "speakfeed: error: "


# ---- processes --------------------------------------------------------------------------------


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


STARTED: list[subprocess.Popen] = []  # every worker, so a failing test cannot leave one running


def spawn_worker(*args: object) -> subprocess.Popen:
    """Start `tests.reliability.workers` with string arguments; stdout is one acknowledgement a line."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.workers", *map(str, args)],
        cwd=PROJECT_ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    STARTED.append(proc)
    return proc


def stop_workers() -> None:
    """SIGKILL every worker of this test that is still running (by its own pid) and reap it."""
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def finish(proc: subprocess.Popen, timeout: float = 120) -> list[str]:
    """Wait for a worker that should succeed; return its acknowledged lines."""
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"worker failed ({proc.returncode}): {err[-2000:]}"
    return out.split()


def kill_after(proc: subprocess.Popen, seconds: float) -> list[str]:
    """Wait for the worker's first acknowledgement, let it run `seconds` more, SIGKILL it.

    Returns every line it printed: each one was acknowledged (the call had returned) before the kill.
    """
    first = proc.stdout.readline().strip()
    assert first, f"worker died before its first acknowledgement: {proc.stderr.read()[-2000:]}"
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"worker ended on its own ({proc.returncode}): {err[-2000:]}"
    return [first, *out.split()]


def run_cli(workspace: Path | None, *args: object, timeout: float = 180) -> subprocess.CompletedProcess:
    """`python -m speakfeed_gui [--workspace W] ARGS` in a fresh process (so tracebacks would show)."""
    prefix = ["--workspace", str(workspace)] if workspace is not None else []
    return subprocess.run(
        [sys.executable, "-m", "speakfeed_gui", *prefix, *map(str, args)],
        cwd=PROJECT_ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=timeout,
    )


def error_line(stderr: str) -> str:
    """The one `speakfeed: error:` line of a failed command; everything else must be progress lines."""
    assert "Traceback" not in stderr, stderr[-3000:]
    lines = [line for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(ERROR_PREFIX)]
    others = [line for line in lines if not line.startswith(ERROR_PREFIX) and not _PROGRESS_LINE.match(line)]
    assert len(errors) == 1 and not others, f"expected one error line, got:\n{stderr[-3000:]}"
    return errors[0][len(ERROR_PREFIX):]


def assert_refused(proc: subprocess.CompletedProcess, *expected: str) -> str:
    """A CLI run failed with exit 2 and one error line holding every `expected` text."""
    message = error_line(proc.stderr)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"
    return message


def assert_one_line(exc: BaseException, *expected: str) -> None:
    """A SpeakFeedError message is one line and holds every `expected` text."""
    message = str(exc)
    assert message and "\n" not in message, repr(message)
    for text in expected:
        assert text in message, f"{text!r} not in {message!r}"


# ---- files ------------------------------------------------------------------------------------


def tree_state(root: Path, skip: Iterable[str] = (".cache",)) -> dict[str, str]:
    """relative path -> sha256 (or 'dir') of everything below `root`, except lock files and `skip` folders.

    Equal states mean nothing saved under `root` changed: not a byte, not a new or missing file.
    """
    state: dict[str, str] = {}
    skipped = set(skip)
    for path in sorted(Path(root).rglob("*")):
        rel = path.relative_to(root)
        if skipped & set(rel.parts) or path.name.endswith(".lock"):
            continue
        if path.is_dir() and not path.is_symlink():
            state[rel.as_posix()] = "dir"
        else:
            state[rel.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def flip_byte(path: Path, position: int) -> None:
    """Invert every bit of one byte of a file, in place."""
    data = bytearray(path.read_bytes())
    data[position % len(data)] ^= 0xFF
    path.write_bytes(bytes(data))


# ---- disks ------------------------------------------------------------------------------------


class Tmpfs:
    """A real tmpfs mounted for one test (root only); `fill()` uses up every free byte, `read_only()` remounts."""

    def __init__(self, mountpoint: Path, size: str) -> None:
        self.path = mountpoint
        mountpoint.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "none", str(mountpoint)], capture_output=True)
        if result.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")

    def fill(self) -> None:
        """Write one filler file until the file system refuses more (ENOSPC)."""
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            block = b"\xa5" * 65536
            while True:
                try:
                    os.write(fd, block)
                except OSError:
                    if len(block) == 1:
                        break
                    block = block[: len(block) // 2]
        finally:
            os.close(fd)

    def free_space(self) -> None:
        (self.path / "filler").unlink(missing_ok=True)

    def read_only(self, on: bool = True) -> None:
        subprocess.run(["mount", "-o", f"remount,{'ro' if on else 'rw'}", str(self.path)], check=True)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)
