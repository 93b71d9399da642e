"""Cross-process locks on shared files (flock through filelock, released if the holder dies).
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Iterator

from speakfeed_gui.core.errors import RegistryError
from speakfeed_gui.core.storage.atomic import os_reason

log = logging.getLogger(__name__)


@contextlib.contextmanager
def locked(path: str | Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold the cross-process lock `<path>.lock` (fcntl.flock: released even if the holder is killed)."""
    import filelock

    lock_path = f"{path}.lock"
    lock = filelock.FileLock(lock_path, timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RegistryError(
            f"{lock_path}: another SpeakFeed process holds this lock (waited {timeout:g} s); "
            "wait for it to finish or close the other SpeakFeed window"
        ) from None
    except OSError as exc:
        raise RegistryError(f"{lock_path}: cannot create the lock file ({os_reason(exc)})") from None
    try:
        yield
    finally:
        lock.release()
