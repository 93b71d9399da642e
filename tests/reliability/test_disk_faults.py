"""A workspace on a real tmpfs that fills up or turns read-only under SpeakFeed.

Training, registering, importing and exporting must fail with one clear line; the registry and the
models already saved must stay byte-identical and keep loading; work resumes once space is back.
(The atomic-write primitive alone is covered by tests/core/test_storage.py's tiny_fs tests.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from speakfeed_gui.core.errors import RegistryError, SpeakFeedError
from speakfeed_gui.core.models.factory import ModelFactory
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.registry.artifacts import load_registered
from speakfeed_gui.core.registry.bundle import export_bundle, import_bundle, verify_model
from speakfeed_gui.core.settings.workspace import init_workspace
from tests.reliability.conftest import train_into
from tests.reliability.helpers import assert_one_line, assert_refused, run_cli, tree_state


@pytest.fixture
def small_disk(tmpfs, tiny_dataset: Path, tmp_path: Path):
    """(tmpfs, workspace on it, trained model id aliased `live`, a bundle of it kept off the small disk)."""
    fs = tmpfs("2m")
    ws = init_workspace(fs.path / "ws")
    model_id = train_into(ws, tiny_dataset)
    registry = ModelRegistry(ws.registry_path)
    registry.set_alias("live", model_id)
    bundle = export_bundle(registry, model_id, tmp_path / "shared.sfbundle")
    return fs, ws, model_id, bundle


def assert_still_usable(ws, model_id: str, before: dict[str, str]) -> None:
    """Not a byte of the workspace changed, and the model still verifies, loads and answers via `live`."""
    assert tree_state(ws.root) == before
    registry = ModelRegistry(ws.registry_path)
    verify_model(registry, model_id)
    load_registered("live", ws)
    assert ModelFactory(workspace=ws).resolve("live").load().is_loaded


def _writes(ws, model_id: str, bundle: Path, dataset: Path, out: Path) -> dict[str, object]:
    registry = ModelRegistry(ws.registry_path)
    return {
        "train into a new experiment": lambda: train_into(ws, dataset, experiment="new"),
        "train into the existing experiment": lambda: train_into(ws, dataset),
        "import a bundle": lambda: import_bundle(registry, bundle),
        "export a bundle": lambda: export_bundle(registry, model_id, out),
    }


@pytest.mark.slow
def test_full_disk_gives_clear_errors_and_keeps_every_model(small_disk, tiny_dataset: Path) -> None:
    fs, ws, model_id, bundle = small_disk
    before = tree_state(ws.root)
    fs.fill()
    out = fs.path / "out.sfbundle"
    for what, attempt in _writes(ws, model_id, bundle, tiny_dataset, out).items():
        with pytest.raises(SpeakFeedError) as info:
            attempt()
        assert_one_line(info.value, "disk full")
        assert tree_state(ws.root) == before, f"{what} changed the workspace"
    assert not out.exists()
    assert_still_usable(ws, model_id, before)

    for argv in (["train", tiny_dataset, "--model-type", "logistic_regression", "--experiment", "cli"],
                 ["models", "import", bundle], ["models", "export", "live", out]):
        assert_refused(run_cli(ws.root, *argv), "disk full")
    assert tree_state(ws.root) == before and not out.exists()

    # Registrations: the registry file's last page may take a few more entries, then a clear error
    # (whichever of the file or its pending-append journal needs the next page); every acknowledged
    # registration stays.
    registry = ModelRegistry(ws.registry_path)
    acknowledged: list[str] = []
    with pytest.raises(RegistryError) as info:
        for n in range(5000):
            acknowledged.append(registry.register_model({"model_name": f"m{n}", "experiment_name": "full"}))
    assert_one_line(info.value, "cannot write (disk full); nothing was changed")
    assert "model_registry.j" in str(info.value)
    assert {m["id"] for m in ModelRegistry(ws.registry_path).list_models()} == {model_id, *acknowledged}
    verify_model(registry, model_id)

    fs.free_space()  # space is back: the same work now succeeds
    verify_model(registry, train_into(ws, tiny_dataset, experiment="new"))
    verify_model(registry, import_bundle(registry, bundle))


@pytest.mark.slow
def test_read_only_disk_gives_clear_errors_and_models_still_load(small_disk, tiny_dataset: Path) -> None:
    fs, ws, model_id, bundle = small_disk
    shutil.rmtree(ws.cache_dir)  # training must also cope with a feature cache it cannot create
    before = tree_state(ws.root)
    fs.read_only()
    registry = ModelRegistry(ws.registry_path)
    attempts = {
        **_writes(ws, model_id, bundle, tiny_dataset, fs.path / "out.sfbundle"),
        "register": lambda: registry.register_model({"model_name": "x"}),
        "alias": lambda: registry.set_alias("other", model_id),
        "describe": lambda: registry.set_description(model_id, "new text"),
        "delete": lambda: registry.delete_model(model_id),
    }
    for what, attempt in attempts.items():
        with pytest.raises(SpeakFeedError) as info:
            attempt()
        assert_one_line(info.value, "read-only file system")
        assert tree_state(ws.root) == before, f"{what} changed the workspace"
    assert_still_usable(ws, model_id, before)

    clip = next(tiny_dataset.parent.rglob("*.wav"))
    assert_refused(run_cli(ws.root, "train", tiny_dataset, "--model-type", "logistic_regression"), "read-only file system")
    assert_refused(run_cli(ws.root, "models", "alias", "best", model_id), "read-only file system")
    listed = run_cli(ws.root, "models", "list")
    assert listed.returncode == 0 and model_id[:8] in listed.stdout
    predicted = run_cli(ws.root, "predict", "--model", "live", "--json", clip)
    assert predicted.returncode == 0 and '"label"' in predicted.stdout, predicted.stderr
    assert tree_state(ws.root) == before

    fs.read_only(False)
    verify_model(registry, train_into(ws, tiny_dataset, experiment="new"))
