"""`speakfeed train` and `speakfeed models ...` through the real CLI."""

import json

import pytest

from speakfeed_gui.cli import main
from tests.synth import make_dataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("d"), "csv", labels=("calm", "energetic"), speakers=3, clips_per_speaker_label=3)


def test_train_list_show_alias_verify_delete(workspace, dataset, capsys):
    ws = ["--workspace", str(workspace.root)]
    assert main([*ws, "train", str(dataset), "--model-type", "logistic_regression", "--param", "C=0.5", "--experiment", "cli"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("registered ") and "accuracy" in out
    model_id = out.split()[1]
    assert main([*ws, "models", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [e["id"] for e in listed] == [model_id]
    assert main([*ws, "models", "show", model_id[:8]]) == 0
    assert "'C': 0.5" in capsys.readouterr().out
    assert main([*ws, "models", "alias", "live", model_id[:8]]) == 0
    assert capsys.readouterr().out.strip() == f"live -> {model_id}"
    assert main([*ws, "predict", "--model", "live", "--json", str(next(dataset.parent.rglob("*.wav")))]) == 0
    assert json.loads(capsys.readouterr().out)["model_name"].startswith("logistic_regression_")
    assert main([*ws, "models", "verify", "live"]) == 0
    assert "all artifacts match" in capsys.readouterr().out
    assert main([*ws, "models", "delete", model_id]) == 0
    capsys.readouterr()
    assert main([*ws, "models", "show", model_id]) == 2
    assert "speakfeed models list" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--param", "n_estimators"], "--param 'n_estimators': expected NAME=VALUE"),
        (["--param", "bogus=1"], "unknown hyperparameter 'bogus'"),
        (["--param", "max_depth=deep"], "random_forest.max_depth: expected a whole number"),
        (["--experiment", "a/b"], "experiment name 'a/b'"),
    ],
)
def test_bad_train_input_one_line(workspace, dataset, capsys, argv, expected):
    assert main(["--workspace", str(workspace.root), "train", str(dataset), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and "\n" not in err
