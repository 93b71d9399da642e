"""The registry's file on disk: `model_registry.json`, complete after every write, kept consistent across processes.

Guarantees:

- Every write happens under a cross-process file lock (fcntl.flock, released by the kernel if the
  holder dies), so concurrent processes never lose an entry.
- The registry file is the seed's map id → entry and holds every change once the call returned,
  so a plain `json.load` lists every model. A registration is appended in place (one `pwrite` over
  the closing brace + fsync: the same cost at 10 or 10,000 entries); every other change (delete,
  alias, description, tags, migration) rewrites the file by temp file + fsync + rename + fsync of
  the folder, keeping the previous file as `.bak`.
- Crash safety: before an in-place append, the bytes it overwrites are recorded (fsync'd) in
  `model_registry.journal`. SIGKILL at any moment leaves either the old file, the new one, or a torn
  append that the next reader or writer rolls back exactly under the lock; every change that was
  acknowledged (returned) before the kill stays.
- Readers take no lock: a read that catches an append mid-write (invalid JSON, or the size moving
  under it) is read again, and after a few tries under the lock, so a reader never sees a partial
  file. A corrupt file is never overwritten: every read raises RegistryError saying which file is
  corrupt, where the backup is and how to recover.
- A writer checks, under the lock, that the file is the one it last read (inode, size and the bytes
  before the append point, with fstat/pread rather than the cached stat) and refuses otherwise, so a
  stale view (a network folder caching attributes) never cuts other writers' entries.
- Parsed state is cached per process and keyed by the file's stat; registrations by another process
  are picked up by reading only the bytes appended since the last read.
- Older layouts (`_aliases` / `_generation` keys, an operation journal, paths relative to `models/`
  or absolute) are read and migrated to this one by the next process that holds the lock.

What the files hold is format.py; what a model, an alias or a version is, is api.py.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import posixpath
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from speakfeed_gui.core.errors import RegistryError, StorageError, first_line
from speakfeed_gui.core.registry.format import (
    ALIASES_FIELD,
    FILES_KEY,
    LEGACY_ALIASES_KEY,
    LEGACY_GENERATION_KEY,
    PATH_KEYS,
    PENDING_KEY,
    append_bytes,
    appended_tail,
    body_end,
    entry_line,
    entry_problem,
    file_bytes,
    is_pending_journal,
    pending_record,
    valid_op,
)
from speakfeed_gui.core.storage.atomic import atomic_write_bytes, fsync_dir, os_reason
from speakfeed_gui.core.storage.locks import locked

log = logging.getLogger(__name__)

_ANCHOR = 32  # bytes before the append point compared before trusting a cached view of the file
_READ_TRIES = 5  # lock-free reads that may catch an append mid-write before asking for the lock

StatKey = tuple[int, int, int, int]


def _stat_key(path: str) -> StatKey | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return _key(st)


def _key(st: os.stat_result) -> StatKey:
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _Torn(Exception):
    """A lock-free read caught the file changing (an append in progress, or a crashed one)."""


@dataclass
class RegistryState:
    """The parsed registry file, and where the next registration goes in it."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # as stored, without their aliases
    aliases: dict[str, str] = field(default_factory=dict)
    key: StatKey | None = None  # stat of the file these entries were read from; None: no file yet
    body_end: int | None = None  # offset an append writes at; None: the next write rewrites the file
    anchor: bytes = b""  # the bytes just before body_end
    has_members: bool = False  # the JSON object is not empty (an append needs a comma)
    legacy: bool = False  # read from an older layout: rewritten (migrated) when the lock is free
    migration_failed: bool = False  # a read-only folder: keep the migrated view in memory only
    lines: dict[str, bytes] = field(default_factory=dict)  # encoded lines, reused by whole-file rewrites
    view: list[dict[str, Any]] | None = None  # the owner's cached list_models() answer, newest first
    versions: dict[str | None, Counter[int]] | None = None  # the owner's index: experiment -> its version numbers


class RegistryStore:
    """The file behind one registry: consistent reads without a lock, durable writes under it.

    Subclasses patch views derived from the state in `_touch_view`, which every applied operation calls.
    """

    def __init__(self, path: str | Path, *, lock_timeout: float = 30.0) -> None:
        self.path = Path(os.path.abspath(path))
        self.folder = self.path.parent
        self.root = self.folder.parent  # the workspace root: entries' paths are relative to it
        self.journal_path = self.path.with_name(self.path.stem + ".journal")
        self.backup_path = self.path.with_name(self.path.name + ".bak")
        self.lock_timeout = lock_timeout
        self._mutex = threading.RLock()
        self._state: RegistryState | None = None
        self._root_real = os.path.realpath(self.root)

    # ---- paths ---------------------------------------------------------------------------

    def stored_path(self, value: str) -> str:
        """How a path is written into an entry: relative to the workspace root when inside it, else absolute."""
        if not os.path.isabs(value):
            return Path(value).as_posix()
        real = os.path.realpath(value)
        if real == self._root_real or not real.startswith(self._root_real + os.sep):
            return value
        return Path(os.path.relpath(real, self._root_real)).as_posix()

    def _migrated_paths(self, entry: dict[str, Any], *, relative_to_folder: bool) -> bool:
        """Rewrite an entry's paths in place to the current layout; True if any changed."""
        if not relative_to_folder and os.name == "posix":  # the hot path of every cold read: nothing to do
            files = entry.get(FILES_KEY)
            if not any(v.__class__ is str and v[:1] == "/" for v in [*map(entry.get, PATH_KEYS),
                                                                      *(files if files.__class__ is list else ())]):
                return False

        def convert(value: Any) -> Any:
            if not isinstance(value, str) or not value:
                return value
            if relative_to_folder and not os.path.isabs(value):
                return posixpath.normpath(posixpath.join(self.folder.name, Path(value).as_posix()))
            return self.stored_path(value) if os.path.isabs(value) else value

        changed = False
        for key in PATH_KEYS:
            new = convert(entry.get(key))
            if new != entry.get(key):
                entry[key], changed = new, True
        files = entry.get(FILES_KEY)
        if isinstance(files, list):
            new_files = [convert(p) for p in files]
            if new_files != files:
                entry[FILES_KEY], changed = new_files, True
        return changed

    # ---- reading -------------------------------------------------------------------------

    def _corrupt(self, where: Path, reason: str) -> RegistryError:
        if where == self.journal_path:
            how = "delete that line with a text editor (the one change it held is lost) to use the registry again"
        elif self.backup_path.exists():
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.backup_path.stat().st_mtime))
            how = (
                f"the copy from before the last rewrite is {self.backup_path} (models registered after {when} "
                f"are not in it): restore it with `cp {self.backup_path} {self.path}`"
            )
        else:
            how = f"no backup exists ({self.backup_path}); move the file aside to start an empty registry"
        return RegistryError(f"{where}: registry file is corrupt ({reason}); it was left untouched; {how}")

    def _refresh(self, *, under_lock: bool = False) -> RegistryState:
        """The current state, re-reading only what changed on disk since the last call.

        Never call it while holding `_mutex` without the file lock: its fallback takes the file lock,
        and the lock order is file lock, then mutex.
        """
        if under_lock:
            state = self._try_refresh(final=True)
            assert state is not None
            if state.legacy:
                self._migrate(state)
            return state
        with self._mutex:
            state = self._try_refresh(final=False)
        if state is not None and not (state.legacy and not state.migration_failed):
            return state
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(locked(self.path, self.lock_timeout))
            except RegistryError as exc:  # a read-only folder: read what is there, repair nothing
                log.debug("reading %s without its lock: %s", self.path, exc)
                with self._mutex:
                    state = state or self._try_refresh(final=True, repair=False)
                    assert state is not None
                    state.migration_failed = True
                    return state
            with self._mutex:
                return self._refresh(under_lock=True)
        raise AssertionError("unreachable")

    def _try_refresh(self, *, final: bool, repair: bool = True) -> RegistryState | None:
        """One consistent read, or None if the file kept changing under lock-free reads.

        `final` (under the lock, or when no lock can be had): a file that does not parse is rolled
        back from the journal's pending record (with `repair`) or reported as corrupt.
        """
        for _attempt in range(1 if final else _READ_TRIES):
            key = _stat_key(str(self.path))
            cached = self._state
            if cached is not None and cached.key == key:
                return cached
            if cached is not None and key is not None and self._read_appended(cached, key):
                return cached
            try:
                state = self._read_full(final=final, repair=repair)
            except _Torn:
                continue
            self._state = state
            return state
        return None

    def _read_file(self) -> tuple[bytes | None, StatKey | None]:
        try:
            with open(self.path, "rb") as handle:
                raw = handle.read()
                return raw, _key(os.fstat(handle.fileno()))
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise RegistryError(f"{self.path}: cannot read the registry ({os_reason(exc)})") from None

    def _read_journal_bytes(self) -> bytes:
        try:
            return self.journal_path.read_bytes()
        except FileNotFoundError:
            return b""
        except OSError as exc:
            raise RegistryError(f"{self.journal_path}: cannot read ({os_reason(exc)})") from None

    def _read_full(self, *, final: bool, repair: bool = True) -> RegistryState:
        raw, key = self._read_file()
        if raw is not None and key is not None and key[1] != len(raw) and not final:
            raise _Torn  # appended to while we read
        journal = self._read_journal_bytes()
        data: Any = {}
        if raw is not None and raw.strip():
            try:
                data = json.loads(raw)
            except (ValueError, RecursionError) as exc:  # also a 5000-digit number or 100,000 nested brackets
                if not final:
                    raise _Torn from None
                if repair and self._roll_back(raw, key, journal):
                    return self._read_full(final=True, repair=False)
                raise self._corrupt(self.path, f"invalid JSON: {first_line(exc, 200)}") from None
        if not isinstance(data, dict):
            raise self._corrupt(self.path, "expected a JSON object of id -> entry")
        state = RegistryState(key=key, has_members=bool(data))
        older_layout = LEGACY_ALIASES_KEY in data or LEGACY_GENERATION_KEY in data  # paths relative to models/
        old_aliases = data.pop(LEGACY_ALIASES_KEY, {})
        generation = data.pop(LEGACY_GENERATION_KEY, 0)
        if not isinstance(old_aliases, dict) or not isinstance(generation, int):
            raise self._corrupt(self.path, f"bad {LEGACY_ALIASES_KEY} or {LEGACY_GENERATION_KEY}")
        for model_id, entry in data.items():
            if model_id.startswith("_"):
                continue  # reserved for future keys
            problem = entry_problem(entry)
            if problem:
                raise self._corrupt(self.path, f"entry {model_id!r}: {problem}")
            for alias in entry.pop(ALIASES_FIELD, None) or ():
                state.aliases[alias] = model_id
            if self._migrated_paths(entry, relative_to_folder=older_layout):
                state.legacy = True
            state.entries[model_id] = entry
        state.aliases.update({a: i for a, i in old_aliases.items() if isinstance(i, str) and i in state.entries})
        state.legacy = state.legacy or older_layout
        if journal.strip() and not is_pending_journal(journal):
            self._replay_legacy_journal(state, journal, generation, snapshot_exists=raw is not None)
        if raw is not None and not state.legacy and raw.rstrip().endswith(b"}"):
            state.body_end = body_end(raw)
            state.anchor = raw[max(0, state.body_end - _ANCHOR):state.body_end]
        return state

    def _read_appended(self, cached: RegistryState, key: StatKey) -> bool:
        """Pick up registrations appended since `cached` was read, reading only the new bytes.

        False when the file changed in any other way (or mid-append): the caller reads it whole.
        """
        if cached.key is None or cached.body_end is None or key[0] != cached.key[0] or key[1] <= cached.key[1]:
            return False
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:
            return False
        try:
            st = os.fstat(fd)
            start = cached.body_end - len(cached.anchor)
            head = os.pread(fd, st.st_size - start, start)
            if os.fstat(fd).st_size != st.st_size or st.st_ino != cached.key[0]:
                return False
        finally:
            os.close(fd)
        if not head.startswith(cached.anchor) or not head.rstrip().endswith(b"}"):
            return False
        text = appended_tail(head[len(cached.anchor):], first=not cached.has_members)
        try:
            data = json.loads(text) if text is not None else None
        except (ValueError, RecursionError):
            return False
        if not isinstance(data, dict) or any(i in cached.entries or i.startswith("_") or entry_problem(e)
                                             for i, e in data.items()):
            return False
        for model_id, entry in data.items():
            aliases = entry.pop(ALIASES_FIELD, None) or ()
            self._migrated_paths(entry, relative_to_folder=False)
            self._apply(cached, {"op": "put", "id": model_id, "entry": entry})
            for alias in aliases:
                self._apply(cached, {"op": "alias", "alias": alias, "id": model_id})
        end = body_end(head)
        cached.body_end = start + end
        cached.anchor = head[max(0, end - _ANCHOR):end]
        cached.has_members = cached.has_members or bool(data)
        cached.key = _key(st)
        return True

    def _roll_back(self, raw: bytes, key: StatKey | None, journal: bytes) -> bool:
        """Undo an append torn by a killed writer, if the journal's pending record describes it exactly."""
        record = pending_record(journal)
        if record is None or key is None or record["ino"] != key[0] or record["at"] > len(raw):
            return False
        before = raw[:record["at"]] + record["tail"].encode("latin-1")
        if len(before) != record["size"]:
            return False
        try:
            json.loads(before)
        except (ValueError, RecursionError):
            return False
        try:
            fd = os.open(self.path, os.O_RDWR)
            try:
                os.pwrite(fd, before[record["at"]:], record["at"])
                os.ftruncate(fd, record["size"])
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            log.warning("%s: cannot roll back an interrupted registration (%s)", self.path, os_reason(exc))
            return False
        log.warning("%s: rolled back a registration interrupted mid-write (it was never acknowledged)", self.path)
        self._clear_journal()
        return True

    def _replay_legacy_journal(self, state: RegistryState, journal: bytes, generation: int, *, snapshot_exists: bool) -> None:
        """An older version's operation journal: apply its complete lines (paths were relative to models/)."""
        end = journal.rfind(b"\n") + 1  # a torn last line was never acknowledged
        ops = self._parse_ops(journal[:end].splitlines())
        if not snapshot_exists and any(op["gen"] > 0 for op in ops):
            raise self._corrupt(self.path, f"missing, but {self.journal_path.name} continues a later generation")
        for op in ops:
            if op["gen"] < generation:
                continue  # already folded into the file by a compaction that crashed before truncating
            for part in ("entry", "fields"):
                if part in op:
                    self._migrated_paths(op[part], relative_to_folder=True)
            self._apply(state, op)
        state.legacy = True

    def _parse_ops(self, lines: list[bytes]) -> list[dict[str, Any]]:
        """Decode legacy journal lines in one json.loads; on any doubt, line by line to name the bad one."""
        try:
            ops = json.loads(b"[" + b",".join(lines) + b"]")
            if len(ops) == len(lines) and all(valid_op(op) for op in ops):
                return ops
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            pass
        for number, line in enumerate(lines, start=1):
            try:
                if not valid_op(json.loads(line)):
                    raise ValueError(f"not a registry operation: {line[:60]!r}")
            except (ValueError, RecursionError) as exc:
                raise self._corrupt(self.journal_path, f"line {number}: {first_line(exc, 200)}") from None
        raise self._corrupt(self.journal_path, f"lines 1-{len(lines)} do not parse as one list")

    def _apply(self, state: RegistryState, op: dict[str, Any]) -> None:
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
            state.lines.pop(previous, None)
            self._touch_view(state, previous)
        elif kind == "unalias":
            previous = state.aliases.pop(op["alias"], None)
            state.lines.pop(previous, None)
            self._touch_view(state, previous)
        state.lines.pop(model_id, None)
        self._touch_view(state, model_id, put=kind == "put")

    def _touch_view(self, state: RegistryState, model_id: str | None, *, put: bool = False) -> None:
        """One entry (`model_id`) changed in `state`; the base class caches no view to patch."""

    # ---- writing -------------------------------------------------------------------------

    def _write(self, make_op: Callable[[RegistryState], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Under the lock: refresh, build the op, write it durably (append or rewrite), apply it.

        `make_op` may return None to write nothing (a compare-and-set that did not match).
        """
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RegistryError(f"{self.folder}: cannot create the registry folder ({os_reason(exc)})") from None
        with locked(self.path, self.lock_timeout), self._mutex:
            state = self._refresh(under_lock=True)
            op = make_op(state)
            if op is None:
                return None
            try:
                if op["op"] == "put" and state.body_end is not None and not state.legacy:
                    self._append(state, op)
                else:
                    self._apply(state, op)
                    self._rewrite(state)
            except BaseException:
                self._state = None  # memory may be ahead of the disk: the next call reads the file again
                raise
            return op

    def _stale(self) -> RegistryError:
        self._state = None  # the next call reloads everything
        return RegistryError(
            f"{self.path}: changed without this process seeing it (a network folder caching file attributes?); "
            "nothing was written, try again"
        )

    def _append(self, state: RegistryState, op: dict[str, Any]) -> None:
        """Write one registration over the file's closing brace, after recording what it overwrites."""
        assert state.key is not None and state.body_end is not None
        line = entry_line(op["id"], op["entry"], ())
        data = append_bytes(line, first=not state.has_members)
        at = state.body_end
        try:
            fd = os.open(self.path, os.O_RDWR)
        except OSError as exc:
            raise RegistryError(f"{self.path}: cannot write ({os_reason(exc)}); nothing was changed") from None
        try:
            st = os.fstat(fd)
            anchor = state.anchor
            if (st.st_ino, st.st_size) != state.key[:2] or os.pread(fd, len(anchor), at - len(anchor)) != anchor:
                raise self._stale()
            old_tail = os.pread(fd, st.st_size - at, at)
            self._write_pending(st.st_ino, st.st_size, at, old_tail)
            try:
                if os.pwrite(fd, data, at) != len(data):
                    raise OSError(errno.ENOSPC, "short write")
                if st.st_size > at + len(data):
                    os.ftruncate(fd, at + len(data))
                os.fsync(fd)
            except OSError:
                with contextlib.suppress(OSError):
                    os.pwrite(fd, old_tail, at)
                    os.ftruncate(fd, st.st_size)
                raise
            after = _key(os.fstat(fd))
        except OSError as exc:
            raise RegistryError(f"{self.path}: cannot write ({os_reason(exc)}); nothing was changed") from None
        finally:
            os.close(fd)
        self._clear_journal()
        self._apply(state, op)
        state.lines[op["id"]] = line
        joined = anchor + data
        end = len(joined) - len(b"\n}\n")
        state.key, state.body_end = after, at + len(data) - len(b"\n}\n")
        state.anchor, state.has_members = joined[max(0, end - _ANCHOR):end], True

    def _write_pending(self, ino: int, size: int, at: int, tail: bytes) -> None:
        record = {PENDING_KEY: {"ino": ino, "size": size, "at": at, "tail": tail.decode("latin-1")}}
        created = not self.journal_path.exists()
        try:
            fd = os.open(self.journal_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, (json.dumps(record) + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise RegistryError(f"{self.journal_path}: cannot write ({os_reason(exc)}); nothing was changed") from None
        if created:
            fsync_dir(self.folder)

    def _clear_journal(self) -> None:
        """Empty the journal once the file holds no torn append; a stale record is harmless (the file parses)."""
        try:
            if self.journal_path.stat().st_size:
                os.truncate(self.journal_path, 0)
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("%s: cannot empty the journal (%s)", self.journal_path, os_reason(exc))

    def _rewrite(self, state: RegistryState) -> None:
        """Replace the whole file with `state` (temp file + fsync + rename), keeping the old one as `.bak`."""
        by_id: dict[str, list[str]] = {}
        for alias, model_id in state.aliases.items():
            by_id.setdefault(model_id, []).append(alias)
        for model_id, entry in state.entries.items():
            if model_id not in state.lines:
                state.lines[model_id] = entry_line(model_id, entry, by_id.get(model_id, ()))
        data = file_bytes(state.lines[i] for i in state.entries)
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        if (st is None) != (state.key is None) or (st is not None and (st.st_ino, st.st_size) != state.key[:2]):
            raise self._stale()
        if st is not None:
            self._keep_backup()
        try:
            atomic_write_bytes(self.path, data)
        except StorageError as exc:
            raise RegistryError(first_line(exc)) from None
        self._clear_journal()
        state.key = _key(os.stat(self.path))
        state.body_end = body_end(data)
        state.anchor = data[max(0, state.body_end - _ANCHOR):state.body_end]
        state.has_members, state.legacy = bool(state.entries), False
        state.lines = {i: state.lines[i] for i in state.entries}

    def _keep_backup(self) -> None:
        """The current file becomes `.bak` (a hard link: no copy; appends only ever go to the new file)."""
        tmp = self.backup_path.with_name(f".{self.backup_path.name}.{os.getpid()}.tmp")
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            os.link(self.path, tmp)
            os.replace(tmp, self.backup_path)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            log.warning("registry backup not written: %s (%s)", self.backup_path, os_reason(exc))

    def _migrate(self, state: RegistryState) -> None:
        """Under the lock: rewrite a registry read from an older layout in this one."""
        if state.migration_failed:
            return
        try:
            self._rewrite(state)
        except RegistryError as exc:
            state.migration_failed = True
            log.warning("%s: kept in the older layout for now: %s", self.path, exc)
            return
        log.info("%s: migrated to the current layout (aliases inside entries, paths relative to %s)", self.path, self.root)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[RegistryState]:
        """The fresh state, held still against writes from this process's other threads."""
        state = self._refresh()
        with self._mutex:  # writers of this process apply operations to the same object under it
            yield state

    def stat_token(self) -> tuple[Any, ...]:
        """Changes whenever the registry changes on disk (cheap: one stat call), for GUI refresh."""
        return (_stat_key(str(self.path)),)
