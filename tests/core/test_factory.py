"""Model factory, the dummy model and the one prediction shape every backend returns."""

import numpy as np
import pytest
import yaml

from speakfeed_gui.core.errors import AudioError, ModelNotFoundError
from speakfeed_gui.core.models import MODEL_TYPES
from speakfeed_gui.core.models.factory import ModelFactory
from speakfeed_gui.core.models.prediction import UNCERTAIN, make_prediction


def test_types_registered_by_name():
    assert set(MODEL_TYPES) == {"dummy", "huggingface", "audio_emotion", "nemo"}


def test_list_info_and_default(workspace):
    factory = ModelFactory(workspace=workspace)
    assert factory.list_available_models() == ["emotion", "dummy", "text_sentiment"]
    info = factory.get_model_info("dummy")
    assert info["type"] == "dummy" and info["default"] is False and info["loaded"] is False
    assert factory.get_model_info("emotion")["default"] is True
    assert factory.get_model().name == "emotion"


def test_instances_are_cached(workspace):
    factory = ModelFactory(workspace=workspace)
    assert factory.get_model("dummy") is factory.get_model("dummy")


def test_unknown_model_lists_configured(workspace):
    factory = ModelFactory(workspace=workspace)
    with pytest.raises(ModelNotFoundError, match="configured models: emotion, dummy, text_sentiment"):
        factory.get_model("nope")


def test_dummy_is_deterministic_for_text_and_audio(workspace):
    model = ModelFactory(workspace=workspace).get_model("dummy")
    assert model.predict("hello there").probabilities == model.predict("hello there").probabilities
    assert model.predict("hello there").probabilities != model.predict("something else").probabilities
    tone = (0.1 * np.sin(np.linspace(0, 200, 16000))).astype(np.float32)
    a, b = model.predict(tone), model.predict(tone.copy())
    assert a.probabilities == b.probabilities and a.metadata["input"] == "audio"
    assert a.metadata["duration_s"] == 1.0


def test_dummy_reads_audio_files(workspace, tmp_path):
    import soundfile as sf

    path = tmp_path / "clip.wav"
    sf.write(path, np.zeros((8000, 2), dtype=np.float32) + 0.01, 8000)
    prediction = ModelFactory(workspace=workspace).get_model("dummy").predict(str(path))
    assert prediction.metadata["input"] == "audio" and prediction.metadata["duration_s"] == 1.0


def test_prediction_contract(workspace):
    model = ModelFactory(workspace=workspace).get_model("dummy")
    p = model.predict("Calm and steady.")
    assert set(p.probabilities) == set(model.labels)
    assert abs(sum(p.probabilities.values()) - 1) < 1e-9
    assert p.model_name == "dummy" and p.model_version == "1.0" and p.timestamp
    assert p.label in (*model.labels, UNCERTAIN)
    assert p.confidence == max(p.probabilities.values())
    assert set(p.to_dict()) == {"label", "confidence", "probabilities", "model_name", "model_version", "timestamp", "metadata"}


def test_threshold_gives_uncertain_but_keeps_probabilities():
    p = make_prediction({"a": 0.4, "b": 0.35, "c": 0.25}, model_name="m", model_version="1", threshold=0.5)
    assert p.label == UNCERTAIN and p.top_label == "a" and p.probabilities["a"] == pytest.approx(0.4)
    q = make_prediction({"a": 2, "b": 0}, model_name="m", model_version="1", threshold=0.5)
    assert q.label == "a" and q.confidence == 1.0 and q.timestamp is None


def test_inference_settings_switch_metadata_and_timestamps(workspace):
    data = yaml.safe_load(workspace.config_path.read_text())
    data["pipeline"]["inference"] = {"batch_size": 2, "enable_metadata": False, "add_timestamps": False}
    workspace.config_path.write_text(yaml.safe_dump(data))
    model = ModelFactory(workspace=workspace).get_model("dummy")
    p = model.predict("x")
    assert p.timestamp is None and p.metadata == {}


def test_batch_predict_matches_single_and_honours_batch_size(workspace):
    model = ModelFactory(workspace=workspace).get_model("dummy")
    calls = []
    original = model._predict_proba
    model._predict_proba = lambda batch: calls.append(len(batch)) or original(batch)
    texts = [f"sentence {i}" for i in range(19)]
    batched = model.batch_predict(texts)
    assert calls == [8, 8, 3]
    assert [b.probabilities for b in batched] == [model.predict(t).probabilities for t in texts]


def test_text_preprocessing_applies(workspace):
    model = ModelFactory(workspace=workspace).get_model("dummy")
    assert model.predict("HELLO   There").probabilities == model.predict("hello there").probabilities


def test_bad_audio_inputs(workspace, tmp_path):
    model = ModelFactory(workspace=workspace).get_model("dummy")
    with pytest.raises(AudioError, match="empty"):
        model.predict(np.zeros(0, dtype=np.float32))
    with pytest.raises(AudioError, match="NaN"):
        model.predict(np.array([0.1, np.nan], dtype=np.float32))
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match="bad.wav: not a readable audio file"):
        model.predict(bad)
