"""The model registry: one UUID per trained model, aliases, and lookups by id, alias or id prefix.

`ModelRegistry` adds what a model is to `RegistryStore` (store.py: the file, the lock, crash
safety, the per-process cache), whose formats are in format.py. Artifact paths are stored relative
to the workspace root as in the seed (`models/<experiment>/<name>.skops`, so a workspace can be
moved) and returned absolute.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import uuid
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from speakfeed_gui.core.errors import ModelNotFoundError, RegistryError
from speakfeed_gui.core.registry.format import FILES_KEY, PATH_KEYS, artifact_files, entry_problem
from speakfeed_gui.core.registry.store import RegistryState, RegistryStore

__all__ = ["FILES_KEY", "MIN_PREFIX", "PATH_KEYS", "ModelRegistry", "entry_problem", "guard_writes", "write_refusal"]

log = logging.getLogger(__name__)

MIN_PREFIX = 6
_ALIAS_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
_PUBLIC_ONLY = ("id", "aliases")
_ANY = object()  # set_alias without a compare-and-set condition
_isabs: Callable[[str], bool] = (lambda p: p.startswith("/")) if os.name == "posix" else os.path.isabs


class ModelRegistry(RegistryStore):
    """`models/model_registry.json`; store.py lists the guarantees."""

    read_only: str | None = None  # why this user may not change the registry (guard_writes); None: writable

    def __init__(self, path: str | Path, *, lock_timeout: float = 30.0) -> None:
        super().__init__(path, lock_timeout=lock_timeout)
        self._prefix = str(self.root) + os.sep  # _public joins paths by concatenation: the hot path

    def _write(self, make_op: Callable[[RegistryState], dict[str, Any] | None]) -> dict[str, Any] | None:
        """Every change passes here: refused (one line) before the lock when `read_only` says why."""
        if self.read_only:
            raise RegistryError(self.read_only)
        return super()._write(make_op)

    def _apply(self, state: RegistryState, op: dict[str, Any]) -> None:
        """Also keep the version index current (when built) for the entry the op changed."""
        before = state.entries.get(op.get("id"))
        super()._apply(state, op)
        after = state.entries.get(op.get("id"))
        if state.versions is not None and after is not before:
            _count_version(state.versions, before, -1)
            _count_version(state.versions, after, +1)

    def _touch_view(self, state: RegistryState, model_id: str | None, *, put: bool = False) -> None:
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

    # ---- paths and lookups -----------------------------------------------------------------

    def _relative(self, value: Any, key: str) -> str:
        path = os.fspath(value)
        stored = self.stored_path(path)
        if os.path.isabs(stored):
            log.info("%s: %s is outside the workspace %s; stored as an absolute path", key, path, self.root)
        return stored

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

    def _resolve(self, state: RegistryState, ref: Any) -> str:
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

    def register_model(self, entry: Mapping[str, Any]) -> str:
        """Add a model; returns its new uuid4 only once the registration is on disk (fsync'd).

        `version` is assigned here: 1 + the highest version among entries of the same experiment_name.
        Artifact paths (model_path, scaler_path, metadata_path, extra_files) are stored relative to
        the workspace root (the registry folder's parent) when inside it; relative paths given are
        taken as relative to it (`models/<experiment>/...`, the seed's form).
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

        def make(state: RegistryState) -> dict[str, Any]:
            stored["version"] = 1 + max(_versions(state).get(_experiment(stored), ()), default=0)
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

        def make(state: RegistryState) -> dict[str, Any]:
            model_id = self._resolve(state, ref)
            removed.update(self._public(model_id, state.entries[model_id], ()))
            return {"op": "delete", "id": model_id}

        self._write(make)
        if delete_files:
            self._delete_files(removed)

    def _delete_files(self, entry: Mapping[str, Any]) -> None:
        still_used = {p for e in self.list_models() for p in artifact_files(e)}
        root = os.path.realpath(self.folder)
        for path in artifact_files(entry):
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

        def make(state: RegistryState) -> dict[str, Any] | None:
            if only_if is not _ANY and state.aliases.get(alias) != only_if:
                return None
            return {"op": "alias", "alias": alias, "id": self._resolve(state, ref)}

        return self._write(make) is not None

    def remove_alias(self, alias: str) -> None:
        def make(state: RegistryState) -> dict[str, Any]:
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

    def update_metadata(self, ref: str, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Rewrite a model's metadata file with `change(metadata)` and record its new sha256, under the lock.

        The file is hash-checked first (a tampered file is refused, not blessed with a new hash), replaced
        atomically, and put back as it was if the registry line cannot be written, so the file and the
        registry's hash never disagree for another reader. Returns the new metadata.
        """
        from speakfeed_gui.core.errors import IntegrityError
        from speakfeed_gui.core.storage.atomic import atomic_write_bytes, atomic_write_json, read_json
        from speakfeed_gui.core.storage.hashing import sha256_file

        written: dict[str, Any] = {}

        def make(state: RegistryState) -> dict[str, Any]:
            model_id = self._resolve(state, ref)
            stored = state.entries[model_id]
            if not stored.get("metadata_path"):
                raise RegistryError(f"model {model_id}: has no metadata file to update")
            path = Path(self._absolute(stored["metadata_path"]))
            expected = stored.get("metadata_sha256")
            if expected and path.is_file() and sha256_file(path) != expected:
                raise IntegrityError(f"{path}: sha256 does not match the registry: the metadata was changed or corrupted")
            old_bytes = path.read_bytes() if path.is_file() else None
            metadata = read_json(path, "model metadata")
            change(metadata)
            atomic_write_json(path, metadata)
            written.update(path=path, old=old_bytes, metadata=metadata)
            return {"op": "update", "id": model_id, "fields": {"metadata_sha256": sha256_file(path)}}

        try:
            self._write(make)
        except BaseException:
            if written.get("old") is not None:
                atomic_write_bytes(written["path"], written["old"])
            raise
        return written["metadata"]

    def _update(self, ref: str, fields: dict[str, Any]) -> None:
        self._write(lambda state: {"op": "update", "id": self._resolve(state, ref), "fields": fields})


def _versions(state: RegistryState) -> dict[str | None, Counter[int]]:
    """experiment -> its entries' version numbers, built once per state and then kept current by
    `_apply`: the next version is found without scanning every entry (10,000 dicts took ~2 ms)."""
    if state.versions is None:
        state.versions = {}
        for entry in state.entries.values():
            _count_version(state.versions, entry, +1)
    return state.versions


def _experiment(entry: Mapping[str, Any]) -> str | None:
    """The index key: a hand-edited registry may hold any JSON there, lists included."""
    name = entry.get("experiment_name")
    return name if name is None or isinstance(name, str) else json.dumps(name, sort_keys=True)


def _count_version(index: dict[str | None, Counter[int]], entry: Mapping[str, Any] | None, step: int) -> None:
    version = entry.get("version") if isinstance(entry, Mapping) else None
    if not isinstance(version, int) or isinstance(version, bool):
        return
    counts = index.setdefault(_experiment(entry), Counter())
    counts[version] += step
    if counts[version] <= 0:
        del counts[version]


# ---- who may write (registry.maintainers, folder permissions) --------------------------------


def _user_name() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # getpass raises when no user name can be found (a bare container)
        return ""


def current_identities() -> set[str]:
    """What `registry.maintainers` may name for this user: the login name and the ids of their signing keys."""
    from speakfeed_gui.core.registry.signing import local_key_ids

    return {n for n in {_user_name(), *local_key_ids()} if n}


def _folder_refusal(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (or the nearest existing parent), or None."""
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    registry_file = folder / "model_registry.json"
    targets = [probe] + ([registry_file] if registry_file.exists() else [])
    if all(os.access(t, os.W_OK) for t in targets):
        return None
    try:
        read_only_fs = bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
    except OSError:
        read_only_fs = False
    reason = "read-only file system" if read_only_fs else "permission denied: you cannot write this folder"
    return f"{folder}: {reason}; the model registry is read-only here (models can still be used and exported)"


def write_refusal(
    folder: str | Path, maintainers: Iterable[str] = (), identities: Iterable[str] | None = None
) -> str | None:
    """Why this user may not change the registry in `folder`, or None when they may.

    `maintainers` (registry.maintainers) is advisory: on a shared folder the folder's own permissions
    are the hard boundary, which this also checks (a folder the user cannot write is read-only).
    """
    maintainers = [m for m in maintainers if m]
    if maintainers:
        who = set(identities) if identities is not None else current_identities()
        if not who & set(maintainers):
            return (f"{folder}: read-only for {_user_name() or 'this user'}: only the registry's maintainers ({', '.join(maintainers)}) "
                    "may change it (registry.maintainers in models.yaml)")
    return _folder_refusal(Path(folder))


def guard_writes(registry: ModelRegistry, maintainers: Iterable[str] = (), identities: Iterable[str] | None = None
                 ) -> str | None:
    """Make `registry` refuse every change when this user may not write it; returns the reason (or None)."""
    registry.read_only = write_refusal(registry.folder, maintainers, identities)
    return registry.read_only
