"""Two really trained models in one workspace, for the comparison and A/B tests (import the fixtures)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from speakfeed_gui.core.settings.workspace import Workspace, init_workspace
from speakfeed_gui.core.storage.hashing import sha256_file
from tests.synth import make_dataset


@pytest.fixture(scope="session")
def two_models_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A logistic regression and a random forest trained on the same 12 clips; (root, [id_a, id_b]).

    The forest's metadata also gets an `extra_evaluations` section, the shape an evaluation on
    another dataset leaves (the trainer itself does not write one yet); its new sha256 goes to the
    registry as such an evaluation would record it, so the model still loads.
    """
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.training.trainer import run_training_experiment

    data = make_dataset(tmp_path_factory.mktemp("cmpdata") / "csv", "csv", speakers=4, clips_per_speaker_label=1,
                        seconds=0.6)
    ws = init_workspace(tmp_path_factory.mktemp("cmp") / "ws")
    a = run_training_experiment(data, "logistic_regression", {"C": 2.0}, experiment_name="coach", workspace=ws)
    b = run_training_experiment(data, "random_forest", {"n_estimators": 20, "max_depth": 3},
                                experiment_name="coach", workspace=ws)
    meta = Path(ModelRegistry(ws.registry_path).get_model_info(b)["metadata_path"])
    doc = json.loads(meta.read_text())
    doc["extra_evaluations"] = {"emodb": {"accuracy": 0.41, "macro_f1": 0.37, "n_clips": 387}}
    meta.write_text(json.dumps(doc, indent=2))
    registry = ModelRegistry(ws.registry_path)
    registry._update(b, {"metadata_sha256": sha256_file(meta)})
    return ws.root, [a, b]


@pytest.fixture
def two_models(tmp_path: Path, two_models_template) -> tuple[Workspace, list[str]]:
    root, ids = two_models_template
    shutil.copytree(root, tmp_path / "two", ignore=shutil.ignore_patterns(".cache"))
    return init_workspace(tmp_path / "two"), ids
