"""The seed's models.yaml and usage code, run unchanged in a fresh folder (issue 14).

The folder holds only `config/models.yaml` (the seed's exact YAML) and a copy of real speech
(tests/data/emodb_seed: 24 EmoDB clips), as a new user who has the design document would set it up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SEED_YAML = """\
models:
  dummy:       {type: "dummy", version: "v1.0", confidence_threshold: 0.5,
                emotion_labels: ["calm", "anxious", "frustrated", "energetic", "burned_out"], description: "..."}
  huggingface: {type: "huggingface", model_name: "cardiffnlp/twitter-roberta-base-sentiment-latest", version: "v1.0",
                confidence_threshold: 0.5, config: {max_length: 512, truncation: true, padding: true, device: "auto", batch_size: 32}}
  audio_emotion: {type: "audio_emotion", model_name: "audio_emotion_classifier", version: "v1.0",
                config: {feature_extractor: "audio_features", model_path: "./models/custom/audio_emotion_model.pkl",
                         device: "auto", sample_rate: 16000}}
default_model: "dummy"
"""
SPEECH = Path(__file__).resolve().parents[1] / "data" / "emodb_seed"
REPO = Path(__file__).resolve().parents[2]

# The seed's "Model Factory Usage", as a user writes it.
FACTORY_SNIPPET = """\
from speakfeed_gui.core import ModelFactory

factory = ModelFactory("config/models.yaml")
print(factory.list_available_models())
model = factory.get_model()  # the default model
result = model.predict("I have a presentation tomorrow and I'm nervous")
print(result.label, result.confidence)
results = model.batch_predict(["I feel great", "I am so tired of this"])
print(len(results), factory.get_model_info("huggingface")["type"])
print(model.model_type, model.version, model.confidence_threshold, model.config["emotion_labels"][0])
"""

# The seed's "Model Training and Storage", as a user writes it.
TRAINING_SNIPPET = """\
from speakfeed_gui.core import ModelTrainer

trainer = ModelTrainer()
model_id = trainer.run_training_experiment(
    dataset_path="data/dataset.csv",
    model_type="random_forest",
    hyperparameters={"n_estimators": 40, "max_depth": 8},
)
model, scaler, metadata = trainer.load_model(model_id)
print(model_id, metadata["evaluation_results"]["accuracy"], metadata["evaluation_results"]["f1_score"])
print(len(trainer.list_models()))
"""


@pytest.fixture
def seed_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "my_project"
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "models.yaml").write_text(SEED_YAML, encoding="utf-8")
    shutil.copytree(SPEECH, folder / "data")
    return folder


def test_the_seed_yaml_loads_unchanged(seed_folder: Path):
    from speakfeed_gui.core.settings.config import load_config

    config = load_config(seed_folder / "config" / "models.yaml")
    assert config.default_model == "dummy" and list(config.models) == ["dummy", "huggingface", "audio_emotion"]
    hf = config.models["huggingface"]
    assert hf.config["model_name"] == "cardiffnlp/twitter-roberta-base-sentiment-latest"  # moved from the top level
    assert hf.config["max_length"] == 512 and hf.config["batch_size"] == 32 and hf.version == "v1.0"
    audio = config.models["audio_emotion"].config
    assert audio["feature_extractor"] == "audio_features" and audio["sample_rate"] == 16000
    assert audio["model_name"] == "audio_emotion_classifier"
    assert config.models["dummy"].confidence_threshold == 0.5


def test_model_name_in_config_still_works_and_a_conflict_is_one_line(seed_folder: Path):
    from speakfeed_gui.core.errors import ConfigError
    from speakfeed_gui.core.settings.config import load_config

    path = seed_folder / "config" / "models.yaml"
    path.write_text(SEED_YAML.replace('config: {max_length', 'config: {model_name: "other/model", max_length'))
    with pytest.raises(ConfigError, match=r"models\.huggingface\.model_name: given twice with different values"):
        load_config(path)
    path.write_text(SEED_YAML.replace('{type: "dummy", version', '{type: "dummy", model_name: x, version'))
    with pytest.raises(ConfigError, match=r"models\.dummy\.model_name: unknown key for type dummy"):
        load_config(path)


def test_the_factory_snippet_runs_in_the_fresh_folder(seed_folder: Path, monkeypatch, capsys):
    monkeypatch.chdir(seed_folder)
    exec(compile(FACTORY_SNIPPET, "factory_snippet", "exec"), {})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "['dummy', 'huggingface', 'audio_emotion']"
    label, confidence = lines[1].split()
    assert label in ("calm", "anxious", "frustrated", "energetic", "burned_out", "uncertain") and 0 < float(confidence) <= 1
    assert lines[2] == "2 huggingface" and lines[3] == "dummy v1.0 0.5 calm"

    from speakfeed_gui.core import ModelFactory

    assert ModelFactory("config/models.yaml").workspace.root == seed_folder  # the folder holding config/


def test_pipeline_config_has_the_seed_defaults_and_reads_a_workspace(seed_folder: Path):
    from speakfeed_gui.core import PipelineConfig

    defaults = PipelineConfig()
    assert defaults.inference_config == {"batch_size": 32, "enable_metadata": True, "add_timestamps": True}
    assert set(defaults.preprocessing_config) == {"lowercase", "remove_special_chars", "remove_stop_words"}
    assert defaults.inference().batch_size == 32
    read = PipelineConfig.from_workspace(seed_folder)
    assert read.model_config["default_model"] == "dummy" and read.inference_config["batch_size"] == 8


def _check_trained(folder: Path, model_id: str) -> dict:
    (metadata_path,) = (folder / "models" / "random_forest").glob("*_metadata.json")
    metadata = json.loads(metadata_path.read_text())
    results = metadata["evaluation_results"]
    for seed_name, ours in (("precision", "macro_precision"), ("recall", "macro_recall"), ("f1_score", "macro_f1")):
        assert results[seed_name] == results[ours]
    assert 0 <= results["accuracy"] <= 1
    assert metadata["model_info"]["model_type"] == "random_forest"
    assert metadata["hyperparameters"]["n_estimators"] == 40 and metadata["hyperparameters"]["max_depth"] == 8
    return metadata


@pytest.mark.slow
def test_the_training_snippet_runs_in_the_fresh_folder(seed_folder: Path, monkeypatch, capsys):
    monkeypatch.delenv("SPEAKFEED_WORKSPACE")  # the current folder is the workspace, as for a user
    monkeypatch.chdir(seed_folder)
    exec(compile(TRAINING_SNIPPET, "training_snippet", "exec"), {})
    first, count = capsys.readouterr().out.splitlines()
    model_id = first.split()[0]
    assert count == "1"
    metadata = _check_trained(seed_folder, model_id)
    assert metadata["labels"] == ["anger", "neutral", "sadness"]

    from speakfeed_gui.core import DataVersionControl, ModelRegistry, ModelTrainer

    assert ModelRegistry().get_model_info(model_id)["model_type"] == "random_forest"
    # the seed's prepare-and-split step, then its save_model and register_model
    data = DataVersionControl().prepare_training_data("data/dataset.csv", test_size=0.25, random_state=1)
    assert data["X_train"].shape[0] == len(data["y_train"]) == data["split_metadata"]["n_train"]
    assert data["split_metadata"]["grouped"] is True  # no speaker on both sides
    train_speakers = {c["speaker"] for c in data["split_metadata"]["train"]}
    assert not train_speakers & {c["speaker"] for c in data["split_metadata"]["test"]}
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=500).fit(data["X_train"], data["y_train"])
    accuracy = float((model.predict(data["X_test"]) == data["y_test"]).mean())
    trainer = ModelTrainer()
    saved = trainer.save_model(model, {"model_type": "logistic_regression"}, {"accuracy": accuracy})
    loaded, scaler, saved_meta = trainer.load_model(saved)
    assert (loaded.predict(scaler.transform(data["X_test"])) == model.predict(data["X_test"])).all()
    assert saved_meta["evaluation_results"]["accuracy"] == accuracy
    registry = ModelRegistry()
    assert registry.register_model("my_model_v1", saved_meta) == "my_model_v1"
    assert registry.get_model_info("my_model_v1")["model_type"] == "logistic_regression"
    assert len(registry.list_models()) == 3


@pytest.mark.slow
def test_both_snippets_in_a_subprocess_with_the_folder_as_cwd(seed_folder: Path):
    env = {k: v for k, v in os.environ.items() if k != "SPEAKFEED_WORKSPACE"}
    env["PYTHONPATH"] = str(REPO)
    script = FACTORY_SNIPPET + textwrap.dedent(TRAINING_SNIPPET)
    done = subprocess.run([sys.executable, "-c", script], cwd=seed_folder, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "['dummy', 'huggingface', 'audio_emotion']" and lines[-1] == "1"
    _check_trained(seed_folder, lines[-2].split()[0])


def test_importing_core_stays_light():
    """`import speakfeed_gui.core` loads none of the seed API's modules until a name is used."""
    code = ("import sys, speakfeed_gui.core as c; assert 'speakfeed_gui.core.models.factory' not in sys.modules; "
            "assert 'sklearn' not in sys.modules and 'pydantic' not in sys.modules; c.ModelFactory; "
            "assert 'speakfeed_gui.core.models.factory' in sys.modules; print(sorted(c.__all__))")
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": str(REPO)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "DataVersionControl" in done.stdout and "NeMoModel" in done.stdout
