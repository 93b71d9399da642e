"""The classifier types the trainer offers, their editable hyperparameters and validation.

Each type maps to a scikit-learn estimator; `param_specs` describes the parameters worth editing
(with ranges and defaults) so the Train tab can generate its form without importing sklearn.
`validate_hyperparameters` checks names against the estimator's own `get_params()` and values
against the spec before any training work starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from speakfeed_gui.core.errors import DatasetError, HyperparameterError, first_line


@dataclass(frozen=True)
class ParamSpec:
    """One editable hyperparameter: kind is int, float, bool, choice or int_or_none."""

    name: str
    kind: str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] = ()
    log: bool = False
    help: str = ""


_SPECS: dict[str, tuple[str, tuple[ParamSpec, ...]]] = {
    "random_forest": ("sklearn.ensemble:RandomForestClassifier", (
        ParamSpec("n_estimators", "int", 200, 1, 2000, help="number of trees"),
        ParamSpec("max_depth", "int_or_none", None, 1, 200, help="tree depth limit (None: unlimited)"),
        ParamSpec("min_samples_leaf", "int", 1, 1, 1000, help="smallest leaf size"),
        ParamSpec("max_features", "choice", "sqrt", choices=("sqrt", "log2", None), help="features tried per split"),
        ParamSpec("class_weight", "choice", "balanced", choices=("balanced", "balanced_subsample", None)),
    )),
    "logistic_regression": ("sklearn.linear_model:LogisticRegression", (
        ParamSpec("C", "float", 1.0, 1e-4, 1e4, log=True, help="inverse regularisation strength"),
        ParamSpec("max_iter", "int", 2000, 10, 100000, help="solver iterations"),
        ParamSpec("class_weight", "choice", "balanced", choices=("balanced", None)),
    )),
    "gradient_boosting": ("sklearn.ensemble:GradientBoostingClassifier", (
        ParamSpec("n_estimators", "int", 150, 1, 1000, help="boosting stages (one tree per label each)"),
        ParamSpec("learning_rate", "float", 0.1, 1e-4, 1.0, log=True),
        ParamSpec("max_depth", "int", 3, 1, 50),
        ParamSpec("subsample", "float", 1.0, 0.05, 1.0, help="fraction of samples per stage"),
    )),
    "svm": ("sklearn.svm:SVC", (
        ParamSpec("C", "float", 1.0, 1e-4, 1e4, log=True, help="regularisation"),
        ParamSpec("kernel", "choice", "rbf", choices=("rbf", "linear", "poly", "sigmoid")),
        ParamSpec("gamma", "choice", "scale", choices=("scale", "auto")),
        ParamSpec("class_weight", "choice", "balanced", choices=("balanced", None)),
    )),
    "mlp": ("sklearn.neural_network:MLPClassifier", (
        ParamSpec("hidden_layer_sizes", "int", 64, 1, 4096, help="units in the hidden layer"),
        ParamSpec("alpha", "float", 1e-3, 1e-7, 10.0, log=True, help="L2 penalty"),
        ParamSpec("learning_rate_init", "float", 1e-3, 1e-6, 1.0, log=True),
        ParamSpec("max_iter", "int", 500, 10, 100000),
        ParamSpec("early_stopping", "bool", False),
    )),
}
ESTIMATOR_NAMES: tuple[str, ...] = tuple(_SPECS)
# Parameters the trainer sets itself; users may not override them.
_FIXED = {"random_forest": {"n_jobs": -1}}


def _check_type(model_type: str) -> None:
    if model_type not in _SPECS:
        raise HyperparameterError(f"unknown model type {model_type!r}; valid types: {', '.join(ESTIMATOR_NAMES)}")


def param_specs(model_type: str) -> list[ParamSpec]:
    _check_type(model_type)
    return list(_SPECS[model_type][1])


def _estimator_class(model_type: str) -> type:
    import importlib

    module, name = _SPECS[model_type][0].split(":")
    return getattr(importlib.import_module(module), name)


def _coerce(spec: ParamSpec, value: Any, where: str) -> Any:
    """Turn CLI strings into typed values and enforce the spec's range or choices."""
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("none", "null") and (spec.kind == "int_or_none" or None in spec.choices):
            return None
        if spec.kind == "bool":
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise HyperparameterError(f"{where}: expected true or false, got {value!r}")
            return text.lower() in ("true", "1", "yes")
        if spec.kind in ("int", "int_or_none"):
            try:
                value = int(text)
            except ValueError:
                raise HyperparameterError(f"{where}: expected a whole number, got {value!r}") from None
        elif spec.kind == "float":
            try:
                value = float(text)
            except ValueError:
                raise HyperparameterError(f"{where}: expected a number, got {value!r}") from None
        else:
            value = text
    if spec.kind == "choice":
        if value not in spec.choices:
            valid = ", ".join("None" if c is None else str(c) for c in spec.choices)
            raise HyperparameterError(f"{where}: {value!r} is not allowed; choose one of {valid}")
        return value
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise HyperparameterError(f"{where}: expected true or false, got {value!r}")
        return value
    if value is None and spec.kind == "int_or_none":
        return None
    integral = spec.kind in ("int", "int_or_none")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integral and not float(value).is_integer()):
        raise HyperparameterError(f"{where}: expected {'a whole number' if integral else 'a number'}, got {value!r}")
    value = int(value) if integral else float(value)
    if value != value or (spec.low is not None and value < spec.low) or (spec.high is not None and value > spec.high):
        raise HyperparameterError(f"{where}: {value} is out of range; allowed {spec.low:g} to {spec.high:g}")
    return value


def _parse_scalar(value: Any) -> Any:
    """CLI values for parameters without a spec: '4' -> 4, 'true' -> True, 'none' -> None."""
    if not isinstance(value, str):
        return value
    import yaml

    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        return value
    return parsed if isinstance(parsed, (int, float, bool)) or parsed is None else value


def validate_hyperparameters(model_type: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check and coerce user hyperparameters; returns the full set with defaults filled in.

    Names are checked against the spec list (the curated, ranged ones) and then against the
    estimator's own `get_params()` so any other sklearn parameter is accepted as-is.
    """
    _check_type(model_type)
    specs = {s.name: s for s in _SPECS[model_type][1]}
    result = {name: spec.default for name, spec in specs.items()}
    extra = {k: v for k, v in (params or {}).items() if k not in specs}
    if extra:
        valid = set(_estimator_class(model_type)().get_params()) - set(_FIXED.get(model_type, {}))
        for name in extra:
            if name not in valid:
                raise HyperparameterError(
                    f"unknown hyperparameter {name!r} for {model_type}; valid: {', '.join(sorted(valid))}"
                )
    for name, value in (params or {}).items():
        where = f"{model_type}.{name}"
        result[name] = _coerce(specs[name], value, where) if name in specs else _parse_scalar(value)
    if extra:
        _check_with_sklearn(model_type, {name: result[name] for name in extra})
    return result


def _check_with_sklearn(model_type: str, extra: Mapping[str, Any]) -> None:
    """Let scikit-learn's own parameter constraints judge the uncurated values now, not after featurising."""
    estimator = _estimator_class(model_type)(**extra)
    check = getattr(estimator, "_validate_params", None)  # sklearn >= 1.2; fit() checks the same later
    if check is None:
        return
    try:
        check()
    except (TypeError, ValueError) as exc:
        raise HyperparameterError(f"{model_type}: {first_line(exc)}") from None


def make_estimator(model_type: str, params: Mapping[str, Any], seed: int, y_train: Any = None) -> Any:
    """Instantiate the sklearn estimator with validated params, a fixed seed and fixed extras.

    `y_train`, the labels it will be fitted on, sizes the SVM's calibration folds.
    """
    cls = _estimator_class(model_type)
    kwargs = dict(params)
    if model_type == "mlp" and isinstance(kwargs.get("hidden_layer_sizes"), int):
        kwargs["hidden_layer_sizes"] = (kwargs["hidden_layer_sizes"],)
    kwargs.update(_FIXED.get(model_type, {}))
    if "random_state" in cls().get_params():
        kwargs.setdefault("random_state", seed)
    try:
        estimator = cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise HyperparameterError(f"{model_type}: {exc}") from None
    if model_type == "svm":  # SVC(probability=True) is deprecated: calibrate explicitly (sigmoid, 3-fold)
        from sklearn.calibration import CalibratedClassifierCV

        return CalibratedClassifierCV(estimator, ensemble=False, cv=calibration_folds(y_train))
    return estimator


def calibration_folds(y_train: Any, most: int = 3) -> int:
    """Folds for probability calibration: at most `most`, at most the rarest label's clip count."""
    if y_train is None:
        return most
    import numpy as np

    labels, counts = np.unique(np.asarray(y_train), return_counts=True)
    if counts.min() < 2:
        raise DatasetError(
            f"label {labels[counts.argmin()]!r} has only {counts.min()} training clip: the SVM's probability "
            "calibration needs at least 2 per label; add clips or choose another model type"
        )
    return int(min(most, counts.min()))
