"""Trained scikit-learn emotion classifier over the shared feature extractor.

`config.model_ref` names a registry id, id prefix or alias (e.g. `live`); `config.model_path`
names a model's `_metadata.json` directly, or (the seed's way) the user's own `.pkl`/`.joblib`
classifier, opened only with `trust_pickle: true` (storage.trusted_pickle says why). `sample_rate`
is the rate audio is resampled to before the features; `device` is accepted and unused (scikit-learn
runs on the CPU). Features come from `core.features.extract_features`,
the same function the trainer used, so training and live prediction cannot drift apart.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from speakfeed_gui.core.errors import ModelLoadError, SpeakFeedError
from speakfeed_gui.core.models.base import BaseModel, register_model_type
from speakfeed_gui.core.models.prediction import Prediction
from speakfeed_gui.core.settings.backends import backend_fields


def model_feature_set(name: str, metadata: Mapping[str, Any]) -> Any:
    """The feature set a trained model needs, rebuilt from its metadata (a core.features.sets.FeatureSet);
    refused when this SpeakFeed computes it differently (the model would predict nonsense)."""
    from speakfeed_gui.core.features.sets import feature_set_from_spec

    recorded = metadata.get("feature_set") or {}
    try:
        feature_set = feature_set_from_spec(recorded.get("extractor"))
    except SpeakFeedError as exc:
        raise ModelLoadError(f"model {name}: {exc}") from None
    current = (feature_set.id, feature_set.version)
    if (recorded.get("id"), recorded.get("version")) != current:
        raise ModelLoadError(
            f"model {name}: trained on feature set {recorded.get('id')} v{recorded.get('version')}, "
            f"this SpeakFeed computes {current[0]} v{current[1]}; retrain it"
        )
    return feature_set


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
        self.feature_set: Any = None  # core.features.sets.FeatureSet, from the metadata
        self.normalizer: Any = None  # SessionNormalizer of a model trained with per-speaker normalisation

    @property
    def labels(self) -> list[str]:
        if self._classifier is not None:
            return [str(c) for c in self._classifier.classes_]
        return list(self.spec.labels)

    @property
    def sample_rate(self) -> int:
        return int(self.spec.config.get("sample_rate") or super().sample_rate)

    def _load(self) -> None:
        from speakfeed_gui.core.registry.artifacts import load_from_metadata
        from speakfeed_gui.core.storage.trusted_pickle import is_pickle

        config = self.spec.config
        if config.get("model_path") and is_pickle(config["model_path"]):
            self._load_pickle(config["model_path"])
            return
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
        from speakfeed_gui.core.features.normalization import NormalizationSpec

        try:
            self.normalizer = NormalizationSpec.from_metadata(self.metadata).session()
        except (SpeakFeedError, TypeError, ValueError) as exc:
            raise ModelLoadError(f"model {self.name}: unusable 'normalization' in its metadata ({exc})") from None
        prior = len(self.normalizer.spec.prior_mean) if self.normalizer is not None else self.feature_set.dim
        if prior != self.feature_set.dim or (self.normalizer and len(self.normalizer.spec.prior_std) != prior):
            raise ModelLoadError(
                f"model {self.name}: its speaker normalisation has {prior} values, its features {self.feature_set.dim}")

    def start_session(self, calibration: list[Any] | None = None) -> None:
        """A new speaker starts: forget the running voice statistics, optionally calibrate on clips of them.

        Only models trained with per-speaker normalisation keep such statistics; for others this is a no-op.
        """
        if self.normalizer is None:
            return
        self.normalizer.reset()
        if calibration:
            self.normalizer.calibrate(np.stack([self.feature_set.extract(a, self.sample_rate) for a in calibration]))

    def _load_pickle(self, model_path: str) -> None:
        from speakfeed_gui.core.features.extractor import FEATURE_SET_ID, FEATURE_SET_VERSION, feature_names
        from speakfeed_gui.core.storage.trusted_pickle import load_trusted_pickle, untrusted_message

        if self.spec.config.get("trust_pickle") is not True:
            raise ModelLoadError(untrusted_message(model_path, f"model {self.name}"))
        classifier, scaler = load_trusted_pickle(self.context.resolve(model_path))
        expected = len(feature_names())
        got = getattr(classifier if scaler is None else scaler, "n_features_in_", expected)
        if got != expected:
            raise ModelLoadError(f"model {self.name}: {model_path} takes {got} features; SpeakFeed's "
                                 f"{FEATURE_SET_ID} v{FEATURE_SET_VERSION} computes {expected}: train it on those")
        from speakfeed_gui.core.features.sets import builtin

        self._classifier, self._scaler = classifier, scaler
        self.metadata = {"feature_set": {"id": FEATURE_SET_ID, "version": FEATURE_SET_VERSION}, "source": model_path}
        self.feature_set = builtin()

    def _check_feature_set(self) -> None:
        """Rebuild the model's feature set from its metadata; refuse one this SpeakFeed computes differently."""
        self.feature_set = model_feature_set(self.name, self.metadata)

    def batch_predict(self, items: Sequence[Any]) -> list[Prediction]:
        """Many recordings at once. A speaker-normalised model takes them as one voice: every recording is
        normalised by the statistics of the whole batch (as leave-one-speaker-out scores it), not only by
        those of the recordings before it, so the answers do not depend on the order of the files."""
        self.load()
        if self.normalizer is None or len(items) < 2:
            return super().batch_predict(items)
        prepared = [self.prepare(item) for item in items]
        X = np.stack([self.feature_set.extract(audio, self.sample_rate) for audio in prepared])
        self.normalizer.update(X)
        mean, std = self.normalizer.statistics()
        return [self._wrap(item, probs) for item, probs in zip(prepared, self._classify((X - mean) / std))]

    def _predict_proba(self, batch: list[Any]) -> list[Mapping[str, float]]:
        X = np.stack([self.feature_set.extract(audio, self.sample_rate) for audio in batch])
        if self.normalizer is not None:  # the speaker's statistics so far, this batch included
            X = self.normalizer.transform(X)
        return self._classify(X)

    def _classify(self, X: np.ndarray) -> list[Mapping[str, float]]:
        probs = self._classifier.predict_proba(X if self._scaler is None else self._scaler.transform(X))
        return [dict(zip(self.labels, row.tolist())) for row in probs]

    def get_model_info(self) -> dict[str, Any]:
        info = super().get_model_info()
        if self.model_id:
            info["registry_id"] = self.model_id
        if self.metadata.get("evaluation_results"):
            info["evaluation"] = {k: self.metadata["evaluation_results"].get(k) for k in ("accuracy", "macro_f1")}
            info["normalization"] = "speaker" if self.normalizer is not None else "none"
        return info
