"""Build models by name from models.yaml, or by registry id/alias."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from speakfeed_gui.core.errors import ModelNotFoundError
from speakfeed_gui.core.models import MODEL_TYPES, BaseModel
from speakfeed_gui.core.models.base import ModelContext
from speakfeed_gui.core.settings.config import AppConfig, ModelSpec, load_config
from speakfeed_gui.core.settings.workspace import Workspace, resolve_workspace, workspace_for_config

log = logging.getLogger(__name__)


class ModelFactory:
    """Lazily builds and caches models; listing them imports no heavy library.

    The seed's face: `ModelFactory("config/models.yaml")`, `get_model(model_name=None)`,
    `list_available_models()`, `get_model_info(model_name)`. A config file inside a `config/` folder
    makes the folder above it the workspace (where relative model paths and `models/` live).
    """

    def __init__(self, config_path: str | Path | None = None, *, workspace: Workspace | None = None) -> None:
        if workspace is None:
            workspace = workspace_for_config(config_path) if config_path else resolve_workspace()
        self.workspace = workspace
        self.config: AppConfig = load_config(config_path or self.workspace.config_path)
        self.context = ModelContext(
            workspace=self.workspace.root,
            preprocessing=self.config.preprocessing,
            inference=self.config.inference,
            registry_factory=self.registry,
        )
        self._cache: dict[str, BaseModel] = {}
        self._lock = threading.Lock()
        self._registry: Any = None

    def registry(self) -> Any:
        """The workspace's ModelRegistry (created on first use)."""
        if self._registry is None:
            from speakfeed_gui.core.registry.api import ModelRegistry

            self._registry = ModelRegistry(self.workspace.registry_path)
        return self._registry

    def list_available_models(self) -> list[str]:
        return list(self.config.models)

    def get_model_info(self, model_name: str) -> dict[str, Any]:
        name = model_name
        spec = self._spec(name)
        cached = self._cache.get(name)
        info = (cached or MODEL_TYPES[spec.type](spec, self.context)).get_model_info()
        info["default"] = name == self.config.default_model
        return info

    def _spec(self, name: str) -> ModelSpec:
        try:
            return self.config.models[name]
        except KeyError:
            raise ModelNotFoundError(
                f"model {name!r} is not in {self.config.path}; configured models: {', '.join(self.config.models)}"
            ) from None

    def get_model(self, model_name: str | None = None) -> BaseModel:
        """A configured model by name (None: `default_model`), built once and cached."""
        name = model_name or self.config.default_model
        with self._lock:
            if name not in self._cache:
                spec = self._spec(name)
                self._cache[name] = MODEL_TYPES[spec.type](spec, self.context)
            return self._cache[name]

    def registry_model(self, ref: str) -> BaseModel:
        """A trained model from the registry by id, id prefix or alias, as an audio_emotion model."""
        entry = self.registry().get_model_info(ref)
        key = f"registry:{entry['id']}"
        with self._lock:
            if key not in self._cache:
                base = next((s for s in self.config.models.values() if s.type == "audio_emotion"), None)
                spec = ModelSpec(
                    name=entry.get("model_name") or entry["id"][:8],
                    type="audio_emotion",
                    version=str(entry.get("version", "1")),
                    confidence_threshold=base.confidence_threshold if base else 0.0,
                    labels=tuple(entry.get("labels") or ()) or (base.labels if base else ModelSpec.labels),
                    description=entry.get("description", ""),
                    config={"model_ref": entry["id"]},
                )
                self._cache[key] = MODEL_TYPES["audio_emotion"](spec, self.context)
            return self._cache[key]

    def resolve(self, ref: str | None = None) -> BaseModel:
        """A configured name, else a registry id/alias; None means the default model."""
        if ref is None or ref in self.config.models:
            return self.get_model(ref)
        try:
            return self.registry_model(ref)
        except ModelNotFoundError:
            raise ModelNotFoundError(
                f"no model {ref!r}: not configured in {self.config.path.name} "
                f"({', '.join(self.config.models)}) and not a registry id or alias; see `speakfeed models list`"
            ) from None

    def with_spec(self, name: str, **changes: Any) -> BaseModel:
        """A fresh (uncached) model from a configured spec with some fields changed."""
        spec = replace(self._spec(name), **changes)
        return MODEL_TYPES[spec.type](spec, self.context)
