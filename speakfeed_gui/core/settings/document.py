"""The models.yaml schema (pydantic): field order is the order problems are reported in.

Each schema class turns into the public dataclasses of settings.config (`to_spec`, `to_settings`),
whose defaults it takes, so a default lives in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

from speakfeed_gui.core.settings.backends import backend_schema, known_types, validate_backend_config
from speakfeed_gui.core.settings.schema import MappingSection, Schema, problem, safe_repr
from speakfeed_gui.core.settings.values import (
    DEFAULT_LABELS,
    DEFAULT_TARGETS,
    Inference,
    LiveSettings,
    ModelSpec,
    Preprocessing,
    PrivacySettings,
    SecuritySettings,
)


def _text(value: Any) -> Any:
    """A YAML scalar written as text: `version: 1.0` is the text "1.0"; booleans and lists are not text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _list_only(value: Any) -> Any:
    if not isinstance(value, (list, tuple)):
        raise ValueError("not a list")
    return value


def _no_repeats(value: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(value)) != len(value):
        raise problem(f"expected label names without repeats, got {safe_repr(list(value))}")
    return value


def _ordered_band(value: tuple[float, float]) -> tuple[float, float]:
    if value[0] > value[1]:
        raise ValueError("low > high")
    return value


Text = Annotated[StrictStr, BeforeValidator(_text)]
Flag = Annotated[StrictBool, Field(description="true or false")]
Fraction = Annotated[StrictFloat, Field(ge=0, le=1, description="a number from 0 to 1")]
Count = Annotated[StrictInt, Field(ge=1, description="a whole number of at least 1")]
Labels = Annotated[
    tuple[Annotated[StrictStr, Field(min_length=1)], ...],
    BeforeValidator(_list_only), Field(min_length=1, description="a non-empty list of label names"),
    AfterValidator(_no_repeats),
]
FiniteFloat = Annotated[StrictFloat, Field(allow_inf_nan=False)]
Band = Annotated[
    tuple[FiniteFloat, FiniteFloat], BeforeValidator(_list_only),
    Field(description="a [low, high] pair of numbers with low <= high"), AfterValidator(_ordered_band),
]


class ModelEntry(Schema):
    """One `models:` entry; its `config:` block is checked by the schema its type registered."""

    type: Annotated[Any, Field(default=None, validate_default=True)]
    model_name: Annotated[Text | None, Field(min_length=1, description="a non-empty text value")] = None
    version: Annotated[Text, Field(description="a text value")] = ModelSpec.version
    confidence_threshold: Fraction = ModelSpec.confidence_threshold
    emotion_labels: Labels | None = None
    labels: Labels | None = None
    description: Annotated[Text, Field(description="a text value")] = ModelSpec.description
    config: Annotated[dict[Any, Any], MappingSection] = {}

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: Any) -> str:
        if value is None:
            raise problem(f"missing; expected one of {', '.join(known_types())}")
        if not isinstance(value, str) or value not in known_types():
            raise problem(f"unknown model type {safe_repr(value)}; known types: {', '.join(known_types())}")
        return value

    @model_validator(mode="after")
    def _backend_config(self) -> "ModelEntry":
        config = self.merged_config()
        if self.model_name is not None:
            if "model_name" not in backend_schema(self.type).model_fields:
                raise problem(f"unknown key for type {self.type} (it names no model by model_name)", "model_name")
            if self.config.get("model_name") not in (None, self.model_name):
                raise problem(f"given twice with different values (here and in config.model_name: "
                              f"{safe_repr(self.config['model_name'])})", "model_name")
        found = validate_backend_config(self.type, config)
        if found:
            raise problem(found[1], f"config.{found[0]}")
        return self

    def merged_config(self) -> dict[str, Any]:
        """`config:` with the seed's top-level `model_name` moved in (where backends read it)."""
        config = dict(self.config)
        if self.model_name is not None:
            config.setdefault("model_name", self.model_name)
        return config

    def to_spec(self, name: str) -> ModelSpec:
        return ModelSpec(
            name=name, type=self.type, version=self.version, confidence_threshold=float(self.confidence_threshold),
            labels=self.emotion_labels or self.labels or DEFAULT_LABELS, description=self.description,
            config=self.merged_config(),
        )


class PreprocessingSchema(Schema):
    lowercase: Flag = Preprocessing.lowercase
    remove_special_chars: Flag = Preprocessing.remove_special_chars
    remove_stop_words: Flag = Preprocessing.remove_stop_words


class InferenceSchema(Schema):
    batch_size: Count = Inference.batch_size
    enable_metadata: Flag = Inference.enable_metadata
    add_timestamps: Flag = Inference.add_timestamps


class PipelineSchema(Schema):
    preprocessing: Annotated[PreprocessingSchema, MappingSection] = PreprocessingSchema()
    inference: Annotated[InferenceSchema, MappingSection] = InferenceSchema()


def _target_bands() -> type[Schema]:
    """`live.targets`: one [low, high] band per rated measure of the catalogue, its default where not given."""
    from pydantic import create_model

    fields: dict[str, Any] = {key: (Band, band) for key, band in DEFAULT_TARGETS.items()}
    model = create_model("TargetBands", __base__=Schema, **fields)
    model.unknown_key = "unknown metric; valid metrics: {valid}"
    return model


TargetBands = _target_bands()


class LiveSchema(Schema):
    window_seconds: Annotated[StrictFloat, Field(ge=0.25, le=30, description="a number of seconds from 0.25 to 30")] = (
        LiveSettings.window_seconds)
    hop_seconds: Annotated[StrictFloat, Field(ge=0.05, description="a number of seconds from 0.05 to window_seconds")] = (
        LiveSettings.hop_seconds)
    smoothing: Fraction = LiveSettings.smoothing
    vad: Annotated[Literal["auto", "silero", "energy"], Field(description="one of auto, silero, energy")] = "auto"
    asr_model: Annotated[Text | None, Field(description="a text value")] = None
    transcribe: Flag = LiveSettings.transcribe
    filler_words: Annotated[list[StrictStr], Field(description="a list of words or phrases")] = list(
        LiveSettings.filler_words)
    targets: Annotated[TargetBands, MappingSection] = TargetBands()

    @model_validator(mode="after")
    def _hop_inside_window(self) -> "LiveSchema":
        if self.hop_seconds > self.window_seconds:
            raise problem(f"expected a number of seconds from 0.05 to window_seconds ({self.window_seconds}), "
                          f"got {self.hop_seconds}", "hop_seconds")
        return self

    def to_settings(self) -> LiveSettings:
        return LiveSettings(
            window_seconds=float(self.window_seconds), hop_seconds=float(self.hop_seconds),
            smoothing=float(self.smoothing), vad=self.vad, asr_model=self.asr_model, transcribe=self.transcribe,
            filler_words=tuple(w.lower() for w in self.filler_words),
            targets={k: (float(lo), float(hi)) for k, (lo, hi) in self.targets.model_dump().items()},
        )


class SecuritySchema(Schema):
    require_signed: Flag = SecuritySettings.require_signed


class PrivacySchema(Schema):
    encrypt_recordings: Flag = PrivacySettings.encrypt_recordings
    key_file: Annotated[Text | None, Field(min_length=1, description="a file path (or leave it out to use the OS keyring)")] = None

    def to_settings(self, workspace: Path) -> PrivacySettings:
        key_file = None
        if self.key_file is not None:
            key_file = Path(self.key_file).expanduser()
            key_file = key_file if key_file.is_absolute() else workspace / key_file
        return PrivacySettings(encrypt_recordings=self.encrypt_recordings, key_file=key_file)


def _names(value: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(name.strip() for name in value)


class RegistrySchema(Schema):
    maintainers: Annotated[
        tuple[Annotated[StrictStr, Field(pattern=r"\S")], ...], BeforeValidator(_list_only),
        Field(description="a list of user names or key ids"), AfterValidator(_names),
    ] = ()


class ComputeSchema(Schema):
    cluster: Annotated[Text | None, Field(pattern=r"^(tcp|tls|inproc|ucx)://\S+$",
                                          description="a Dask scheduler address such as tcp://host:8786")] = None


def _model_names(value: Any) -> Any:
    if value is None or (isinstance(value, Mapping) and not value):
        raise problem("missing or empty; expected a mapping of model names to settings")
    if isinstance(value, Mapping):
        return {str(name): entry for name, entry in value.items()}
    return value


class Document(Schema):
    """The whole models.yaml."""

    default_model: Any = None
    models: Annotated[
        dict[str, ModelEntry], BeforeValidator(_model_names),
        Field(description="a mapping of model names to settings",
              json_schema_extra={"missing": "missing or empty; expected a mapping of model names to settings"}),
    ]
    pipeline: Annotated[PipelineSchema, MappingSection] = PipelineSchema()
    live: Annotated[LiveSchema, MappingSection] = LiveSchema()
    security: Annotated[SecuritySchema, MappingSection] = SecuritySchema()
    privacy: Annotated[PrivacySchema, MappingSection] = PrivacySchema()
    registry: Annotated[RegistrySchema, MappingSection] = RegistrySchema()
    compute: Annotated[ComputeSchema, MappingSection] = ComputeSchema()

    @model_validator(mode="after")
    def _default_is_configured(self) -> "Document":
        if not isinstance(self.default_model, str) or self.default_model not in self.models:
            raise problem(f"expected one of the configured models ({', '.join(self.models)}), "
                          f"got {safe_repr(self.default_model)}", "default_model")
        return self
