"""What the registry's files hold: the registry file's layout, the pending-append record, an entry's fields.

Files, all in the registry folder (`<workspace>/models/`):

- `model_registry.json` — the seed's format and nothing else: a JSON object model id → entry, one
  entry a line. A plain `json.load` of it lists every registered model after every write that
  returned. An entry's aliases are its `aliases` list; artifact paths are relative to the workspace
  root (`models/<experiment>/<name>.skops`), or absolute when outside it.
- `model_registry.journal` — empty, or one line `{"pending": {...}}` written (and fsync'd) before a
  registration is appended in place: the inode, the file's size and the bytes the append overwrites,
  so a torn append (the writer killed mid-write) is rolled back exactly. Older SpeakFeed versions
  kept operation lines there (`{"gen": g, "op": ...}`) and `_aliases` / `_generation` keys in the
  registry file; such registries are read and migrated (LEGACY_* below).
- `model_registry.json.bak` — the registry file as it was before the last whole-file rewrite.
- `model_registry.json.lock` — the cross-process lock file.

Pure data checks and encodings, no I/O: the store (store.py) treats what fails them as corruption,
`ModelRegistry.register_model` and bundle import refuse it before writing anything.
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

PATH_KEYS = ("model_path", "scaler_path", "metadata_path")
FILES_KEY = "extra_files"
ALIASES_FIELD = "aliases"  # inside an entry: the aliases pointing at it
LEGACY_ALIASES_KEY = "_aliases"  # older registry files: alias -> id beside the ids
LEGACY_GENERATION_KEY = "_generation"  # older registry files: journal lines already folded in
PENDING_KEY = "pending"
EMPTY = b"{\n}\n"
_TAIL = b"\n}\n"  # every file this module writes ends so; an append overwrites it
_OPS: dict[str, dict[str, type]] = {  # each operation's required fields (also the legacy journal's lines)
    "put": {"id": str, "entry": dict},
    "delete": {"id": str},
    "update": {"id": str, "fields": dict},
    "alias": {"alias": str, "id": str},
    "unalias": {"alias": str},
}
_FIELD_TYPES: dict[str, type] = {  # fields SpeakFeed itself reads back: a wrong type is a corrupt entry
    **dict.fromkeys(PATH_KEYS, str), "metadata_sha256": str, "model_name": str, "experiment_name": str,
    "description": str, "created_at": str, FILES_KEY: list, "labels": list, "tags": list, ALIASES_FIELD: list,
}
_TEXT_FIELDS = tuple(key for key, kind in _FIELD_TYPES.items() if kind is str)
_LIST_FIELDS = tuple(key for key, kind in _FIELD_TYPES.items() if kind is list)


def entry_line(model_id: str, entry: Mapping[str, Any], aliases: Iterable[str]) -> bytes:
    """One `"id": {...}` line of the registry file; the entry's aliases go inside it."""
    names = sorted(aliases)
    stored = {**entry, ALIASES_FIELD: names} if names else entry
    return f"{json.dumps(model_id)}: {json.dumps(stored, ensure_ascii=False)}".encode()


def file_bytes(lines: Iterable[bytes]) -> bytes:
    """The whole registry file: one entry a line."""
    body = b",\n".join(lines)
    return b"{\n" + body + _TAIL if body else EMPTY


def append_bytes(line: bytes, first: bool) -> bytes:
    """What an append writes at `body_end`: the separator, the new line and the closing brace."""
    return (b"\n" if first else b",\n") + line + _TAIL


def body_end(raw: bytes) -> int:
    """Where the next entry goes in a file holding a JSON object: right after its last value (or `{`)."""
    return len(raw.rstrip()[:-1].rstrip())


def appended_tail(raw_tail: bytes, first: bool) -> bytes | None:
    """The bytes appended after a known `body_end` as a JSON object text, or None if they are not appends."""
    if first:
        return b"{" + raw_tail if raw_tail.startswith(b"\n") else None
    return b"{" + raw_tail[1:] if raw_tail.startswith(b",") else None


def valid_op(op: Any) -> bool:
    """Whether one decoded legacy journal line is an operation replay can apply."""
    fields = _OPS.get(op.get("op")) if isinstance(op, dict) and isinstance(op.get("op"), str) else None
    return (
        fields is not None
        and isinstance(op.get("gen"), int)
        and all(isinstance(op.get(name), kind) for name, kind in fields.items())
        and not (op["op"] == "put" and entry_problem(op["entry"]))
        and not (op["op"] == "update" and entry_problem(op["fields"]))
    )


def pending_record(raw: bytes) -> dict[str, Any] | None:
    """The pending-append record of a journal's content, if that is what it holds (complete and well-formed)."""
    line, newline, _ = raw.partition(b"\n")
    if not newline:
        return None  # empty, or torn while being written: the append it announces never started
    try:
        record = json.loads(line).get(PENDING_KEY)
    except (ValueError, AttributeError, RecursionError):
        return None
    kinds = {"ino": int, "size": int, "at": int, "tail": str}
    if isinstance(record, dict) and all(isinstance(record.get(k), t) for k, t in kinds.items()):
        return record
    return None


def is_pending_journal(raw: bytes) -> bool:
    """Whether a journal's content is this version's (empty or a pending record), not legacy op lines."""
    return not raw.strip() or raw.lstrip().startswith(b'{"' + PENDING_KEY.encode() + b'"')


def entry_problem(entry: Any) -> str | None:
    """Why `entry` cannot be a registry entry (a field SpeakFeed reads has the wrong type), else None.

    Runs for every entry of every cold read (10,000 at once): the common case is checked by class first.
    """
    if not isinstance(entry, dict):
        return f"expected an object, got {type(entry).__name__}"
    get = entry.get
    for key in _TEXT_FIELDS:
        value = get(key)
        if value is not None and value.__class__ is not str and not isinstance(value, str):
            return f"field {key!r} must be text, got {json.dumps(value)[:60]}"
    for key in _LIST_FIELDS:
        value = get(key)
        if value is None or (value.__class__ is list and all(v.__class__ is str for v in value)):
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"field {key!r} must be a list of text values, got {json.dumps(value)[:60]}"
    return None


def artifact_roles(entry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(role, path) of every artifact an entry lists: PATH_KEYS in order, then its extra files."""
    files = [(k, entry[k]) for k in PATH_KEYS if entry.get(k)]
    extra = entry.get(FILES_KEY)
    return files + ([(FILES_KEY, p) for p in extra] if isinstance(extra, list) else [])


def artifact_files(entry: Mapping[str, Any]) -> list[str]:
    """The artifact paths an entry lists, in artifact_roles order."""
    return [path for _, path in artifact_roles(entry)]
