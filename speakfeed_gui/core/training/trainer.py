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
import re
import shutil
import uuid
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from speakfeed_gui.core.errors import DatasetError, HyperparameterError
from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel, no_progress
from speakfeed_gui.core.settings.workspace import Workspace, resolve_workspace
from speakfeed_gui.core.training.estimators import make_estimator, validate_hyperparameters

log = logging.getLogger(__name__)
_EXPERIMENT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def validate_options(experiment_name: str, test_fraction: float, cv_folds: int, seed: int) -> None:
    """Reject bad run options before any work starts."""
    if not _EXPERIMENT_NAME.match(experiment_name):
        raise HyperparameterError(
            f"experiment name {experiment_name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0.05 <= test_fraction <= 0.5:
        raise HyperparameterError(f"test fraction {test_fraction!r}: expected a number from 0.05 to 0.5")
    if isinstance(cv_folds, bool) or not isinstance(cv_folds, int) or cv_folds == 1 or not 0 <= cv_folds <= 20:
        raise HyperparameterError(f"cross-validation folds {cv_folds!r}: expected 0 (off) or 2 to 20")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise HyperparameterError(f"seed {seed!r}: expected a whole number of at least 0")


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
    cv_folds: int = 0,
    skip_bad: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    description: str = "",
    tags: Iterable[str] = (),
    label_map: Mapping[str, str] | None = None,
) -> str:
    """Train, evaluate, save and register one model; returns its registry id.

    `label_map` (old -> new label) is applied while loading and stored in the metadata's dataset section.
    """
    from speakfeed_gui.core.features.batch import featurize_files
    from speakfeed_gui.core.features.extractor import FEATURE_SET_ID, FEATURE_SET_VERSION, feature_names
    from speakfeed_gui.core.training.datasets import check_dataset, load_dataset, usable_clips
    from speakfeed_gui.core.training.versioning import cv_splits, dataset_fingerprint, make_split

    progress = progress or no_progress
    ws = workspace or resolve_workspace()
    experiment = experiment_name or model_type
    params = validate_hyperparameters(model_type, hyperparameters)
    validate_options(experiment, test_fraction, cv_folds, seed)

    dataset = load_dataset(dataset_path, label_map)
    report = check_dataset(dataset, progress=progress, cancel=cancel)
    clips = usable_clips(report, skip_bad=skip_bad)
    check_cancel(cancel)
    X = featurize_files([c.path for c in clips], cache_dir=_writable_cache(ws), progress=progress, cancel=cancel)
    y = np.array([c.label for c in clips])
    speakers = [c.speaker for c in clips]
    check_cancel(cancel)

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
    if cv_folds:
        folds = cv_splits(list(y), speakers, folds=cv_folds, seed=seed, group_by_speaker=group_by_speaker)
        evaluation["cv"] = cross_validate(lambda y_fold: make_estimator(model_type, params, seed, y_fold), X, y, folds)
    progress("evaluate", 1, 1, f"accuracy {evaluation['accuracy']:.3f}, macro-F1 {evaluation['macro_f1']:.3f}")
    check_cancel(cancel)

    progress("save", 0, 1, "saving artifacts")
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    root = dataset.source if dataset.source.is_dir() else dataset.source.parent
    fingerprint = dataset_fingerprint(clips, root)
    skipped = [{"path": str(p.path), "reason": p.reason} for p in report.problems] if skip_bad else []
    metadata: dict[str, Any] = {
        "experiment_name": experiment,
        "model_info": {"model_type": model_type, "hyperparameters": params, "classes": estimator.classes_.tolist()},
        "evaluation_results": evaluation,
        "created_at": created,
        "labels": estimator.classes_.tolist(),
        "feature_set": {"id": FEATURE_SET_ID, "version": FEATURE_SET_VERSION, "names": feature_names()},
        "dataset": {"source": str(dataset.source), "layout": dataset.layout, "fingerprint": fingerprint,
                    "skipped": skipped, "label_map": dict(label_map or {})},
        "split": {"grouped": split.grouped, "test_fraction": test_fraction, "seed": seed,
                  "n_train": len(split.train), "n_test": len(split.test)},
        "versions": runtime_versions(),
        "description": description,
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
