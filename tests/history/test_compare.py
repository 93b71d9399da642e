"""Model comparison: sections of rows with "differs" flags, confusion matrices, extra evaluations; the CLI."""

from __future__ import annotations

import json

import pytest

from speakfeed_gui.cli import main
from speakfeed_gui.core.errors import RegistryError
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.registry.compare import compare_models
from tests.history.fixtures import two_models, two_models_template  # noqa: F401  (fixtures)


def test_compare_lines_up_two_trained_models(two_models):
    ws, (a, b) = two_models
    result = compare_models(ModelRegistry(ws.registry_path), [a, b[:8]])
    assert [m["id"] for m in result.models] == [a, b]
    assert [m["type"] for m in result.models] == ["logistic_regression", "random_forest"]
    hyper = {r.key: r for r in result.rows("hyperparameters")}
    assert hyper["model type"].differs and hyper["C"].values[0] == 2.0 and hyper["C"].values[1] is None
    assert hyper["n_estimators"].values == [None, 20]
    training = {r.key: r for r in result.rows("training")}
    assert not training["clips"].differs and training["clips"].values == [12, 12]  # the same data
    assert training["split"].values == ["speaker-independent"] * 2
    only = result.rows("training", only_differences=True)
    assert "clips" not in {r.key for r in only}
    metrics = {r.key: r for r in result.rows("metrics")}
    assert all(0.0 <= v <= 1.0 for v in metrics["accuracy"].values)
    extra = {r.key: r.values for r in result.rows("extra evaluations")}
    assert extra == {"emodb.accuracy": [None, 0.41], "emodb.macro_f1": [None, 0.37], "emodb.n_clips": [None, 387]}
    for confusion in result.confusion:
        assert len(confusion["matrix"]) == len(confusion["labels"]) == 3
        assert sum(map(sum, confusion["matrix"])) > 0


def test_compare_needs_two_distinct_models(two_models):
    ws, (a, _b) = two_models
    registry = ModelRegistry(ws.registry_path)
    with pytest.raises(RegistryError, match="two or more"):
        compare_models(registry, [a])
    with pytest.raises(RegistryError, match="already in the comparison"):
        compare_models(registry, [a, a[:8]])


def test_cli_models_compare_json_and_table(two_models, capsys):
    ws, (a, b) = two_models
    args = ["--workspace", str(ws.root), "models", "compare"]
    assert main([*args, a, b, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [m["id"] for m in data["models"]] == [a, b]
    assert set(data["sections"]) == {"metrics", "hyperparameters", "training", "extra evaluations"}
    row = next(r for r in data["sections"]["hyperparameters"] if r["key"] == "model type")
    assert row == {"key": "model type", "values": ["logistic_regression", "random_forest"], "differs": True}
    assert main([*args, a, b, "--only-differences"]) == 0
    out = capsys.readouterr().out
    assert "model type" in out and "confusion matrix" in out and "speakers" not in out
    assert main([*args, a, "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("speakfeed: error: no model 'nope'") and "\n" not in err
