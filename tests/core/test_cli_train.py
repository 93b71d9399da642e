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


# -- real speech: label mapping, batch prediction, evaluate on unseen speakers (EmoDB clips) --------

EMO_MAP = ["anger=frustrated", "disgust=frustrated", "neutral=calm", "sadness=burned_out"]
EMO_LABELS = ["anger", "disgust", "neutral", "sadness"]


@pytest.fixture(scope="module")
def emodb_split(tmp_path_factory):
    """Training clips from three actors, evaluation clips from two others (real EmoDB files)."""
    from tests.emodb import write_subset

    folder = tmp_path_factory.mktemp("emodb")
    train = write_subset(folder, ["spk08", "spk10", "spk11"], EMO_LABELS, per_cell=3, name="train.csv")
    unseen = write_subset(folder, ["spk13", "spk14"], EMO_LABELS, per_cell=2, name="unseen.csv")
    return train, unseen


@pytest.fixture(scope="module")
def emodb_trained(tmp_path_factory, emodb_split):
    """A workspace with a logistic regression trained through `speakfeed train --map`, aliased live."""
    from speakfeed_gui.core.settings.workspace import init_workspace

    ws = init_workspace(tmp_path_factory.mktemp("ws"))
    args = ["--workspace", str(ws.root)]
    assert main([*args, "train", str(emodb_split[0]), "--model-type", "logistic_regression", "--experiment", "emo",
                 "--map", *EMO_MAP]) == 0
    assert main([*args, "models", "alias", "live", "emo"]) == 2  # an experiment name is not a model reference
    from speakfeed_gui.core.registry.api import ModelRegistry

    reg = ModelRegistry(ws.registry_path)
    (entry,) = reg.list_models()
    reg.set_alias("live", entry["id"])
    return ws, entry["id"]


def metadata_of(ws, ref="live"):
    from speakfeed_gui.core.registry.api import ModelRegistry

    return json.loads(open(ModelRegistry(ws.registry_path).get_model_info(ref)["metadata_path"]).read())


def test_train_with_map_learns_the_new_labels_and_stores_the_mapping(emodb_trained):
    ws, model_id = emodb_trained
    metadata = metadata_of(ws)
    assert metadata["labels"] == ["burned_out", "calm", "frustrated"]
    assert metadata["dataset"]["label_map"] == dict(pair.split("=") for pair in EMO_MAP)


def test_map_file_gives_the_same_labels_as_map_pairs(workspace, emodb_split, tmp_path, capsys):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("".join(f"{old}: {new}\n" for old, new in (p.split("=") for p in EMO_MAP)))
    assert main(["--workspace", str(workspace.root), "train", str(emodb_split[0]), "--model-type",
                 "logistic_regression", "--map-file", str(mapping)]) == 0
    assert metadata_of(workspace, capsys.readouterr().out.split()[1])["labels"] == ["burned_out", "calm", "frustrated"]


@pytest.mark.parametrize("argv, expected", [
    (["--map", "angry=frustrated"], "label mapping: 'angry' is not a label of"),
    (["--map", "anger"], "--map 'anger': expected OLD=NEW"),
    (["--map-file", "/nonexistent/map.yaml"], "/nonexistent/map.yaml: cannot read the label mapping"),
])
def test_bad_mapping_is_one_line_naming_the_label(workspace, emodb_split, capsys, argv, expected):
    assert main(["--workspace", str(workspace.root), "train", str(emodb_split[0]), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and "\n" not in err
    if "angry" in expected:
        assert "anger, disgust, neutral, sadness" in err
    assert not list(workspace.models_dir.glob("*/*.skops"))


def test_predict_many_files_json_list_in_input_order(emodb_trained, emodb_split, capsys):
    ws, model_id = emodb_trained
    from tests.emodb import emodb_rows

    clips = [r["path"] for r in emodb_rows() if r["speaker"] == "spk16"][:5]
    clips = clips + clips[:1]  # a repeated file is answered twice, in place
    assert main(["--workspace", str(ws.root), "predict", "--model", "live", "--json", *clips]) == 0
    batch = json.loads(capsys.readouterr().out)
    assert [p["input"] for p in batch] == clips
    assert batch[0]["label"] == batch[-1]["label"]
    assert batch[0]["probabilities"] == pytest.approx(batch[-1]["probabilities"])
    for clip, predicted in zip(clips[:2], batch):  # the same answers as one file at a time
        assert main(["--workspace", str(ws.root), "predict", "--model", "live", "--json", clip]) == 0
        single = json.loads(capsys.readouterr().out)
        assert single["label"] == predicted["label"]
        assert single["probabilities"] == pytest.approx(predicted["probabilities"])
    assert main(["--workspace", str(ws.root), "predict", "--model", "live", *clips[:3]]) == 0
    table = capsys.readouterr().out
    assert all(clip in table for clip in clips[:3])


def test_predict_refuses_a_non_audio_file_among_many_by_name(emodb_trained, tmp_path, capsys):
    ws, _ = emodb_trained
    from tests.emodb import emodb_rows

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert main(["--workspace", str(ws.root), "predict", "--model", "live", emodb_rows()[0]["path"], str(text)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(text) in err and "needs an existing audio file" in err and "\n" not in err


def test_evaluate_on_unseen_speakers_prints_and_stores_the_figures(emodb_trained, emodb_split, capsys):
    ws, model_id = emodb_trained
    args = ["--workspace", str(ws.root)]
    assert main([*args, "evaluate", "live", str(emodb_split[1]), "--map", *EMO_MAP]) == 0
    out = capsys.readouterr().out
    assert "UAR" in out and "macro-F1" in out and "confusion matrix" in out and "stored" in out
    (record,) = metadata_of(ws)["extra_evaluations"]
    assert record["kind"] == "dataset" and record["dataset"]["source"] == str(emodb_split[1])
    assert record["dataset"]["label_map"] == dict(pair.split("=") for pair in EMO_MAP)
    assert record["labels"] == ["burned_out", "calm", "frustrated"]
    assert sum(map(sum, record["confusion_matrix"])) == record["n_test"] == 16
    recalls = [record["per_class"][k]["recall"] for k in record["labels"]]
    assert record["uar"] == pytest.approx(sum(recalls) / 3)
    # the registry's hash follows the rewritten metadata: the model verifies and loads
    assert main([*args, "models", "verify", "live"]) == 0
    assert "all artifacts match" in capsys.readouterr().out
    assert main([*args, "evaluate", "live", str(emodb_split[1]), "--map", *EMO_MAP, "--json", "--no-store"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["confusion_matrix"] == record["confusion_matrix"]
    assert len(metadata_of(ws)["extra_evaluations"]) == 1
    assert record["seen_in_training"] == 0


def test_evaluate_on_the_training_clips_is_flagged(emodb_trained, emodb_split, capsys):
    ws, _ = emodb_trained
    assert main(["--workspace", str(ws.root), "evaluate", "live", str(emodb_split[0]), "--map", *EMO_MAP,
                 "--no-store"]) == 0
    out = capsys.readouterr().out
    n_train = metadata_of(ws)["split"]["n_train"]
    assert f"warning: {n_train} of these clips were in the model's training set" in out


def test_evaluate_without_a_mapping_names_the_label_the_model_lacks(emodb_trained, emodb_split, capsys):
    ws, _ = emodb_trained
    before = metadata_of(ws)
    assert main(["--workspace", str(ws.root), "evaluate", "live", str(emodb_split[1])]) == 2
    err = capsys.readouterr().err.strip()  # refused before any file is checked: no progress lines
    assert "label 'anger' is not one the model predicts (burned_out, calm, frustrated)" in err
    assert "--map anger=LABEL" in err and "\n" not in err
    assert metadata_of(ws) == before
