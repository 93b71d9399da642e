"""Main window: tabs, shortcuts, status bar, settings, error handling, start-up behaviour."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer, qInstallMessageHandler, qWarning
from PySide6.QtWidgets import QMessageBox

from speakfeed_gui.core.errors import ConfigError
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.workspace import PROJECT_ROOT, init_workspace
from speakfeed_gui.ui import error_dialog
from speakfeed_gui.ui.error_dialog import error_bus
from speakfeed_gui.ui.main_window import BROWSER, LIVE, TRAIN, MainWindow
from speakfeed_gui.ui.registry_table import NAME
from tests.ui.conftest import open_main_window


def test_three_tabs_menus_and_shortcuts(qtbot, context):
    window = open_main_window(qtbot, context)
    assert [window.tabs.tabText(i) for i in range(3)] == ["Live Feedback", "Model Browser", "Train"]
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus == ["&File", "&View", "&Help"]
    file_items = [a.text() for a in window.menuBar().actions()[0].menu().actions() if a.text()]
    assert file_items == ["Open workspace…", "Import model bundle…", "Export model bundle…", "Quit"]
    assert window.act_import.shortcut().toString() == "Ctrl+I"
    assert window.act_export.shortcut().toString() == "Ctrl+E"
    assert window.act_quit.shortcut().toString() == "Ctrl+Q"
    assert window.act_refresh.shortcut().toString() == "F5"
    for key, index in ((Qt.Key.Key_3, TRAIN), (Qt.Key.Key_1, LIVE), (Qt.Key.Key_2, BROWSER)):
        qtbot.keyClick(window, key, Qt.KeyboardModifier.ControlModifier)
        assert window.tabs.currentIndex() == index


def test_status_bar_shows_workspace_and_live_model(qtbot, context, workspace):
    window = open_main_window(qtbot, context)
    assert window.workspace_label.text() == f"Workspace: {workspace.root}"
    assert window.live_label.text() == "Live model: emotion (configured)"  # default_model, no alias yet
    assert window.windowTitle() == "SpeakFeed — ws"


def test_export_without_a_selection_explains_itself(qtbot, context):
    window = open_main_window(qtbot, context)
    window.tabs.setCurrentIndex(TRAIN)
    window.act_export.trigger()
    assert window.tabs.currentIndex() == BROWSER
    assert "Select a trained model" in window.statusBar().currentMessage()


def test_geometry_and_tab_persist(qtbot, make_context, workspace, settings):
    first = open_main_window(qtbot, make_context(workspace))
    height = max(577, first.minimumSizeHint().height()) + 11  # a height the layout allows, not the default one
    first.resize(first.minimumSizeHint().width(), height)
    first.tabs.setCurrentIndex(TRAIN)
    first.close()
    second = MainWindow(make_context(workspace))
    qtbot.addWidget(second)
    assert second.tabs.currentIndex() == TRAIN
    assert second.height() == height  # restoreGeometry clamps the width to the 800 px offscreen screen
    assert settings.value("window/tab", type=int) == TRAIN


def test_refresh_rereads_the_config(qtbot, context, workspace):
    window = open_main_window(qtbot, context)
    config = workspace.config_path
    config.write_text(config.read_text().replace("models:\n", "models:\n  extra:\n    type: dummy\n", 1))
    qtbot.keyClick(window, Qt.Key.Key_F5)
    names = [window.browser_tab.proxy.index(r, NAME).data() for r in range(window.browser_tab.proxy.rowCount())]
    assert "extra" in names


def test_open_another_workspace(qtbot, context, trained_workspace):
    window = open_main_window(qtbot, context)
    other, model_id = trained_workspace
    window.switch_workspace(other.root)
    assert window.workspace_label.text() == f"Workspace: {other.root}"
    assert window.browser_tab.model.row_for_key(model_id) >= 0
    assert context.settings.value("workspace/last") == str(other.root)
    window.switch_workspace(Path(other.config_path))  # a file is not a workspace
    qtbot.waitUntil(lambda: bool(error_bus().open_dialogs()), timeout=2000)
    assert "cannot initialise workspace" in error_bus().open_dialogs()[-1].text()
    assert window.workspace_label.text() == f"Workspace: {other.root}"  # unchanged after the failure


@pytest.fixture
def exception_hooks(monkeypatch):
    """The app's hooks, restored afterwards (pytest-qt's capture is off for these tests)."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    error_dialog.install_exception_hooks()


@pytest.mark.qt_no_exception_capture
def test_exception_in_a_slot_shows_a_dialog_and_the_app_keeps_running(qtbot, context, exception_hooks):
    window = open_main_window(qtbot, context)

    def broken_slot():
        raise KeyError("no such column")

    with qtbot.waitSignal(error_bus().shown, timeout=3000) as shown:
        QTimer.singleShot(0, broken_slot)
    message, details = shown.args
    assert message == "KeyError: 'no such column'" and "broken_slot" in details
    box = error_bus().open_dialogs()[-1]
    assert box.detailedText() == details and box.windowTitle() == "Unexpected error"
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert error_bus().open_dialogs() == []
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)  # still responsive
    assert window.tabs.currentIndex() == TRAIN


@pytest.mark.qt_no_exception_capture
def test_speakfeed_error_is_one_line_without_traceback(qtbot, context, exception_hooks):
    open_main_window(qtbot, context)

    def bad_config():
        raise ConfigError("models.yaml: default_model: expected one of the configured models, got 'x'")

    with qtbot.waitSignal(error_bus().shown, timeout=3000) as shown:
        QTimer.singleShot(0, bad_config)
    assert shown.args == ["models.yaml: default_model: expected one of the configured models, got 'x'", ""]
    assert error_bus().open_dialogs()[-1].detailedText() == ""


def test_exception_in_a_plain_thread_shows_a_dialog(qtbot, context, exception_hooks):
    open_main_window(qtbot, context)

    def crash():
        raise RuntimeError("thread crashed")

    with qtbot.waitSignal(error_bus().shown, timeout=3000) as shown:
        thread = threading.Thread(target=crash, name="helper-thread")
        thread.start()
        thread.join()
    assert shown.args[0] == "RuntimeError: thread crashed"
    assert error_bus().open_dialogs()[-1].windowTitle() == "Error in helper-thread"


def test_qt_messages_go_to_logging(qtbot, caplog):
    previous = qInstallMessageHandler(None)
    try:
        error_dialog.install_qt_message_handler()
        with caplog.at_level(logging.DEBUG, logger="qt"):
            qWarning("a Qt warning for the log")
    finally:
        qInstallMessageHandler(previous)
    assert ("qt", logging.WARNING, "a Qt warning for the log") in caplog.record_tuples


def test_default_model_is_prepared_in_the_background(qtbot, make_context, tmp_path):
    workspace = init_workspace(tmp_path / "fresh")
    context = make_context(workspace)
    window = open_main_window(qtbot, context)
    worker = window.start_default_model()
    assert "Preparing the default model" in window.task_status.label.text()
    assert window.task_status.isVisible()
    with qtbot.waitSignal(worker.done, timeout=120_000):
        pass
    alias = ModelRegistry(workspace.registry_path).aliases().get("live")
    assert alias and window.browser_tab.model.row_for_key(alias) >= 0
    assert alias[:8] in window.live_label.text()
    assert not window.task_status.isVisible()
    again = window.start_default_model()  # the workspace has a live model now: nothing to do
    with qtbot.waitSignal(again.finished, timeout=30_000) as blocker:
        pass
    assert blocker.args == [None]


def test_window_is_shown_before_heavy_libraries_load(tmp_path):
    env = dict(os.environ, SPEAKFEED_SMOKE_EXIT="1", QT_QPA_PLATFORM="offscreen",
               SPEAKFEED_SETTINGS_DIR=str(tmp_path / "settings"), SPEAKFEED_LOG_DIR=str(tmp_path / "logs"))
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "main.py"), "--workspace", str(tmp_path / "ws")],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"visible": True, "heavy_modules": []}
    assert "Traceback" not in result.stderr


def test_bad_workspace_exits_with_one_line(tmp_path):
    not_a_folder = tmp_path / "file.txt"
    not_a_folder.write_text("x")
    env = dict(os.environ, SPEAKFEED_SMOKE_EXIT="1", QT_QPA_PLATFORM="offscreen",
               SPEAKFEED_SETTINGS_DIR=str(tmp_path / "settings"), SPEAKFEED_LOG_DIR=str(tmp_path / "logs"))
    result = subprocess.run([sys.executable, "-c", "from speakfeed_gui.ui.app import main; raise SystemExit(main())",
                             "--workspace", str(not_a_folder)], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "workspace must be a folder" in result.stderr and "Traceback" not in result.stderr
