"""Fixtures of the reliability tests: a tiny real dataset, a workspace with a really trained model, tmpfs mounts."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.reliability.helpers import Tmpfs, stop_workers
from tests.synth import make_dataset


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test() -> Iterator[None]:
    yield
    stop_workers()


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 half-second clips, 2 labels, 2 speakers: trains in well under a second once features are cached."""
    root = tmp_path_factory.mktemp("tiny-dataset")
    return make_dataset(root, "csv", labels=("calm", "energetic"), speakers=2, clips_per_speaker_label=3, seconds=0.5)


def train_into(ws, dataset: Path, experiment: str = "demo") -> str:
    from speakfeed_gui.core.training.trainer import run_training_experiment

    return run_training_experiment(dataset, "logistic_regression", experiment_name=experiment, workspace=ws)


@pytest.fixture
def trained(tmp_path: Path, tiny_dataset: Path):
    """(workspace, model id) of a model trained by the real trainer, with the `live` alias on it."""
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.settings.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")
    model_id = train_into(ws, tiny_dataset)
    ModelRegistry(ws.registry_path).set_alias("live", model_id)
    return ws, model_id


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Tmpfs]]:
    """Mount tmpfs file systems of a given size for the test (skipped where mounting is not permitted)."""
    mounts: list[Tmpfs] = []

    def mount(size: str) -> Tmpfs:
        mounts.append(Tmpfs(tmp_path / f"mnt{len(mounts)}", size))
        return mounts[-1]

    yield mount
    for fs in mounts:
        fs.unmount()
