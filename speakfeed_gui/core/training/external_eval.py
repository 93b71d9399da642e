"""Evaluations beyond a model's own held-out split, kept in its metadata as `extra_evaluations`.

Two kinds, one record shape (UAR, accuracy, macro-F1, per-class figures, confusion matrix):
- "dataset": a registered model asked about a labelled dataset it never saw (`evaluate_on_dataset`),
  e.g. a corpus in another language, with a label mapping onto the model's labels;
- "leave-one-speaker-out": the speaker-independent estimate of a training recipe on its own data
  (`leave_one_speaker_out`), every speaker predicted by a model that never heard them.
Records are appended through `ModelRegistry.update_metadata`, so the metadata file is replaced
atomically under the registry lock and the registry's sha256 of it stays true.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from speakfeed_gui.core.errors import DatasetError, SpeakFeedError
from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel, no_progress
from speakfeed_gui.core.settings.workspace import Workspace, resolve_workspace

log = logging.getLogger(__name__)

EXTRA_KEY = "extra_evaluations"
KIND_DATASET = "dataset"
KIND_LOSO = "leave-one-speaker-out"


def score(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """The trainer's evaluation figures plus UAR (macro recall over the labels the data holds)."""
    from speakfeed_gui.core.training.evaluation import evaluate

    result = evaluate(y_true, y_pred, labels)
    present = [label for label in labels if result["per_class"][label]["support"] > 0]
    result["uar"] = float(np.mean([result["per_class"][label]["recall"] for label in present])) if present else 0.0
    return result


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _featurize(clips: Sequence[Any], ws: Workspace, progress: ProgressCallback, cancel: CancelToken | None,
               feature_set: Any, metadata: Mapping[str, Any]) -> np.ndarray:
    """The model's own features of the clips, normalised per speaker when the model was trained so (each
    speaker of the dataset by its own clips, as in leave-one-speaker-out)."""
    from speakfeed_gui.core.features.batch import featurize_files
    from speakfeed_gui.core.features.normalization import NormalizationSpec, zscore_by_speaker
    from speakfeed_gui.core.training.trainer import _writable_cache

    X = featurize_files([c.path for c in clips], cache_dir=_writable_cache(ws), progress=progress, cancel=cancel,
                        feature_set=feature_set)
    if NormalizationSpec.from_metadata(metadata).kind == "speaker":
        X = zscore_by_speaker(X, [c.speaker for c in clips])
    return X


def _usable(dataset_path: str | Path, label_map: Mapping[str, str] | None, skip_bad: bool,
            progress: ProgressCallback, cancel: CancelToken | None,
            model_labels: Sequence[str] | None = None) -> tuple[Any, Any, list[Any]]:
    """Load (mapped) and check the dataset; with `model_labels`, refuse labels the model cannot predict first."""
    from speakfeed_gui.core.training.datasets import check_dataset, load_dataset, usable_clips

    dataset = load_dataset(dataset_path, label_map)
    foreign = sorted({c.label for c in dataset.clips} - set(model_labels)) if model_labels is not None else []
    if foreign:
        raise DatasetError(
            f"{dataset.source}: label {foreign[0]!r} is not one the model predicts ({', '.join(model_labels or ())}); "
            f"map it with --map {foreign[0]}=LABEL"
        )
    report = check_dataset(dataset, progress=progress, cancel=cancel)
    return dataset, report, usable_clips(report, skip_bad=skip_bad)


def _dataset_record(dataset: Any, report: Any, clips: Sequence[Any], label_map: Mapping[str, str] | None,
                    cancel: CancelToken | None) -> dict[str, Any]:
    from speakfeed_gui.core.training.versioning import dataset_fingerprint

    fingerprint = dataset_fingerprint(clips, dataset.root, cancel=cancel)
    return {"source": str(dataset.source), "layout": dataset.layout, "sha256": fingerprint["sha256"],
            "n_clips": len(clips), "n_speakers": fingerprint["n_speakers"], "label_map": dict(label_map or {}),
            "skipped": len(report.problems)}


def leave_one_speaker_out(
    dataset_path: str | Path,
    model_type: str,
    hyperparameters: Mapping[str, Any],
    *,
    label_map: Mapping[str, str] | None = None,
    normalize: str = "none",
    workspace: Workspace | None = None,
    seed: int = 42,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """The trainer's pooled leave-one-speaker-out CV (training.evaluation.cross_validate) as an evaluation record.

    Every clip is predicted by a model trained on the other speakers only: the figure to quote for
    voices the model has never heard. Needs speakers for every clip and at least 3 of them.
    """
    from speakfeed_gui.core.training.estimators import make_estimator, validate_hyperparameters
    from speakfeed_gui.core.training.evaluation import cross_validate
    from speakfeed_gui.core.training.trainer import prepare_features
    from speakfeed_gui.core.training.versioning import cv_splits

    progress = progress or no_progress
    ws = workspace or resolve_workspace()
    params = validate_hyperparameters(model_type, hyperparameters)
    dataset, report, clips = _usable(dataset_path, label_map, False, progress, cancel)
    speakers = [c.speaker for c in clips]
    if None in speakers or len(set(speakers)) < 3:
        raise DatasetError(f"{dataset.source}: leave-one-speaker-out needs a speaker for every clip and at least 3 speakers")
    _, _, clips, X, y, speakers, _ = prepare_features(dataset_path, ws, normalize=normalize, progress=progress,
                                                      cancel=cancel, label_map=label_map)
    folds = cv_splits(list(y), speakers, folds="loso", seed=seed)
    progress("evaluate", 0, 1, f"leave-one-speaker-out over {len(folds)} speakers")
    record = cross_validate(lambda y_fold: make_estimator(model_type, params, seed, y_fold), X, y, folds,
                            speakers=speakers, scheme="leave-one-speaker-out")
    check_cancel(cancel)
    progress("evaluate", 1, 1, f"UAR {record['macro_recall']:.3f}")
    record["uar"] = record["macro_recall"]
    record["per_speaker_uar"] = {s: v["uar"] for s, v in record["per_speaker"].items()}
    record.update(kind=KIND_LOSO, created_at=_now(), model_type=model_type, hyperparameters=params,
                  normalization=normalize, dataset=_dataset_record(dataset, report, clips, label_map, cancel))
    return record


def evaluate_on_dataset(
    model_ref: str,
    dataset_path: str | Path,
    *,
    label_map: Mapping[str, str] | None = None,
    workspace: Workspace | None = None,
    skip_bad: bool = False,
    store: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, Any]:
    """Ask a registered model about every clip of a labelled dataset; the record, stored in its metadata.

    Dataset labels (after `label_map`) must be labels the model predicts; otherwise one line names
    the label, the model's labels and how to map it.
    """
    from speakfeed_gui.core.models.audio_emotion import model_feature_set
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.registry.artifacts import load_from_metadata

    progress = progress or no_progress
    ws = workspace or resolve_workspace()
    registry = ModelRegistry(ws.registry_path)
    entry = registry.get_model_info(model_ref)
    if not entry.get("metadata_path"):
        raise DatasetError(f"model {entry['id']}: has no trained artifacts to evaluate")
    classifier, scaler, metadata = load_from_metadata(entry["metadata_path"], entry.get("metadata_sha256"))
    feature_set = model_feature_set(entry["id"], metadata)
    model_labels = [str(c) for c in classifier.classes_]
    dataset, report, clips = _usable(dataset_path, label_map, skip_bad, progress, cancel, model_labels)
    X = _featurize(clips, ws, progress, cancel, feature_set, metadata)
    check_cancel(cancel)
    progress("evaluate", 0, 1, f"predicting {len(clips)} clips")
    predicted = classifier.predict(scaler.transform(X))
    record = score([c.label for c in clips], [str(p) for p in predicted], model_labels)
    record.update(kind=KIND_DATASET, created_at=_now(), dataset=_dataset_record(dataset, report, clips, label_map, cancel),
                  seen_in_training=_seen_in_training(Path(entry["metadata_path"]), metadata, clips))
    if record["seen_in_training"]:
        log.warning("%d of %d clips of %s were in the training set of model %s: not an evaluation on unseen data",
                    record["seen_in_training"], len(clips), dataset.source, entry["id"])
    progress("evaluate", 1, 1, f"UAR {record['uar']:.3f}, accuracy {record['accuracy']:.3f}")
    check_cancel(cancel)
    if store:
        add_evaluation(registry, entry["id"], record)
    return record


def _seen_in_training(metadata_path: Path, metadata: Mapping[str, Any], clips: Sequence[Any]) -> int:
    """How many of `clips` are files the model was trained on (its split manifest), so a score on them is flagged."""
    import os

    from speakfeed_gui.core.storage.atomic import read_json

    try:
        manifest = read_json(metadata_path.parent / metadata["artifacts"]["split"]["file"], "split manifest")
        source = Path(metadata["dataset"]["source"])
    except (KeyError, TypeError, SpeakFeedError):
        return 0  # a model from before manifests, or one whose manifest is gone: nothing to compare with
    root = source if source.is_dir() else source.parent
    trained = {os.path.abspath(root / item["path"]) for item in manifest.get("train") or () if isinstance(item, dict)}
    return sum(os.path.abspath(c.path) in trained for c in clips)


def add_evaluation(registry: Any, model_ref: str, record: Mapping[str, Any]) -> None:
    """Append one evaluation record to the model's metadata (atomic, under the registry lock)."""

    def change(metadata: dict[str, Any]) -> None:
        metadata.setdefault(EXTRA_KEY, []).append(dict(record))

    registry.update_metadata(model_ref, change)


def extra_evaluations(metadata: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The stored records, oldest first (empty for models from before this feature)."""
    records = metadata.get(EXTRA_KEY)
    return [r for r in records if isinstance(r, dict)] if isinstance(records, list) else []
