"""Durable files: temp file in the same folder, fsync, os.replace, fsync of the folder.

A crash or a full disk leaves either the old file or the new one, never half of each.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from speakfeed_gui.core.errors import ModelLoadError, SpeakFeedError, StorageError, first_line

log = logging.getLogger(__name__)


_REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "folder does not exist",
    errno.ENOTDIR: "a parent is not a folder",
}


def os_reason(exc: OSError) -> str:
    """A short human reason for an OSError ('disk full', 'read-only file system', ...)."""
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)


def fsync_dir(folder: str | Path) -> None:
    """Make a rename or a new file in `folder` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_mode() -> int:
    """rw for everyone, minus the process umask (what open() would give a new file)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


@contextlib.contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file that replaces `path` only if the block ends without error.

    Any OSError (disk full, read-only, permission) becomes one StorageError line naming the path;
    the old file is then untouched and no temp file remains.
    """
    path = Path(path)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600; teammates sharing the folder must read it
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_dir(path.parent)
    except OSError as exc:
        raise StorageError(f"{path}: cannot write ({os_reason(exc)}); the previous file was left unchanged") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace `path` with `data` all at once (see atomic_open)."""
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write `obj` as indented JSON atomically (key order kept)."""
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"{path}: cannot write JSON ({exc})") from None
    atomic_write_text(path, text + "\n")


def read_json(path: str | Path, what: str, *, error: type[SpeakFeedError] = ModelLoadError) -> dict[str, Any]:
    """Parse a JSON object file; every failure is one `error` line naming the file and `what` it is."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({os_reason(exc)})") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # also a 5000-digit number or 100,000 nested brackets
        raise error(f"{path}: {what} is not valid JSON ({first_line(exc, 200)})") from None
    if not isinstance(data, dict):
        raise error(f"{path}: {what} must be a JSON object, found {type(data).__name__}")
    return data
