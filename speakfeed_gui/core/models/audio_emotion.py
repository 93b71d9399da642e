"""Trained scikit-learn emotion classifier over the shared feature extractor.

`config.model_ref` names a registry id, id prefix or alias (e.g. `live`); `config.model_path`
names a model's `_metadata.json` directly. Features come from `core.features.extract_features`,
the same function the trainer used, so training and live prediction cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from speakfeed_gui.core.errors import ModelLoadError
from speakfeed_gui.core.models.base import BaseModel, register_model_type
from speakfeed_gui.core.settings.backends import backend_fields


def check_feature_set(name: str, metadata: Mapping[str, Any]) -> None:
    """Refuse a model whose features this SpeakFeed no longer computes (it would predict nonsense)."""
    from speakfeed_gui.core.features.extractor import FEATURE_SET_ID, FEATURE_SET_VERSION

    recorded = metadata.get("feature_set") or {}
    if (recorded.get("id"), recorded.get("version")) != (FEATURE_SET_ID, FEATURE_SET_VERSION):
        raise ModelLoadError(
            f"model {name}: trained on feature set {recorded.get('id')} v{recorded.get('version')}, "
            f"this SpeakFeed computes {FEATURE_SET_ID} v{FEATURE_SET_VERSION}; retrain it"
        )


@register_model_type("audio_emotion")
class AudioEmotionModel(BaseModel):
    input_kind = "audio"
    config_fields = backend_fields("audio_emotion")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._classifier: Any = None
        self._scaler: Any = None
        self.metadata: dict[str, Any] = {}
        self.model_id: str | None = None

    @property
    def labels(self) -> list[str]:
        if self._classifier is not None:
            return [str(c) for c in self._classifier.classes_]
        return list(self.spec.labels)

    def _load(self) -> None:
        from speakfeed_gui.core.registry.artifacts import load_from_metadata

        config = self.spec.config
        if config.get("model_path"):
            loaded = load_from_metadata(self.context.resolve(config["model_path"]))
        elif config.get("model_ref"):
            if self.context.registry_factory is None:
                raise ModelLoadError(f"model {self.name}: no registry available to resolve {config['model_ref']!r}")
            entry = self.context.registry_factory().get_model_info(config["model_ref"])
            self.model_id = entry["id"]
            loaded = load_from_metadata(entry["metadata_path"], entry.get("metadata_sha256"))
        else:
            raise ModelLoadError(f"model {self.name}: set config.model_ref (registry id or alias) or config.model_path")
        self._classifier, self._scaler, self.metadata = loaded
        self._check_feature_set()

    def _check_feature_set(self) -> None:
        check_feature_set(self.name, self.metadata)

    def _predict_proba(self, batch: list[Any]) -> list[Mapping[str, float]]:
        from speakfeed_gui.core.features.extractor import extract_features

        X = np.stack([extract_features(audio, self.sample_rate) for audio in batch])
        probs = self._classifier.predict_proba(self._scaler.transform(X))
        labels = self.labels
        return [dict(zip(labels, row.tolist())) for row in probs]

    def get_model_info(self) -> dict[str, Any]:
        info = super().get_model_info()
        if self.model_id:
            info["registry_id"] = self.model_id
        if self.metadata:
            info["evaluation"] = {k: self.metadata["evaluation_results"].get(k) for k in ("accuracy", "macro_f1")}
        return info
