"""Session files: atomic, periodic, complete, reloadable; recordings; readable errors."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import numpy as np
import pytest
import soundfile as sf

from speakfeed_gui.core.audio.vad import EnergyVAD
from speakfeed_gui.core.live.analyzer import analyze_array
from speakfeed_gui.core.live.session import SessionError, SessionRecorder, list_sessions, load_session
from tests.live.conftest import SR, live_settings, silence, syllables


def recorder_for(folder, model, **kwargs) -> SessionRecorder:
    return SessionRecorder(folder, model_info=model.get_model_info(), settings=asdict(live_settings()), **kwargs)


@pytest.fixture(scope="module")
def results(dummy_model):
    audio = np.concatenate([silence(1.0), syllables(180, 2.0), silence(1.0)])
    return analyze_array(audio, SR, dummy_model, live_settings(), vad=EnergyVAD())


def test_session_file_written_complete_and_reloadable(tmp_path, dummy_model, results):
    recorder = recorder_for(tmp_path / "pipeline_results", dummy_model)
    assert re.fullmatch(r"pipeline_results_\d{8}_\d{6}\.json", recorder.path.name)
    assert load_session(recorder.path)["status"] == "recording"  # exists from the first moment
    for result in results:
        recorder.append(result)
    path = recorder.close()

    data = load_session(path)
    assert data["status"] == "completed" and data["message"] is None
    assert data["model"]["name"] == "dummy" and data["model"]["version"] == "1.0"
    assert data["settings"]["window_seconds"] == 1.0 and data["settings"]["targets"]["pause_share"] == [0.05, 0.35]
    assert data["started_at"] <= data["ended_at"]
    assert data["duration_seconds"] == pytest.approx(results[-1].t_end)
    assert len(data["windows"]) == len(results)
    first_speech = next(w for w in data["windows"] if w["is_speech"])
    assert first_speech["prediction"]["probabilities"] and first_speech["smoothed"]
    assert first_speech["prosody"]["pitch_hz"] == pytest.approx(180, rel=0.06)
    assert all("timestamp" in w for w in data["windows"])
    assert not list(tmp_path.rglob("*.tmp"))  # no temp files left behind


def test_partial_file_on_disk_mid_session(tmp_path, dummy_model, results):
    recorder = recorder_for(tmp_path, dummy_model, add_timestamps=False, flush_seconds=0.0)
    for result in results[:3]:
        recorder.append(result)
    mid = load_session(recorder.path)  # the app could crash now: three windows are safe
    assert mid["status"] == "recording" and len(mid["windows"]) == 3
    assert "timestamp" not in mid["windows"][0]
    recorder.close("device_lost", message="input device pulse stopped delivering audio")
    recorder.append(results[3])  # late results after close are ignored
    final = load_session(recorder.path)
    assert final["status"] == "device_lost" and final["message"].startswith("input device pulse")
    assert len(final["windows"]) == 3


def test_flushes_wait_for_flush_seconds(tmp_path, dummy_model, results):
    recorder = recorder_for(tmp_path, dummy_model, flush_seconds=60.0)
    for result in results:
        recorder.append(result)
    assert load_session(recorder.path)["windows"] == []
    recorder.flush()
    assert len(load_session(recorder.path)["windows"]) == len(results)


def test_recording_is_written_incrementally(tmp_path, dummy_model):
    recorder = recorder_for(tmp_path, dummy_model, record_audio=True, sample_rate=SR, flush_seconds=0.0)
    tone = syllables(200, 0.5)
    recorder.write_audio(tone)
    recorder.flush()
    assert sf.info(str(recorder.audio_path)).frames == tone.size  # playable while recording
    recorder.write_audio(tone)
    recorder.close()
    audio, rate = sf.read(str(recorder.audio_path), dtype="float32")
    assert rate == SR and audio.size == 2 * tone.size
    np.testing.assert_allclose(audio[: tone.size], tone, atol=1 / 32767)
    assert load_session(recorder.path)["audio_file"] == recorder.audio_path.name


def test_two_sessions_in_the_same_second_get_different_files(tmp_path, dummy_model):
    a, b = recorder_for(tmp_path, dummy_model), recorder_for(tmp_path, dummy_model)
    assert a.path != b.path
    a.close()
    b.close("error", message="model crashed")
    listed = list_sessions(tmp_path)
    assert {s["path"] for s in listed} == {str(a.path), str(b.path)}
    assert {s["status"] for s in listed} == {"completed", "error"}
    assert listed[0]["model"] == "dummy"


def test_load_session_errors_are_one_line(tmp_path):
    cases = {
        "missing.json": None,
        "broken.json": "{not json",
        "other.json": json.dumps({"format": "something-else"}),
        "status.json": json.dumps({"format": "speakfeed-session", "status": "paused", "windows": []}),
        "windows.json": json.dumps({"format": "speakfeed-session", "status": "completed", "windows": [{"t_start": "a"}]}),
    }
    expected = {
        "missing.json": "session file not found",
        "broken.json": "session file is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        "other.json": 'not a SpeakFeed session file (expected "format": "speakfeed-session")',
        "status.json": "status: expected one of recording, completed, device_lost, error, got 'paused'",
        "windows.json": "windows[0]: expected an object with numeric t_start and t_end",
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        with pytest.raises(SessionError) as info:
            load_session(path)
        message = str(info.value)
        assert message == f"{path}: {expected[name]}" and "\n" not in message
    (tmp_path / "pipeline_results_broken.json").write_text("{")
    assert list_sessions(tmp_path) == []  # unreadable files are skipped, not fatal


def test_windows_are_appended_not_rewritten(tmp_path, dummy_model, results):
    """The header is written once and the windows go to a journal that only grows, then one complete file."""
    recorder = recorder_for(tmp_path, dummy_model, flush_seconds=0.0)
    header = recorder.path.read_bytes()
    recorder.append(results[0])
    before = recorder.journal_path.read_bytes()
    for result in results[1:]:
        recorder.append(result)
    assert recorder.journal_path.read_bytes().startswith(before)
    assert recorder.path.read_bytes() == header  # not rewritten while recording
    assert recorder.window_count == len(results)
    recorder.close()
    assert not recorder.journal_path.exists()
    data = json.loads(recorder.path.read_text())
    assert "windows_file" not in data and len(data["windows"]) == len(results)


def test_a_crash_leaves_header_and_journal_which_load_as_one_session(tmp_path, dummy_model, results):
    recorder = recorder_for(tmp_path, dummy_model, flush_seconds=0.0)
    for result in results[:4]:
        recorder.append(result)
    with open(recorder.journal_path, "a", encoding="utf-8") as journal:
        journal.write('{"t_start": 9.0, "t_en')  # the line the crash tore
    data = load_session(recorder.path)
    assert data["status"] == "recording"
    assert [w["t_start"] for w in data["windows"]] == [r.t_start for r in results[:4]]
    assert data["duration_seconds"] == pytest.approx(results[3].t_end)
    [listed] = list_sessions(tmp_path)
    assert listed["windows"] == 4
    with open(recorder.journal_path, "a", encoding="utf-8") as journal:
        journal.write('\n{"t_start": 9.0, "t_end": "ten"}\n')  # a hand-edited journal
    with pytest.raises(SessionError, match=r"windows\[4\]: expected an object with numeric t_start and t_end"):
        load_session(recorder.path)


def test_transcript_segments_are_journaled_and_survive_a_crash(tmp_path, dummy_model, results):
    from speakfeed_gui.core.live.transcript import TranscriptSegment
    from speakfeed_gui.core.models.asr import Word

    recorder = recorder_for(tmp_path, dummy_model, flush_seconds=0.0)
    recorder.append(results[0])
    late = TranscriptSegment(3.0, 4.0, "second part", [Word(3.1, 3.5, "second"), Word(3.5, 3.9, "part")])
    early = TranscriptSegment(1.0, 2.0, "so um first", [Word(1.1, 1.9, "first")])
    recorder.add_transcript(late)  # segments may arrive out of order from the recogniser
    recorder.add_transcript(early)
    recorder.append(results[1])
    data = load_session(recorder.path)  # as after a crash: header plus journal
    assert [w["t_start"] for w in data["windows"]] == [results[0].t_start, results[1].t_start]
    assert [s["text"] for s in data["transcript"]] == ["so um first", "second part"]
    assert data["transcript"][1]["words"][0] == {"start": 3.1, "end": 3.5, "text": "second"}
    path = recorder.close()
    closed = load_session(path)
    assert len(closed["windows"]) == 2 and [s["start"] for s in closed["transcript"]] == [1.0, 3.0]
    recorder.add_transcript(early)  # after close: ignored
    assert len(load_session(path)["transcript"]) == 2
