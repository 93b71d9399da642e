"""Form fields checked one at a time by the core's schema: a bad field is flagged alone, in its own words."""

from __future__ import annotations

import pytest

from speakfeed_gui.core.errors import HyperparameterError
from speakfeed_gui.core.training.estimators import check_hyperparameter
from speakfeed_gui.core.training.trainer import check_option
from speakfeed_gui.ui.hyperparam_form import HyperparamForm
from speakfeed_gui.ui.validation import is_marked_invalid


def test_one_run_option_is_checked_without_the_others():
    check_option("seed", 0)
    with pytest.raises(HyperparameterError, match=r"^test fraction 0\.9: expected a number from 0\.05 to 0\.5$"):
        check_option("test_fraction", 0.9)
    with pytest.raises(HyperparameterError, match=r"^cross-validation folds 1: expected 0 \(off\) or 2 to 20$"):
        check_option("cv_folds", 1)


def test_one_hyperparameter_is_checked_alone_and_typed():
    assert check_hyperparameter("mlp", "early_stopping", "yes") is True
    assert check_hyperparameter("random_forest", "max_depth", "none") is None
    with pytest.raises(HyperparameterError, match=r"^svm\.kernel: 'cubic' is not allowed; choose one of rbf"):
        check_hyperparameter("svm", "kernel", "cubic")


def test_the_form_flags_only_the_field_that_is_wrong(qtbot):
    form = HyperparamForm()
    qtbot.addWidget(form)
    form.set_model_type("mlp")
    assert form.validate() == ""
    alpha = form.editors["alpha"].spin
    alpha.lineEdit().setText("100")  # above the range 1e-07 to 10: the spin box holds it as typed text
    problem = form.validate()
    assert problem.startswith("alpha: enter a number from 1e-07 to 10")
    assert is_marked_invalid(alpha)
    assert not any(is_marked_invalid(e.target()) for n, e in form.editors.items() if n != "alpha")
    alpha.setValue(0.01)
    assert form.validate() == "" and not is_marked_invalid(alpha)
