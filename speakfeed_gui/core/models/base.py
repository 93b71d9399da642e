"""The contract every model backend follows, and the registry of backend types."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np

from speakfeed_gui.core.audio.decode import SAMPLE_RATE, as_audio, is_audio_path
from speakfeed_gui.core.models.prediction import Prediction, make_prediction
from speakfeed_gui.core.settings.backends import register_backend_schema, unregister_backend_schema
from speakfeed_gui.core.settings.config import Inference, ModelSpec, Preprocessing

MODEL_TYPES: dict[str, type["BaseModel"]] = {}

def register_model_type(name: str) -> Callable[[type["BaseModel"]], type["BaseModel"]]:
    """Class decorator: make a backend available as `type: <name>` in models.yaml."""

    def decorate(cls: type[BaseModel]) -> type[BaseModel]:
        if name in MODEL_TYPES:
            raise ValueError(f"model type {name!r} registered twice")
        cls.type_name = name
        MODEL_TYPES[name] = cls
        register_backend_schema(name, cls.config_fields, cls.required_config)
        return cls

    return decorate


def unregister_model_type(name: str) -> None:
    """Remove a backend type (tests register throw-away ones)."""
    MODEL_TYPES.pop(name, None)
    unregister_backend_schema(name)


@dataclass(frozen=True)
class ModelContext:
    """What a backend may need from its surroundings: workspace folder and pipeline settings."""

    workspace: Path = Path(".")
    preprocessing: Preprocessing = Preprocessing()
    inference: Inference = Inference()
    registry_factory: Callable[[], Any] | None = field(default=None, compare=False)

    def resolve(self, value: str) -> Path:
        """A relative path in the config is relative to the workspace."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.workspace / path


class BaseModel(ABC):
    """One loaded (or lazily loadable) model: `predict(x)`, `batch_predict(xs)`, `get_model_info()`.

    Also the seed's attributes: `config`, `model_type`, `version`, `confidence_threshold`.

    Subclasses set `input_kind` ("audio", "text" or "any"), declare `config_fields`
    (key -> kind from `settings.schema.KINDS`, or a tuple of allowed values, or a `settings.backends.BackendConfig` subclass), implement `_load()` with their heavy imports and
    `_predict_proba(batch)` returning one {label: probability} dict per input.
    """

    type_name: ClassVar[str] = ""
    input_kind: ClassVar[str] = "audio"
    config_fields: ClassVar[dict[str, str | tuple[str, ...]]] = {}
    required_config: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec: ModelSpec, context: ModelContext | None = None) -> None:
        self.spec = spec
        self.context = context or ModelContext()
        self._loaded = False
        self._load_lock = threading.Lock()

    # -- identity -------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.spec.version

    # the seed's BaseModel attributes
    @property
    def model_type(self) -> str:
        return self.type_name

    @property
    def confidence_threshold(self) -> float:
        return self.spec.confidence_threshold

    @property
    def config(self) -> dict[str, Any]:
        """The models.yaml entry as the seed's BaseModel holds it (type, version, ..., and `config:`)."""
        return {
            "type": self.type_name, "version": self.version, "confidence_threshold": self.confidence_threshold,
            "emotion_labels": list(self.spec.labels), "description": self.spec.description,
            "config": dict(self.spec.config),
        }

    @property
    def labels(self) -> list[str]:
        return list(self.spec.labels)

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def batch_size(self) -> int:
        return int(self.spec.config.get("batch_size") or self.context.inference.batch_size)

    # -- loading --------------------------------------------------------------
    @property
    def is_loaded(self) -> bool:
        return self._loaded

    def load(self) -> "BaseModel":
        """Import heavy libraries and read weights; idempotent and safe from several threads."""
        with self._load_lock:
            if not self._loaded:
                self._load()
                self._loaded = True
        return self

    def _load(self) -> None:  # noqa: B027 - optional hook
        """Backends with weights override this."""

    # -- prediction -----------------------------------------------------------
    def prepare(self, item: Any) -> Any:
        """Turn one user input into what `_predict_proba` takes (audio array or cleaned text)."""
        from speakfeed_gui.core.models.text import preprocess_text

        wants_audio = self.input_kind == "audio" or (
            self.input_kind == "any" and (isinstance(item, np.ndarray) or is_audio_path(item))
        )
        if wants_audio:
            return as_audio(item, self.sample_rate)
        if not isinstance(item, str):
            from speakfeed_gui.core.errors import SpeakFeedError

            raise SpeakFeedError(f"model {self.name} takes text, got {type(item).__name__}")
        return preprocess_text(item, self.context.preprocessing)

    @abstractmethod
    def _predict_proba(self, batch: list[Any]) -> list[Mapping[str, float]]:
        """One probability dict per prepared input."""

    def predict(self, item: Any) -> Prediction:
        return self.batch_predict([item])[0]

    def batch_predict(self, items: Sequence[Any]) -> list[Prediction]:
        """Predict in chunks of `batch_size`."""
        self.load()
        prepared = [self.prepare(item) for item in items]
        results: list[Prediction] = []
        for start in range(0, len(prepared), self.batch_size):
            chunk = prepared[start : start + self.batch_size]
            for item, probs in zip(chunk, self._predict_proba(chunk)):
                results.append(self._wrap(item, probs))
        return results

    def _wrap(self, item: Any, probs: Mapping[str, float]) -> Prediction:
        inference = self.context.inference
        metadata: dict[str, Any] = {}
        if inference.enable_metadata:
            metadata = {"model_type": self.type_name, "input": "audio" if isinstance(item, np.ndarray) else "text"}
            if isinstance(item, np.ndarray):
                metadata["duration_s"] = round(item.size / self.sample_rate, 3)
        return make_prediction(
            probs,
            model_name=self.name,
            model_version=self.version,
            threshold=self.spec.confidence_threshold,
            add_timestamp=inference.add_timestamps,
            metadata=metadata,
        )

    def get_model_info(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type_name,
            "version": self.version,
            "input": self.input_kind,
            "labels": self.labels,
            "confidence_threshold": self.spec.confidence_threshold,
            "description": self.spec.description,
            "config": dict(self.spec.config),
            "loaded": self._loaded,
        }
