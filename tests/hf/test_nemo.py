"""The `nemo` backend: config validation and the not-installed path always; a tiny real model when
NeMo is importable (not in the default CI environment: nemo_toolkit is a ~2 GB optional extra)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from speakfeed_gui.core.errors import ConfigError, ModelLoadError
from speakfeed_gui.core.models.nemo import NOT_INSTALLED


def nemo_entry(task: str = "classification", **config) -> dict:
    return {"type": "nemo", "emotion_labels": ["calm", "anxious", "frustrated"], "config": {"task": task, **config}}


@pytest.fixture
def without_nemo(monkeypatch):
    """Make `import nemo...` fail the way it does when nemo_toolkit is not installed."""
    for name in [m for m in sys.modules if m == "nemo" or m.startswith("nemo.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "nemo", None)


def test_not_installed_is_one_clear_line(factory_with, tmp_path, without_nemo):
    (tmp_path / "cls.nemo").write_bytes(b"never read")
    model = factory_with(n=nemo_entry(model_path=str(tmp_path / "cls.nemo"))).get_model("n")
    with pytest.raises(ModelLoadError) as err:
        model.predict(np.zeros(16_000, dtype=np.float32))
    assert str(err.value) == "NVIDIA NeMo is not installed: pip install 'nemo_toolkit[asr]' (the `nemo` extra)"
    assert str(err.value) == NOT_INSTALLED


def test_missing_nemo_file_is_named_before_importing_nemo(factory_with, without_nemo):
    model = factory_with(n=nemo_entry(model_path="models/absent.nemo")).get_model("n")
    with pytest.raises(ModelLoadError, match=r"NeMo model file .*models/absent.nemo does not exist"):
        model.load()


def test_pretrained_name_offline_is_one_line(factory_with, monkeypatch, without_nemo):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = factory_with(n=nemo_entry(task="asr", model_name="nvidia/stt_en_speakfeed_absent")).get_model("n")
    with pytest.raises(ModelLoadError, match="needs a download and the hub is unreachable"):
        model.load()


def _cached_ngc_file(cache: Path, name: str, digest: str, content: bytes = b"nemo") -> Path:
    """Where NeMo's from_pretrained leaves an NGC download: <cache>/<name>/<hash>/<name>.nemo."""
    file = cache / name / digest / f"{name}.nemo"
    file.parent.mkdir(parents=True)
    file.write_bytes(content)
    return file


def test_cached_pretrained_finds_earlier_downloads(tmp_path, monkeypatch):
    import os

    import huggingface_hub.constants

    from speakfeed_gui.core.models.nemo import cached_pretrained

    monkeypatch.setenv("NEMO_CACHE_DIR", str(tmp_path / "nemo"))
    assert cached_pretrained("stt_en_tiny") is None
    old = _cached_ngc_file(tmp_path / "nemo", "stt_en_tiny", "0a1b")
    new = _cached_ngc_file(tmp_path / "nemo", "stt_en_tiny", "9f8e")
    os.utime(old, (1, 1))
    assert cached_pretrained("stt_en_tiny") == new  # the newest download
    assert cached_pretrained("stt_en_other") is None

    hub = tmp_path / "hub"
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(hub))
    snapshot = hub / "models--nvidia--tiny-ctc" / "snapshots" / "c0ffee"
    snapshot.mkdir(parents=True)
    (snapshot / "tiny-ctc.nemo").write_bytes(b"nemo")
    (hub / "models--nvidia--tiny-ctc" / "refs").mkdir()
    (hub / "models--nvidia--tiny-ctc" / "refs" / "main").write_text("c0ffee")
    assert cached_pretrained("nvidia/tiny-ctc") == snapshot / "tiny-ctc.nemo"
    assert cached_pretrained("nvidia/absent") is None
    assert cached_pretrained("not/a/valid/repo") is None


def test_asr_model_refuses_to_classify_without_loading(factory_with, tmp_path, without_nemo):
    model = factory_with(n=nemo_entry(task="asr", model_path="stt.nemo")).get_model("n")
    assert model.input_kind == "audio"
    with pytest.raises(ConfigError, match="cannot be used as an emotion classifier directly"):
        model.predict(np.zeros(16_000, dtype=np.float32))
    assert not model.is_loaded


def test_classifier_refuses_to_transcribe(factory_with):
    model = factory_with(n=nemo_entry(model_path="cls.nemo")).get_model("n")
    with pytest.raises(ConfigError, match="cannot transcribe"):
        model.transcribe(np.zeros(16_000, dtype=np.float32))


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (nemo_entry(task="diarization", model_path="x.nemo"), "config.task: expected one of classification, asr"),
        (nemo_entry(), "expected model_path (a .nemo file) or model_name"),
        (nemo_entry(model_path="x.nemo", label_map={"yes": ["calm"]}), "label_map.yes"),
    ],
)
def test_invalid_entries_are_config_errors_when_built(factory_with, entry, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        factory_with(n=entry).get_model("n")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model_path": 3}, "config.model_path: expected a non-empty text value"),
        ({"model_path": "x.nemo", "device": "gpu"}, "config.device: expected one of auto, cpu, cuda, mps"),
        ({"model_file": "x.nemo"}, "config.model_file: expected a known key for type nemo"),
        ({"model_path": "x.nemo", "batch_size": 0}, "config.batch_size: expected a whole number"),
    ],
)
def test_invalid_keys_are_rejected_when_the_config_loads(factory_with, config, message):
    with pytest.raises(ConfigError, match=message):
        factory_with(n={"type": "nemo", "config": config})


def test_model_info_before_loading(factory_with):
    factory = factory_with(n=nemo_entry(task="asr", model_path="models/stt.nemo", device="cpu"))
    info = factory.get_model_info("n")
    assert info["task"] == "asr" and info["device"] == "cpu" and info["input"] == "audio"
    assert info["model_path"] == str(factory.workspace.root / "models" / "stt.nemo")


# -- a real tiny NeMo model (only where nemo_toolkit is installed) ------------------------------
def _tiny_encoder() -> dict:
    block = {"filters": 32, "repeat": 1, "kernel": [1], "stride": [1], "dilation": [1], "dropout": 0.0,
             "residual": False, "separable": True, "se": True, "se_context_size": -1}
    return {"_target_": "nemo.collections.asr.modules.ConvASREncoder", "feat_in": 64, "activation": "relu",
            "conv_mask": True, "jasper": [block]}


def _preprocessor() -> dict:
    return {"_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor", "sample_rate": 16_000}


@pytest.fixture(scope="module")
def tiny_nemo_files(tmp_path_factory):
    pytest.importorskip("nemo.collections.asr")
    from nemo.collections.asr.models import EncDecClassificationModel, EncDecCTCModel
    from omegaconf import DictConfig

    folder = tmp_path_factory.mktemp("nemo")
    labels = ["yes", "no", "maybe"]
    EncDecClassificationModel(cfg=DictConfig({
        "sample_rate": 16_000, "labels": labels, "preprocessor": _preprocessor(), "encoder": _tiny_encoder(),
        "decoder": {"_target_": "nemo.collections.asr.modules.ConvASRDecoderClassification", "feat_in": 32,
                    "num_classes": len(labels)},
    })).save_to(str(folder / "cls.nemo"))
    vocab = list(" abcdefghijklmnopqrstuvwxyz'")
    EncDecCTCModel(cfg=DictConfig({
        "sample_rate": 16_000, "labels": vocab, "preprocessor": _preprocessor(), "encoder": _tiny_encoder(),
        "decoder": {"_target_": "nemo.collections.asr.modules.ConvASRDecoder", "feat_in": 32,
                    "num_classes": len(vocab), "vocabulary": vocab},
    })).save_to(str(folder / "ctc.nemo"))
    return folder


def test_real_tiny_nemo_classifier(factory_with, tiny_nemo_files):
    model = factory_with(n=nemo_entry(model_path=str(tiny_nemo_files / "cls.nemo"), batch_size=2,
                                      label_map={"yes": "calm", "maybe": "calm", "no": "anxious"})).get_model("n")
    rng = np.random.default_rng(1)
    predictions = model.batch_predict([0.1 * rng.standard_normal(n).astype(np.float32) for n in (16_000, 8_000, 400)])
    assert model.labels == ["calm", "anxious"]
    for p in predictions:
        assert set(p.probabilities) == {"calm", "anxious"}
        assert sum(p.probabilities.values()) == pytest.approx(1.0, abs=1e-6)


def test_pretrained_name_offline_restores_the_earlier_download(factory_with, tiny_nemo_files, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("NEMO_CACHE_DIR", str(tmp_path / "nemo"))
    _cached_ngc_file(tmp_path / "nemo", "speakfeed_tiny_cls", "5d41", (tiny_nemo_files / "cls.nemo").read_bytes())
    model = factory_with(n=nemo_entry(model_name="speakfeed_tiny_cls", label_map={"yes": "calm", "maybe": "calm",
                                                                                 "no": "anxious"})).get_model("n")
    prediction = model.predict(0.1 * np.random.default_rng(3).standard_normal(16_000).astype(np.float32))
    assert set(prediction.probabilities) == {"calm", "anxious"}


def test_real_tiny_nemo_transcriber(tiny_nemo_files):
    from speakfeed_gui.core.models.asr import make_transcriber
    from speakfeed_gui.core.settings.config import LiveSettings

    transcriber = make_transcriber(LiveSettings(asr_model="ctc.nemo"), tiny_nemo_files)
    text = transcriber(0.1 * np.random.default_rng(2).standard_normal(16_000).astype(np.float32))
    assert isinstance(text, str) and set(text) <= set(" abcdefghijklmnopqrstuvwxyz'")
