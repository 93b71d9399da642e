"""Qt test set-up: offscreen platform, isolated QSettings, workspaces with real trained models."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

import pytest

from speakfeed_gui.core.settings.workspace import init_workspace
from tests.synth import make_dataset


@pytest.fixture(autouse=True)
def _isolated_qt_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test reads or writes the user's QSettings; dialogs and workers never outlive a test."""
    monkeypatch.setenv("SPEAKFEED_SETTINGS_DIR", str(tmp_path_factory.mktemp("qsettings")))
    yield
    from speakfeed_gui.ui.workers import Worker

    Worker.shutdown_all()
    from speakfeed_gui.ui import error_dialog

    if error_dialog._bus is not None:
        error_dialog._bus.close_all()


@pytest.fixture
def settings(tmp_path: Path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_context(qapp, settings):
    """AppContext factory for a workspace (registry polled every 100 ms)."""
    from speakfeed_gui.ui.context import AppContext

    made = []

    def make(workspace, **kwargs):
        ctx = AppContext(workspace, kwargs.pop("settings", settings), poll_ms=kwargs.pop("poll_ms", 100), **kwargs)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.shutdown()


@pytest.fixture
def context(make_context, workspace):
    return make_context(workspace)


@pytest.fixture(scope="session")
def dataset_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 short clips (3 labels x 4 speakers): featurised in-process, trains in a few seconds."""
    return make_dataset(tmp_path_factory.mktemp("data") / "csv", "csv", speakers=4, clips_per_speaker_label=1,
                        seconds=0.6)


@pytest.fixture(scope="session")
def trained_template(tmp_path_factory: pytest.TempPathFactory, dataset_csv: Path) -> tuple[Path, str]:
    """A workspace holding one really trained model (trained once per session); (root, model id)."""
    from speakfeed_gui.core.training.trainer import run_training_experiment

    ws = init_workspace(tmp_path_factory.mktemp("template") / "ws")
    model_id = run_training_experiment(dataset_csv, "logistic_regression", {"C": 2.0}, experiment_name="baseline",
                                       workspace=ws, description="template model", tags=("test",))
    return ws.root, model_id


@pytest.fixture
def trained_workspace(tmp_path: Path, trained_template: tuple[Path, str]):
    """A private copy of the trained template workspace; (Workspace, model id)."""
    root, model_id = trained_template
    shutil.copytree(root, tmp_path / "trained", ignore=shutil.ignore_patterns(".cache"))
    return init_workspace(tmp_path / "trained"), model_id


def write_registry_snapshot(workspace, n: int) -> list[str]:
    """A registry of n entries written directly as the seed-format JSON snapshot; returns the ids."""
    ids = [str(uuid.UUID(int=i + 1)) for i in range(n)]
    types = ("random_forest", "svm", "mlp", "logistic_regression")
    data = {
        model_id: {
            "model_name": f"model_{i:05d}", "experiment_name": f"exp{i % 50}", "model_type": types[i % 4],
            "accuracy": round((i * 7919 % 1000) / 1000, 3), "macro_f1": round((i * 104729 % 1000) / 1000, 3),
            "created_at": f"2024-01-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00+00:00",
            "labels": ["calm", "energetic"], "tags": ["bulk"], "description": "", "version": 1 + i // 50,
            "metadata_path": f"exp{i % 50}/model_{i:05d}_metadata.json",
        }
        for i, model_id in enumerate(ids)
    }
    data["_aliases"] = {}
    lines = ",\n".join(f"{json.dumps(key)}: {json.dumps(value)}" for key, value in data.items())
    workspace.registry_path.write_text("{\n" + lines + "\n}\n", encoding="utf-8")
    return ids


def drag_and_drop(mime, x: int = 10, y: int = 10):
    """A drag-enter and a drop event of `mime` at (x, y), for QApplication.sendEvent.

    Qt 6.12 takes the drag-enter position as a QPointF (the QPoint form is deprecated there),
    earlier Qt 6 only as a QPoint.
    """
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    try:
        enter = QDragEnterEvent(QPointF(x, y), *args)
    except TypeError:
        enter = QDragEnterEvent(QPoint(x, y), *args)
    return enter, QDropEvent(QPointF(x, y), *args)


def open_main_window(qtbot, context):
    """The main window shown, exposed and active (shortcuts only fire in the active window)."""
    from speakfeed_gui.ui.main_window import MainWindow

    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    with qtbot.waitActive(window):
        window.activateWindow()
    return window


def none_refs_lost(calls: int = 2000) -> int:
    """References to None that `calls` void Qt calls dropped (0 on a sound binding; see test_qt_binding.py)."""
    import gc
    import sys

    from PySide6.QtCore import QObject

    probe = QObject()
    gc.collect()
    before = sys.getrefcount(None)
    for _ in range(calls):
        probe.setObjectName("probe")  # returns nothing
    gc.collect()
    return before - sys.getrefcount(None)
