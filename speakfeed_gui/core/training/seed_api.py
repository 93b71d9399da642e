"""The seed's training and registry classes, as thin faces over SpeakFeed's functions.

`ModelTrainer`, `ModelRegistry` and `DataVersionControl` are the names the seed's usage code
imports from `speakfeed_gui.core`. Each method calls the function the CLI and the Train tab use
(training.trainer, registry.api, training.datasets / versioning, features.batch): one
implementation, two ways in. The workspace is resolved as the CLI resolves it: SPEAKFEED_WORKSPACE,
else the current folder when it holds `config/models.yaml`, else the project folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from speakfeed_gui.core.errors import HyperparameterError
from speakfeed_gui.core.progress import CancelToken, ProgressCallback
from speakfeed_gui.core.registry.api import ModelRegistry as _Registry
from speakfeed_gui.core.settings.workspace import Workspace, resolve_workspace
from speakfeed_gui.core.training import trainer

__all__ = ["DataVersionControl", "ModelRegistry", "ModelTrainer", "PreparedDataset"]


def _workspace(workspace: Workspace | str | Path | None) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else resolve_workspace(workspace)


class ModelTrainer:
    """`ModelTrainer()`: train, save, load and list models in the workspace's `models/`."""

    def __init__(self, workspace: Workspace | str | Path | None = None) -> None:
        self.workspace = _workspace(workspace)

    def run_training_experiment(
        self, dataset_path: str | Path, model_type: str = "random_forest",
        hyperparameters: Mapping[str, Any] | None = None, **options: Any,
    ) -> str:
        """Train, evaluate, save and register; returns the model id. `options`: see trainer.run_training_experiment."""
        return trainer.run_training_experiment(
            dataset_path, model_type, hyperparameters, workspace=self.workspace, **options)

    def save_model(
        self, model: Any, model_info: Mapping[str, Any], evaluation_results: Mapping[str, Any],
        *, scaler: Any = None,
    ) -> str:
        """Save a fitted classifier (and its scaler: `scaler=` or `model_info["scaler"]`) and register it.

        The artifacts are skops files written and registered exactly as a trained model's; the
        metadata carries the seed's `model_info` and `evaluation_results`. Returns the model id.
        """
        info = dict(model_info)
        scaler = scaler if scaler is not None else info.pop("scaler", None)
        model_type = str(info.get("model_type") or type(model).__name__)
        experiment = str(info.get("experiment_name") or model_type)
        trainer.validate_options(experiment, 0.2, 0, 0)
        if not hasattr(model, "predict"):
            raise HyperparameterError(f"save_model: {type(model).__name__} is not a fitted classifier (no predict)")
        scaler = scaler if scaler is not None else _identity_scaler(getattr(model, "n_features_in_", 1))
        labels = [str(c) for c in getattr(model, "classes_", [])]
        info.setdefault("hyperparameters", _params(model))
        info.setdefault("classes", labels)
        evaluation = trainer.with_seed_metric_names(dict(evaluation_results))
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        metadata: dict[str, Any] = {
            "experiment_name": experiment, "model_info": {**info, "model_type": model_type},
            "hyperparameters": info["hyperparameters"], "evaluation_results": evaluation,
            "created_at": created, "labels": labels, "feature_set": _feature_set(model, info),
            "versions": _versions(), "description": str(info.get("description", "")),
        }
        entry = {
            "experiment_name": experiment, "model_type": model_type, "accuracy": evaluation.get("accuracy"),
            "macro_f1": evaluation.get("macro_f1", evaluation.get("f1_score")), "labels": labels,
            "created_at": created, "description": metadata["description"], "tags": list(info.get("tags", [])),
        }
        entry = {k: v for k, v in entry.items() if v is not None}  # no accuracy given: none listed
        return trainer._save_and_register(  # the trainer's own staging, rollback and registration
            self.workspace, experiment, model_type, model, scaler, metadata, dict(info.get("split", {})), entry)

    def load_model(self, model_id: str) -> tuple[Any, Any, dict[str, Any]]:
        """(model, scaler, metadata) by id, id prefix or alias; every file hash-checked."""
        return trainer.load_model(model_id, self.workspace)

    def list_models(self) -> list[dict[str, Any]]:
        """Registry entries, newest first."""
        return trainer.list_models(self.workspace)


def _identity_scaler(n_features: int) -> Any:
    """A fitted no-op scaler for a model saved without one (skops-safe, unlike a FunctionTransformer)."""
    from sklearn.preprocessing import StandardScaler

    return StandardScaler(with_mean=False, with_std=False).fit(np.zeros((1, n_features)))


def _params(model: Any) -> dict[str, Any]:
    params = model.get_params(deep=False) if hasattr(model, "get_params") else {}
    return {k: v for k, v in params.items() if isinstance(v, (str, int, float, bool, type(None)))}


def _feature_set(model: Any, info: Mapping[str, Any]) -> dict[str, Any]:
    """SpeakFeed's feature set when the model takes its vector (so live use works), else what info names."""
    from speakfeed_gui.core.features.extractor import FEATURE_SET_ID, FEATURE_SET_VERSION, feature_names

    if "feature_set" in info:
        return dict(info["feature_set"])
    names = feature_names()
    if getattr(model, "n_features_in_", len(names)) == len(names):
        return {"id": FEATURE_SET_ID, "version": FEATURE_SET_VERSION, "names": names}
    return {"id": "custom", "version": 0, "names": []}


def _versions() -> dict[str, Any]:
    from speakfeed_gui.core.storage.versions import runtime_versions

    return runtime_versions()


class ModelRegistry(_Registry):
    """`ModelRegistry()`: the workspace's registry, with the seed's `register_model(model_id, metadata)`.

    SpeakFeed ids are uuid4s the registry assigns; the seed's own `model_id` becomes an alias of the
    entry, so `get_model_info(model_id)` finds it. `register_model(entry)` (one mapping) is the house form.
    """

    def __init__(self, registry_path: str | Path | None = None, **options: Any) -> None:
        super().__init__(registry_path or resolve_workspace().registry_path, **options)

    def register_model(self, model_id: Any, metadata: Mapping[str, Any] | None = None) -> str:  # type: ignore[override]
        if metadata is None:
            return super().register_model(model_id)
        new_id = super().register_model(_entry_from_metadata(metadata))
        self.set_alias(str(model_id), new_id)
        return str(model_id)


_ENTRY_KEYS = ("experiment_name", "model_name", "model_path", "scaler_path", "metadata_path", "created_at",
               "description", "labels", "tags", "accuracy", "macro_f1", "metadata_sha256")


def _entry_from_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """A registry entry from the seed's metadata dict (what `*_metadata.json` holds)."""
    entry = {k: metadata[k] for k in _ENTRY_KEYS if k in metadata}
    info = metadata.get("model_info") if isinstance(metadata.get("model_info"), Mapping) else {}
    results = metadata.get("evaluation_results") if isinstance(metadata.get("evaluation_results"), Mapping) else {}
    entry.setdefault("model_type", metadata.get("model_type", info.get("model_type")))
    for key, seed_key in (("accuracy", "accuracy"), ("macro_f1", "f1_score")):
        if key not in entry and results.get(key, results.get(seed_key)) is not None:
            entry[key] = results.get(key, results.get(seed_key))
    return {k: v for k, v in entry.items() if v is not None}


@dataclass
class PreparedDataset:
    """A dataset's usable clips as a feature matrix: X (clips x features), y (labels), speakers."""

    X: np.ndarray
    y: np.ndarray
    speakers: list[str | None]
    clips: list[Any]
    root: Path
    fingerprint: dict[str, Any]


class DataVersionControl:
    """The seed's "prepare training data" step: check, featurise, fingerprint and split a dataset.

    The same functions the trainer runs (datasets.check_dataset, features.batch.featurize_files with
    the workspace cache, versioning.dataset_fingerprint / make_split).
    """

    def __init__(self, workspace: Workspace | str | Path | None = None) -> None:
        self.workspace = _workspace(workspace)

    def prepare_dataset(
        self, dataset_path: str | Path, *, skip_bad: bool = False,
        progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
    ) -> PreparedDataset:
        from speakfeed_gui.core.features.batch import featurize_files
        from speakfeed_gui.core.progress import no_progress
        from speakfeed_gui.core.training.datasets import check_dataset, load_dataset, usable_clips
        from speakfeed_gui.core.training.versioning import dataset_fingerprint

        progress = progress or no_progress
        dataset = load_dataset(dataset_path)
        clips = usable_clips(check_dataset(dataset, progress=progress, cancel=cancel), skip_bad=skip_bad)
        X = featurize_files([c.path for c in clips], cache_dir=trainer._writable_cache(self.workspace),
                            progress=progress, cancel=cancel)
        root = dataset.source if dataset.source.is_dir() else dataset.source.parent
        return PreparedDataset(X=X, y=np.array([c.label for c in clips]), speakers=[c.speaker for c in clips],
                               clips=clips, root=root, fingerprint=dataset_fingerprint(clips, root))

    def create_splits(
        self, data: PreparedDataset, *, test_size: float = 0.2, random_state: int = 42, group_by_speaker: bool = True,
    ) -> dict[str, Any]:
        """X_train, X_test, y_train, y_test and `split_metadata` (the manifest the trainer saves)."""
        from speakfeed_gui.core.training.versioning import make_split

        split = make_split(list(data.y), data.speakers, test_fraction=test_size, seed=random_state,
                           group_by_speaker=group_by_speaker)
        metadata = split.to_manifest(data.clips, data.root)
        metadata.update(n_train=len(split.train), n_test=len(split.test), dataset_fingerprint=data.fingerprint)
        return {
            "X_train": data.X[split.train], "X_test": data.X[split.test],
            "y_train": data.y[split.train], "y_test": data.y[split.test], "split_metadata": metadata,
        }

    def prepare_training_data(self, dataset_path: str | Path, **split_options: Any) -> dict[str, Any]:
        """`prepare_dataset` then `create_splits` in one call."""
        return self.create_splits(self.prepare_dataset(dataset_path), **split_options)
