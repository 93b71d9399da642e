"""History index: summaries cached by mtime/size, trends with bands and bests, date filter, delete; the CLI."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from speakfeed_gui.cli import main
from speakfeed_gui.core.errors import SessionError
from speakfeed_gui.core.live.history import HistoryIndex, trend
from speakfeed_gui.core.settings.config import DEFAULT_TARGETS
from tests.history.helpers import record, steady


@pytest.fixture
def three_sessions(workspace):
    """Three talks on three days: fast and flat, better, best; the second one recorded."""
    folder = workspace.sessions_dir
    record(folder, steady(6, rate=6.5, pause=0.02, pitch=1.5, loud=-20), started_at="2026-11-01T10:00:00.000+00:00")
    record(folder, steady(6, rate=5.8, pause=0.10, pitch=3.0, loud=-22, label="anxious"),
           started_at="2026-11-10T10:00:00.000+00:00", audio=np.zeros(16000 * 6, dtype=np.float32))
    record(folder, steady(6, rate=4.3, pause=0.20, pitch=5.0, loud=-24), started_at="2026-11-20T10:00:00.000+00:00")
    return workspace


def test_index_summarises_every_session_and_rereads_only_what_changed(three_sessions):
    index = HistoryIndex(three_sessions.sessions_dir)
    summaries = index.load()
    assert [s.started_at[:10] for s in summaries] == ["2026-11-20", "2026-11-10", "2026-11-01"]  # newest first
    assert index.reread == 3 and index.index_path.is_file()
    assert summaries[0].measures["speaking_rate_sps"] == 4.3
    assert summaries[1].emotion_share == {"anxious": 1.0} and summaries[1].audio_path.endswith(".wav")
    assert summaries[2].audio_path is None

    again = HistoryIndex(three_sessions.sessions_dir)
    assert [s.to_dict() for s in again.load()] == [s.to_dict() for s in summaries]
    assert again.reread == 0  # every summary came from the cache

    record(three_sessions.sessions_dir, steady(3, rate=4.0, pause=0.1, pitch=4.0, loud=-20),
           started_at="2026-11-21T10:00:00.000+00:00")
    third = HistoryIndex(three_sessions.sessions_dir)
    assert len(third.load()) == 4 and third.reread == 1


def test_cached_summaries_follow_a_moved_folder(three_sessions, tmp_path):
    HistoryIndex(three_sessions.sessions_dir).load()
    moved = tmp_path / "elsewhere"
    three_sessions.sessions_dir.rename(moved)
    index = HistoryIndex(moved)
    summaries = index.load()
    assert index.reread == 0 and all(s.path.startswith(str(moved)) for s in summaries)
    recorded = next(s for s in summaries if s.audio_path)
    assert recorded.audio_path.startswith(str(moved))
    Path(recorded.audio_path).unlink()  # the WAV removed by hand: no longer offered for playback
    assert not any(s.audio_path for s in HistoryIndex(moved).load())


def test_damaged_cache_and_unreadable_session_do_not_stop_the_history(three_sessions):
    folder = three_sessions.sessions_dir
    (folder / ".history_index.json").write_text("{ torn", encoding="utf-8")
    (folder / "pipeline_results_20990101_000000.json").write_text("[]", encoding="utf-8")
    index = HistoryIndex(folder)
    assert len(index.load()) == 3
    assert len(index.skipped) == 1 and "pipeline_results_20990101_000000.json" in index.skipped[0]


def test_trend_has_bands_personal_bests_and_a_date_filter(three_sessions):
    summaries = HistoryIndex(three_sessions.sessions_dir).load()
    data = trend(summaries, DEFAULT_TARGETS)
    rate = data["measures"]["speaking_rate_sps"]
    assert [p["value"] for p in rate["points"]] == [6.5, 5.8, 4.3]  # oldest first
    assert rate["band"] == list(DEFAULT_TARGETS["speaking_rate_sps"])  # the catalogue's band
    assert rate["best"]["value"] == 4.3  # inside the band, nearest its middle
    assert data["measures"]["pitch_variation_semitones"]["best"]["value"] == 5.0
    assert data["measures"]["words_per_minute"]["points"] == []  # no transcript in these talks
    assert [p["share"] for p in data["emotions"]["anxious"]] == [0.0, 1.0, 0.0]

    november_first_half = trend(summaries, DEFAULT_TARGETS, since=date(2026, 11, 5), until=date(2026, 11, 15))
    assert november_first_half["sessions"] == 1
    assert november_first_half["measures"]["speaking_rate_sps"]["best"]["value"] == 5.8


def test_delete_removes_the_session_and_its_recording(three_sessions):
    folder = three_sessions.sessions_dir
    index = HistoryIndex(folder)
    recorded = next(s for s in index.load() if s.audio_path)
    removed = index.delete(recorded.id)
    assert {p.suffix for p in removed} == {".json", ".wav"}
    assert not any(folder.glob(f"*{recorded.id}*"))
    assert recorded.id not in {s.id for s in HistoryIndex(folder).load()}
    with pytest.raises(SessionError, match="no such session"):
        index.delete(recorded.id)


def test_cli_sessions_trend_json_list_show_delete(three_sessions, capsys):
    ws = ["--workspace", str(three_sessions.root)]
    assert main([*ws, "sessions", "trend", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["sessions"] == 3
    assert [p["value"] for p in data["measures"]["pause_share"]["points"]] == [0.02, 0.1, 0.2]
    assert data["measures"]["pause_share"]["best"]["value"] == 0.2  # nearest the middle of 0.05–0.35
    assert main([*ws, "sessions", "trend", "--json", "--since", "2026-11-15"]) == 0
    assert json.loads(capsys.readouterr().out)["sessions"] == 1

    assert main([*ws, "sessions", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert len(listed) == 3 and listed[0]["measures"]["speaking_rate_sps"] == 4.3
    assert main([*ws, "sessions", "list"]) == 0
    assert "syll/s" in capsys.readouterr().out

    newest = listed[0]["id"]
    assert main([*ws, "sessions", "show", newest, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["report"]["prosody_status"]["speaking_rate_sps"] == "ok"
    assert shown["moments"] == []  # steady and inside every band
    oldest = listed[-1]["id"]
    assert main([*ws, "sessions", "show", oldest]) == 0
    out = capsys.readouterr().out
    assert "moments:" in out and "too fast" in out and "monotone" in out
    assert main([*ws, "sessions", "delete", newest]) == 0
    assert "deleted" in capsys.readouterr().out
    assert main([*ws, "sessions", "show", newest]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"speakfeed: error: session '{newest}': no such session") and "\n" not in err


def test_cli_bad_date_is_one_line(three_sessions, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--workspace", str(three_sessions.root), "sessions", "trend", "--since", "last week"])
    assert exit_info.value.code == 2
    assert "expected a date as YYYY-MM-DD" in capsys.readouterr().err


def test_encrypted_sessions_are_summarised_but_never_cached_in_plain_text(tmp_path):
    from speakfeed_gui.core.storage.crypto import KeySource, key_from_file

    key = tmp_path / "recordings.key"
    folder = tmp_path / "sessions"
    record(folder, steady(4, rate=6.5, pause=0.02, pitch=1.5, loud=-20), started_at="2026-11-01T10:00:00.000+00:00",
           audio=np.zeros(16000, dtype=np.float32), cipher=key_from_file(key, create=True))
    record(folder, steady(4, rate=4.0, pause=0.2, pitch=4.0, loud=-20), started_at="2026-11-02T10:00:00.000+00:00")
    index = HistoryIndex(folder, KeySource(key))
    secret, plain = sorted(index.load(), key=lambda s: s.started_at)
    assert secret.measures["speaking_rate_sps"] == 6.5 and secret.audio_path.endswith(".wav.enc")
    cache = json.loads(index.index_path.read_text())
    assert list(cache["sessions"]) == [Path(plain.path).name]  # the encrypted talk's measures stay private
    again = HistoryIndex(folder, KeySource(key))
    assert len(again.load()) == 2 and again.reread == 0  # from memory, decrypted once
    stranger = HistoryIndex(folder, KeySource(tmp_path / "no-such.key"))
    assert [s.id for s in stranger.load()] == [plain.id]
    assert "encrypted and cannot be read" in stranger.skipped[0]
    removed = index.delete(secret.id)
    assert {p.name for p in removed} == {Path(secret.path).name, Path(secret.audio_path).name}
