"""A training run's options as a pydantic schema (`trainer.validate_options`, `trainer.check_option`)."""

from __future__ import annotations

from typing import Annotated, Any, Mapping

from pydantic import AfterValidator, ConfigDict, Field, StrictFloat, StrictInt, ValidationError

from speakfeed_gui.core.errors import HyperparameterError
from speakfeed_gui.core.settings.schema import Schema, first_problem, safe_repr


class RunOptions(Schema):
    """A training run's options; each field's title and description make its one-line message."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True)
    experiment_name: Annotated[str, Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", strict=True, title="experiment name",
        description="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit")] = "experiment"
    test_fraction: Annotated[StrictFloat, Field(
        ge=0.05, le=0.5, title="test fraction", description="expected a number from 0.05 to 0.5")] = 0.2
    cv_folds: Annotated[StrictInt, Field(
        ge=0, le=20, title="cross-validation folds", description="expected 0 (off) or 2 to 20"),
        AfterValidator(lambda n: n if n != 1 else _no_single_fold())] = 0
    seed: Annotated[StrictInt, Field(ge=0, title="seed", description="expected a whole number of at least 0")] = 42


def _no_single_fold() -> int:
    raise ValueError("one fold is no cross-validation")


def option_error(exc: ValidationError, values: Mapping[str, Any]) -> HyperparameterError:
    where, _ = first_problem(exc, RunOptions, values)
    field = RunOptions.model_fields[where]
    return HyperparameterError(f"{field.title} {safe_repr(values.get(where))}: {field.description}")
