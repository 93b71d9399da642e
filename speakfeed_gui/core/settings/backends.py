"""The `config:` block each model type accepts, by type name, as pydantic schemas.

Schemas live here, below the backends, so the models.yaml loader checks a block without importing
any backend (no import cycle between settings and models). The built-in types are declared in this
module; a plug-in backend's schema is added by `models.base.register_model_type`, either as a
`{key: kind}` dict (kinds from `settings.schema.KINDS`, or a tuple of allowed values) or as a
`settings.schema.BackendConfig` subclass of its own. The pydantic models are built on first use, so
importing the backends (at the GUI's start) does not import pydantic.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

Fields = dict[str, "str | tuple[Any, ...]"]

HF_TASK_INPUTS = {"text-classification": "text", "audio-classification": "audio"}
NEMO_TASKS = ("classification", "asr")

# type name -> (key -> kind from KINDS or a tuple of allowed values, required keys)
_BUILT_IN: dict[str, tuple[Fields, tuple[str, ...]]] = {
    "dummy": ({"seed": "int", "batch_size": "int"}, ()),
    "audio_emotion": (
        {
            "model_ref": "str", "model_path": "str", "batch_size": "int",
            # the seed's keys: a display name, the (only) feature extractor, the rate audio is resampled to,
            # and a device (scikit-learn runs on the CPU whatever it says)
            "model_name": "str", "feature_extractor": ("audio_features",), "sample_rate": "int", "device": "device",
            # a .pkl/.joblib model_path runs code when loaded: only with the user's word that they made it
            "trust_pickle": "bool",
        },
        (),
    ),
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

_DECLARED: dict[str, "tuple[Fields, tuple[str, ...]] | type"] = {}  # a {key: kind} dict + required keys, or a schema


def _annotation(kind: str | tuple[Any, ...]) -> tuple[Any, str]:
    import typing

    from speakfeed_gui.core.settings.schema import KINDS

    if isinstance(kind, tuple):  # a fixed set of allowed values
        return typing.Literal[kind], f"one of {', '.join(map(str, kind))}"
    return KINDS[kind]


def schema_from_fields(model_type: str, fields: Fields, required: tuple[str, ...] = ()) -> type:
    """A pydantic schema for a `{key: kind}` declaration; every key may be absent or null unless required."""
    from typing import Optional

    from pydantic import Field, create_model

    from speakfeed_gui.core.settings.schema import BackendConfig

    definitions: dict[str, Any] = {}
    for key, kind in fields.items():
        annotation, expected = _annotation(kind)
        if key in required:
            missing = f"expected a value (required for type {model_type}), got None"
            definitions[key] = (annotation, Field(description=expected, json_schema_extra={"missing": missing}))
        else:
            definitions[key] = (Optional[annotation], Field(default=None, description=expected))
    schema = create_model(f"{model_type}_config", __base__=BackendConfig, **definitions)
    schema.model_type = model_type
    schema.unknown_key = f"expected a known key for type {model_type} (valid: {{valid}})"
    return schema


def register_backend_schema(model_type: str, fields: Fields | type, required: tuple[str, ...] = ()) -> None:
    """Declare (or confirm) the `config:` keys of a model type: a `{key: kind}` dict or a BackendConfig class."""
    _DECLARED[model_type] = fields if isinstance(fields, type) else (dict(fields), tuple(required))
    _built.cache_clear()


def unregister_backend_schema(model_type: str) -> None:
    _DECLARED.pop(model_type, None)
    _built.cache_clear()


def backend_fields(model_type: str) -> Fields:
    declared = _DECLARED[model_type]
    return {} if isinstance(declared, type) else declared[0]


@functools.cache
def _built(model_type: str) -> type:
    declared = _DECLARED[model_type]
    return declared if isinstance(declared, type) else schema_from_fields(model_type, *declared)


def backend_schema(model_type: str) -> type:
    """The pydantic schema of a type's `config:` block (built on first use)."""
    return _built(model_type)


def known_types() -> list[str]:
    return sorted(_DECLARED)


def validate_backend_config(model_type: str, config: Mapping[str, Any]) -> tuple[str, str] | None:
    """(key path inside `config:`, message) for the first bad key of a `config:` block, else None."""
    from pydantic import ValidationError

    from speakfeed_gui.core.settings.schema import first_problem

    schema = backend_schema(model_type)
    try:
        schema.model_validate(dict(config))
    except ValidationError as exc:
        return first_problem(exc, schema, config)
    return None


for _name, (_fields, _required) in _BUILT_IN.items():
    register_backend_schema(_name, _fields, _required)
