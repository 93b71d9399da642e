"""Encrypted recordings and sessions (privacy.encrypt_recordings): unreadable without the key, read
transparently with it, and a killed recorder still leaves a decryptable journal and recording."""

from __future__ import annotations

import logging
import random
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from speakfeed_gui.core.audio.vad import EnergyVAD
from speakfeed_gui.core.live.analyzer import analyze_array
from speakfeed_gui.core.live.session import (
    SessionError,
    SessionRecorder,
    list_sessions,
    load_recording,
    load_session,
    recorder_cipher,
)
from speakfeed_gui.core.settings.config import PrivacySettings, load_config
from speakfeed_gui.core.storage import crypto
from speakfeed_gui.core.storage.crypto import KeySource
from tests.live.conftest import SR, live_settings
from tests.reliability.helpers import kill_after, spawn_worker, stop_workers

ROOT = Path(__file__).resolve().parents[2]
CLIP = "08a01Ab.flac"  # EmoDB speaker 08, real speech


def real_speech() -> np.ndarray:
    """A real 2 s EmoDB clip (16 kHz): the bundled subset when present, else the copy in tests/data."""
    for path in (ROOT / "resources" / "emodb" / "wav" / CLIP, ROOT / "tests" / "data" / "emodb" / CLIP):
        if path.is_file():
            audio, rate = sf.read(str(path), dtype="float32")
            assert rate == SR
            return audio
    raise FileNotFoundError(CLIP)


@pytest.fixture(scope="module")
def speech_results(dummy_model):
    audio = real_speech()
    return audio, analyze_array(audio, SR, dummy_model, live_settings(), vad=EnergyVAD())


def _record(folder: Path, model, results, audio, cipher, *, close: bool = True) -> SessionRecorder:
    recorder = SessionRecorder(folder, model_info=model.get_model_info(), settings=asdict(live_settings()),
                               record_audio=True, flush_seconds=0.0, cipher=cipher)
    for start in range(0, len(audio), 4000):
        recorder.write_audio(audio[start:start + 4000])
        recorder.flush()
    for result in results:
        recorder.append(result)
    if close:
        recorder.close()
    return recorder


def test_encrypted_session_is_unreadable_without_the_key_and_readable_with_it(tmp_path, dummy_model, speech_results):
    audio, results = speech_results
    key_file = tmp_path / "keys" / "recordings.key"
    keys = KeySource(key_file)
    plain = load_session(_record(tmp_path / "plain", dummy_model, results, audio, None).path)
    recorder = _record(tmp_path / "enc", dummy_model, results, audio, keys.cipher(create=True))
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"

    raw = recorder.path.read_bytes()
    assert raw.startswith(crypto.MAGIC) and b"speakfeed-session" not in raw and b"t_start" not in raw
    assert recorder.audio_path.name.endswith(".wav.enc") and not recorder.path.with_suffix(".wav").exists()
    pcm = (np.round(audio * 32767)).astype("<i2").tobytes()
    assert pcm[1000:1064] not in recorder.audio_path.read_bytes()  # no clear samples on disk

    data = load_session(recorder.path, KeySource(key_file))  # a fresh source: the key is read from the file
    assert [w["t_start"] for w in data["windows"]] == [w["t_start"] for w in plain["windows"]]
    assert [w["label"] for w in data["windows"]] == [w["label"] for w in plain["windows"]] and data["windows"]
    samples, rate = load_recording(recorder.audio_path, KeySource(key_file))
    assert rate == SR and len(samples) == len(audio)
    assert np.max(np.abs(samples - audio)) <= 1.5 / 32768  # 16-bit PCM, as the clear WAV
    assert list_sessions(recorder.dir, KeySource(key_file))[0]["windows"] == len(results)

    with pytest.raises(SessionError) as caught:
        load_session(recorder.path, KeySource(tmp_path / "nowhere.key"))
    message = str(caught.value)
    assert "is encrypted and cannot be read" in message and "key file not found" in message and "\n" not in message
    other = tmp_path / "other.key"
    KeySource(other).cipher(create=True)
    with pytest.raises(SessionError, match="encrypted with another key"):
        load_session(recorder.path, KeySource(other))
    with pytest.raises(SessionError, match="encrypted with another key"):
        load_recording(recorder.audio_path, KeySource(other))
    assert list_sessions(recorder.dir, KeySource(other)) == []  # skipped (and logged), not a crash


def test_a_changed_byte_in_an_encrypted_session_is_refused(tmp_path, dummy_model, speech_results):
    audio, results = speech_results
    keys = KeySource(tmp_path / "k.key")
    recorder = _record(tmp_path / "enc", dummy_model, results, audio, keys.cipher(create=True))
    raw = bytearray(recorder.path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    recorder.path.write_bytes(bytes(raw))
    with pytest.raises(SessionError, match="fails authentication"):
        load_session(recorder.path, keys)


def test_an_unclosed_encrypted_session_loads_from_header_and_journal(tmp_path, dummy_model, speech_results):
    audio, results = speech_results
    keys = KeySource(tmp_path / "k.key")
    recorder = _record(tmp_path / "enc", dummy_model, results, audio, keys.cipher(create=True), close=False)
    recorder.flush()
    journal = recorder.journal_path.read_bytes()
    assert journal.startswith(crypto.MAGIC) and b"t_start" not in journal
    data = load_session(recorder.path, KeySource(tmp_path / "k.key"))
    assert data["status"] == "recording" and len(data["windows"]) == len(results)
    torn = journal[:-7]  # a crash in the middle of the last record
    recorder.journal_path.write_bytes(torn)
    assert len(load_session(recorder.path, keys)["windows"]) == len(results) - 1
    recorder.close()


def test_killed_encrypted_recorder_leaves_a_decryptable_journal_and_recording(tmp_path):
    folder, key_file = tmp_path / "pipeline_results", tmp_path / "recordings.key"
    KeySource(key_file).cipher(create=True)
    rng = random.Random(5)
    try:
        for _ in range(4):
            lines = kill_after(spawn_worker("session", folder, key_file), rng.uniform(0.0, 0.15))
            name, counts = lines[0], [int(n) for n in lines[1:]]
            acknowledged = counts[-1] if counts else 0
            assert crypto.is_encrypted(folder / name)
            with pytest.raises(SessionError, match="key file not found"):
                load_session(folder / name, KeySource(tmp_path / "missing.key"))
            data = load_session(folder / name, KeySource(key_file))
            assert data["status"] == "recording" and len(data["windows"]) >= acknowledged
            assert [w["t_start"] for w in data["windows"]] == [n * 0.05 for n in range(len(data["windows"]))]
            samples, rate = load_recording(folder / name.replace(".json", ".wav.enc"), KeySource(key_file))
            assert rate == 16000 and len(samples) >= 800 * acknowledged
            assert np.allclose(samples, 0.1, atol=1 / 32768)
    finally:
        stop_workers()


@pytest.fixture
def file_keyring(tmp_path, monkeypatch):
    """keyrings.alt's file backend in a private data folder, restored afterwards."""
    keyring = pytest.importorskip("keyring")
    alt = pytest.importorskip("keyrings.alt.file")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    before = keyring.get_keyring()
    keyring.set_keyring(alt.PlaintextKeyring())
    yield keyring
    keyring.set_keyring(before)


def test_the_key_lives_in_the_os_keyring_when_no_key_file_is_set(tmp_path, dummy_model, speech_results, file_keyring):
    audio, results = speech_results
    cipher = recorder_cipher(PrivacySettings(encrypt_recordings=True))
    assert "keyring" in cipher.source and file_keyring.get_password(crypto.KEYRING_SERVICE, crypto.KEYRING_USER)
    assert recorder_cipher(PrivacySettings(encrypt_recordings=False)) is None
    recorder = _record(tmp_path / "enc", dummy_model, results, audio, cipher)
    assert len(load_session(recorder.path)["windows"]) == len(results)  # the default KeySource: the keyring
    file_keyring.delete_password(crypto.KEYRING_SERVICE, crypto.KEYRING_USER)
    with pytest.raises(SessionError, match="no recordings key in the OS keyring"):
        load_session(recorder.path)


def test_without_a_keyring_backend_the_key_falls_back_to_a_file_and_says_so(tmp_path, caplog):
    keyring = pytest.importorskip("keyring")
    from keyring.backends import fail

    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with caplog.at_level(logging.WARNING):
            cipher = KeySource().cipher(create=True)
        assert crypto.default_key_file().is_file() and str(crypto.default_key_file()) in cipher.source
        assert "no OS keyring is available" in caplog.text and "privacy.key_file" in caplog.text
        assert KeySource().cipher().key_id == cipher.key_id
    finally:
        keyring.set_keyring(before)


def test_privacy_settings_are_read_from_models_yaml(workspace):
    data = yaml.safe_load(workspace.config_path.read_text())
    data["privacy"] = {"encrypt_recordings": True, "key_file": "secrets/rec.key"}
    workspace.config_path.write_text(yaml.safe_dump(data))
    privacy = load_config(workspace.config_path).privacy
    assert privacy.encrypt_recordings and privacy.key_file == workspace.root / "secrets" / "rec.key"
    data["privacy"] = {"encrypt_recordings": "yes"}
    workspace.config_path.write_text(yaml.safe_dump(data))
    with pytest.raises(Exception, match=r"privacy\.encrypt_recordings: expected true or false, got 'yes'"):
        load_config(workspace.config_path)
