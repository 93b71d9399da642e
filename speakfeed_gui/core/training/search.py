"""Hyperparameter search with speaker-grouped cross-validation (Optuna's TPE sampler).

The first trial is the model's defaults (with any fixed values); each further trial draws values
from the estimator's own `ParamSpec`s (core/training/estimators.py) and
scores them by the pooled UAR of `cross_validate` over speaker-grouped folds (leave one speaker
out by default), on features extracted once (cached) and normalised as asked. The best values
are then trained, evaluated and registered by the normal trainer, with the whole search record
(every trial's values and scores) in the model's metadata under `search`.

Progress is one ("search", trial, trials, message) per trial; the cancel token is checked before
and after every trial (a started trial finishes first), and a cancelled search registers nothing.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from speakfeed_gui.core.errors import HyperparameterError
from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel, no_progress
from speakfeed_gui.core.settings.workspace import Workspace, resolve_workspace
from speakfeed_gui.core.training.estimators import ParamSpec, make_estimator, param_specs, validate_hyperparameters

log = logging.getLogger(__name__)
MAX_TRIALS = 1000
# Solver budgets and switches are not worth searching; these stay at their defaults.
_NOT_SEARCHED = {"max_iter", "early_stopping"}
# Narrower ranges than the form allows, where the form's limits would waste trials.
_SEARCH_RANGE = {"n_estimators": (20, 400), "max_depth": (2, 40), "min_samples_leaf": (1, 20),
                 "hidden_layer_sizes": (8, 256), "C": (1e-3, 1e3)}


@dataclass
class Trial:
    number: int
    params: dict[str, Any]
    uar: float
    accuracy: float
    macro_f1: float
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "params": self.params, "uar": self.uar, "accuracy": self.accuracy,
                "macro_f1": self.macro_f1, "seconds": round(self.seconds, 3)}


@dataclass
class SearchResult:
    model_id: str
    best: Trial
    trials: list[Trial] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)


def searched_specs(model_type: str) -> list[ParamSpec]:
    """The specs a search varies: the editable ones except solver budgets and switches."""
    return [s for s in param_specs(model_type) if s.name not in _NOT_SEARCHED and s.kind != "bool"]


def suggest(trial: Any, spec: ParamSpec) -> Any:
    """One value for `spec` from an Optuna trial, inside the spec's (search) range."""
    low, high = _SEARCH_RANGE.get(spec.name, (spec.low, spec.high))
    if spec.kind == "choice":
        # Optuna stores choices as given; None is fine, but strings keep the record JSON-friendly
        return trial.suggest_categorical(spec.name, list(spec.choices))
    if spec.kind == "float":
        return trial.suggest_float(spec.name, float(low), float(high), log=spec.log or high / max(low, 1e-12) > 100)
    if spec.kind == "int_or_none" and trial.suggest_categorical(f"{spec.name}_unlimited", [True, False]):
        return None
    return trial.suggest_int(spec.name, int(low), int(high), log=high / max(low, 1) > 50)


def starting_point(specs: list[ParamSpec], values: Mapping[str, Any]) -> dict[str, Any]:
    """Optuna's parameters for `values` (the model's defaults): the first trial, so a search never
    reports a best below what training without one gives."""
    point: dict[str, Any] = {}
    for spec in specs:
        value = values.get(spec.name, spec.default)
        if spec.kind == "int_or_none":
            point[f"{spec.name}_unlimited"] = value is None
            if value is None:
                continue
        low, high = _SEARCH_RANGE.get(spec.name, (spec.low, spec.high))
        if spec.kind in ("int", "int_or_none", "float") and low is not None and not low <= value <= high:
            continue  # outside the searched range: let the sampler choose
        point[spec.name] = value
    return point


def run_search(
    dataset_path: str | Path,
    model_type: str,
    *,
    trials: int = 20,
    cv_folds: int | str = "loso",
    normalize: str = "none",
    fixed: Mapping[str, Any] | None = None,
    experiment_name: str | None = None,
    workspace: Workspace | None = None,
    seed: int = 42,
    skip_bad: bool = False,
    cluster: str | None = None,
    feature_extractor: str | Mapping[str, Any] | None = None,
    label_map: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    on_trial: Callable[[Trial], None] | None = None,
    description: str = "",
    tags: Iterable[str] = (),
) -> SearchResult:
    """Search `trials` value sets by pooled speaker-grouped CV UAR, then train and register the best."""
    import optuna

    from speakfeed_gui.core.features.compute import check_cluster, compute_backend
    from speakfeed_gui.core.features.sets import feature_set_from_spec
    from speakfeed_gui.core.training.evaluation import cross_validate
    from speakfeed_gui.core.training.trainer import prepare_features, run_training_experiment, validate_options
    from speakfeed_gui.core.training.versioning import check_cv, cv_splits

    if isinstance(trials, bool) or not isinstance(trials, int) or not 1 <= trials <= MAX_TRIALS:
        raise HyperparameterError(f"trials {trials!r}: expected a whole number from 1 to {MAX_TRIALS}")
    progress = progress or no_progress
    ws = workspace or resolve_workspace()
    cv_folds = check_cv(cv_folds)
    if not cv_folds:
        raise HyperparameterError("a search needs cross-validation: use loso or 2 to 20 folds")
    base = validate_hyperparameters(model_type, fixed)
    validate_options(experiment_name or model_type, 0.2, cv_folds, seed)
    specs = searched_specs(model_type)
    check_cluster(cluster)
    _, _, _, X, y, speakers, _ = prepare_features(
        dataset_path, ws, normalize=normalize, skip_bad=skip_bad, progress=progress, cancel=cancel,
        feature_set=feature_set_from_spec(feature_extractor), cluster=cluster, label_map=label_map)
    folds = cv_splits(list(y), speakers, folds=cv_folds, seed=seed)
    scheme = "leave-one-speaker-out" if cv_folds == "loso" else f"{len(folds)}-fold"

    done: list[Trial] = []

    def objective(trial: Any) -> float:
        check_cancel(cancel)
        params = dict(base)
        params.update({spec.name: suggest(trial, spec) for spec in specs})
        params = validate_hyperparameters(model_type, params)
        began = time.perf_counter()
        cv = cross_validate(lambda y_fold: make_estimator(model_type, params, seed, y_fold), X, y, folds,
                            n_jobs=-1 if cluster else None)
        result = Trial(trial.number + 1, params, cv["macro_recall"], cv["accuracy"], cv["macro_f1"],
                       time.perf_counter() - began)
        done.append(result)
        best = max(done, key=lambda t: t.uar)
        progress("search", len(done), trials, f"trial {result.number}: UAR {result.uar:.3f} (best {best.uar:.3f})")
        if on_trial is not None:
            on_trial(result)
        check_cancel(cancel)
        return result.uar

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.enqueue_trial(starting_point(specs, base), skip_if_exists=True)  # trial 1: the defaults (or given values)
    progress("search", 0, trials, f"{len(specs)} parameters, {scheme} folds, UAR")
    with compute_backend(cluster):  # the folds of every trial run on the cluster's workers when given one
        study.optimize(objective, n_trials=trials, catch=())
    best = max(done, key=lambda t: t.uar)
    record = {"sampler": f"optuna {optuna.__version__} TPE", "seed": seed, "metric": "macro_recall (UAR)",
              "cv": scheme, "normalization": normalize, "searched": [s.name for s in specs],
              "trials": [t.to_dict() for t in done], "best_trial": best.number}
    log.info("search over %s: best UAR %.3f in trial %d of %d", model_type, best.uar, best.number, len(done))
    model_id = run_training_experiment(
        dataset_path, model_type, best.params, experiment_name=experiment_name, workspace=ws, seed=seed,
        cv_folds=cv_folds, normalize=normalize, skip_bad=skip_bad, progress=progress, cancel=cancel,
        cluster=cluster, feature_extractor=feature_extractor, label_map=label_map,
        description=description or f"best of {len(done)} search trials ({scheme} UAR {best.uar:.3f})",
        tags=[*tags, "search"], extra_metadata={"search": record},
    )
    return SearchResult(model_id, best, done, record)
