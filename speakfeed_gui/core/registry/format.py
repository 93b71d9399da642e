"""What the registry's files hold: the snapshot's layout, the journal's operations, an entry's fields.

Files, all in the registry folder (`<workspace>/models/`):

- `model_registry.json` — the snapshot, the seed's format: a JSON object id → entry, one entry a
  line. Keys starting with `_` are reserved: `_aliases` (alias → id) and `_generation` (which
  journal lines are already folded into this snapshot). Read it through `ModelRegistry`: recent
  changes live in the journal until the next compaction.
- `model_registry.journal` — append-only JSON lines, one operation each
  (`{"gen": g, "op": "put" | "delete" | "update" | "alias" | "unalias", ...}`).
- `model_registry.json.bak` — a copy of the last snapshot written, for recovery.
- `model_registry.json.lock` — the cross-process lock file.

Pure data checks, no I/O: the store (registry_store.py) treats what fails them as corruption,
`ModelRegistry.register_model` and bundle import refuse it before writing anything.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

PATH_KEYS = ("model_path", "scaler_path", "metadata_path")
FILES_KEY = "extra_files"
ALIASES_KEY = "_aliases"
GENERATION_KEY = "_generation"
_OPS: dict[str, dict[str, type]] = {  # each journal operation's required fields
    "put": {"id": str, "entry": dict},
    "delete": {"id": str},
    "update": {"id": str, "fields": dict},
    "alias": {"alias": str, "id": str},
    "unalias": {"alias": str},
}
_FIELD_TYPES: dict[str, type] = {  # fields SpeakFeed itself reads back: a wrong type is a corrupt entry
    **dict.fromkeys(PATH_KEYS, str), "metadata_sha256": str, "model_name": str, "experiment_name": str,
    "description": str, "created_at": str, FILES_KEY: list, "labels": list, "tags": list,
}


def snapshot_bytes(entries: Mapping[str, Any], aliases: Mapping[str, str], generation: int) -> bytes:
    """The snapshot file's content in the seed's layout: one entry a line, then the reserved keys."""
    lines = [f"{json.dumps(i)}: {json.dumps(e, ensure_ascii=False)}" for i, e in entries.items()]
    lines.append(f"{json.dumps(ALIASES_KEY)}: {json.dumps(aliases, ensure_ascii=False)}")
    lines.append(f"{json.dumps(GENERATION_KEY)}: {generation}")
    return ("{\n" + ",\n".join(lines) + "\n}\n").encode("utf-8")


def valid_op(op: Any) -> bool:
    """Whether one decoded journal line is an operation replay can apply."""
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


def artifact_roles(entry: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(role, path) of every artifact an entry lists: PATH_KEYS in order, then its extra files."""
    files = [(k, entry[k]) for k in PATH_KEYS if entry.get(k)]
    extra = entry.get(FILES_KEY)
    return files + ([(FILES_KEY, p) for p in extra] if isinstance(extra, list) else [])


def artifact_files(entry: Mapping[str, Any]) -> list[str]:
    """The artifact paths an entry lists, in artifact_roles order."""
    return [path for _, path in artifact_roles(entry)]
