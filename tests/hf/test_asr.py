"""Speech recognition: the transformers Transcriber and make_transcriber on a tiny CTC model."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from speakfeed_gui.core.errors import ModelLoadError
from speakfeed_gui.core.models.asr import Transcriber, make_transcriber
from speakfeed_gui.core.models.nemo import NOT_INSTALLED
from speakfeed_gui.core.settings.config import LiveSettings


def speechlike(seconds: float, rate: int = 16_000) -> np.ndarray:
    """A vowel-ish buzz with a syllable envelope: real audio content, not silence."""
    t = np.arange(int(seconds * rate)) / rate
    voice = np.sin(2 * np.pi * 140 * t) + 0.5 * np.sin(2 * np.pi * 700 * t) + 0.3 * np.sin(2 * np.pi * 1200 * t)
    return (0.2 * voice * (0.5 + 0.5 * np.sin(2 * np.pi * 4 * t))).astype(np.float32)


def test_transcriber_returns_text_from_16k_audio(asr_model_dir):
    transcriber = Transcriber(str(asr_model_dir))
    assert not transcriber.is_loaded
    text = transcriber(speechlike(1.0))
    assert isinstance(text, str)
    assert text == text.strip()
    assert set(text) <= set("abcdefghijklmnopqrstuvwxyz' <unk>")  # only the model's vocabulary
    assert transcriber.is_loaded and transcriber.device == "cpu" or transcriber.device in ("cuda", "mps")
    assert transcriber.sample_rate == 16_000


def test_transcriber_is_deterministic_and_handles_short_and_empty_clips(asr_model_dir):
    transcriber = Transcriber(str(asr_model_dir)).load()
    clip = speechlike(0.5)
    assert transcriber(clip) == transcriber(clip.copy())
    assert isinstance(transcriber(clip[:80]), str)  # 5 ms: shorter than the model's receptive field
    assert transcriber(np.zeros(0, dtype=np.float32)) == ""


def test_relative_folder_resolves_against_the_workspace(asr_model_dir, tmp_path):
    shutil.copytree(asr_model_dir, tmp_path / "models" / "asr")
    transcriber = Transcriber("models/asr", workspace=tmp_path).load()
    assert transcriber.source == str(tmp_path / "models" / "asr")


def test_missing_recogniser_offline_is_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    transcriber = Transcriber("facebook/speakfeed-missing-asr", workspace=tmp_path)
    with pytest.raises(ModelLoadError, match="'facebook/speakfeed-missing-asr' is not downloaded") as err:
        transcriber(speechlike(0.5))
    assert "\n" not in str(err.value)
    assert not transcriber.is_loaded


def test_a_classifier_is_not_a_recogniser(text_model_dir):
    with pytest.raises(ModelLoadError, match="cannot be loaded") as err:
        Transcriber(str(text_model_dir)).load()
    assert "\n" not in str(err.value)


def test_make_transcriber_is_none_without_asr_model(tmp_path):
    assert make_transcriber(LiveSettings(), tmp_path) is None


def test_make_transcriber_builds_a_transcriber_for_a_folder(asr_model_dir, tmp_path):
    from speakfeed_gui.core.settings.workspace import init_workspace

    ws = init_workspace(tmp_path)
    shutil.copytree(asr_model_dir, ws.models_dir / "asr")
    transcriber = make_transcriber(LiveSettings(asr_model="models/asr"), ws)
    assert isinstance(transcriber, Transcriber)
    assert isinstance(transcriber(speechlike(0.5)), str)


def test_make_transcriber_for_a_nemo_file_without_nemo(tmp_path, monkeypatch):
    (tmp_path / "stt.nemo").write_bytes(b"not read: NeMo is missing")
    monkeypatch.setitem(__import__("sys").modules, "nemo", None)
    transcriber = make_transcriber(LiveSettings(asr_model="stt.nemo"), tmp_path)
    with pytest.raises(ModelLoadError) as err:
        transcriber(speechlike(0.5))
    assert str(err.value) == NOT_INSTALLED
