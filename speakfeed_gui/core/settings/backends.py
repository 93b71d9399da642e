"""The `config:` block each model type accepts, by type name.

Schemas live here, below the backends, so the models.yaml loader checks a block without importing
any backend (no import cycle between settings and models). The built-in types are declared in this
module; a plug-in backend's schema is added by `models.base.register_model_type`.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

# kind name -> (check, description used in error messages)
KINDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "str": (lambda v: isinstance(v, str) and v != "", "a non-empty text value"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1, "a whole number of at least 1"),
    "number": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and v == v, "a number"),
    "device": (lambda v: v in ("auto", "cpu", "cuda", "mps"), "one of auto, cpu, cuda, mps"),
    "mapping": (lambda v: isinstance(v, Mapping), "a mapping"),
    "list": (lambda v: isinstance(v, list), "a list"),
}

Fields = dict[str, "str | tuple[str, ...]"]

HF_TASK_INPUTS = {"text-classification": "text", "audio-classification": "audio"}
NEMO_TASKS = ("classification", "asr")

# type name -> (key -> kind from KINDS or a tuple of allowed values, required keys)
_SCHEMAS: dict[str, tuple[Fields, tuple[str, ...]]] = {
    "dummy": ({"seed": "int", "batch_size": "int"}, ()),
    "audio_emotion": ({"model_ref": "str", "model_path": "str", "batch_size": "int"}, ()),
    "huggingface": (
        {
            "model_name": "str", "task": tuple(HF_TASK_INPUTS), "device": "device", "max_length": "int",
            "truncation": "bool", "padding": "bool", "batch_size": "int", "label_map": "mapping", "revision": "str",
        },
        ("model_name",),
    ),
    "nemo": (
        {
            "model_path": "str", "model_name": "str", "task": NEMO_TASKS, "device": "device",
            "batch_size": "int", "label_map": "mapping",
        },
        (),
    ),
}


def backend_fields(model_type: str) -> Fields:
    return _SCHEMAS[model_type][0]


def register_backend_schema(model_type: str, fields: Fields, required: tuple[str, ...] = ()) -> None:
    """Declare (or confirm) the `config:` keys of a model type."""
    _SCHEMAS[model_type] = (dict(fields), tuple(required))


def unregister_backend_schema(model_type: str) -> None:
    _SCHEMAS.pop(model_type, None)


def known_types() -> list[str]:
    return sorted(_SCHEMAS)


def validate_backend_config(model_type: str, config: Mapping[str, Any]) -> tuple[str, str] | None:
    """Return (key, what is expected) for the first bad key of a `config:` block, else None."""
    fields, required = _SCHEMAS[model_type]
    for key in required:
        if key not in config:
            return key, f"a value (required for type {model_type})"
    for key, value in config.items():
        if key not in fields:
            valid = ", ".join(sorted(fields)) or "none"
            return key, f"a known key for type {model_type} (valid: {valid})"
        kind = fields[key]
        if isinstance(kind, tuple):  # a fixed set of allowed values
            ok, expected = value in kind, f"one of {', '.join(map(str, kind))}"
        else:
            check, expected = KINDS[kind]
            ok = check(value)
        if value is not None and not ok:
            return key, expected
    return None
