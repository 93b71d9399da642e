"""A user's own .pkl model (the seed's audio_emotion model_path): opened only on the user's word.

A real RandomForest fitted on SpeakFeed's features of real EmoDB speech is pickled with joblib, as
the seed's storage would; models.yaml's `trust_pickle` and `speakfeed models import-pickle --trust`
are the two ways in, and without them one line says why and how.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import joblib
import pytest

from speakfeed_gui.core.errors import ModelLoadError
from tests.core.test_seed_api import SEED_YAML, SPEECH
from tests.reliability.helpers import assert_one_line, assert_refused, run_cli

PICKLE = "models/custom/audio_emotion_model.pkl"
CLIP = SPEECH / "wav" / "08a01Na.flac"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> tuple:
    """(classifier, scaler, a clip's features) trained on the 24 real clips."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.preprocessing import StandardScaler

    from speakfeed_gui.core import DataVersionControl
    from speakfeed_gui.core.settings.workspace import init_workspace

    data = DataVersionControl(init_workspace(tmp_path_factory.mktemp("ws"))).prepare_dataset(SPEECH / "dataset.csv")
    scaler = StandardScaler().fit(data.X)
    model = RandomForestClassifier(n_estimators=30, random_state=0).fit(scaler.transform(data.X), data.y)
    return model, scaler


@pytest.fixture
def project(tmp_path: Path, fitted) -> Path:
    folder = tmp_path / "project"
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "models.yaml").write_text(SEED_YAML)
    (folder / PICKLE).parent.mkdir(parents=True)
    model, scaler = fitted
    joblib.dump({"model": model, "scaler": scaler}, folder / PICKLE)
    shutil.copy(CLIP, folder / "clip.flac")
    return folder


def test_an_untrusted_pickle_is_not_opened_and_one_line_says_how(project: Path):
    from speakfeed_gui.core import ModelFactory

    model = ModelFactory(project / "config" / "models.yaml").get_model("audio_emotion")
    with pytest.raises(ModelLoadError) as caught:
        model.predict(str(project / "clip.flac"))
    assert_one_line(caught.value, "is a pickle", "trust_pickle: true", "speakfeed models import-pickle")


def test_trust_pickle_in_models_yaml_loads_the_users_model(project: Path, fitted):
    from speakfeed_gui.core import ModelFactory

    config = project / "config" / "models.yaml"
    config.write_text(SEED_YAML.replace("sample_rate: 16000}", "sample_rate: 16000, trust_pickle: true}"))
    result = ModelFactory(config).get_model("audio_emotion").predict(str(project / "clip.flac"))
    assert set(result.probabilities) == {"anger", "neutral", "sadness"}
    assert abs(sum(result.probabilities.values()) - 1) < 1e-6


def test_a_pickle_that_is_not_a_classifier_is_one_line(project: Path):
    from speakfeed_gui.core.storage.trusted_pickle import load_trusted_pickle

    joblib.dump({"weights": [1, 2, 3]}, project / "odd.pkl")
    with pytest.raises(ModelLoadError) as caught:
        load_trusted_pickle(project / "odd.pkl")
    assert_one_line(caught.value, "not a fitted classifier")


@pytest.mark.slow
def test_import_pickle_needs_trust_then_registers_a_skops_model(project: Path, fitted):
    refused = run_cli(project, "models", "import-pickle", project / PICKLE)
    assert_refused(refused, "is a pickle", "--trust")
    assert not (project / "models" / "model_registry.json").exists() or "imported" not in (
        project / "models" / "model_registry.json").read_text()

    done = run_cli(project, "models", "import-pickle", project / PICKLE, "--trust", "--alias", "mine")
    assert done.returncode == 0, done.stderr
    model_id = done.stdout.strip()
    from speakfeed_gui.core import ModelTrainer

    model, scaler, metadata = ModelTrainer(project).load_model("mine")
    assert metadata["model_info"]["model_type"] == "RandomForestClassifier"
    assert {a["file"].rsplit(".", 1)[1] for a in metadata["artifacts"].values()} == {"skops", "json"}
    original, original_scaler = fitted
    from speakfeed_gui.core.audio.decode import as_audio
    from speakfeed_gui.core.features.extractor import extract_features

    x = extract_features(as_audio(str(CLIP), 16000), 16000).reshape(1, -1)
    assert (model.predict_proba(scaler.transform(x)) == original.predict_proba(original_scaler.transform(x))).all()
    assert ModelTrainer(project).list_models()[0]["id"] == model_id
