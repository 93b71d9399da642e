"""The session report view: built from real session files, exported to JSON, CSV and PNG."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage

from speakfeed_gui.core.audio.vad import EnergyVAD
from speakfeed_gui.core.live.analyzer import analyze_array
from speakfeed_gui.core.live.session import SessionRecorder, load_session
from speakfeed_gui.core.models.dummy import DummyModel
from speakfeed_gui.core.settings.config import DEFAULT_TARGETS, LiveSettings, ModelSpec
from speakfeed_gui.ui.plot_style import PALETTE
from speakfeed_gui.ui.report_view import ReportView, SessionsDialog, build_report
from tests.synth import silence, speechlike

LABELS = ("calm", "anxious", "frustrated", "energetic", "burned_out")


def write_session(folder: Path, seconds: float = 4.0, status: str = "completed") -> Path:
    """A real session file: the live windows run offline over a synthetic voice with the dummy model."""
    model = DummyModel(ModelSpec(name="dummy", type="dummy", labels=LABELS, confidence_threshold=0.3,
                                 config={"seed": 7}))
    settings = LiveSettings(window_seconds=1.0, hop_seconds=0.25, vad="energy", targets=dict(DEFAULT_TARGETS))
    audio = np.concatenate([silence(0.5), speechlike(170, seconds - 1.5, amp=0.3), silence(1.0)])
    recorder = SessionRecorder(folder, model_info=model.get_model_info(),
                               settings={"targets": {k: list(v) for k, v in DEFAULT_TARGETS.items()}})
    analyze_array(audio, 16000, model, settings, vad=EnergyVAD(), on_result=recorder.append)
    return recorder.close("device_lost" if status == "device_lost" else "stopped",
                          message="input device pulse stopped delivering audio" if status == "device_lost" else None)


@pytest.fixture
def session_path(tmp_path: Path) -> Path:
    return write_session(tmp_path / "sessions")


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    stride = image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * image.height()).reshape(image.height(), stride)
    return raw[:, : image.width() * 3].reshape(image.height(), image.width(), 3).copy()


def _has_color(pixels: np.ndarray, color: str, tolerance: int = 12) -> bool:
    target = QColor(color)
    rgb = np.array([target.red(), target.green(), target.blue()])
    return bool((np.abs(pixels.astype(int) - rgb).max(axis=2) <= tolerance).any())


def test_report_view_shows_share_timeline_and_delivery(qtbot, session_path):
    data = load_session(session_path)
    view = ReportView(data)
    qtbot.addWidget(view)
    view.resize(960, 900)
    view.show()
    qtbot.waitExposed(view)
    report = view.report
    assert report.path == str(session_path) and report.status == "completed"
    assert report.windows == len(data["windows"]) and 0 < report.speech_windows < report.windows
    assert list(view.share_chart.share) == [label for label in LABELS + ("uncertain",) if label in report.emotion_share]
    assert view.timeline.labels == list(LABELS)
    assert view.timeline.point_count() == report.speech_windows
    measures = [view.prosody_table.item(row, 0).text() for row in range(view.prosody_table.rowCount())]
    assert "Pitch variation" in measures and "Speaking rate" in measures
    assert "Words per minute" not in measures  # no transcript in an audio session
    loud = measures.index("Loudness")
    assert view.prosody_table.item(loud, 3).text() == report.prosody_status["loudness_dbfs"]
    assert view.prosody_table.item(loud, 2).text() == "-35 to -12 dBFS"
    for note in report.observations:
        assert note in view.observations.text()
    assert "completed" in view.header.text() and "dummy" in view.header.text()


def test_exports_write_files_that_parse(qtbot, session_path, tmp_path):
    view = ReportView(load_session(session_path))
    qtbot.addWidget(view)
    view.resize(960, 900)
    view.show()
    qtbot.waitExposed(view)
    with qtbot.waitSignal(view.exported) as written:
        view.export_json(tmp_path / "r.json")
    assert written.args == [str(tmp_path / "r.json")]
    exported = json.loads((tmp_path / "r.json").read_text())
    assert exported["emotion_share"] == view.report.emotion_share
    assert exported["observations"] == view.report.observations

    view.export_csv(tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == view.report.windows
    assert {row["label"] for row in rows} >= {"silence"}

    view.export_png(tmp_path / "r.png")
    image = QImage(str(tmp_path / "r.png"))
    assert not image.isNull() and image.width() == view.content.width() and image.height() == view.content.height()
    pixels = _pixels(image)
    shown = [label for label in LABELS if label in view.report.emotion_share]
    assert shown and all(_has_color(pixels, PALETTE[LABELS.index(label)]) for label in shown)

    with pytest.raises(Exception, match="cannot write the PNG"):
        view.export_png(tmp_path / "missing" / "r.png")


def test_export_buttons_exist(qtbot, session_path):
    view = ReportView(load_session(session_path))
    qtbot.addWidget(view)
    assert [b.text() for b in view.buttons.values()] == ["Export JSON…", "Export CSV…", "Export PNG…"]


def test_device_lost_session_says_so(qtbot, tmp_path):
    path = write_session(tmp_path, status="device_lost")
    view = ReportView(load_session(path))
    qtbot.addWidget(view)
    assert view.report.status == "device_lost"
    assert "device lost" in view.header.text() and "stopped delivering audio" in view.header.text()
    assert "The session ended early: the microphone was lost" in view.observations.text()


def _window(t0: float, t1: float, text: str | None) -> dict:
    return {"t_start": t0, "t_end": t1, "is_speech": True, "speech_fraction": 1.0, "label": "calm",
            "prediction": {"label": "calm"}, "smoothed": {"calm": 1.0}, "prosody": {}, "transcript": text}


def test_words_per_minute_of_a_text_model_session_use_non_overlapping_windows():
    session = {"status": "completed", "windows": [
        _window(0.0, 2.0, "one two three um"),
        _window(0.5, 2.5, "two three um four"),  # overlaps the first: its words are not counted again
        _window(2.0, 4.0, "four five"),
        _window(4.0, 6.0, ""),
    ]}
    report = build_report(session, DEFAULT_TARGETS, ["um"])
    assert report.transcript == "one two three um four five"
    assert report.prosody["words_per_minute"] == 90.0  # 6 words over the 4 s the texts span, not a median of windows
    assert report.prosody["filler_per_minute"] == 15.0 and report.words["fillers"] == {"um": 1}
    assert report.prosody_status["words_per_minute"] == "low"
    assert any("words per minute" in note for note in report.observations)


def test_sessions_dialog_lists_newest_first_and_skips_broken_files(qtbot, tmp_path):
    folder = tmp_path / "sessions"
    first = write_session(folder, seconds=3.0)
    second = write_session(folder, seconds=3.0)
    (folder / "pipeline_results_29990101_000000.json").write_text("{not json", encoding="utf-8")
    dialog = SessionsDialog(folder)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.loading, timeout=10_000)  # read in a worker thread, not on the GUI's
    assert [s["path"] for s in dialog.sessions] == [str(second), str(first)]
    assert dialog.table.rowCount() == 2 and not dialog.empty.isVisibleTo(dialog)
    dialog.table.selectRow(1)
    with qtbot.waitSignal(dialog.open_requested) as chosen:
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
    assert chosen.args == [str(first)]

    empty = SessionsDialog(tmp_path / "none")
    qtbot.addWidget(empty)
    qtbot.waitUntil(lambda: not empty.loading, timeout=10_000)
    assert empty.table.rowCount() == 0 and empty.empty.isVisibleTo(empty) and not empty.open_button.isEnabled()
