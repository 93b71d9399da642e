"""Leftovers of interrupted saves: what a killed process may leave under models/ and the cache.

Saves stage their files in hidden folders and temp files and move them into place at the end
(trainer `.staging-*`, bundle import `.import-*`, version markers `.<name>.reserved`, atomic
writes `.<file>.*.tmp`, feature cache `.tmp-*.npy`). A kill in between leaves them behind:
never listed, never loaded, only taking space. A save in progress in another process looks
the same, so only leftovers untouched for `min_age_s` (an hour by default) are offered.
"""

from __future__ import annotations

import fnmatch
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from speakfeed_gui.core.errors import StorageError
from speakfeed_gui.core.settings.workspace import Workspace
from speakfeed_gui.core.storage.atomic import os_reason

log = logging.getLogger(__name__)

PATTERNS = (".staging-*", ".import-*", ".*.reserved", ".*.tmp", ".tmp-*.npy")
MIN_AGE_S = 3600.0


@dataclass(frozen=True)
class Leftover:
    path: Path
    size: int  # bytes, folders included
    age_s: float


def _size(path: Path) -> int:
    if path.is_symlink() or not path.is_dir():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*"))


def find_leftovers(ws: Workspace, min_age_s: float = MIN_AGE_S) -> list[Leftover]:
    """Leftovers under models/ (each experiment folder) and the feature cache, oldest first."""
    now = time.time()
    found = []
    for root in (ws.models_dir, ws.cache_dir):
        if not root.is_dir():
            continue
        folders = [p for p in root.rglob("*") if p.is_dir() and not any(part.startswith(".") for part in p.relative_to(root).parts)]
        for path in [root, *folders]:
            for child in path.iterdir():
                if not any(fnmatch.fnmatchcase(child.name, pattern) for pattern in PATTERNS):
                    continue
                try:
                    age = now - child.lstat().st_mtime
                    if age >= min_age_s:
                        found.append(Leftover(child, _size(child), age))
                except FileNotFoundError:  # its save just finished
                    continue
    return sorted(found, key=lambda item: -item.age_s)


def remove_leftovers(leftovers: list[Leftover]) -> int:
    """Delete them; returns the bytes freed. StorageError names the first one that cannot go."""
    freed = 0
    for item in leftovers:
        try:
            if item.path.is_dir() and not item.path.is_symlink():
                shutil.rmtree(item.path)
            else:
                item.path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"{item.path}: cannot delete ({os_reason(exc)})") from None
        log.info("deleted leftover %s (%d bytes)", item.path, item.size)
        freed += item.size
    return freed
