"""`speakfeed dataset check`: report, exit codes and JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from speakfeed_gui.cli import main
from tests.synth import make_dataset, silence, write_wav


@pytest.fixture
def corpus(tmp_path):
    return make_dataset(tmp_path / "data", "ravdess", labels=("calm", "angry", "sad"), speakers=2, clips_per_speaker_label=2, seconds=0.3)


def test_clean_dataset_exits_0(corpus, capsys):
    assert main(["dataset", "check", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert f"dataset: {corpus} (layout: ravdess)" in out
    assert "clips: 12 found, 12 usable, 0 unusable" in out
    assert "duration: 3.6 s of usable audio" in out
    assert "speakers: 2 (actor_01, actor_02)" in out
    rows = {line.split()[0]: line.split()[1] for line in out.splitlines() if line.split()[:1] in (["angry"], ["calm"], ["sad"])}
    assert rows == {"angry": "4", "calm": "4", "sad": "4"}
    assert "unusable files" not in out


def test_unusable_files_are_listed_and_exit_1(corpus, capsys):
    write_wav(corpus / "Actor_02" / "03-01-02-01-09-01-02.wav", silence(0.5))
    (corpus / "Actor_01" / "03-01-05-01-09-01-01.wav").write_bytes(b"RIFF garbage")
    assert main(["dataset", "check", str(corpus)]) == 1
    captured = capsys.readouterr()
    assert "2 unusable files:" in captured.out
    lines = captured.out.splitlines()
    assert any(line.startswith("Actor_01/03-01-05-01-09-01-01.wav") and "not a readable audio file" in line for line in lines)
    assert any(line.startswith("Actor_02/03-01-02-01-09-01-02.wav") and "silent: every sample is zero" in line for line in lines)
    assert "check: 14/14" in captured.err  # progress goes to stderr, not into the report


def test_json_and_min_seconds(corpus, capsys):
    assert main(["dataset", "check", str(corpus), "--json", "--min-seconds", "0.5"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["n_clips"] == 12 and data["n_usable"] == 0 and data["layout"] == "ravdess"
    assert data["problems"][0]["reason"] == "too short: 0.30 s (minimum 0.5 s)"
    assert data["label_counts"] == {} and data["speakers"] == []


def test_dataset_error_is_one_line_exit_2(tmp_path, capsys):
    assert main(["dataset", "check", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("speakfeed: error: ") and "accepted layouts" in err[0]


def test_bad_csv_has_no_traceback(tmp_path):
    table = tmp_path / "d.csv"
    table.write_text("path,label\na.wav,\n")
    proc = subprocess.run(
        [sys.executable, "-m", "speakfeed_gui", "dataset", "check", str(table)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"speakfeed: error: {table}: line 2, column 'label': empty label"
