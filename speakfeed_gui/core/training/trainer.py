"""Train an emotion classifier on a labelled audio dataset (the seed's ModelTrainer).

Stages: check the dataset -> extract features (cached) -> seeded, stratified, speaker-grouped
split -> StandardScaler (train split only) + classifier -> held-out evaluation (+ optional
cross-validation) -> save model, scaler, split manifest and metadata under
`models/<experiment>/` -> register. A progress callback and a cancel token make it drivable from
a GUI worker; cancelling or failing at any stage leaves no files and no registry entry.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from speakfeed_gui.core.errors import DatasetError
from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel, no_progress
from speakfeed_gui.core.settings.workspace import Workspace, resolve_workspace
from speakfeed_gui.core.training.estimators import make_estimator, validate_hyperparameters

log = logging.getLogger(__name__)


def check_option(name: str, value: Any) -> None:
    """One run option checked alone (a Train tab field), without inventing values for the others."""
    from pydantic import ValidationError

    if name == "cv_folds" and isinstance(value, str):  # "loso" (or a count typed as text)
        from speakfeed_gui.core.training.versioning import check_cv

        check_cv(value)
        return

    from speakfeed_gui.core.training.run_options import RunOptions, option_error

    try:
        RunOptions.__pydantic_validator__.validate_assignment(RunOptions.model_construct(), name, value)
    except ValidationError as exc:
        raise option_error(exc, {name: value}) from None


def validate_options(experiment_name: str, test_fraction: float, cv_folds: int | str, seed: int) -> None:
    """Reject bad run options before any work starts (`cv_folds`: 0 off, 2-20, or "loso")."""
    from pydantic import ValidationError

    from speakfeed_gui.core.training.run_options import RunOptions, option_error
    from speakfeed_gui.core.training.versioning import check_cv

    folds = 0 if isinstance(cv_folds, str) else cv_folds  # "loso" and CLI text are check_cv's
    values = {"experiment_name": experiment_name, "test_fraction": test_fraction, "cv_folds": folds, "seed": seed}
    try:
        RunOptions.model_validate(values)
    except ValidationError as exc:
        raise option_error(exc, values) from None
    check_cv(cv_folds)


SEED_METRIC_NAMES = {"precision": "macro_precision", "recall": "macro_recall", "f1_score": "macro_f1"}


def with_seed_metric_names(evaluation: dict[str, Any]) -> dict[str, Any]:
    """Add the seed's `precision`, `recall`, `f1_score` beside the macro_* figures they equal.

    Macro averages (each emotion counts the same, as UAR does), not sklearn's weighted default.
    """
    for seed_name, name in SEED_METRIC_NAMES.items():
        if name in evaluation:
            evaluation.setdefault(seed_name, evaluation[name])
    return evaluation


def _fit(estimator: Any, X: np.ndarray, y: np.ndarray, progress: ProgressCallback, cancel: CancelToken | None) -> Any:
    """Fit; tree ensembles grow in steps (warm_start) so progress shows and Cancel stops promptly."""
    total = estimator.get_params().get("n_estimators")
    if total and "warm_start" in estimator.get_params() and total >= 20:
        step = max(1, total // 10)
        with warnings.catch_warnings():
            # every step refits on the same data, so sklearn's class_weight caveat does not apply
            warnings.filterwarnings("ignore", message="class_weight presets", category=UserWarning)
            for n in list(range(step, total, step)) + [total]:
                check_cancel(cancel)
                estimator.set_params(warm_start=True, n_estimators=n).fit(X, y)
                progress("train", n, total, "estimators")
        return estimator.set_params(warm_start=False)
    progress("train", 0, 1, "fitting")
    estimator.fit(X, y)
    progress("train", 1, 1, "fitted")
    return estimator


def _writable_cache(ws: Workspace) -> Path | None:
    """The feature cache folder, or None (no caching) where it cannot be created, e.g. on a read-only disk."""
    from speakfeed_gui.core.features.batch import cache_folder
    from speakfeed_gui.core.storage.atomic import os_reason

    try:
        cache_folder(ws.cache_dir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.info("feature cache disabled: cannot create %s (%s)", ws.cache_dir, os_reason(exc))
        return None
    return ws.cache_dir


def _reserve_stem(folder: Path, model_type: str) -> tuple[str, Path]:
    """`<model_type>_<YYYYMMDD_HHMMSS>` (suffixed _2, _3... when taken), reserved against other processes.

    The reservation is a hidden file created with O_EXCL, so two app instances saving into one
    experiment in the same second never pick the same names; it is removed once the files are in place.
    """
    stem = f"{model_type}_{datetime.now().strftime('%Y%m%d_%H%M%S')}"
    n = 1
    while True:
        candidate = stem if n == 1 else f"{stem}_{n}"
        n += 1
        if any(folder.glob(f"{candidate}*")):
            continue
        reservation = folder / f".{candidate}.reserved"
        try:
            os.close(os.open(reservation, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        except FileExistsError:
            continue
        return candidate, reservation


def _save_and_register(
    ws: Workspace, experiment: str, model_type: str, estimator: Any, scaler: Any,
    metadata: dict[str, Any], manifest: dict[str, Any], entry: dict[str, Any],
) -> str:
    """Write artifacts to a staging folder, move them into place, then register; undo on failure.

    A full or read-only disk becomes one StorageError line; the registry and other models are untouched.
    """
    from speakfeed_gui.core.errors import StorageError
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.storage.atomic import atomic_write_json, fsync_dir, os_reason
    from speakfeed_gui.core.storage.hashing import sha256_file
    from speakfeed_gui.core.storage.skops_io import save_estimator

    folder = ws.models_dir / experiment
    created_folder = not folder.exists()
    staging = folder / f".staging-{uuid.uuid4().hex[:12]}"
    moved: list[Path] = []
    reservation: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        stem, reservation = _reserve_stem(folder, model_type)
        names = {"model": f"{stem}.skops", "scaler": f"{stem}_scaler.skops", "split": f"{stem}_split.json"}
        hashes = {"model": save_estimator(estimator, staging / names["model"]),
                  "scaler": save_estimator(scaler, staging / names["scaler"])}
        atomic_write_json(staging / names["split"], manifest)
        hashes["split"] = sha256_file(staging / names["split"])
        metadata["artifacts"] = {k: {"file": names[k], "sha256": hashes[k]} for k in names}
        metadata.update(model_name=stem, model_path=str(folder / names["model"]),
                        scaler_path=str(folder / names["scaler"]), metadata_path=str(folder / f"{stem}_metadata.json"))
        atomic_write_json(staging / f"{stem}_metadata.json", metadata)
        for name in [*names.values(), f"{stem}_metadata.json"]:
            os.replace(staging / name, folder / name)
            moved.append(folder / name)
        fsync_dir(folder)  # the files are durable before the registry entry that lists them
        entry.update(model_name=stem, model_path=metadata["model_path"], scaler_path=metadata["scaler_path"],
                     metadata_path=metadata["metadata_path"], metadata_sha256=sha256_file(folder / f"{stem}_metadata.json"),
                     extra_files=[str(folder / names["split"])])
        return ModelRegistry(ws.registry_path).register_model(entry)
    except BaseException as exc:
        for path in moved:
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StorageError(
                f"{folder}: cannot save the model ({os_reason(exc)}); nothing was registered"
            ) from None
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if reservation is not None:
            reservation.unlink(missing_ok=True)
        if created_folder:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only succeeds while empty (another process may be saving into it)


def prepare_features(
    dataset_path: str | Path, ws: Workspace, *, normalize: str = "none", skip_bad: bool = False,
    progress: ProgressCallback, cancel: CancelToken | None, feature_set: Any = None, cluster: str | None = None,
    label_map: Mapping[str, str] | None = None,
) -> tuple[Any, Any, list[Any], np.ndarray, np.ndarray, list[str | None], Any]:
    """Check the dataset, featurise it (cached) and normalise: (dataset, report, clips, X, y, speakers, spec).

    Shared by training and the hyperparameter search, so both see exactly the same numbers.
    `feature_set` (core/features/sets.py; default the built-in one) chooses the extractor; `label_map`
    renames labels while loading (core/training/datasets.py).
    """
    from speakfeed_gui.core.features.batch import featurize_files
    from speakfeed_gui.core.features.normalization import NormalizationSpec, check_normalize, zscore_by_speaker
    from speakfeed_gui.core.training.datasets import check_dataset, load_dataset, usable_clips

    check_normalize(normalize)
    dataset = load_dataset(dataset_path, label_map)
    report = check_dataset(dataset, progress=progress, cancel=cancel)
    clips = usable_clips(report, skip_bad=skip_bad)
    check_cancel(cancel)
    X = featurize_files([c.path for c in clips], cache_dir=_writable_cache(ws), progress=progress, cancel=cancel,
                        feature_set=feature_set, cluster=cluster)
    y = np.array([c.label for c in clips])
    speakers = [c.speaker for c in clips]
    normalization = NormalizationSpec.fit(normalize, X, speakers)
    if normalization.kind == "speaker":
        X = zscore_by_speaker(X, speakers)  # each speaker (held-out ones too) by its own clips only
    check_cancel(cancel)
    return dataset, report, clips, X, y, speakers, normalization


def run_training_experiment(
    dataset_path: str | Path,
    model_type: str,
    hyperparameters: Mapping[str, Any] | None = None,
    *,
    experiment_name: str | None = None,
    workspace: Workspace | None = None,
    test_fraction: float = 0.2,
    seed: int = 42,
    group_by_speaker: bool = True,
    cv_folds: int | str = 0,
    normalize: str = "none",
    skip_bad: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    description: str = "",
    tags: Iterable[str] = (),
    extra_metadata: Mapping[str, Any] | None = None,
    cluster: str | None = None,
    feature_extractor: str | Mapping[str, Any] | None = None,
    importance: bool = False,
    label_map: Mapping[str, str] | None = None,
) -> str:
    """Train, evaluate, save and register one model; returns its registry id.

    `cv_folds` "loso" pools leave-one-speaker-out predictions (metadata `evaluation_results.cv`);
    `normalize="speaker"` z-scores every feature within each speaker before scaling (stored with
    the model; prediction uses the speaker's running statistics, see core/features/normalization.py).
    `extra_metadata` adds sections to the metadata (e.g. the hyperparameter search's record);
    `cluster` (a Dask scheduler address) runs featurisation and the cross-validation folds on that
    cluster. `feature_extractor` names the feature set (default `sf-prosody-mfcc`; "ssl:<model>[@layer]"
    for a pretrained speech model's pooled hidden states, see core/features/sets.py). `importance`
    adds the permutation feature importance on the held-out split (evaluation_results.permutation_importance).
    `label_map` (old -> new label) is applied while loading and stored in the metadata's dataset section.
    """
    from speakfeed_gui.core.features.normalization import check_normalize
    from speakfeed_gui.core.features.sets import feature_set_from_spec
    from speakfeed_gui.core.training.versioning import check_cv, cv_splits, dataset_fingerprint, make_split

    progress = progress or no_progress
    ws = workspace or resolve_workspace()
    experiment = experiment_name or model_type
    params = validate_hyperparameters(model_type, hyperparameters)
    validate_options(experiment, test_fraction, cv_folds, seed)
    cv_folds = check_cv(cv_folds)
    check_normalize(normalize)
    from speakfeed_gui.core.features.compute import check_cluster

    check_cluster(cluster)
    feature_set = feature_set_from_spec(feature_extractor)

    dataset, report, clips, X, y, speakers, normalization = prepare_features(
        dataset_path, ws, normalize=normalize, skip_bad=skip_bad, progress=progress, cancel=cancel,
        feature_set=feature_set, cluster=cluster, label_map=label_map)

    progress("split", 0, 1, "splitting")
    split = make_split(list(y), speakers, test_fraction=test_fraction, seed=seed, group_by_speaker=group_by_speaker)
    progress("split", 1, 1, f"{len(split.train)} train / {len(split.test)} test clips"
             + (" (speaker-independent)" if split.grouped else ""))
    from sklearn.preprocessing import StandardScaler

    from speakfeed_gui.core.storage.versions import runtime_versions

    scaler = StandardScaler().fit(X[split.train])
    estimator = make_estimator(model_type, params, seed, y[split.train])
    try:
        estimator = _fit(estimator, scaler.transform(X[split.train]), y[split.train], progress, cancel)
    except ValueError as exc:
        raise DatasetError(f"{dataset.source}: training failed: {exc}") from None
    check_cancel(cancel)

    from speakfeed_gui.core.training.evaluation import cross_validate, evaluate

    progress("evaluate", 0, 1, "evaluating on held-out clips")
    labels = sorted(set(y.tolist()))
    evaluation = evaluate(y[split.test], estimator.predict(scaler.transform(X[split.test])), labels)
    if importance:
        from speakfeed_gui.core.training.evaluation import permutation_importance_of

        progress("evaluate", 0, 1, "permutation feature importance")
        evaluation["permutation_importance"] = permutation_importance_of(
            estimator, scaler.transform(X[split.test]), y[split.test], feature_set.names(), seed=seed)
        check_cancel(cancel)
    if cv_folds:
        progress("evaluate", 0, 1, "cross-validating" + (" (leave one speaker out)" if cv_folds == "loso" else ""))
        folds = cv_splits(list(y), speakers, folds=cv_folds, seed=seed, group_by_speaker=group_by_speaker)
        check_cancel(cancel)
        from speakfeed_gui.core.features.compute import compute_backend

        with compute_backend(cluster):
            evaluation["cv"] = cross_validate(
                lambda y_fold: make_estimator(model_type, params, seed, y_fold), X, y, folds,
                speakers=speakers, scheme="leave-one-speaker-out" if cv_folds == "loso" else f"{len(folds)}-fold",
                n_jobs=-1 if cluster else None,
            )
        evaluation["cv"]["normalization"] = normalization.kind
        check_cancel(cancel)
    summary = f"accuracy {evaluation['accuracy']:.3f}, macro-F1 {evaluation['macro_f1']:.3f}"
    if "cv" in evaluation:
        summary += f"; {evaluation['cv']['scheme']} UAR {evaluation['cv']['macro_recall']:.3f}"
    progress("evaluate", 1, 1, summary)
    check_cancel(cancel)

    progress("save", 0, 1, "saving artifacts")
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    root = dataset.source if dataset.source.is_dir() else dataset.source.parent
    fingerprint = dataset_fingerprint(clips, root)
    skipped = [{"path": str(p.path), "reason": p.reason} for p in report.problems] if skip_bad else []
    metadata: dict[str, Any] = {
        "experiment_name": experiment,
        "model_info": {"model_type": model_type, "hyperparameters": params, "classes": estimator.classes_.tolist()},
        "hyperparameters": params,  # the seed's place, beside model_info's
        "evaluation_results": with_seed_metric_names(evaluation),
        "created_at": created,
        "labels": estimator.classes_.tolist(),
        "feature_set": feature_set.to_metadata(),
        "normalization": normalization.to_metadata(),
        "dataset": {"source": str(dataset.source), "layout": dataset.layout, "fingerprint": fingerprint,
                    "skipped": skipped, "label_map": dict(label_map or {})},
        "split": {"grouped": split.grouped, "test_fraction": test_fraction, "seed": seed,
                  "n_train": len(split.train), "n_test": len(split.test)},
        "versions": runtime_versions(),
        "description": description,
        **dict(extra_metadata or {}),
    }
    entry = {
        "experiment_name": experiment, "model_type": model_type, "accuracy": evaluation["accuracy"],
        "macro_f1": evaluation["macro_f1"], "labels": metadata["labels"], "created_at": created,
        "description": description, "tags": list(tags), "speaker_independent": split.grouped,
        "dataset_sha256": fingerprint.get("sha256"), "n_clips": len(clips),
    }
    manifest = split.to_manifest(clips, root)
    model_id = _save_and_register(ws, experiment, model_type, estimator, scaler, metadata, manifest, entry)
    progress("save", 1, 1, f"registered model {model_id}")
    log.info("trained %s on %s: accuracy %.3f, id %s", model_type, dataset.source, evaluation["accuracy"], model_id)
    return model_id


def load_model(model_id: str, workspace: Workspace | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """(classifier, scaler, metadata) of a registered model, every artifact hash-checked."""
    from speakfeed_gui.core.registry.artifacts import load_registered

    return load_registered(model_id, workspace or resolve_workspace())


def list_models(workspace: Workspace | None = None) -> list[dict[str, Any]]:
    """Registry entries, newest first."""
    from speakfeed_gui.core.registry.api import ModelRegistry

    return ModelRegistry((workspace or resolve_workspace()).registry_path).list_models()
