"""Pydantic v2 glue: the house's value kinds and one-line messages from a `ValidationError`.

pydantic does the checking (strict types, ranges, unknown keys, missing keys); each field carries
the human words for what is valid (`Field(description=...)`), so a problem becomes today's line
``<file>: <key path>: expected <what is valid>, got <value>``. A validator that needs its own words
raises `problem(...)`, whose text is used as is.

Used by the models.yaml schema (settings.config), the backends' `config:` blocks (settings.backends),
the trainer's hyperparameters (training.estimators) and its run options (training.trainer).
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, ClassVar, Mapping

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

_CUSTOM = "speakfeed"


class Schema(BaseModel):
    """Base of every SpeakFeed schema: unknown keys are errors; the message for them is per schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    # "{key}" and "{valid}" are filled in; a message starting with "expected" gets ", got <value>" appended
    unknown_key: ClassVar[str] = "unknown key; valid keys: {valid}"


class BackendConfig(Schema):
    """Base of every `config:` block schema (settings.backends); `model_type` names the type in messages."""

    model_type: ClassVar[str] = ""
    unknown_key: ClassVar[str] = "expected a known key for this type (valid: {valid})"


def problem(message: str, where: str = "") -> PydanticCustomError:
    """An error with its own words; `where` names a key below the one being validated."""
    return PydanticCustomError(_CUSTOM, "{message}", {"message": message, "where": where})


def _mapping_only(value: Any) -> Any:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise problem(f"expected a mapping, got {safe_repr(value)}")
    return value


# A mapping section: absent or null means empty; anything else that is not a mapping is refused.
MappingSection = BeforeValidator(_mapping_only)

# value kinds shared by the schemas: (annotation, what is valid)
KINDS: dict[str, tuple[Any, str]] = {
    "str": (Annotated[str, Field(min_length=1, strict=True)], "a non-empty text value"),
    "bool": (StrictBool, "true or false"),
    "int": (Annotated[StrictInt, Field(ge=1)], "a whole number of at least 1"),
    "number": (Annotated[StrictFloat, Field(allow_inf_nan=True)], "a number"),
    "device": (typing.Literal["auto", "cpu", "cuda", "mps"], "one of auto, cpu, cuda, mps"),
    "mapping": (dict[Any, Any], "a mapping"),
    "list": (list[Any], "a list"),
}


def safe_repr(value: Any, limit: int = 80) -> str:
    """repr() for a message: shortened, and safe for a 5000-digit number."""
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    for key in loc:
        if isinstance(data, Mapping) and key in data:
            data = data[key]
        elif isinstance(data, (list, tuple)) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def _schema_of(annotation: Any) -> type[Schema] | None:
    """The Schema class inside an annotation (Optional[X], Annotated[X, ...]), if any."""
    if isinstance(annotation, type) and issubclass(annotation, Schema):
        return annotation
    for arg in typing.get_args(annotation):
        found = _schema_of(arg)
        if found is not None:
            return found
    return None


def _is_mapping_of_schemas(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _is_mapping_of_schemas(typing.get_args(annotation)[0])
    return origin in (dict, Mapping, typing.Mapping) or (
        origin is not None and any(_is_mapping_of_schemas(a) for a in typing.get_args(annotation))
    )


def _walk(schema: type[Schema], loc: tuple[Any, ...]) -> tuple[type[Schema], int, Any]:
    """(innermost schema, how many loc items name it, the field info at loc[n] or None).

    None means the value at `loc` is a whole section (a schema) of the wrong shape.
    """
    depth = 0
    while depth < len(loc):
        field = schema.model_fields.get(loc[depth]) if isinstance(loc[depth], str) else None
        if field is None:
            return schema, depth, None
        inner = _schema_of(field.annotation)
        if inner is not None and _is_mapping_of_schemas(field.annotation):  # dict[user's name, Schema]
            if depth + 2 > len(loc):
                return schema, depth, field
            schema, depth = inner, depth + 2
            continue
        if inner is not None:
            schema, depth = inner, depth + 1
            continue
        return schema, depth, field
    return schema, depth, None


def first_problem(exc: ValidationError, schema: type[Schema], data: Any) -> tuple[str, str]:
    """(key path, message) for the first error: the house's words for what is valid.

    The first is the shallowest, an unknown key before other problems at the same depth (a typo'd
    key explains why the intended one is missing).
    """
    errors = exc.errors(include_url=False)
    error = min(errors, key=lambda e: (len(e["loc"]), e["type"] != "extra_forbidden"))
    loc = tuple(error["loc"])
    owner, depth, field = _walk(schema, loc)
    kind = error["type"]
    if kind == _CUSTOM:
        ctx = error.get("ctx") or {}
        where = loc + ((ctx["where"],) if ctx.get("where") else ())
        return _path(where), str(ctx.get("message", error["msg"]))
    if kind == "extra_forbidden":
        valid = ", ".join(f.alias or n for n, f in owner.model_fields.items()) or "none"
        message = owner.unknown_key.format(key=loc[-1], valid=valid)
        if message.startswith("expected"):
            message += f", got {safe_repr(error.get('input'))}"
        return _path(loc), message
    if field is None:  # the value at loc itself has the wrong shape (not a mapping)
        return _path(loc), f"expected a mapping, got {safe_repr(error.get('input'))}"
    where = loc[: depth + 1]
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if kind == "missing":
        return _path(where), str(extra.get("missing", "missing; expected " + (field.description or "a value")))
    expected = field.description or _inner_description(field.annotation) or error["msg"].lower()
    return _path(where), f"expected {expected}, got {safe_repr(_lookup(data, where))}"


def _inner_description(annotation: Any) -> str | None:
    """The description of `X` in `Optional[Annotated[X, Field(description=...)]]`."""
    for arg in typing.get_args(annotation):
        if isinstance(arg, FieldInfo) and arg.description:
            return arg.description
        found = _inner_description(arg) if not isinstance(arg, FieldInfo) else None
        if found:
            return found
    return None


def _path(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


__all__ = ["KINDS", "BackendConfig", "MappingSection", "Schema", "first_problem", "problem", "safe_repr"]
