"""A registry folder the user cannot write is detected up front and shown read-only, not failed on.

Tests run as root, which ignores permission bits, so the folder is a real tmpfs remounted read-only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from speakfeed_gui.core.errors import RegistryError
from speakfeed_gui.core.registry.api import ModelRegistry, guard_writes, write_refusal
from speakfeed_gui.core.registry.bundle import export_bundle, import_bundle
from speakfeed_gui.core.settings.workspace import init_workspace
from tests.core.test_bundle import _train_into
from tests.reliability.helpers import assert_refused, run_cli, tree_state


@pytest.fixture
def read_only_workspace(tmpfs, tmp_path: Path):
    fs = tmpfs("64m")
    ws = init_workspace(fs.path / "ws")
    model_id = _train_into(ModelRegistry(ws.registry_path))
    bundle = export_bundle(ModelRegistry(ws.registry_path), model_id, tmp_path / "m.sfbundle")
    assert write_refusal(ws.models_dir) is None
    fs.read_only()
    yield ws, model_id, bundle
    fs.read_only(False)
    shutil.rmtree(ws.root, ignore_errors=True)


def test_a_read_only_folder_is_detected_before_the_first_write(read_only_workspace):
    ws, model_id, bundle = read_only_workspace
    before = tree_state(ws.root)
    registry = ModelRegistry(ws.registry_path)
    reason = guard_writes(registry)
    assert reason.startswith(f"{ws.models_dir}: read-only file system;") and "\n" not in reason
    for attempt in (lambda: registry.set_alias("best", model_id), lambda: registry.delete_model(model_id),
                    lambda: import_bundle(registry, bundle)):
        with pytest.raises(RegistryError, match="read-only file system; the model registry is read-only here"):
            attempt()
    assert registry.get_model_info(model_id)["model_name"] == "random_forest"
    assert tree_state(ws.root) == before


def test_cli_refuses_in_one_line_on_a_read_only_folder_and_still_lists(read_only_workspace):
    ws, model_id, bundle = read_only_workspace
    before = tree_state(ws.root)
    assert_refused(run_cli(ws.root, "models", "import", bundle), "read-only file system", "registry is read-only")
    assert_refused(run_cli(ws.root, "models", "describe", model_id, "--description", "x"), "read-only file system")
    listed = run_cli(ws.root, "models", "list")
    assert listed.returncode == 0 and model_id[:8] in listed.stdout
    assert tree_state(ws.root) == before
