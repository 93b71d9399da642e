"""The classifier types the trainer offers, their editable hyperparameters and validation.

Each type maps to a scikit-learn estimator; `param_specs` describes the parameters worth editing
(with ranges and defaults) so the Train tab can generate its form without importing sklearn.
`validate_hyperparameters` checks names against the estimator's own `get_params()` and values
against a pydantic schema built from the specs before any training work starts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Mapping, NoReturn

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


_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _from_cli(spec: ParamSpec) -> Callable[[Any], Any]:
    """Before pydantic: CLI text 'none'/'null' for a parameter that takes None, 'yes'/'no' for a flag.

    Booleans are refused for numbers (pydantic's lax int would take True as 1).
    """
    takes_none = spec.kind == "int_or_none" or None in spec.choices

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if takes_none and text.lower() in ("none", "null"):
                return None
            if spec.kind == "bool" and text.lower() in _TRUE + _FALSE:
                return text.lower() in _TRUE
            if spec.kind == "choice" and text in [str(c) for c in spec.choices]:
                return next(c for c in spec.choices if str(c) == text)
            return text
        if isinstance(value, bool) and spec.kind in ("int", "int_or_none", "float"):
            raise ValueError("a flag, not a number")
        return value

    return convert


def _describe(spec: ParamSpec) -> str:
    if spec.kind == "choice":
        return "one of " + ", ".join("None" if c is None else str(c) for c in spec.choices)
    if spec.kind == "bool":
        return "true or false"
    what = "a number" if spec.kind == "float" else "a whole number"
    text = f"{what} from {spec.low:g} to {spec.high:g}"
    return text + " (or None)" if spec.kind == "int_or_none" else text


def _annotation(spec: ParamSpec) -> Any:
    from typing import Annotated, Literal, Optional

    from pydantic import Field

    if spec.kind == "choice":
        return Literal[spec.choices]
    if spec.kind == "bool":
        return bool
    number = Annotated[float if spec.kind == "float" else int, Field(ge=spec.low, le=spec.high, allow_inf_nan=False)]
    return Optional[number] if spec.kind == "int_or_none" else number


@functools.cache
def hyperparameter_schema(model_type: str) -> type:
    """The pydantic schema of a type's curated hyperparameters, built from its ParamSpecs on first use.

    (The Train tab imports this module at start-up; pydantic is imported only when a value is checked.)
    """
    from typing import Annotated

    from pydantic import BeforeValidator, ConfigDict, Field, create_model

    from speakfeed_gui.core.settings.schema import Schema

    _check_type(model_type)
    fields = {
        spec.name: (Annotated[_annotation(spec), BeforeValidator(_from_cli(spec))],
                    Field(default=spec.default, description=_describe(spec)))
        for spec in _SPECS[model_type][1]
    }
    config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True)
    base = type("HyperparameterSchema", (Schema,), {"model_config": config, "__module__": __name__})
    return create_model(f"{model_type}_hyperparameters", __base__=base, **fields)


_RANGE_ERRORS = ("greater_than_equal", "less_than_equal")


def _raise(model_type: str, exc: Any, data: Mapping[str, Any]) -> NoReturn:
    """The first problem of a pydantic ValidationError as one line; a number out of range or a choice
    not offered in today's words."""
    from speakfeed_gui.core.settings.schema import first_problem, safe_repr

    where, message = first_problem(exc, hyperparameter_schema(model_type), data)
    spec = next((s for s in _SPECS[model_type][1] if s.name == where), None)
    kind = next((e["type"] for e in exc.errors() if e["loc"][:1] == (where,)), "")
    value = data.get(where)
    if spec is not None and kind in _RANGE_ERRORS:
        message = f"{value} is out of range; allowed {spec.low:g} to {spec.high:g}"
    elif spec is not None and kind == "literal_error":
        message = f"{safe_repr(value)} is not allowed; choose {_describe(spec)}"
    raise HyperparameterError(f"{model_type}.{where}: {message}") from None


def check_hyperparameter(model_type: str, name: str, value: Any) -> Any:
    """One curated hyperparameter checked alone (the Train tab's form field), returns the typed value."""
    from pydantic import ValidationError

    schema = hyperparameter_schema(model_type)
    try:
        validated = schema.__pydantic_validator__.validate_assignment(schema.model_construct(), name, value)
    except ValidationError as exc:
        _raise(model_type, exc, {name: value})
    return getattr(validated, name)


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
    from pydantic import ValidationError

    curated = {k: v for k, v in (params or {}).items() if k in specs}
    try:
        result.update(hyperparameter_schema(model_type).model_validate(curated).model_dump())
    except ValidationError as exc:
        _raise(model_type, exc, curated)
    for name, value in extra.items():
        result[name] = _parse_scalar(value)
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
