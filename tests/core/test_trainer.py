"""Training end to end on audible synthetic classes, in all three dataset layouts."""

import json
from pathlib import Path

import numpy as np
import pytest

from speakfeed_gui.core.errors import Cancelled, DatasetError, HyperparameterError
from speakfeed_gui.core.progress import CancelToken
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.training.trainer import list_models, load_model, run_training_experiment
from tests.synth import make_dataset

LABELS = ("calm", "energetic", "burned_out")


@pytest.fixture(scope="module")
def csv_dataset(tmp_path_factory) -> Path:
    return make_dataset(tmp_path_factory.mktemp("csv"), "csv", labels=LABELS, speakers=4, clips_per_speaker_label=3)


def _files(ws) -> list[Path]:
    return sorted(p for p in ws.models_dir.rglob("*") if p.is_file())


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["csv", "folders", "ravdess"])
def test_layouts_train_above_chance_and_reload(workspace, tmp_path, layout):
    dataset = make_dataset(tmp_path / layout, layout, labels=LABELS, speakers=4, clips_per_speaker_label=3)
    stages = []
    model_id = run_training_experiment(
        dataset, "random_forest", {"n_estimators": 60}, experiment_name=f"t-{layout}", workspace=workspace,
        progress=lambda stage, done, total, msg="": stages.append(stage),
    )
    entry = ModelRegistry(workspace.registry_path).get_model_info(model_id)
    chance = 1 / len(entry["labels"])
    assert entry["accuracy"] > chance + 0.25, entry
    assert entry["version"] == 1 and entry["experiment_name"] == f"t-{layout}"
    assert {"check", "features", "split", "train", "evaluate", "save"} <= set(stages)
    model, scaler, metadata = load_model(model_id, workspace)
    assert metadata["split"]["grouped"] is (layout != "folders")
    assert metadata["feature_set"]["names"] and metadata["versions"]["sklearn"]
    assert list_models(workspace)[0]["id"] == model_id


def test_metadata_artifacts_and_identical_predictions(workspace, csv_dataset):
    model_id = run_training_experiment(csv_dataset, "logistic_regression", experiment_name="lr", workspace=workspace, cv_folds=2)
    entry = ModelRegistry(workspace.registry_path).get_model_info(model_id)
    meta_path = Path(entry["metadata_path"])
    assert meta_path.parent == workspace.models_dir / "lr"
    assert Path(entry["model_path"]).name.startswith("logistic_regression_") and entry["model_path"].endswith(".skops")
    metadata = json.loads(meta_path.read_text())
    for key in ("model_name", "experiment_name", "model_info", "evaluation_results", "created_at", "model_path",
                "scaler_path", "metadata_path", "labels", "feature_set", "dataset", "split", "versions", "artifacts"):
        assert key in metadata, key
    ev = metadata["evaluation_results"]
    assert len(ev["confusion_matrix"]) == len(LABELS) and set(ev["per_class"]) == set(LABELS)
    assert ev["cv"]["folds"] == 2
    assert metadata["dataset"]["fingerprint"]["n_clips"] == 36
    split = json.loads((meta_path.parent / metadata["artifacts"]["split"]["file"]).read_text())
    train_speakers = {c["speaker"] for c in split["train"]}
    assert train_speakers and not train_speakers & {c["speaker"] for c in split["test"]}
    # the factory's audio_emotion backend gives the same probabilities as the loaded artifacts
    from speakfeed_gui.core.audio.decode import load_audio
    from speakfeed_gui.core.features.extractor import extract_features
    from speakfeed_gui.core.models.factory import ModelFactory

    clip = Path(split["test"][0]["path"])
    clip = clip if clip.is_absolute() else csv_dataset.parent / clip
    model = ModelFactory(workspace=workspace).resolve(model_id)
    clf, scaler, _ = load_model(model_id, workspace)
    expected = clf.predict_proba(scaler.transform(extract_features(load_audio(clip))[None]))[0]
    got = model.predict(str(clip)).probabilities
    assert np.allclose([got[c] for c in clf.classes_], expected)
    assert model.predict(str(clip)).probabilities == got


def test_second_training_uses_feature_cache_and_versions(workspace, csv_dataset):
    first = run_training_experiment(csv_dataset, "logistic_regression", experiment_name="same", workspace=workspace)
    cached = sorted(workspace.cache_dir.rglob("*.npy"))
    assert len(cached) == 36
    mtimes = [p.stat().st_mtime_ns for p in cached]
    second = run_training_experiment(csv_dataset, "logistic_regression", experiment_name="same", workspace=workspace)
    assert [p.stat().st_mtime_ns for p in cached] == mtimes
    registry = ModelRegistry(workspace.registry_path)
    assert registry.get_model_info(second)["version"] == 2 and registry.get_model_info(first)["version"] == 1


def test_cancel_leaves_nothing_behind(workspace, csv_dataset):
    token = CancelToken()

    def progress(stage, done, total, msg=""):
        if stage == "train" and done > 0:
            token.cancel()

    before = _files(workspace)
    with pytest.raises(Cancelled):
        run_training_experiment(csv_dataset, "random_forest", {"n_estimators": 200}, experiment_name="gone",
                                workspace=workspace, progress=progress, cancel=token)
    assert _files(workspace) == before and not (workspace.models_dir / "gone").exists()
    assert len(ModelRegistry(workspace.registry_path)) == 0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"hyperparameters": {"n_trees": 5}}, "unknown hyperparameter 'n_trees' for random_forest; valid:"),
        ({"hyperparameters": {"n_estimators": -3}}, "random_forest.n_estimators: -3 is out of range"),
        ({"model_type": "xgboost"}, "unknown model type 'xgboost'"),
        ({"experiment_name": "../escape"}, "experiment name '../escape'"),
        ({"test_fraction": 0.9}, "test fraction 0.9"),
        ({"cv_folds": 1}, "cross-validation folds 1"),
    ],
)
def test_bad_options_fail_before_any_work(workspace, csv_dataset, kwargs, message):
    args = {"model_type": "random_forest", **kwargs}
    with pytest.raises(HyperparameterError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        run_training_experiment(csv_dataset, args.pop("model_type"), workspace=workspace, **args)
    assert _files(workspace) == []


def test_missing_dataset_is_dataset_error(workspace, tmp_path):
    with pytest.raises(DatasetError):
        run_training_experiment(tmp_path / "nowhere.csv", "svm", workspace=workspace)


@pytest.mark.slow
@pytest.mark.parametrize("model_type", ["gradient_boosting", "svm", "mlp"])
def test_other_model_types_train(workspace, csv_dataset, model_type):
    params = {"n_estimators": 30} if model_type == "gradient_boosting" else None
    model_id = run_training_experiment(csv_dataset, model_type, params, workspace=workspace)
    _, _, metadata = load_model(model_id, workspace)
    assert metadata["model_info"]["model_type"] == model_type
    assert metadata["evaluation_results"]["accuracy"] > 1 / 3


def test_svm_calibration_adapts_to_small_labels(workspace, tmp_path):
    dataset = make_dataset(tmp_path / "small", "csv", labels=("calm", "energetic"), speakers=3, clips_per_speaker_label=1)
    model_id = run_training_experiment(dataset, "svm", workspace=workspace, group_by_speaker=False, test_fraction=0.34)
    _, _, metadata = load_model(model_id, workspace)
    assert metadata["model_info"]["model_type"] == "svm"
    # cross-validation folds train on 2 clips per label: each fold's calibration adapts too
    model_id = run_training_experiment(dataset, "svm", workspace=workspace, group_by_speaker=False, test_fraction=0.34,
                                       cv_folds=3)
    assert load_model(model_id, workspace)[2]["evaluation_results"]["cv"]["folds"] == 3
