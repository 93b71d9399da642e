"""The Live Feedback tab end to end: real PortAudio through the PulseAudio virtual microphone.

Real-time tests are kept to a few seconds of audio each. Screenshots go to
$SPEAKFEED_SCREENS_DIR when set (to look at them), else to the test's tmp folder.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from speakfeed_gui.core.live.session import load_session
from speakfeed_gui.core.live.transcript import TranscriptLog
from speakfeed_gui.core.settings.workspace import init_workspace
from speakfeed_gui.ui.live_tab import IDLE, RUNNING, LiveTab
from tests.synth import silence, speechlike
from tests.virtual_mic import mic_feeder, virtual_mic  # noqa: F401  (fixtures)

DUMMY_LABELS = ("calm", "anxious", "frustrated", "energetic", "burned_out")
START_TIMEOUT = 60_000  # ms: the first start in a process compiles librosa's yin (numba)


def screens_dir(tmp_path: Path) -> Path:
    out = Path(os.environ.get("SPEAKFEED_SCREENS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def configure(workspace, transcribe: bool = False, **models) -> None:
    """Short windows and the energy VAD (silero ignores synthetic voices); extra models.yaml entries.

    Speech recognition (on by default in the app) is off unless a test is about words: Whisper
    hears nothing in synthetic voices and would only load the machine.
    """
    data = yaml.safe_load(workspace.config_path.read_text(encoding="utf-8"))
    data["live"].update(window_seconds=1.0, hop_seconds=0.25, vad="energy", transcribe=transcribe)
    data["models"].update(models)
    workspace.config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


@pytest.fixture
def live_workspace(tmp_path):
    ws = init_workspace(tmp_path / "ws")
    configure(ws)
    return ws


@pytest.fixture
def make_tab(qtbot, make_context):
    tabs = []

    def make(workspace, model="dummy", device="pulse"):
        context = make_context(workspace)
        if model:
            context.set_live_choice(model, configured=True)
        tab = LiveTab(context)
        qtbot.addWidget(tab)
        tab.resize(1400, 900)
        tab.show()
        qtbot.waitExposed(tab)
        if device:
            assert tab.device_picker.select(device), [d.name for d in tab.device_picker.devices]
        tabs.append(tab)
        return tab

    yield make
    for tab in tabs:
        tab.shutdown()
        for dialog in (tab.report_dialog, tab.sessions_dialog):
            if dialog is not None:
                dialog.close()


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def start(qtbot, tab) -> None:
    click(qtbot, tab.start_button)
    qtbot.waitUntil(lambda: tab.state == RUNNING or bool(tab.banner_text()), timeout=START_TIMEOUT)
    assert tab.state == RUNNING, tab.banner_text()
    assert tab.start_button.text() == "Stop" and not tab.model_combo.isEnabled()


def stop(qtbot, tab) -> None:
    """Stop, and wait for the session file to close (the tab stops the runner in a worker)."""
    tab.stop()
    qtbot.waitUntil(lambda: tab.state == IDLE, timeout=60_000)


@pytest.mark.mic
@pytest.mark.slow
def test_live_session_predicts_speech_not_silence_and_saves_report(qtbot, make_tab, live_workspace, virtual_mic,
                                                                  mic_feeder, tmp_path):
    out = screens_dir(tmp_path)
    tab = make_tab(live_workspace)
    tab.record_box.setChecked(True)
    start(qtbot, tab)
    assert tab.timeline.labels == list(DUMMY_LABELS)
    mic_feeder.play(np.concatenate([silence(0.6), speechlike(170, 2.6, amp=0.35, rate_hz=4.0), silence(1.6)]))

    # Wait for what the voice shows, not for a count of windows: on a busy machine the count was
    # reached after the voice had ended, and the meter then read silence (-68 dBFS).
    shown = {label.replace("_", " ") for label in DUMMY_LABELS} | {"uncertain"}
    qtbot.waitUntil(lambda: tab.emotion_label.text() in shown, timeout=15_000)
    assert "%" in tab.detail_label.text()
    qtbot.waitUntil(lambda: tab.timeline.point_count() >= 6, timeout=15_000)
    levels = tab.pitch_level.level.y[:, 0]  # what the meter showed at every GUI tick so far
    assert np.nanmax(levels) > -40 and np.nanmin(levels) < -50  # the meter followed the voice and the silence
    assert tab.cards.values.get("loudness_dbfs") is not None
    assert tab.cards.statuses["loudness_dbfs"] in ("ok", "low", "high")
    assert not tab.cards.cards["wpm"].isVisible() and not tab.transcript.isVisible()  # audio model: no text cards
    qtbot.wait(300)
    assert tab.grab().save(str(out / "live_tab_running.png"))

    qtbot.waitUntil(lambda: tab.emotion_label.text() == "silence", timeout=10_000)  # the voice ended
    assert tab.detail_label.text() == "no speech in the last window"
    minutes, seconds = tab.elapsed_label.text().split(":")  # a clock of the audio heard: under a minute here,
    assert minutes == "0" and 3 <= int(seconds) < 60  # however long a busy machine took to show it
    assert "input overflows: 0" in tab.stats_label.text()
    assert tab.timer_stats()["ticks"] > 30

    click(qtbot, tab.start_button)  # Stop
    qtbot.waitUntil(lambda: tab.report_dialog is not None and tab.report_dialog.isVisible(), timeout=30_000)
    assert tab.state == IDLE and tab.start_button.text() == "Start"
    assert tab.banner_kind == "info" and tab.last_session_path.name in tab.banner_text()

    data = load_session(tab.last_session_path)
    assert data["status"] == "completed"
    assert Path(data["path"]).parent == live_workspace.sessions_dir
    speech = [w for w in data["windows"] if w["is_speech"]]
    quiet = [w for w in data["windows"] if not w["is_speech"]]
    assert len(speech) >= 4 and all(w["prediction"] and w["label"] != "silence" for w in speech)
    assert quiet and all(w["prediction"] is None and w["label"] == "silence" for w in quiet)
    assert len(data["windows"]) == tab.results_shown

    wav = live_workspace.sessions_dir / data["audio_file"]
    audio, rate = sf.read(str(wav))
    assert rate == 16000 and audio.size / rate > 3.0
    assert np.max(np.abs(audio)) > 0.2  # the voice is in the recording

    view = tab.report_dialog.view
    assert view.report.path == str(tab.last_session_path)
    assert sum(view.share_chart.share.values()) == pytest.approx(1.0, abs=0.01)
    assert view.timeline.point_count() == len(speech)
    assert view.prosody_table.rowCount() >= 6
    qtbot.wait(200)
    assert tab.report_dialog.grab().save(str(out / "live_report.png"))


@pytest.mark.mic
@pytest.mark.slow
def test_device_vanishing_keeps_the_session_and_start_works_again(qtbot, make_tab, live_workspace, virtual_mic,
                                                                  mic_feeder, tmp_path):
    tab = make_tab(live_workspace)
    assert not tab.record_box.isChecked()
    start(qtbot, tab)
    mic_feeder.play(speechlike(150, 12.0, amp=0.3))
    qtbot.waitUntil(lambda: tab.results_shown >= 3, timeout=10_000)
    try:
        virtual_mic.unplug()
        qtbot.waitUntil(lambda: tab.state == IDLE, timeout=8000)
    finally:
        virtual_mic.replug()
    banner = tab.banner_text()
    assert banner.startswith("Microphone lost:") and "stopped delivering audio" in banner
    assert tab.last_session_path.name in banner and tab.banner_kind == "error"
    data = load_session(tab.last_session_path)
    assert data["status"] == "device_lost" and "pulse" in data["message"]
    assert len(data["windows"]) >= 3 and data["audio_file"] is None
    assert tab.report_dialog is not None and tab.report_dialog.view.report.status == "device_lost"
    assert tab.start_button.isEnabled() and tab.device_picker.refresh_button.isEnabled()

    click(qtbot, tab.device_picker.refresh_button)
    assert tab.device_picker.select("pulse")
    first = tab.last_session_path
    start(qtbot, tab)
    assert tab.banner_text() == ""  # a new start clears the old message
    mic_feeder.play(speechlike(150, 1.5, amp=0.3))
    qtbot.waitUntil(lambda: tab.results_shown >= 2, timeout=10_000)
    stop(qtbot, tab)
    assert tab.last_session_path != first and load_session(tab.last_session_path)["status"] == "completed"


TALK = Path(__file__).parents[1] / "data" / "talk_fillers.flac"  # 27 known words, see tests/data/README.md


@pytest.mark.mic
@pytest.mark.slow
def test_the_default_recogniser_shows_the_transcript_and_words_per_minute(qtbot, make_tab, tmp_path, virtual_mic,
                                                                         mic_feeder):
    """An audio model, no setup: the bundled Whisper transcribes beside it, in the tab and the report."""
    ws = init_workspace(tmp_path / "ws")
    configure(ws, transcribe=True)
    tab = make_tab(ws)
    start(qtbot, tab)
    assert tab.transcript.isVisible() and tab.cards.cards["wpm"].isVisible() and tab.cards.cards["fillers"].isVisible()
    talk, rate = sf.read(TALK, dtype="float32")
    assert rate == 16_000
    mic_feeder.play(talk)
    # the first sentence is transcribed when the pause after it closes its speech segment
    qtbot.waitUntil(lambda: "public speaking" in tab.transcript.toPlainText().lower(), timeout=60_000)
    assert tab.transcript.toPlainText().startswith("[0:0")
    assert tab.cards.values.get("words_per_minute") and tab.cards.statuses.get("words_per_minute")
    qtbot.waitUntil(lambda: tab.elapsed() > talk.size / rate + 0.5, timeout=60_000)  # the whole talk was heard
    assert tab.grab().save(str(screens_dir(tmp_path) / "live_tab_transcript.png"))

    click(qtbot, tab.start_button)  # Stop: the last sentence is transcribed before the file closes
    qtbot.waitUntil(lambda: tab.report_dialog is not None and tab.report_dialog.isVisible(), timeout=60_000)
    assert "speak slowly" in tab.transcript.toPlainText().lower()
    view = tab.report_dialog.view
    shown = view.transcript.text()
    assert "public speaking" in shown.lower() and "speak slowly" in shown.lower() and "words per minute" in shown
    assert 90 <= view.report.words_per_minute <= 170  # 27 words in about 12 s
    assert sum(view.report.words["fillers"].get(f, 0) for f in ("um", "uh")) >= 2
    rows = [view.prosody_table.item(i, 0).text() for i in range(view.prosody_table.rowCount())]
    assert "Words per minute" in rows and "Fillers per minute" in rows
    data = load_session(tab.last_session_path)
    assert len(data["transcript"]) >= 2 and all(s["words"] for s in data["transcript"])
    exported = view.export_csv(tmp_path / "windows.csv")
    import csv

    with exported.open(encoding="utf-8") as handle:
        said = " ".join(row["words"] for row in csv.DictReader(handle)).lower()
    assert "public" in said and "slowly" in said


@pytest.fixture
def failing_model_type():
    """A real backend under a test-only type: its first `healthy_calls` predictions work, then it raises."""
    from speakfeed_gui.core.models.base import BaseModel, register_model_type, unregister_model_type

    @register_model_type("failing_for_test")
    class FailingModel(BaseModel):
        input_kind = "audio"
        config_fields = {"healthy_calls": "int"}

        def _predict_proba(self, batch):
            self.calls = getattr(self, "calls", 0) + 1
            if self.calls > self.spec.config.get("healthy_calls", 0):
                raise RuntimeError("the model broke on this window")
            return [dict.fromkeys(self.labels, 1.0) for _ in batch]

    yield "failing_for_test"
    unregister_model_type("failing_for_test")


@pytest.mark.mic
def test_a_model_that_raises_mid_session_shows_a_banner_and_the_session_goes_on(
        qtbot, make_tab, tmp_path, virtual_mic, mic_feeder, failing_model_type):
    ws = init_workspace(tmp_path / "ws")
    labels = ["a", "b"]
    configure(ws, flaky={"type": failing_model_type, "emotion_labels": labels, "config": {"healthy_calls": 1}})
    tab = make_tab(ws, model="flaky")
    start(qtbot, tab)  # its one healthy call is the warm-up window
    mic_feeder.play(speechlike(160, 1.5, amp=0.3))
    qtbot.waitUntil(lambda: "analysis failed" in tab.banner_text(), timeout=10_000)
    assert "RuntimeError: the model broke on this window" in tab.banner_text()
    assert tab.banner_kind == "warning" and tab.state == RUNNING  # the app and the session go on
    qtbot.waitUntil(lambda: tab.emotion_label.text() == "silence", timeout=10_000)  # silence still flows
    stop(qtbot, tab)
    data = load_session(tab.last_session_path)
    assert data["status"] == "completed" and data["windows"]
    assert all(not w["is_speech"] for w in data["windows"])  # failed windows are not saved as results


@pytest.mark.mic
def test_a_model_that_always_raises_is_stopped_before_the_session(qtbot, make_tab, tmp_path, virtual_mic,
                                                                  failing_model_type):
    ws = init_workspace(tmp_path / "ws")
    configure(ws, broken={"type": failing_model_type, "emotion_labels": ["a", "b"]})
    tab = make_tab(ws, model="broken")
    click(qtbot, tab.start_button)
    qtbot.waitUntil(lambda: bool(tab.banner_text()), timeout=START_TIMEOUT)
    assert tab.banner_text() == "The model could not be started: RuntimeError: the model broke on this window"
    assert tab.state == IDLE and not ws.sessions_dir.exists()
    tab.context.set_live_choice("dummy", configured=True)  # the app is alive: another model starts
    start(qtbot, tab)
    stop(qtbot, tab)


@pytest.mark.mic
def test_a_model_that_cannot_load_shows_why(qtbot, make_tab, live_workspace, virtual_mic):
    """`emotion` follows the registry's `live` alias, which a fresh workspace does not have."""
    tab = make_tab(live_workspace, model="emotion")
    click(qtbot, tab.start_button)
    qtbot.waitUntil(lambda: bool(tab.banner_text()), timeout=START_TIMEOUT)
    assert tab.state == IDLE and tab.start_button.text() == "Start"
    assert tab.banner_text().startswith("The model could not be started:")
    assert "live" in tab.banner_text()
    assert not list(live_workspace.sessions_dir.glob("*.json"))  # nothing was started


@pytest.mark.mic
def test_no_microphone_is_explained_in_the_tab(qtbot, make_tab, live_workspace, virtual_mic):
    tab = make_tab(live_workspace)
    tab.device_picker.set_devices([])  # what a machine without input devices lists
    click(qtbot, tab.start_button)
    assert tab.state == IDLE
    assert tab.banner_text().startswith("No microphone") and tab.banner_kind == "warning"
    assert not tab.device_picker.combo.isEnabled()


@pytest.mark.mic
def test_model_picker_follows_the_context_and_settings_persist(qtbot, make_tab, live_workspace, virtual_mic):
    tab = make_tab(live_workspace)
    assert tab.model_combo.currentData() == "config:dummy"
    tab.context.set_live_choice("text_sentiment", configured=True)
    assert tab.model_combo.currentData() == "config:text_sentiment"
    index = tab.model_combo.findData("config:dummy")
    tab.model_combo.activated.emit(index)  # what a user's pick emits
    assert tab.context.live_model_ref() == "dummy"
    tab.record_box.setChecked(True)
    names = [d.name for d in tab.device_picker.devices]
    other = next(name for name in names if name != "pulse")
    tab.device_picker.select(other)
    assert tab.context.setting("live/record", False) is True
    assert tab.context.setting("live/device", "") == other

    restarted = LiveTab(tab.context)  # the same QSettings file, as after a restart
    qtbot.addWidget(restarted)
    restarted.show()
    qtbot.waitExposed(restarted)
    assert restarted.record_box.isChecked()
    assert restarted.device_picker.current_name() == other


@pytest.mark.mic
def test_past_sessions_reopen_in_the_report_view(qtbot, make_tab, live_workspace, virtual_mic, tmp_path):
    from tests.ui.test_report_view import write_session

    path = write_session(live_workspace.sessions_dir, seconds=4.0)
    tab = make_tab(live_workspace)
    dialog = tab.show_sessions()
    qtbot.waitUntil(lambda: not dialog.loading, timeout=10_000)
    assert [s["path"] for s in dialog.sessions] == [str(path)]
    assert dialog.table.item(0, 1).text() == "completed"
    with qtbot.waitSignal(tab.report_shown, timeout=5000) as shown:
        click(qtbot, dialog.open_button)
    view = shown.args[0].view
    assert view.report.path == str(path)
    assert view.report.windows == len(json.loads(path.read_text())["windows"])
    assert view.timeline.point_count() > 0
    assert tab.show_sessions() is dialog  # Sessions… again brings the open window forward (and re-reads it)
    qtbot.waitUntil(lambda: not dialog.loading and dialog.open_button.isEnabled(), timeout=10_000)
    click(qtbot, dialog.open_button)  # the same report again replaces the first window
    assert tab.report_dialog is not shown.args[0]
    tab.report_dialog.close()
    dialog.close()
    assert tab.report_dialog is None and tab.sessions_dialog is None
    qtbot.waitUntil(lambda: not tab.findChildren(QDialog), timeout=2000)  # closed windows are deleted, not kept


@pytest.fixture(scope="module")
def tiny_text_models(tmp_path_factory):
    """A real (tiny, random-weight) text classifier and speech recogniser, built offline."""
    pytest.importorskip("transformers")
    from tests.hf import tiny_models

    folder = tmp_path_factory.mktemp("tiny-text")
    return tiny_models.build_text_classifier(folder / "text"), tiny_models.build_speech_recognizer(folder / "asr")


@pytest.mark.mic
@pytest.mark.slow
def test_a_text_model_listens_through_the_speech_recogniser(qtbot, make_tab, tmp_path, virtual_mic, mic_feeder,
                                                            tiny_text_models):
    from tests.hf.tiny_models import TEXT_LABELS

    text_dir, asr_dir = tiny_text_models
    ws = init_workspace(tmp_path / "ws")
    configure(ws, talk={"type": "huggingface", "emotion_labels": list(TEXT_LABELS),
                        "config": {"model_name": str(text_dir), "task": "text-classification"}})
    data = yaml.safe_load(ws.config_path.read_text(encoding="utf-8"))
    data["live"]["asr_model"] = str(asr_dir)
    ws.config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tab = make_tab(ws, model="talk")
    import torch

    threads = torch.get_num_threads()
    start(qtbot, tab)
    assert torch.get_num_threads() == 1  # a live session runs torch single-threaded
    assert tab.transcript.isVisible() and tab.cards.cards["wpm"].isVisible() and tab.cards.cards["fillers"].isVisible()
    mic_feeder.play(np.concatenate([speechlike(150, 2.5, amp=0.3), silence(0.5)]))
    qtbot.waitUntil(lambda: tab.results_shown >= 8, timeout=15_000)
    assert tab.grab().save(str(screens_dir(tmp_path) / "live_tab_text_model.png"))
    stop(qtbot, tab)
    assert torch.get_num_threads() == threads  # and gives the threads back
    windows = load_session(tab.last_session_path)["windows"]
    speech = [w for w in windows if w["is_speech"]]
    assert speech and all(isinstance(w["transcript"], str) for w in speech)  # every speech window was transcribed
    classified = [w for w in speech if w["transcript"]]
    assert classified and all(set(w["prediction"]["probabilities"]) == set(TEXT_LABELS) for w in classified)
    assert all(w["label"] == "speech" and w["prediction"] is None for w in speech if not w["transcript"])
    kept = [line for line in tab.transcript.toPlainText().splitlines() if line]
    assert len(kept) == len([s for s in TranscriptLog.from_windows(windows).segments if s[2]])
    assert tab.cards.values.get("words_per_minute") is not None


def _result(is_speech: bool, probabilities=None, threshold: float = 0.0, transcript=None):
    from speakfeed_gui.core.live.analyzer import WindowResult
    from speakfeed_gui.core.live.prosody import ProsodyMetrics
    from speakfeed_gui.core.models.prediction import make_prediction

    result = WindowResult(0.0, 1.0, is_speech, 1.0 if is_speech else 0.0, -20.0, ProsodyMetrics(), transcript=transcript)
    if probabilities:
        result.prediction = make_prediction(probabilities, model_name="m", model_version="1", threshold=threshold)
        result.smoothed = dict(result.prediction.probabilities)
        result.label, result.confidence = result.prediction.label, result.prediction.confidence
    elif is_speech:
        result.label = "speech"
    return result


def test_emotion_panel_tells_silence_uncertain_and_labels_apart(qtbot):
    from speakfeed_gui.ui.live_plots import EmotionPanel
    from speakfeed_gui.ui.plot_style import label_colors

    panel = EmotionPanel()
    qtbot.addWidget(panel)
    colors = label_colors(["calm", "burned_out"])
    panel.show_result(_result(False), colors)
    assert panel.emotion_label.text() == "silence" and "italic" in panel.emotion_label.styleSheet()
    panel.show_result(_result(True, {"calm": 0.45, "burned_out": 0.55}, threshold=0.6), colors)
    assert panel.emotion_label.text() == "uncertain"
    assert panel.detail_label.text().startswith("best guess burned out at 55%")
    panel.show_result(_result(True, {"calm": 0.2, "burned_out": 0.8}), colors)
    assert panel.emotion_label.text() == "burned out" and panel.detail_label.text() == "confidence 80%"
    assert colors["burned_out"].name() in panel.emotion_label.styleSheet()
    panel.show_result(_result(True), colors)  # a text model heard speech but had nothing to classify
    assert panel.emotion_label.text() == "speech" and "nothing transcribed" in panel.detail_label.text()
    panel.show_stats(3, 1, 9)
    assert "input overflows: 3" in panel.stats_label.text() and "#c62828" in panel.stats_label.text()


def test_prosody_cards_rate_each_measure_against_its_band(qtbot):
    from speakfeed_gui.core.settings.config import DEFAULT_TARGETS
    from speakfeed_gui.ui.prosody_cards import ProsodyCards

    cards = ProsodyCards(DEFAULT_TARGETS)
    qtbot.addWidget(cards)
    cards.show()
    assert not cards.cards["wpm"].isVisible()
    statuses = cards.update_values({"pitch_variation_semitones": 1.2, "loudness_dbfs": -8.0,
                                    "loudness_variation_db": 5.0, "speaking_rate_sps": None})
    assert statuses["pitch_variation_semitones"] == "low" and statuses["loudness_dbfs"] == "high"
    assert statuses["loudness_variation_db"] == "ok" and statuses["speaking_rate_sps"] is None
    assert cards.cards["pitch"].flag.isVisible() and cards.cards["pitch"].flag.text() == "monotone"
    assert cards.cards["loudness"].status == "high"  # the worst of its measures
    assert cards.cards["rate"].status is None
    row = cards.cards["loudness"].rows["loudness_dbfs"]
    assert row.value.text() == "-8 dBFS" and row.chip.text().strip() == "high"
    assert row.target.text() == "target -35 to -12 dBFS"
    cards.set_text_mode(True)
    assert cards.cards["wpm"].isVisible() and cards.cards["fillers"].isVisible()


def test_rolling_series_keeps_the_newest_points_contiguous():
    from speakfeed_gui.ui.live_plots import RollingSeries

    series = RollingSeries(2, capacity=5)
    for i in range(23):
        series.append(float(i), [i, -i])
    assert len(series) == 5
    assert series.x.tolist() == [18.0, 19.0, 20.0, 21.0, 22.0]
    assert series.y[:, 1].tolist() == [-18.0, -19.0, -20.0, -21.0, -22.0]
    series.clear()
    assert len(series) == 0 and series.x.size == 0


def test_card_values_are_medians_of_recent_speech_and_transcripts_do_not_overlap():
    from speakfeed_gui.core.live.analyzer import WindowResult
    from speakfeed_gui.core.live.preparation import recent_medians
    from speakfeed_gui.core.live.prosody import ProsodyMetrics

    results = [WindowResult(t, t + 1.0, True, 1.0, -20.0, ProsodyMetrics(loudness_dbfs=-30.0 + t, pitch_hz=None))
               for t in range(10)]
    medians = recent_medians(results, since=7.0)  # windows ending at 7, 8, 9, 10
    assert medians["loudness_dbfs"] == -22.5 and medians["pitch_hz"] is None
    assert recent_medians([], since=0.0) == {}
    log = TranscriptLog()
    assert log.add(0.0, 2.0, "so um we start")
    assert not log.add(0.5, 2.5, "um we start now")  # overlaps the kept window
    assert log.add(2.0, 4.0, "and you know go on")
    assert not log.add(4.0, 6.0, None)  # no transcript (an audio model)
    metrics = log.metrics(["um", "you know"])
    assert metrics["word_count"] == 9 and metrics["filler_count"] == 2 and metrics["words_per_minute"] == 135.0
    assert log.metrics(["um"], since=2.5)["word_count"] == 5
