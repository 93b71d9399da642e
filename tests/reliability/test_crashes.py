"""SIGKILL at random moments while models are saved and trained and while a live session is written.

After every kill: the registry parses, every write acknowledged before the kill is there, every
listed model loads and verifies (so no half-written artifact is ever listed), session files parse.
SIGKILL during bare registrations is proven by
tests/core/test_registry_concurrency.py::test_sigkill_keeps_every_acknowledged_registration and,
with other writers running, by test_concurrency.py here.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import soundfile as sf

from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.registry.artifacts import load_registered
from speakfeed_gui.core.registry.bundle import verify_model
from speakfeed_gui.core.settings.workspace import Workspace, init_workspace
from tests.reliability.conftest import train_into
from tests.reliability.helpers import finish, kill_after, spawn_worker


def assert_consistent(ws: Workspace, acknowledged: list[str]) -> int:
    """Registry parses, holds every acknowledged id, and every listed model verifies and loads."""
    registry = ModelRegistry(ws.registry_path)
    models = registry.list_models()  # also rolls back an append the kill tore
    ids = {m["id"] for m in models}
    assert set(json.loads(ws.registry_path.read_text())) == ids  # the plain file holds exactly the listed models
    lost = set(acknowledged) - ids
    assert not lost, f"{len(lost)} acknowledged models lost"
    for model in models:
        assert ".staging-" not in model["model_path"] and ".reserved" not in model["model_path"]
        verify_model(registry, model["id"])
        classifier, scaler, metadata = load_registered(model["id"], ws)
        assert list(classifier.classes_) == ["calm", "energetic"] and metadata["model_name"] == model["model_name"]
    return len(models)


@pytest.mark.slow
def test_sigkill_during_trainer_saves(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    rng = random.Random(11)
    acknowledged: list[str] = []
    for _ in range(4):
        acknowledged += kill_after(spawn_worker("save", ws.root), rng.uniform(0.0, 0.12))
        assert_consistent(ws, acknowledged)
    assert len(acknowledged) >= 4
    # Work goes on after the crashes: a new save lands next to whatever the killed ones left behind.
    acknowledged += finish(spawn_worker("save", ws.root, 1))
    assert assert_consistent(ws, acknowledged) >= len(acknowledged)  # + any save killed just before its ack


@pytest.mark.slow
def test_sigkill_during_training_runs(tmp_path: Path, tiny_dataset: Path) -> None:
    ws = init_workspace(tmp_path / "ws")
    train_into(ws, tiny_dataset, experiment="warm")  # fills the feature cache: each run is then ~0.1 s
    rng = random.Random(5)
    acknowledged: list[str] = []
    for _ in range(3):
        acknowledged += kill_after(spawn_worker("train", ws.root, tiny_dataset), rng.uniform(0.0, 0.3))
        assert_consistent(ws, acknowledged)
    acknowledged.append(train_into(ws, tiny_dataset, experiment="crash"))
    assert assert_consistent(ws, acknowledged) >= len(acknowledged) + 1  # + the warm-up model


def test_sigkill_during_session_writes(tmp_path: Path) -> None:
    from speakfeed_gui.core.live.session import list_sessions, load_session

    folder = tmp_path / "pipeline_results"
    rng = random.Random(3)
    for _ in range(8):
        lines = kill_after(spawn_worker("session", folder), rng.uniform(0.0, 0.15))
        name, counts = lines[0], [int(n) for n in lines[1:]]
        data = load_session(folder / name)  # always parses, whatever moment the kill hit
        acknowledged = counts[-1] if counts else 0
        assert data["status"] == "recording" and len(data["windows"]) >= acknowledged
        assert [w["t_start"] for w in data["windows"]] == [n * 0.05 for n in range(len(data["windows"]))]
        info = sf.info(str(folder / name.replace(".json", ".wav")))  # the partial recording stays playable
        assert info.samplerate == 16000 and info.frames >= 800 * acknowledged
    sessions = list_sessions(folder)
    assert len(sessions) == 8 and all(s["status"] == "recording" for s in sessions)
