"""The model registry: one UUID per trained model, aliases, and crash-safe concurrent writes.

Files, all in the registry folder (`<workspace>/models/`):

- `model_registry.json` — the snapshot, the seed's format: a JSON object id → entry, one entry a
  line. Keys starting with `_` are reserved: `_aliases` (alias → id) and `_generation` (which
  journal lines are already folded into this snapshot). Read it through `ModelRegistry`: recent
  changes live in the journal until the next compaction.
- `model_registry.journal` — append-only JSON lines, one operation each
  (`{"gen": g, "op": "put" | "delete" | "update" | "alias" | "unalias", ...}`).
- `model_registry.json.bak` — a copy of the last snapshot written, for recovery.
- `model_registry.json.lock` — the cross-process lock file.

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

Artifact paths are stored relative to the registry folder (so a workspace can be moved) and
returned absolute.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from speakfeed_gui.core.errors import ModelNotFoundError, RegistryError, StorageError
from speakfeed_gui.core.storage import atomic_write_bytes, fsync_dir, locked, os_reason

log = logging.getLogger(__name__)

PATH_KEYS = ("model_path", "scaler_path", "metadata_path")
FILES_KEY = "extra_files"
ALIASES_KEY = "_aliases"
GENERATION_KEY = "_generation"
MIN_PREFIX = 6
_ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_OPS: dict[str, dict[str, type]] = {  # each journal operation's required fields
    "put": {"id": str, "entry": dict},
    "delete": {"id": str},
    "update": {"id": str, "fields": dict},
    "alias": {"alias": str, "id": str},
    "unalias": {"alias": str},
}
_PUBLIC_ONLY = ("id", "aliases")
_FIELD_TYPES: dict[str, type] = {  # fields SpeakFeed itself reads back: a wrong type is a corrupt entry
    **dict.fromkeys(PATH_KEYS, str), "metadata_sha256": str, "model_name": str, "experiment_name": str,
    "description": str, "created_at": str, FILES_KEY: list, "labels": list, "tags": list,
}


_isabs: Callable[[str], bool] = (lambda p: p.startswith("/")) if os.name == "posix" else os.path.isabs


def _stat_key(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass
class _State:
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
    view: list[dict[str, Any]] | None = None  # cached list_models() answer, newest first


_ANY = object()  # set_alias without a compare-and-set condition


class ModelRegistry:
    """`models/model_registry.json` and its journal; see the module docstring for the guarantees."""

    def __init__(self, path: str | Path, *, journal_limit: int = 256 * 1024, lock_timeout: float = 30.0) -> None:
        self.path = Path(os.path.abspath(path))
        self.folder = self.path.parent
        self.journal_path = self.path.with_name(self.path.stem + ".journal")
        self.backup_path = self.path.with_name(self.path.name + ".bak")
        self.journal_limit = journal_limit
        self.lock_timeout = lock_timeout
        self._prefix = str(self.folder) + os.sep
        self._mutex = threading.RLock()
        self._state: _State | None = None

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

    def _parse_snapshot(self, raw: bytes | None, key: tuple[int, int, int, int] | None) -> _State:
        state = _State(snap_key=key)
        if raw is None:
            return state
        try:
            data = json.loads(raw) if raw.strip() else {}
        except (ValueError, RecursionError) as exc:  # also a 5000-digit number or 100,000 nested brackets
            raise self._corrupt(self.path, f"invalid JSON: {str(exc).splitlines()[0][:200]}") from None
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

    def _read_journal(self, state: _State) -> tuple[list[dict[str, Any]], int, int, bool] | None:
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
            if len(ops) == len(lines) and all(_valid_op(op) for op in ops):
                return ops
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            pass
        for number, line in enumerate(lines, start=before + 1):
            try:
                if not _valid_op(json.loads(line)):
                    raise ValueError(f"not a registry operation: {line[:60]!r}")
            except (ValueError, RecursionError) as exc:
                raise self._corrupt(self.journal_path, f"line {number}: {str(exc).splitlines()[0][:200]}") from None
        raise self._corrupt(self.journal_path, f"lines {before + 1}-{before + len(lines)} do not parse as one list")

    def _refresh(self, *, under_lock: bool = False) -> _State:
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

    def _try_refresh(self) -> _State | None:
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
                base = _State(snap_key=snap_key)
            tail = self._read_journal(base)
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

    def _apply(self, state: _State, op: dict[str, Any]) -> None:
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

    def _touch_view(self, state: _State, model_id: str | None, *, put: bool = False) -> None:
        """Patch the cached list_models() answer for one changed entry instead of rebuilding it."""
        view = state.view
        if view is None or model_id is None:
            return
        fresh = None
        if model_id in state.entries:
            aliases = [a for a, i in state.aliases.items() if i == model_id]
            fresh = self._public(model_id, state.entries[model_id], aliases)
        if put:
            if view and str(fresh.get("created_at", "")) < str(view[0].get("created_at", "")):
                state.view = None  # an older created_at (an import): rebuild in order on next list
            else:
                view.insert(0, fresh)
            return
        index = next((n for n, e in enumerate(view) if e["id"] == model_id), None)
        if index is None:
            return
        if fresh is None:
            del view[index]
        else:
            view[index] = fresh

    # ---- writing -------------------------------------------------------------------------

    def _write(self, make_op: Callable[[_State], dict[str, Any] | None]) -> dict[str, Any] | None:
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
            if state.journal_offset > max(self.journal_limit, state.snap_key[1] if state.snap_key else 0):
                self._compact(state)
            return op

    def _append(self, state: _State, op: dict[str, Any]) -> None:
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

    def _compact(self, state: _State) -> None:
        """Fold the journal into a new snapshot (generation + 1), then empty the journal."""
        generation = state.generation + 1
        lines = [f"{json.dumps(i)}: {json.dumps(e, ensure_ascii=False)}" for i, e in state.entries.items()]
        lines.append(f"{json.dumps(ALIASES_KEY)}: {json.dumps(state.aliases, ensure_ascii=False)}")
        lines.append(f"{json.dumps(GENERATION_KEY)}: {generation}")
        data = ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")
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

    # ---- paths and lookups -----------------------------------------------------------------

    def _relative(self, value: Any, key: str) -> str:
        path = os.fspath(value)
        if not os.path.isabs(path):
            return Path(path).as_posix()
        try:
            return Path(os.path.realpath(path)).relative_to(os.path.realpath(self.folder)).as_posix()
        except ValueError:
            log.info("%s: %s is outside the registry folder; stored as an absolute path", key, path)
            return path

    def _absolute(self, path: str) -> str:
        return path if _isabs(path) else self._prefix + path  # plain concatenation: list_models() runs this 40k times

    def _public(self, model_id: str, stored: Mapping[str, Any], aliases: Iterable[str]) -> dict[str, Any]:
        out = dict(stored)
        for key in PATH_KEYS:
            value = out.get(key)
            if value and isinstance(value, str) and not _isabs(value):
                out[key] = self._prefix + value
        if isinstance(out.get(FILES_KEY), list):
            out[FILES_KEY] = [self._absolute(p) for p in out[FILES_KEY]]
        out["id"] = model_id
        out["aliases"] = sorted(aliases)
        return out

    def _resolve(self, state: _State, ref: Any) -> str:
        text = str(ref).strip()
        if text in state.entries:
            return text
        if text in state.aliases:
            return state.aliases[text]
        if len(text) >= MIN_PREFIX:
            matches = [i for i in state.entries if i.startswith(text.lower())]
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise ModelNotFoundError(
                    f"id prefix {text!r} matches {len(matches)} models in {self.path}; type more characters"
                )
        raise ModelNotFoundError(f"no model {text!r} in {self.path}; run `speakfeed models list` to see ids and aliases")

    # ---- public API ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[_State]:
        """The fresh state, held still against writes from this process's other threads."""
        state = self._refresh()
        with self._mutex:  # writers of this process apply operations to the same object under it
            yield state

    def resolve(self, ref: str) -> str:
        """The full id for a full id, an alias or a unique id prefix of at least 6 characters."""
        with self._reading() as state:
            return self._resolve(state, ref)

    def get_model_info(self, ref: str) -> dict[str, Any]:
        """One entry (a fresh copy) with `id`, `aliases` and absolute artifact paths."""
        with self._reading() as state:
            model_id = self._resolve(state, ref)
            aliases = [a for a, i in state.aliases.items() if i == model_id]
            return json.loads(json.dumps(self._public(model_id, state.entries[model_id], aliases)))

    def list_models(self) -> list[dict[str, Any]]:
        """Every entry, newest first. Each dict is a new copy; nested lists are shared, treat them as read-only."""
        with self._reading() as state:
            if state.view is None:
                by_id: dict[str, list[str]] = {}
                for alias, model_id in state.aliases.items():
                    by_id.setdefault(model_id, []).append(alias)
                view = [self._public(i, e, by_id.get(i, ())) for i, e in reversed(state.entries.items())]
                view.sort(key=lambda e: str(e.get("created_at", "")), reverse=True)  # stable: ties stay newest first
                state.view = view
            return [dict(e) for e in state.view]

    def __len__(self) -> int:
        with self._reading() as state:
            return len(state.entries)

    def aliases(self) -> dict[str, str]:
        with self._reading() as state:
            return dict(state.aliases)

    def stat_token(self) -> tuple[Any, ...]:
        """Changes whenever the registry changes on disk (cheap: two stat calls), for GUI refresh."""
        return (_stat_key(str(self.path)), _stat_key(str(self.journal_path)))

    def register_model(self, entry: Mapping[str, Any]) -> str:
        """Add a model; returns its new uuid4 only once the registration is on disk (fsync'd).

        `version` is assigned here: 1 + the highest version among entries of the same experiment_name.
        Artifact paths (model_path, scaler_path, metadata_path, extra_files) are stored relative to
        the registry folder when inside it; relative paths given are taken as relative to it.
        """
        if not isinstance(entry, Mapping):
            raise RegistryError(f"{self.path}: a registry entry must be a mapping, got {type(entry).__name__}")
        stored: dict[str, Any] = {k: self._json_value(k, v) for k, v in entry.items() if k not in _PUBLIC_ONLY}
        problem = entry_problem(stored)
        if problem:
            raise RegistryError(f"{self.path}: cannot register: {problem}")
        for key in PATH_KEYS:
            if stored.get(key):
                stored[key] = self._relative(stored[key], key)
        if stored.get(FILES_KEY):
            stored[FILES_KEY] = [self._relative(p, FILES_KEY) for p in stored[FILES_KEY]]
        stored.setdefault("tags", [])
        stored.setdefault("description", "")
        stored.setdefault("created_at", datetime.now(timezone.utc).isoformat(timespec="milliseconds"))

        def make(state: _State) -> dict[str, Any]:
            experiment = stored.get("experiment_name")
            versions = [e.get("version", 0) for e in state.entries.values() if e.get("experiment_name") == experiment]
            stored["version"] = 1 + max((v for v in versions if isinstance(v, int)), default=0)
            return {"op": "put", "id": str(uuid.uuid4()), "entry": stored}

        return self._write(make)["id"]

    def _json_value(self, key: str, value: Any) -> Any:
        """`value` as plain JSON data (tuples become lists, numpy scalars and paths are converted)."""

        def convert(obj: Any) -> Any:
            if isinstance(obj, os.PathLike):
                return os.fspath(obj)
            if hasattr(obj, "tolist"):  # numpy scalars and arrays
                return obj.tolist()
            raise TypeError

        try:
            return json.loads(json.dumps(value, default=convert))
        except (TypeError, ValueError):
            raise RegistryError(
                f"{self.path}: cannot register: field {key!r} holds a value of type "
                f"{type(value).__name__}, not JSON data"
            ) from None

    def delete_model(self, ref: str, *, delete_files: bool = True) -> None:
        """Remove an entry and the aliases pointing at it; with delete_files also its artifact files.

        Only files inside the registry folder that no other entry lists are deleted.
        """
        removed: dict[str, Any] = {}

        def make(state: _State) -> dict[str, Any]:
            model_id = self._resolve(state, ref)
            removed.update(self._public(model_id, state.entries[model_id], ()))
            return {"op": "delete", "id": model_id}

        self._write(make)
        if delete_files:
            self._delete_files(removed)

    def _delete_files(self, entry: Mapping[str, Any]) -> None:
        still_used = {p for e in self.list_models() for p in _artifact_files(e)}
        root = os.path.realpath(self.folder)
        for path in _artifact_files(entry):
            real = os.path.realpath(path)
            if not real.startswith(root + os.sep):
                log.warning("%s: not deleted, it is outside the registry folder %s", path, self.folder)
                continue
            if path in still_used:
                continue
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            with contextlib.suppress(OSError):
                parent = os.path.dirname(real)
                if parent != root:
                    os.rmdir(parent)  # only succeeds when the experiment folder is now empty

    def set_alias(self, alias: str, ref: str, *, only_if: Any = _ANY) -> bool:
        """Point `alias` (e.g. `live`) at one model; an alias that existed is moved.

        With `only_if` (an id, or None for "unset") this is a compare-and-set under the lock:
        nothing is written and False returned when the alias no longer points there.
        """
        if not isinstance(alias, str) or not _ALIAS_RE.match(alias):
            raise RegistryError(
                f"alias {alias!r} is not valid: use up to 64 letters, digits, '_', '-' or '.', starting with a letter"
            )

        def make(state: _State) -> dict[str, Any] | None:
            if only_if is not _ANY and state.aliases.get(alias) != only_if:
                return None
            return {"op": "alias", "alias": alias, "id": self._resolve(state, ref)}

        return self._write(make) is not None

    def remove_alias(self, alias: str) -> None:
        def make(state: _State) -> dict[str, Any]:
            if alias not in state.aliases:
                known = ", ".join(sorted(state.aliases)) or "none"
                raise ModelNotFoundError(f"no alias {alias!r} in {self.path}; aliases: {known}")
            return {"op": "unalias", "alias": alias}

        self._write(make)

    def set_description(self, ref: str, text: str) -> None:
        if not isinstance(text, str):
            raise RegistryError(f"description must be text, got {type(text).__name__}")
        self._update(ref, {"description": text})

    def set_tags(self, ref: str, tags: Iterable[str]) -> None:
        """Replace the tags (stripped, empty and repeated ones dropped)."""
        if isinstance(tags, str) or not all(isinstance(t, str) for t in tags):
            raise RegistryError(f"tags must be a list of text values, got {tags!r}")
        self._update(ref, {"tags": list(dict.fromkeys(t.strip() for t in tags if t.strip()))})

    def _update(self, ref: str, fields: dict[str, Any]) -> None:
        self._write(lambda state: {"op": "update", "id": self._resolve(state, ref), "fields": fields})


def _valid_op(op: Any) -> bool:
    fields = _OPS.get(op.get("op")) if isinstance(op, dict) and isinstance(op.get("op"), str) else None
    return (
        fields is not None
        and isinstance(op.get("gen"), int)
        and all(isinstance(op.get(name), kind) for name, kind in fields.items())
        and not (op["op"] == "put" and entry_problem(op["entry"]))
        and not (op["op"] == "update" and entry_problem(op["fields"]))
    )


def entry_problem(entry: Any) -> str | None:
    """Why `entry` cannot be a registry entry (a field SpeakFeed reads has the wrong type), else None."""
    if not isinstance(entry, dict):
        return f"expected an object, got {type(entry).__name__}"
    for key, kind in _FIELD_TYPES.items():
        value = entry.get(key)
        if value is None:
            continue
        if kind is list:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return f"field {key!r} must be a list of text values, got {json.dumps(value)[:60]}"
        elif not isinstance(value, str):
            return f"field {key!r} must be text, got {json.dumps(value)[:60]}"
    return None


def _artifact_files(entry: Mapping[str, Any]) -> list[str]:
    files = [entry[k] for k in PATH_KEYS if entry.get(k)]
    extra = entry.get(FILES_KEY)
    return files + (list(extra) if isinstance(extra, list) else [])
