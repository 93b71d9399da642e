"""History tab: sessions written by the real recorder, trends with bands and bests, date filter, open, delete."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from speakfeed_gui.core.settings.config import DEFAULT_TARGETS
from speakfeed_gui.ui.history_tab import HistoryTab
from tests.history.helpers import record, steady
from tests.ui.conftest import open_main_window


@pytest.fixture
def sessions(workspace):
    folder = workspace.sessions_dir
    record(folder, steady(6, rate=6.5, pause=0.02, pitch=1.5, loud=-20), started_at="2026-11-01T10:00:00.000+00:00")
    record(folder, steady(6, rate=5.8, pause=0.10, pitch=3.0, loud=-22, label="anxious"),
           started_at="2026-11-10T10:00:00.000+00:00", audio=np.zeros(16000 * 3, dtype=np.float32))
    record(folder, steady(6, rate=4.3, pause=0.20, pitch=5.0, loud=-24), started_at="2026-11-20T10:00:00.000+00:00")
    return folder


def _open(qtbot, context) -> HistoryTab:
    tab = HistoryTab(context)
    qtbot.addWidget(tab)
    tab.resize(1300, 800)
    with qtbot.waitSignal(tab.loaded, timeout=20_000) as signal:
        tab.show()
    assert signal.args == [3]
    return tab


def test_history_shows_trends_with_bands_and_bests(qtbot, context, sessions):
    tab = _open(qtbot, context)
    assert tab.proxy.rowCount() == 3
    assert tab.proxy.index(0, 0).data().startswith("2026-11-20")  # newest first
    rate = tab.plots["speaking_rate_sps"]
    assert rate.ys == [6.5, 5.8, 4.3]  # oldest first along the date axis
    assert rate.band.isVisible() and rate.band.getRegion() == DEFAULT_TARGETS["speaking_rate_sps"]
    best_x, best_y = rate.best.getData()
    assert list(best_y) == [4.3] and best_x[0] == max(rate.xs)
    assert "best 4.3" in rate.best_text.toPlainText()
    assert "Personal bests" in tab.bests.text() and "Speaking rate: <b>4.3 syll/s</b>" in tab.bests.text()
    assert tab.plots["words_per_minute"].ys == []  # no transcript in these talks
    assert set(tab.emotion_plot.curves) == {"calm", "anxious"}
    assert list(tab.emotion_plot.curves["anxious"].getData()[1]) == [0.0, 1.0, 0.0]
    assert tab.status.text() == "3 of 3 sessions"


def test_date_filter_redraws_from_the_loaded_summaries(qtbot, context, sessions):
    tab = _open(qtbot, context)
    tab.set_date_range(date(2026, 11, 5), date(2026, 11, 15))
    assert tab.proxy.rowCount() == 1 and tab.plots["speaking_rate_sps"].ys == [5.8]
    assert tab.status.text() == "1 of 3 sessions"
    qtbot.mouseClick(tab.all_dates, Qt.MouseButton.LeftButton)
    assert tab.proxy.rowCount() == 3


def test_double_click_opens_the_report_in_the_main_window(qtbot, context, sessions):
    window = open_main_window(qtbot, context)
    tab = window.history_tab
    with qtbot.waitSignal(tab.loaded, timeout=20_000):
        window.tabs.setCurrentWidget(tab)
    index = tab.proxy.index(1, 0)
    rect = tab.table.visualRect(index)
    qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # Qt needs the press first
    with qtbot.waitSignal(window.live_tab.report_shown, timeout=10_000) as shown:
        qtbot.mouseDClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    dialog = shown.args[0]
    assert dialog.view.report.path == tab.selected().path
    assert dialog.view.report.emotion_share == {"anxious": 1.0}
    dialog.close()


def test_delete_recording_asks_then_removes_the_talk_and_its_audio(qtbot, context, sessions):
    tab = _open(qtbot, context)
    assert tab.select_session(next(s.id for s in tab.summaries if s.audio_path))
    doomed = tab.selected()

    def answer(button):
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox) and "for good" in box.text()
        box.button(button).click()

    QTimer.singleShot(100, lambda: answer(QMessageBox.StandardButton.No))
    assert tab.delete_selected() is False
    assert len(list(sessions.glob("*.wav"))) == 1
    QTimer.singleShot(100, lambda: answer(QMessageBox.StandardButton.Yes))
    assert tab.delete_selected() is True
    assert not list(sessions.glob("*.wav")) and not any(sessions.glob(f"*{doomed.id}.json"))
    assert tab.proxy.rowCount() == 2 and doomed.id not in {s.id for s in tab.shown}
    with qtbot.waitSignal(tab.loaded, timeout=20_000) as signal:
        tab.reload()
    assert signal.args == [2]


def test_hundreds_of_sessions_load_in_the_background_then_from_the_cache(qtbot, context, workspace):
    for n in range(200):
        record(workspace.sessions_dir, steady(2, rate=3.0 + n % 20 / 10, pause=0.1, pitch=3.0, loud=-20),
               started_at=f"2026-{1 + n // 28 % 12:02d}-{1 + n % 28:02d}T09:00:00.000+00:00")
    tab = HistoryTab(context)
    qtbot.addWidget(tab)
    worker = tab.reload()
    assert worker.running  # the GUI thread is free while the files are read
    with qtbot.waitSignal(tab.loaded, timeout=60_000) as signal:
        pass
    assert signal.args == [200] and tab.proxy.rowCount() == 200
    assert len(tab.plots["speaking_rate_sps"].ys) == 200
    from speakfeed_gui.core.live.history import HistoryIndex

    again = HistoryIndex(workspace.sessions_dir)
    assert len(again.load()) == 200 and again.reread == 0
