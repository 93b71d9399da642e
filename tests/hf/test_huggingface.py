"""The `huggingface` backend on tiny real models, through the factory and the CLI."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from speakfeed_gui.cli import main
from speakfeed_gui.core.audio.decode import write_wav
from speakfeed_gui.core.audio.devices import available_devices, resolve_device
from speakfeed_gui.core.errors import ConfigError, ModelLoadError
from tests.hf.conftest import hf_entry
from tests.hf.tiny_models import AUDIO_LABELS, TEXT_LABELS

TEXTS = ["i love this talk", "this is fine i guess", "i hate waiting it is awful", "some text", "great"]


def forward_inputs(model, key: str) -> list[tuple[int, ...]]:
    """Record the shape of `key` in every forward call of the real torch module."""
    shapes: list[tuple[int, ...]] = []
    model._model.register_forward_pre_hook(
        lambda module, args, kwargs: shapes.append(tuple(kwargs[key].shape)), with_kwargs=True
    )
    return shapes


def test_text_prediction_has_all_model_labels(factory_with, text_model_dir):
    factory = factory_with(sentiment=hf_entry(text_model_dir, ("a", "b"), task="text-classification"))
    model = factory.get_model("sentiment")
    assert model.input_kind == "text"
    assert model.labels == ["a", "b"]  # before loading: the YAML labels
    prediction = model.predict("I love this talk!")
    assert model.labels == list(TEXT_LABELS)  # after loading: the model's id2label
    assert set(prediction.probabilities) == set(TEXT_LABELS)
    assert math.isclose(sum(prediction.probabilities.values()), 1.0, abs_tol=1e-6)
    assert all(0 < p < 1 for p in prediction.probabilities.values())
    assert prediction.label in TEXT_LABELS
    assert factory_with(sentiment=hf_entry(text_model_dir, ("a", "b"))).get_model_info("sentiment")["device"] == "auto"
    assert factory.get_model_info("sentiment")["device"] == "cpu"  # the loaded, cached model shows what it runs on
    info = model.get_model_info()
    assert info["task"] == "text-classification"
    assert info["device"] == resolve_device("auto") == model.device
    assert info["model_path"] == str(text_model_dir)
    assert info["loaded"] is True


def test_label_map_renames_and_sums(factory_with, text_model_dir):
    factory = factory_with(
        raw=hf_entry(text_model_dir, TEXT_LABELS),
        mapped=hf_entry(text_model_dir, ("frustrated", "positive"),
                        label_map={"negative": "frustrated", "neutral": "frustrated"}),
    )
    raw = factory.get_model("raw").predict("this is fine").probabilities
    mapped_model = factory.get_model("mapped")
    mapped = mapped_model.predict("this is fine").probabilities
    assert mapped_model.labels == ["frustrated", "positive"]
    assert mapped["frustrated"] == pytest.approx(raw["negative"] + raw["neutral"], abs=1e-6)
    assert mapped["positive"] == pytest.approx(raw["positive"], abs=1e-6)


def test_unmapped_labels_are_kept(factory_with, text_model_dir):
    factory = factory_with(m=hf_entry(text_model_dir, TEXT_LABELS, label_map={"negative": "frustrated"}))
    assert set(factory.get_model("m").predict("great").probabilities) == {"frustrated", "neutral", "positive"}


def test_batch_predict_honours_batch_size(factory_with, text_model_dir):
    model = factory_with(m=hf_entry(text_model_dir, TEXT_LABELS, batch_size=2)).get_model("m").load()
    shapes = forward_inputs(model, "input_ids")
    predictions = model.batch_predict(TEXTS)
    assert len(predictions) == len(TEXTS)
    assert [s[0] for s in shapes] == [2, 2, 1]
    # batching does not change the answer: same text alone or in a batch
    alone = model.predict(TEXTS[2]).probabilities
    assert predictions[2].probabilities == pytest.approx(alone, abs=1e-5)


def test_padding_false_runs_texts_one_by_one(factory_with, text_model_dir):
    model = factory_with(m=hf_entry(text_model_dir, TEXT_LABELS, padding=False, batch_size=4)).get_model("m").load()
    shapes = forward_inputs(model, "input_ids")
    model.batch_predict(TEXTS[:3])
    assert [s[0] for s in shapes] == [1, 1, 1]


def test_max_length_truncates(factory_with, text_model_dir):
    model = factory_with(m=hf_entry(text_model_dir, TEXT_LABELS, max_length=6, truncation=True)).get_model("m").load()
    shapes = forward_inputs(model, "input_ids")
    model.predict("i love this talk it is great " * 5)
    assert shapes == [(1, 6)]


def test_audio_classifier_reads_an_8khz_file(factory_with, audio_model_dir, tmp_path):
    factory = factory_with(voice=hf_entry(audio_model_dir, AUDIO_LABELS, task="audio-classification"))
    model = factory.get_model("voice")
    assert model.input_kind == "audio"
    t = np.arange(8_000) / 8_000
    wav = tmp_path / "tone8k.wav"
    write_wav(wav, 0.3 * np.sin(2 * np.pi * 220 * t), rate=8_000)
    prediction = model.predict(wav)
    assert set(prediction.probabilities) == set(AUDIO_LABELS)
    assert math.isclose(sum(prediction.probabilities.values()), 1.0, abs_tol=1e-6)
    assert prediction.metadata["duration_s"] == pytest.approx(1.0, abs=0.01)  # resampled to the app's 16 kHz


def test_audio_is_resampled_to_the_extractor_rate(factory_with, audio_model_8k_dir):
    model = factory_with(v=hf_entry(audio_model_8k_dir, AUDIO_LABELS, task="audio-classification", batch_size=3))
    model = model.get_model("v").load()
    shapes = forward_inputs(model, "input_values")
    rng = np.random.default_rng(0)
    clips = [0.1 * rng.standard_normal(n).astype(np.float32) for n in (16_000, 8_000, 4_000)]
    predictions = model.batch_predict(clips)
    assert len(predictions) == 3
    assert shapes == [(3, 8_000)]  # one second at 16 kHz became 8,000 samples; shorter clips padded


def test_very_short_audio_is_padded(factory_with, audio_model_dir):
    model = factory_with(v=hf_entry(audio_model_dir, AUDIO_LABELS, task="audio-classification")).get_model("v")
    prediction = model.predict(np.full(50, 0.1, dtype=np.float32))
    assert set(prediction.probabilities) == set(AUDIO_LABELS)


def test_missing_hub_model_offline_is_one_line(factory_with, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = factory_with(s=hf_entry("cardiffnlp/speakfeed-not-downloaded", TEXT_LABELS)).get_model("s")
    with pytest.raises(ModelLoadError) as err:
        model.predict("hello")
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("model 'cardiffnlp/speakfeed-not-downloaded' is not downloaded and the hub is unreachable")
    assert "hf download cardiffnlp/speakfeed-not-downloaded" in message
    assert not model.is_loaded


def test_missing_hub_model_without_offline_flag_is_one_line(factory_with, monkeypatch):
    """No network here: a quick probe, not transformers' retries; with network the hub answers 404."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    model = factory_with(s=hf_entry("speakfeed-tests/no-such-model-xyz", TEXT_LABELS)).get_model("s")
    with pytest.raises(ModelLoadError, match="'speakfeed-tests/no-such-model-xyz'") as err:
        model.load()
    assert "\n" not in str(err.value)


def test_missing_local_folder_names_it(factory_with):
    model = factory_with(s=hf_entry("./models/hf/absent", TEXT_LABELS)).get_model("s")
    with pytest.raises(ModelLoadError, match=r"model folder .*models/hf/absent does not exist"):
        model.load()


def test_relative_folder_resolves_against_the_workspace(factory_with, text_model_dir):
    import shutil

    factory = factory_with(s=hf_entry("models/hf/sentiment", TEXT_LABELS))
    shutil.copytree(text_model_dir, factory.workspace.root / "models" / "hf" / "sentiment")
    assert set(factory.get_model("s").predict("great").probabilities) == set(TEXT_LABELS)


def test_folder_without_a_model_is_a_load_error(factory_with, tmp_path):
    (tmp_path / "empty").mkdir()
    model = factory_with(s=hf_entry(tmp_path / "empty", TEXT_LABELS)).get_model("s")
    with pytest.raises(ModelLoadError, match="cannot be loaded for text-classification") as err:
        model.load()
    assert "\n" not in str(err.value)


def test_transformers_not_installed_names_the_extra(factory_with, text_model_dir, monkeypatch):
    model = factory_with(s=hf_entry(text_model_dir, TEXT_LABELS)).get_model("s")
    monkeypatch.setitem(sys.modules, "transformers", None)  # what `import transformers` sees when absent
    with pytest.raises(ModelLoadError, match=r"pip install 'speakfeed\[hf\]'"):
        model.load()


def test_unknown_task_is_a_config_error(factory_with, text_model_dir):
    with pytest.raises(ConfigError, match="models.s.config.task: expected one of text-classification, audio"):
        factory_with(s=hf_entry(text_model_dir, TEXT_LABELS, task="summarization"))


def test_bad_label_map_value_is_a_config_error(factory_with, text_model_dir):
    factory = factory_with(s=hf_entry(text_model_dir, TEXT_LABELS, label_map={"negative": 3}))
    with pytest.raises(ConfigError, match="label_map.negative"):
        factory.get_model("s")


def test_bad_device_value_is_rejected_by_the_config(factory_with, text_model_dir):
    with pytest.raises(ConfigError, match="config.device: expected one of auto, cpu, cuda, mps"):
        factory_with(s=hf_entry(text_model_dir, TEXT_LABELS, device="gpu"))


def test_device_auto_picks_the_best_available():
    import torch

    assert resolve_device("auto") == available_devices()[0]
    assert resolve_device("cpu") == "cpu"
    if not torch.cuda.is_available():
        assert resolve_device("auto") in ("cpu", "mps")
        with pytest.raises(ModelLoadError, match="device 'cuda' is not available"):
            resolve_device("cuda")


def test_listing_models_does_not_import_transformers(tmp_path):
    import os
    import subprocess

    code = (
        "import sys; from speakfeed_gui.core.models.factory import ModelFactory; f = ModelFactory(); "
        "f.list_available_models(); f.get_model_info('text_sentiment'); "
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    env = {**os.environ, "SPEAKFEED_WORKSPACE": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "[]"


def test_cli_predict_with_a_huggingface_entry(add_models, text_model_dir, capsys):
    ws = add_models({"sentiment": hf_entry(text_model_dir, TEXT_LABELS)})
    code = main(["--workspace", str(ws.root), "predict", "--model", "sentiment", "some text"])
    out = capsys.readouterr().out
    assert code == 0
    assert "model: sentiment 0.1" in out
    assert any(f"label: {label}" in out for label in TEXT_LABELS)
    for label in TEXT_LABELS:
        assert label in out.split("label:", 1)[1]


def test_cli_predict_missing_model_is_one_line(add_models, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ws = add_models({"sentiment": hf_entry("cardiffnlp/speakfeed-not-downloaded", TEXT_LABELS)})
    code = main(["--workspace", str(ws.root), "predict", "--model", "sentiment", "some text"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "is not downloaded and the hub is unreachable" in err
