"""The Model Browser reads metadata through the core's verified reader: a changed file is named, not shown."""

from __future__ import annotations

from pathlib import Path

from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.ui.browser_tab import BrowserTab


def test_tampered_metadata_is_refused_in_the_details_pane(qtbot, make_context, trained_workspace):
    workspace, model_id = trained_workspace
    tab = BrowserTab(make_context(workspace))
    qtbot.addWidget(tab)
    tab.select_key(model_id)
    assert "Problem" not in tab.details.values() and tab.details.values()["Model/type"]

    metadata = Path(ModelRegistry(workspace.registry_path).get_model_info(model_id)["metadata_path"])
    metadata.write_text(metadata.read_text().replace('"accuracy"', '"accuracy" ', 1))
    tab.reload()
    problem = tab.details.values()["Problem"]
    assert str(metadata) in problem and "sha256 does not match" in problem
