"""The `config:` block each model type accepts, by type name, as pydantic schemas.

Schemas live here, below the backends, so the models.yaml loader checks a block without importing
any backend (no import cycle between settings and models). The built-in types are declared in this
module; a plug-in backend's schema is added by `models.base.register_model_type`, either as a
`{key: kind}` dict (kinds from `settings.schema.KINDS`, or a tuple of allowed values) or as a
`settings.schema.Schema` subclass of its own.
"""

from __future__ import annotations

import typing
from typing import Any, ClassVar, Mapping, Optional

from pydantic import Field, ValidationError, create_model

from speakfeed_gui.core.settings.schema import KINDS, Schema, first_problem

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

_FIELDS: dict[str, Fields] = {}
_SCHEMAS: dict[str, type[Schema]] = {}


class BackendConfig(Schema):
    """Base of every `config:` block schema; `model_type` names the type in messages."""

    model_type: ClassVar[str] = ""
    unknown_key: ClassVar[str] = "expected a known key for this type (valid: {valid})"


def _annotation(kind: str | tuple[Any, ...]) -> tuple[Any, str]:
    if isinstance(kind, tuple):  # a fixed set of allowed values
        return typing.Literal[kind], f"one of {', '.join(map(str, kind))}"
    return KINDS[kind]


def schema_from_fields(model_type: str, fields: Fields, required: tuple[str, ...] = ()) -> type[BackendConfig]:
    """A pydantic schema for a `{key: kind}` declaration; every key may be absent or null unless required."""
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


def register_backend_schema(
    model_type: str, fields: Fields | type[BackendConfig], required: tuple[str, ...] = ()
) -> None:
    """Declare (or confirm) the `config:` keys of a model type."""
    if isinstance(fields, type):
        _SCHEMAS[model_type], _FIELDS[model_type] = fields, {}
        return
    _FIELDS[model_type] = dict(fields)
    _SCHEMAS[model_type] = schema_from_fields(model_type, dict(fields), tuple(required))


def unregister_backend_schema(model_type: str) -> None:
    _SCHEMAS.pop(model_type, None)
    _FIELDS.pop(model_type, None)


def backend_fields(model_type: str) -> Fields:
    return _FIELDS[model_type]


def backend_schema(model_type: str) -> type[Schema]:
    return _SCHEMAS[model_type]


def known_types() -> list[str]:
    return sorted(_SCHEMAS)


def validate_backend_config(model_type: str, config: Mapping[str, Any]) -> tuple[str, str] | None:
    """(key path inside `config:`, message) for the first bad key of a `config:` block, else None."""
    schema = _SCHEMAS[model_type]
    try:
        schema.model_validate(dict(config))
    except ValidationError as exc:
        return first_problem(exc, schema, config)
    return None


for _name, (_fields, _required) in _BUILT_IN.items():
    register_backend_schema(_name, _fields, _required)
