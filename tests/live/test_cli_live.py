"""`speakfeed analyze` and `speakfeed live` from the command line: the core live runner, words included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from speakfeed_gui.cli import main
from speakfeed_gui.core.audio.decode import write_wav
from speakfeed_gui.core.live.session import list_sessions, load_session
from speakfeed_gui.core.settings.workspace import init_workspace
from tests.live.conftest import SR, harmonic, silence, syllables

TALK = Path(__file__).parents[1] / "data" / "talk_fillers.flac"  # 27 known words, see tests/data/README.md


@pytest.fixture
def workspace(tmp_path):
    return init_workspace(tmp_path / "ws")


def test_analyze_writes_a_session_and_prints_the_report(workspace, tmp_path, capsys):
    wav = tmp_path / "talk.wav"
    write_wav(wav, np.concatenate([silence(1.0), syllables(170, 4.0, amp=0.3), silence(1.0)]), SR)
    code = main(["--workspace", str(workspace.root), "analyze", str(wav), "--model", "dummy", "--vad", "energy",
                 "--no-transcribe"])
    out = capsys.readouterr().out
    assert code == 0
    [session] = list_sessions(workspace.sessions_dir)
    data = load_session(session["path"])
    assert data["status"] == "completed" and data["source"] == str(wav.resolve())
    assert data["settings"]["vad"] == "energy" and data["model"]["name"] == "dummy"
    assert len(data["windows"]) == 9  # 6 s, 2 s windows every 0.5 s (models.yaml defaults)
    assert f"session: {session['path']}  (completed)" in out
    assert "speaking_rate_sps" in out and "- Your pitch varied little" in out
    assert data["transcript"] == [] and data["settings"]["transcribe"] is False and "transcript:" not in out


def test_analyze_transcribes_a_real_recording_with_the_default_recogniser(workspace, capsys):
    """No setup: the dummy model, the default voice detector and the bundled Whisper tiny.en."""
    code = main(["--workspace", str(workspace.root), "analyze", str(TALK), "--model", "dummy", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    assert "public speaking" in report["transcript"].lower() and "slowly" in report["transcript"].lower()
    # 27 words from the first (~0.5 s) to the last (~12.7 s): about 130 per minute
    assert 105 <= report["words_per_minute"] <= 160
    assert report["prosody"]["words_per_minute"] == report["words_per_minute"]  # today's names keep working
    assert report["prosody_status"]["words_per_minute"] in ("low", "ok", "high")
    words = report["words"]
    assert 24 <= words["word_count"] <= 30
    assert sum(words["fillers"].get(f, 0) for f in ("um", "uh")) >= 3
    assert words["repeats"]["immediate"].get("i think") == 1
    segments = report["transcript_segments"]
    assert segments and all(s["start"] - 0.05 <= w["start"] <= w["end"] <= s["end"] + 0.05
                            for s in segments for w in s["words"])
    assert any("filler words" in note for note in report["observations"])
    saved = load_session(report["path"])
    assert saved["transcript"] == segments  # the session file keeps the timed words


def test_analyze_prints_the_transcript_and_words_per_minute(workspace, capsys):
    code = main(["--workspace", str(workspace.root), "analyze", str(TALK), "--model", "dummy", "--vad", "energy"])
    out = capsys.readouterr().out
    assert code == 0
    assert "words_per_minute" in out and "filler_per_minute" in out
    [words] = [line for line in out.splitlines() if line.startswith("words: ")]
    assert "per minute; fillers: um" in words or "per minute; fillers: uh" in words
    assert 'repeated: "i think" 1x' in out
    [transcript] = [line for line in out.splitlines() if line.startswith("transcript: ")]
    assert "the first thing is" in transcript.lower()


@pytest.mark.slow
def test_a_text_model_classifies_what_the_default_recogniser_heard(workspace, tmp_path, capsys):
    """Before the shared runner the CLI built no recogniser: every window of a text model was "speech"."""
    pytest.importorskip("transformers")
    import yaml

    from tests.hf.tiny_models import TEXT_LABELS, build_text_classifier

    text_dir = build_text_classifier(tmp_path / "text")
    data = yaml.safe_load(workspace.config_path.read_text(encoding="utf-8"))
    data["models"]["talk"] = {"type": "huggingface", "emotion_labels": list(TEXT_LABELS),
                              "config": {"model_name": str(text_dir), "task": "text-classification"}}
    workspace.config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code = main(["--workspace", str(workspace.root), "analyze", str(TALK), "--model", "talk", "--vad", "energy",
                 "--json"])
    report = json.loads(capsys.readouterr().out) if code == 0 else None
    assert code == 0
    windows = load_session(report["path"])["windows"]
    heard = [w for w in windows if w["is_speech"] and w["transcript"]]
    assert len(heard) >= 5 and all(set(w["prediction"]["probabilities"]) == set(TEXT_LABELS) for w in heard)
    assert set(report["emotion_share"]) <= set(TEXT_LABELS) and report["emotion_share"]
    assert report["words_per_minute"] and "speak slowly" in report["transcript"].lower()


def test_analyze_json_and_out_folder(workspace, tmp_path, capsys):
    wav = tmp_path / "tone.wav"
    write_wav(wav, harmonic(220, 2.5, amp=0.3), SR)
    out_dir = tmp_path / "elsewhere"
    code = main(["--workspace", str(workspace.root), "analyze", str(wav), "--model", "dummy", "--vad", "energy",
                 "--out", str(out_dir), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["windows"] == 2 and report["speech_windows"] == 2
    assert Path(report["path"]).parent == out_dir
    assert not workspace.sessions_dir.exists()


def test_analyze_bad_input_is_one_line(workspace, tmp_path, capsys):
    code = main(["--workspace", str(workspace.root), "analyze", str(tmp_path / "missing.wav"), "--model", "dummy"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == f"speakfeed: error: {tmp_path / 'missing.wav'}: audio file not found"
    code = main(["--workspace", str(workspace.root), "analyze", str(tmp_path / "missing.wav"), "--model", "nope"])
    assert code == 2


def test_no_input_device_is_one_line_without_traceback(workspace, tmp_path):
    """With no sound card and no sound server PortAudio lists nothing."""
    if Path("/proc/asound/cards").exists() and "no soundcards" not in Path("/proc/asound/cards").read_text():
        pytest.skip("this machine has a sound card")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE")}
    env.update(PULSE_SERVER=f"unix:{tmp_path}/none", HOME=str(tmp_path), XDG_RUNTIME_DIR=str(tmp_path))
    run = lambda *args: subprocess.run(
        [sys.executable, "-m", "speakfeed_gui", "--workspace", str(workspace.root), "live", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )
    live = run("--model", "dummy")
    assert live.returncode == 2
    assert live.stderr.strip().splitlines()[-1] == (
        "speakfeed: error: no audio input device found; connect a microphone (PortAudio lists no input devices)"
    )
    assert "Traceback" not in live.stderr
    listing = run("--list-devices")
    assert listing.returncode == 1 and "no audio input devices found" in listing.stderr


@pytest.mark.mic
def test_live_in_the_terminal(virtual_mic, mic_feeder, workspace, capsys):
    mic_feeder.play(np.concatenate([silence(0.5), harmonic(200, 2.5, amp=0.2)]))  # the dummy model loads at once
    code = main(["--workspace", str(workspace.root), "live", "--model", "dummy", "--device", "pulse",
                 "--seconds", "3", "--vad", "energy", "--record", "--no-transcribe"])
    captured = capsys.readouterr()
    assert code == 0
    lines = [line for line in captured.out.splitlines() if line.strip().endswith("Hz") or "dBFS" in line]
    assert len(lines) >= 2  # windows end at 2.0, 2.5, 3.0 s of audio
    assert any("pitch   200 Hz" in line for line in lines)
    [session] = list_sessions(workspace.sessions_dir)
    assert session["status"] == "completed" and session["windows"] == len(lines)
    assert (workspace.sessions_dir / session["audio_file"]).stat().st_size > 2 * SR * 2
    assert "listening on pulse (ALSA) at 16000 Hz with dummy" in captured.err


@pytest.mark.mic
def test_list_devices(virtual_mic, workspace, capsys):
    assert main(["--workspace", str(workspace.root), "live", "--list-devices"]) == 0
    out = capsys.readouterr().out
    assert "pulse" in out and "ALSA" in out


@pytest.mark.mic
def test_ctrl_c_stops_live_cleanly(virtual_mic, mic_feeder, workspace):
    import signal
    import time

    mic_feeder.play(harmonic(200, 30.0, amp=0.2))
    proc = subprocess.Popen(
        [sys.executable, "-m", "speakfeed_gui", "--workspace", str(workspace.root), "live", "--model", "dummy",
         "--device", "pulse", "--vad", "energy"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first = proc.stdout.readline()  # the first analysed window
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert "dBFS" in first
    assert proc.returncode == 0 and "Traceback" not in err
    [session] = list_sessions(workspace.sessions_dir)
    assert session["status"] == "completed" and session["windows"] >= 1
    assert f"session: {session['path']}  (completed)" in out


@pytest.mark.mic
@pytest.mark.slow
def test_live_in_the_terminal_transcribes_what_the_microphone_hears(virtual_mic, mic_feeder, workspace):
    import soundfile as sf

    talk, _ = sf.read(TALK, dtype="float32")
    proc = subprocess.Popen(
        [sys.executable, "-m", "speakfeed_gui", "--workspace", str(workspace.root), "live", "--model", "dummy",
         "--device", "pulse", "--vad", "energy", "--seconds", str(round(talk.size / SR + 1.0, 1))],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        for line in proc.stderr:  # the model, voice detector and recogniser load first
            if line.startswith("listening on"):
                break
        mic_feeder.play(talk)
        out, err = proc.communicate(timeout=180)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err, err
    said = [line.split(">", 1)[1].strip() for line in out.splitlines() if "s  > " in line]
    assert said and "public speaking" in " ".join(said).lower()  # transcript lines as they are heard
    [words] = [line for line in out.splitlines() if line.startswith("words: ")]
    assert "per minute" in words
    [session] = list_sessions(workspace.sessions_dir)
    assert load_session(session["path"])["transcript"]
    [recognition] = [line for line in err.splitlines() if line.startswith("speech recognition: ")]
    print(recognition)  # the figure the report quotes


@pytest.mark.slow
def test_analyze_json_gives_session_figures_of_real_speech_with_known_pauses(workspace, tmp_path):
    """Issue 16's done-when: 40 real EmoDB utterances joined by known silences (about 2 minutes),
    through `speakfeed analyze --json`: rate within 15 % of the hand count, pause count within 20 %,
    pause share within 0.07. The speech extents are the hand marks (first syllable onset, end of
    the last one), so every join is one pause of known length."""
    import json

    from tests.emodb import utterances

    rng = np.random.default_rng(7)
    pool = [u for u in utterances() if u.whole]
    parts, pauses, spans, syllable_count, t = [], [], [], 0, 0.0
    for i, index in enumerate(rng.choice(len(pool), 40, replace=False)):
        u = pool[index]
        if i:
            gap = rng.uniform(0.4, 1.6)
            parts.append((1e-4 * rng.standard_normal(int(gap * SR))).astype(np.float32))  # a quiet room
            t += gap
            pauses.append(t + u.first_onset_s - spans[-1][1])
        spans.append((t + u.first_onset_s, t + u.end_s))
        audio = u.audio()
        parts.append(audio)
        t += audio.size / SR
        syllable_count += u.syllables
    wav = tmp_path / "talk.wav"
    write_wav(wav, np.concatenate(parts), SR)
    true_rate = syllable_count / sum(end - start for start, end in spans)
    true_share = sum(pauses) / (spans[-1][1] - spans[0][0])

    # a subprocess: the real command line; torch on one thread as a live session runs silero
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "speakfeed_gui", "--workspace", str(workspace.root), "analyze",
                           str(wav), "--model", "dummy", "--json", "--no-transcribe"], capture_output=True, text=True, env=env, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    prosody = json.loads(done.stdout)["prosody"]
    assert prosody["speaking_rate_sps"] == pytest.approx(true_rate, rel=0.15)
    assert prosody["pause_count"] == pytest.approx(len(pauses), rel=0.20)
    assert prosody["pause_share"] == pytest.approx(true_share, abs=0.07)
    assert prosody["longest_pause_seconds"] == pytest.approx(max(pauses), abs=0.3)
