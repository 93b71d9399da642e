"""The registry's files on disk: snapshot, journal, backup and lock, kept consistent across processes.

Guarantees:

- Every write happens under a cross-process file lock (fcntl.flock, released by the kernel if the
  holder dies) and is one `os.write` + `fsync` of a journal line, so concurrent processes never lose
  an entry and a registration costs the same at 10 or 10,000 entries.
- Crash safety: SIGKILL at any moment leaves a registry that parses and holds every change that was
  acknowledged (returned) before the kill. A torn last journal line was never acknowledged; readers
  ignore it and the next writer truncates it. Compaction writes a new snapshot atomically with
  generation g+1 *before* truncating the journal, and replay skips lines of older generations, so a
  crash between the two steps neither loses nor repeats an operation.
- Readers take no lock: they re-check the snapshot's identity after reading the journal and retry
  if a compaction ran meanwhile, so a reader never sees a half-written state.
- A corrupt snapshot or journal is never overwritten: every read raises RegistryError saying which
  file is corrupt, where the backup is and how to recover.
- Parsed state is cached per process and keyed by the files' stat; a change by another process is
  picked up by reading only the journal bytes appended since the last read.

What the files hold is registry_format.py; what a model, an alias or a version is, is registry.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from speakfeed_gui.core.errors import RegistryError, StorageError, first_line
from speakfeed_gui.core.registry.format import ALIASES_KEY, GENERATION_KEY, entry_problem, snapshot_bytes, valid_op
from speakfeed_gui.core.storage.atomic import atomic_write_bytes, fsync_dir, os_reason
from speakfeed_gui.core.storage.locks import locked

log = logging.getLogger(__name__)


def _stat_key(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass
class RegistryState:
    """Parsed registry: snapshot plus replayed journal, and how far the journal was read."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    generation: int = 0
    snap_key: tuple[int, int, int, int] | None = None
    journal_key: tuple[int, int, int, int] | None = None
    journal_ino: int | None = None
    journal_offset: int = 0  # end of the last complete line read
    journal_lines: int = 0
    torn_tail: bool = False  # bytes after journal_offset (a write in progress or a crash)
    view: list[dict[str, Any]] | None = None  # the owner's cached list_models() answer, newest first
    versions: dict[str | None, Counter[int]] | None = None  # the owner's index: experiment -> its version numbers


class RegistryStore:
    """The files behind one registry: consistent reads without a lock, durable writes under it.

    Subclasses patch views derived from the state in `_touch_view`, which every applied operation calls.
    """

    def __init__(self, path: str | Path, *, journal_limit: int = 256 * 1024, lock_timeout: float = 30.0) -> None:
        self.path = Path(os.path.abspath(path))
        self.folder = self.path.parent
        self.journal_path = self.path.with_name(self.path.stem + ".journal")
        self.backup_path = self.path.with_name(self.path.name + ".bak")
        self.journal_limit = journal_limit
        self.lock_timeout = lock_timeout
        self._mutex = threading.RLock()
        self._state: RegistryState | None = None

    # ---- reading -------------------------------------------------------------------------

    def _corrupt(self, where: Path, reason: str) -> RegistryError:
        if where == self.journal_path:
            how = "delete that line with a text editor (the one change it held is lost) to use the registry again"
        elif self.backup_path.exists():
            how = (
                f"the last good snapshot is {self.backup_path}: restore it with "
                f"`cp {self.backup_path} {self.path}` (changes since then are replayed from {self.journal_path.name})"
            )
        else:
            how = f"no backup exists ({self.backup_path}); move the file aside to start an empty registry"
        return RegistryError(f"{where}: registry file is corrupt ({reason}); it was left untouched; {how}")

    def _parse_snapshot(self, raw: bytes | None, key: tuple[int, int, int, int] | None) -> RegistryState:
        state = RegistryState(snap_key=key)
        if raw is None:
            return state
        try:
            data = json.loads(raw) if raw.strip() else {}
        except (ValueError, RecursionError) as exc:  # also a 5000-digit number or 100,000 nested brackets
            raise self._corrupt(self.path, f"invalid JSON: {first_line(exc, 200)}") from None
        if not isinstance(data, dict):
            raise self._corrupt(self.path, "expected a JSON object of id -> entry")
        aliases = data.pop(ALIASES_KEY, {})
        generation = data.pop(GENERATION_KEY, 0)
        if not isinstance(aliases, dict) or not isinstance(generation, int):
            raise self._corrupt(self.path, f"bad {ALIASES_KEY} or {GENERATION_KEY}")
        for model_id, entry in data.items():
            if model_id.startswith("_"):
                continue  # reserved for future keys
            problem = entry_problem(entry)
            if problem:
                raise self._corrupt(self.path, f"entry {model_id!r}: {problem}")
            state.entries[model_id] = entry
        state.aliases = {a: i for a, i in aliases.items() if isinstance(i, str) and i in state.entries}
        state.generation = generation
        return state

    def _read_journal(self, state: RegistryState) -> tuple[list[dict[str, Any]], int, int, bool] | None:
        """Complete op lines after state.journal_offset: (ops, inode, new offset, torn tail?).

        None means the journal was replaced or shrank under a snapshot we hold: reload everything.
        """
        try:
            fd = os.open(self.journal_path, os.O_RDONLY)
        except FileNotFoundError:
            return None if state.journal_offset else ([], 0, 0, False)
        except OSError as exc:
            raise RegistryError(f"{self.journal_path}: cannot read ({os_reason(exc)})") from None
        try:
            st = os.fstat(fd)
            start = state.journal_offset if st.st_ino == state.journal_ino else 0
            if (state.journal_offset and st.st_ino != state.journal_ino) or st.st_size < start:
                return None
            os.lseek(fd, start, os.SEEK_SET)
            chunks = []
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
        finally:
            os.close(fd)
        data = b"".join(chunks)
        end = data.rfind(b"\n") + 1
        return self._parse_ops(data[:end].splitlines(), state.journal_lines), st.st_ino, start + end, end < len(data)

    def _parse_ops(self, lines: list[bytes], before: int) -> list[dict[str, Any]]:
        """Decode journal lines in one json.loads; on any doubt, line by line to name the bad one."""
        try:
            ops = json.loads(b"[" + b",".join(lines) + b"]")
            if len(ops) == len(lines) and all(valid_op(op) for op in ops):
                return ops
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            pass
        for number, line in enumerate(lines, start=before + 1):
            try:
                if not valid_op(json.loads(line)):
                    raise ValueError(f"not a registry operation: {line[:60]!r}")
            except (ValueError, RecursionError) as exc:
                raise self._corrupt(self.journal_path, f"line {number}: {first_line(exc, 200)}") from None
        raise self._corrupt(self.journal_path, f"lines {before + 1}-{before + len(lines)} do not parse as one list")

    def _refresh(self, *, under_lock: bool = False) -> RegistryState:
        """The current state, re-reading only what changed on disk since the last call.

        Never call it while holding `_mutex` without the file lock: its fallback takes the file lock,
        and the lock order is file lock, then mutex.
        """
        with self._mutex:
            state = self._try_refresh()
        if state is not None:
            return state
        if under_lock:
            raise RegistryError(f"{self.path}: changed while this process held its lock; is the folder shared oddly?")
        with locked(self.path, self.lock_timeout), self._mutex:
            return self._refresh(under_lock=True)

    def _try_refresh(self) -> RegistryState | None:
        """One consistent read, or None if compactions kept replacing the snapshot meanwhile."""
        for _attempt in range(20):
            snap_key = _stat_key(str(self.path))
            journal_key = _stat_key(str(self.journal_path))
            cached = self._state
            if cached and cached.snap_key == snap_key:
                if cached.journal_key == journal_key and not cached.torn_tail:
                    return cached
                raw, base = None, cached  # same snapshot: read only the journal tail
            else:
                raw, snap_key = self._read_snapshot_bytes()
                base = RegistryState(snap_key=snap_key)
            try:
                tail = self._read_journal(base)
            except RegistryError:
                if _stat_key(str(self.path)) != snap_key:
                    continue  # a compaction truncated the journal mid-read: not corruption, read again
                raise
            if _stat_key(str(self.path)) != snap_key:
                continue  # a compaction replaced the snapshot while we read: start again
            if tail is None:
                self._state = None  # the journal was replaced under us: reload everything
                continue
            state = cached if base is cached else self._parse_snapshot(raw, snap_key)
            ops, ino, offset, torn = tail
            if state.snap_key is None and any(op["gen"] > 0 for op in ops):
                raise self._corrupt(self.path, f"missing, but {self.journal_path.name} continues a later generation")
            for op in ops:
                self._apply(state, op)
            state.journal_ino, state.journal_offset = ino, offset
            state.journal_lines += len(ops)
            state.torn_tail = torn
            state.journal_key = journal_key
            self._state = state
            return state
        return None

    def _read_snapshot_bytes(self) -> tuple[bytes | None, tuple[int, int, int, int] | None]:
        try:
            with open(self.path, "rb") as handle:
                st = os.fstat(handle.fileno())
                return handle.read(), (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise RegistryError(f"{self.path}: cannot read the registry ({os_reason(exc)})") from None

    def _apply(self, state: RegistryState, op: dict[str, Any]) -> None:
        if op["gen"] < state.generation:
            return  # already folded into the snapshot by a compaction that crashed before truncating
        kind, model_id = op["op"], op.get("id")
        if kind == "put":
            state.entries[model_id] = op["entry"]
        elif kind == "delete":
            state.entries.pop(model_id, None)
            state.aliases = {a: i for a, i in state.aliases.items() if i != model_id}
        elif kind == "update" and model_id in state.entries:
            state.entries[model_id] = {**state.entries[model_id], **op["fields"]}
        elif kind == "alias" and model_id in state.entries:
            previous = state.aliases.get(op["alias"])
            state.aliases[op["alias"]] = model_id
            self._touch_view(state, previous)
        elif kind == "unalias":
            self._touch_view(state, state.aliases.pop(op["alias"], None))
        self._touch_view(state, model_id, put=kind == "put")

    def _touch_view(self, state: RegistryState, model_id: str | None, *, put: bool = False) -> None:
        """One entry (`model_id`) changed in `state`; the base class caches no view to patch."""

    # ---- writing -------------------------------------------------------------------------

    def _write(self, make_op: Callable[[RegistryState], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Under the lock: refresh, build the op, append it durably, apply it, maybe compact.

        `make_op` may return None to write nothing (a compare-and-set that did not match).
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(f"{self.folder}: cannot create the registry folder ({os_reason(exc)})") from None
        with locked(self.path, self.lock_timeout), self._mutex:
            state = self._refresh(under_lock=True)
            change = make_op(state)
            if change is None:
                return None
            op = {"gen": state.generation, **change}
            self._append(state, op)
            self._apply(state, op)
            # the first write creates model_registry.json; later ones compact when the journal outgrows it
            if state.snap_key is None or state.journal_offset > max(self.journal_limit, state.snap_key[1]):
                self._compact(state)
            return op

    def _append(self, state: RegistryState, op: dict[str, Any]) -> None:
        line = (json.dumps(op, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        created = not self.journal_path.exists()
        try:
            fd = os.open(self.journal_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise RegistryError(f"{self.journal_path}: cannot write ({os_reason(exc)})") from None
        try:
            st = os.fstat(fd)
            start = state.journal_offset if st.st_ino == state.journal_ino else 0
            if st.st_size != start:
                # Only a torn line (no newline: never acknowledged) may be cut. Complete lines or a shorter
                # journal mean this process's view is stale although it holds the lock: a network file
                # system caching file attributes. Cutting would destroy other writers' entries: refuse.
                if st.st_size < start or b"\n" in os.pread(fd, st.st_size - start, start):
                    self._state = None  # the next call reloads everything
                    raise RegistryError(
                        f"{self.journal_path}: changed without this process seeing it (a network folder caching "
                        "file attributes?); nothing was written, try again"
                    )
                os.ftruncate(fd, start)  # a torn line from a killed writer: it was never acknowledged
            try:
                written = os.write(fd, line)
                if written != len(line):
                    raise OSError(28, "short write")
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, start)
                raise
            st = os.fstat(fd)
        except OSError as exc:
            raise RegistryError(f"{self.journal_path}: cannot write ({os_reason(exc)}); nothing was changed") from None
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.folder)
        state.journal_ino, state.journal_offset = st.st_ino, start + len(line)
        state.journal_lines += 1
        state.torn_tail = False
        state.journal_key = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)

    def _compact(self, state: RegistryState) -> None:
        """Fold the journal into a new snapshot (generation + 1), then empty the journal."""
        generation = state.generation + 1
        data = snapshot_bytes(state.entries, state.aliases, generation)
        try:
            atomic_write_bytes(self.path, data)
        except StorageError as exc:  # disk full or read-only: the journal still holds everything
            log.warning("registry compaction postponed: %s", exc)
            return
        state.generation = generation
        state.snap_key = _stat_key(str(self.path))
        try:  # before truncating: the backup plus the journal must always hold everything
            atomic_write_bytes(self.backup_path, data)
        except StorageError as exc:
            log.warning("registry backup not written: %s", exc)
        try:
            with open(self.journal_path, "r+b") as handle:
                handle.truncate(0)
                os.fsync(handle.fileno())
        except OSError as exc:  # the old lines carry an older generation and are skipped on replay
            log.warning("%s: cannot empty the journal after compaction (%s)", self.journal_path, os_reason(exc))
        state.journal_offset = state.journal_lines = 0
        state.journal_key = _stat_key(str(self.journal_path))

    @contextlib.contextmanager
    def _reading(self) -> Iterator[RegistryState]:
        """The fresh state, held still against writes from this process's other threads."""
        state = self._refresh()
        with self._mutex:  # writers of this process apply operations to the same object under it
            yield state

    def stat_token(self) -> tuple[Any, ...]:
        """Changes whenever the registry changes on disk (cheap: two stat calls), for GUI refresh."""
        return (_stat_key(str(self.path)), _stat_key(str(self.journal_path)))

