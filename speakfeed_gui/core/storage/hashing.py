"""Content hashes used for artifact integrity, dataset fingerprints and the feature cache."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Sequence

from speakfeed_gui.core.errors import DatasetError
from speakfeed_gui.core.progress import CancelToken, check_cancel

_CHUNK = 1 << 20


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's content, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# (absolute path, size, mtime_ns, device, inode) -> sha256, so the fingerprint and the feature
# cache hash each file once per process.
_HASH_MEMO: dict[tuple[str, int, int, int, int], str] = {}
_MEMO_LOCK = threading.Lock()
_MEMO_LIMIT = 200_000


def content_hashes(paths: Sequence[str | Path], *, cancel: CancelToken | None = None) -> list[str]:
    """sha256 of each file's content (memoised on path, size and modification time)."""
    out = []
    for n, path in enumerate(paths):
        if n % 64 == 0:
            check_cancel(cancel)
        path = Path(path)
        try:
            st = path.stat()
            key = (os.path.abspath(path), st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)
            with _MEMO_LOCK:
                digest = _HASH_MEMO.get(key)
            if digest is None:
                digest = sha256_file(path)
                with _MEMO_LOCK:
                    if len(_HASH_MEMO) >= _MEMO_LIMIT:
                        _HASH_MEMO.clear()
                    _HASH_MEMO[key] = digest
        except OSError as exc:
            raise DatasetError(f"{path}: cannot read file ({exc.strerror or exc})") from None
        out.append(digest)
    return out
