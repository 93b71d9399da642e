"""Model Browser over a real registry: listing, sorting, searching, details and every action."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from speakfeed_gui.core.errors import RegistryError
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.workspace import init_workspace
from speakfeed_gui.ui.browser_tab import BrowserTab
from speakfeed_gui.ui.main_window import BROWSER, MainWindow
from speakfeed_gui.ui.registry_table import ACCURACY, ALIASES, ID, KEY_ROLE, NAME
from tests.ui.conftest import write_registry_snapshot


def _proxy_column(tab: BrowserTab, column: int) -> list[str]:
    return [tab.proxy.index(r, column).data() for r in range(tab.proxy.rowCount())]


def _window(qtbot, context) -> MainWindow:
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.tabs.setCurrentIndex(BROWSER)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_configured_models_are_listed_and_marked(qtbot, context):
    tab = BrowserTab(context)
    qtbot.addWidget(tab)
    names = set(_proxy_column(tab, NAME))
    assert {"emotion", "dummy", "text_sentiment"} <= names
    assert tab.select_key("config:dummy")
    row = tab.selected_row()
    assert row.configured and row.cells[ID] == "configured"
    assert tab.act_live.isEnabled()
    assert not any(a.isEnabled() for a in (tab.act_delete, tab.act_export, tab.act_verify, tab.act_edit, tab.act_copy))
    assert "configured in models.yaml" in tab.details.title.text()
    assert tab.details.values()["Model/type"] == "dummy"


def test_configured_model_becomes_the_live_choice(qtbot, context, settings):
    window = _window(qtbot, context)
    tab = window.browser_tab
    tab.select_key("config:dummy")
    with qtbot.waitSignal(context.live_model_changed, timeout=10000) as blocker:
        tab.act_live.trigger()
    assert blocker.args == ["dummy"]
    assert window.live_label.text() == "Live model: dummy (configured)"
    assert settings.value("live/model_choice") == "dummy"
    assert context.aliases() == {}  # configured choices never touch the registry
    assert tab.model.row(tab.model.row_for_key("config:dummy")).cells[ALIASES] == "live (choice)"


def test_trained_model_details_and_live_alias(qtbot, make_context, trained_workspace):
    workspace, model_id = trained_workspace
    context = make_context(workspace)
    window = _window(qtbot, context)
    tab = window.browser_tab
    assert tab.select_key(model_id)
    values = tab.details.values()
    assert values["Model/experiment"] == "baseline"
    assert values["Model/Hyperparameters/C"] == "2"
    assert values["Feature set/features"] == "80"
    assert values["Dataset/clips"] == "12" and values["Dataset/speakers"] == "4"
    assert len(values["Dataset/sha256"]) == 64
    assert values["Split/speaker-independent"] == "True"
    assert values["Library versions/sklearn"] and values["Library versions/python"]
    confusion = tab.details.metrics.confusion
    n_test = int(values["Split/test clips"])
    assert sum(int(t) for t in confusion.cell_texts()) == n_test
    assert tab.details.metrics.table.rowCount() == 3

    with qtbot.waitSignal(context.live_model_changed, timeout=10000) as blocker:
        tab.act_live.trigger()
    assert blocker.args == [model_id]
    assert ModelRegistry(workspace.registry_path).aliases() == {"live": model_id}
    assert model_id[:8] in window.live_label.text() and "live alias" in window.live_label.text()
    assert tab.selected_key() == model_id  # the refresh kept the selection
    assert tab.selected_row().cells[ALIASES] == "live"

    tab.act_copy.trigger()
    assert QGuiApplication.clipboard().text() == model_id


def test_edit_description_and_tags(qtbot, make_context, trained_workspace):
    workspace, model_id = trained_workspace
    tab = BrowserTab(make_context(workspace))
    qtbot.addWidget(tab)
    tab.select_key(model_id)
    tab.act_edit.trigger()
    dialog = tab.edit_dialog
    assert dialog.description.toPlainText() == "template model"
    dialog.description.setPlainText("best so far")
    dialog.tags.setText("baseline, speaker-independent, baseline")
    qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), Qt.MouseButton.LeftButton)
    # the change is written off the GUI thread (the lock may wait), then every view refreshes
    qtbot.waitUntil(lambda: tab.details.values().get("Model/tags") == "baseline, speaker-independent", timeout=10000)
    entry = ModelRegistry(workspace.registry_path).get_model_info(model_id)
    assert entry["description"] == "best so far"
    assert entry["tags"] == ["baseline", "speaker-independent"]
    assert tab.details.values()["Model/tags"] == "baseline, speaker-independent"
    tab.search.setText("speaker-indep")
    assert tab.proxy.rowCount() == 1


def test_delete_asks_first_and_removes_files(qtbot, make_context, trained_workspace):
    workspace, model_id = trained_workspace
    context = make_context(workspace)
    tab = BrowserTab(context)
    qtbot.addWidget(tab)
    files = [Path(ModelRegistry(workspace.registry_path).get_model_info(model_id)[k])
             for k in ("model_path", "scaler_path", "metadata_path")]
    assert all(f.is_file() for f in files)

    tab.select_key(model_id)
    tab.act_delete.trigger()
    qtbot.mouseClick(tab.confirm_box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    assert tab.model.row_for_key(model_id) >= 0 and all(f.is_file() for f in files)

    tab.act_delete.trigger()
    qtbot.mouseClick(tab.confirm_box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.model.row_for_key(model_id) == -1, timeout=10000)
    assert len(ModelRegistry(workspace.registry_path)) == 0
    assert not any(f.exists() for f in files)
    assert tab.selected_row() is None and not tab.act_delete.isEnabled()


def test_export_verify_and_import_a_bundle(qtbot, make_context, trained_workspace, tmp_path):
    workspace, model_id = trained_workspace
    context = make_context(workspace)
    tab = BrowserTab(context)
    qtbot.addWidget(tab)
    tab.select_key(model_id)
    messages: list[str] = []
    context.status_message.connect(messages.append)
    worker = tab.verify_selected()
    with qtbot.waitSignal(worker.done, timeout=10_000):
        pass
    assert any("matches its sha256" in m for m in messages)

    worker = tab.export_selected(tmp_path / "shared.sfbundle")
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        pass
    assert (tmp_path / "shared.sfbundle").is_file()

    other = make_context(init_workspace(tmp_path / "other"))
    other_tab = BrowserTab(other)
    qtbot.addWidget(other_tab)
    worker = other_tab.import_bundle(tmp_path / "shared.sfbundle")
    with qtbot.waitSignal(worker.finished, timeout=10_000) as blocker:
        pass
    new_id = blocker.args[0]
    assert other_tab.selected_key() == new_id
    assert other_tab.details.values()["Model/experiment"] == "baseline"


def test_tampered_model_fails_verification_with_a_dialog(qtbot, make_context, trained_workspace):
    from speakfeed_gui.ui.error_dialog import error_bus

    workspace, model_id = trained_workspace
    tab = BrowserTab(make_context(workspace))
    qtbot.addWidget(tab)
    entry = ModelRegistry(workspace.registry_path).get_model_info(model_id)
    Path(entry["scaler_path"]).write_bytes(b"tampered")
    tab.select_key(model_id)
    with qtbot.waitSignal(error_bus().shown, timeout=10_000) as blocker:
        tab.verify_selected()
    message, details = blocker.args
    assert "sha256" in message or "does not match" in message
    assert details == ""  # an IntegrityError is a one-line message, no traceback


def test_search_and_numeric_sort(qtbot, make_context, workspace):
    write_registry_snapshot(workspace, 30)
    tab = BrowserTab(make_context(workspace))
    qtbot.addWidget(tab)
    tab.view.sortByColumn(ACCURACY, Qt.SortOrder.DescendingOrder)
    values = [float(v) for v in _proxy_column(tab, ACCURACY) if v]
    assert values == sorted(values, reverse=True) and len(values) == 30
    tab.search.setText("MODEL_0001")  # case-insensitive, any column
    assert sorted(_proxy_column(tab, NAME)) == [f"model_{i:05d}" for i in range(10, 20)]
    assert tab.count_label.text() == "10 of 33 models"
    tab.search.setText("00000000-0000-0000-0000-00000000001f")  # full id of model 31 -> none; of model 30 -> one
    assert tab.proxy.rowCount() == 0
    tab.search.setText("00000000-0000-0000-0000-00000000001e")
    assert _proxy_column(tab, NAME) == ["model_00029"]


def test_ten_thousand_entries_load_sort_and_filter(qtbot, make_context, workspace):
    ids = write_registry_snapshot(workspace, 10_000)
    tab = BrowserTab(make_context(workspace))
    qtbot.addWidget(tab)
    assert tab.model.rowCount() == 10_000 + 3
    tab.view.sortByColumn(ACCURACY, Qt.SortOrder.AscendingOrder)
    first = [tab.proxy.index(r, ACCURACY).data() for r in range(5)]
    assert first[:3] == ["", "", ""]  # configured models (no accuracy) sort first ascending
    assert float(first[3]) <= float(first[4])
    tab.search.setText("model_0999")
    assert tab.proxy.rowCount() == 10
    assert tab.select_key(ids[5])  # a row hidden by the search: selecting clears the search
    assert tab.search.text() == "" and tab.selected_row().cells[NAME] == "model_00005"


def test_refreshes_when_another_process_registers(qtbot, make_context, trained_workspace):
    workspace, model_id = trained_workspace
    tab = BrowserTab(make_context(workspace))
    qtbot.addWidget(tab)
    tab.select_key(model_id)
    code = (
        "import sys; from speakfeed_gui.core.registry.api import ModelRegistry\n"
        "print(ModelRegistry(sys.argv[1]).register_model({'model_name': 'from_cli', 'experiment_name': 'other',"
        " 'model_type': 'svm', 'accuracy': 0.5, 'macro_f1': 0.4}))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(workspace.registry_path)], capture_output=True, text=True,
                         check=True)
    new_id = out.stdout.strip()
    qtbot.waitUntil(lambda: tab.model.row_for_key(new_id) >= 0, timeout=5000)
    assert tab.selected_key() == model_id  # selection restored by id after the reset
    row = tab.model.row(tab.model.row_for_key(new_id))
    assert row.cells[NAME] == "from_cli" and row.cells[ACCURACY] == "0.500"


def test_key_role_maps_rows_to_ids(qtbot, make_context, trained_workspace):
    workspace, model_id = trained_workspace
    tab = BrowserTab(make_context(workspace))
    qtbot.addWidget(tab)
    keys = {tab.proxy.index(r, 0).data(KEY_ROLE) for r in range(tab.proxy.rowCount())}
    assert keys == {model_id, "config:emotion", "config:dummy", "config:text_sentiment"}
    assert json.loads(json.dumps(sorted(keys)))  # plain strings


def test_an_imported_signed_bundle_shows_its_signer_and_require_signed_refuses_untrusted(
        qtbot, make_context, trained_workspace, tmp_path):
    import yaml

    from speakfeed_gui.core.registry import signing
    from speakfeed_gui.core.registry.bundle import export_bundle
    from speakfeed_gui.ui.error_dialog import error_bus

    workspace, model_id = trained_workspace
    _, public = signing.create_key("alice")
    bundle = export_bundle(ModelRegistry(workspace.registry_path), model_id, tmp_path / "s.sfbundle", sign_with="alice")
    other_ws = init_workspace(tmp_path / "other")
    other = make_context(other_ws)
    messages: list[str] = []
    other.status_message.connect(messages.append)
    tab = BrowserTab(other)
    qtbot.addWidget(tab)
    worker = tab.import_bundle(bundle)
    with qtbot.waitSignal(worker.finished, timeout=10_000):
        pass
    assert any("signed by alice" in m and "does not trust" in m for m in messages), messages
    assert tab.details.values()["Model/signed by"] == (
        f"signed by alice (key {public.key_id}, a key this workspace does not trust)")

    data = yaml.safe_load(other_ws.config_path.read_text())
    data["security"] = {"require_signed": True}
    other_ws.config_path.write_text(yaml.safe_dump(data))
    with qtbot.waitSignal(error_bus().shown, timeout=10_000) as blocker:
        tab.import_bundle(bundle)
    assert "signed by 'alice'" in blocker.args[0] and "does not trust" in blocker.args[0]
    assert len(ModelRegistry(other_ws.registry_path)) == 1


def _registry_tooltips(tab: BrowserTab) -> dict[str, tuple[bool, str]]:
    return {a.text(): (a.isEnabled(), a.toolTip()) for a in (tab.act_edit, tab.act_delete, tab.act_import,
                                                             tab.act_live, tab.act_export, tab.act_verify)}


def test_a_non_maintainer_sees_a_read_only_registry_with_the_reason(qtbot, make_context, trained_workspace):
    import getpass

    import yaml

    workspace, model_id = trained_workspace
    data = yaml.safe_load(workspace.config_path.read_text())
    data["registry"] = {"maintainers": ["carol"]}
    workspace.config_path.write_text(yaml.safe_dump(data))
    context = make_context(workspace)
    tab = BrowserTab(context)
    qtbot.addWidget(tab)
    tab.show()
    tab.select_key(model_id)
    assert tab.read_only_label.isVisible() and "only the registry's maintainers (carol)" in tab.read_only_label.text()
    state = _registry_tooltips(tab)
    for name in ("Edit…", "Delete…", "Import bundle…", "Use for Live Feedback"):
        enabled, tip = state[name]
        assert not enabled and tip.startswith("Read-only registry: ") and "carol" in tip, name
    assert state["Export bundle…"][0] and state["Verify"][0]  # reading and sharing still work
    tab.select_key("config:dummy")
    assert tab.act_live.isEnabled()  # a configured model is a local choice, not a registry write
    with pytest.raises(RegistryError, match="maintainers"):
        context.registry().set_alias("best", model_id)  # the app's registry refuses, whatever button is found
    from speakfeed_gui.ui.train_tab import TrainTab

    train_tab = TrainTab(context)
    qtbot.addWidget(train_tab)
    assert any(p.startswith("Read-only registry: ") and "carol" in p for p in train_tab.problems())

    data["registry"] = {"maintainers": ["carol", getpass.getuser()]}
    workspace.config_path.write_text(yaml.safe_dump(data))
    context.reload()
    tab.select_key(model_id)
    assert not tab.read_only_label.isVisible() and tab.act_delete.isEnabled()
    assert tab.act_delete.toolTip() == "Delete the model and its files"


def test_a_folder_the_user_cannot_write_is_shown_read_only(qtbot, make_context, tmp_path):
    from speakfeed_gui.core.registry.api import ModelRegistry as Registry
    from tests.core.test_bundle import _train_into
    from tests.reliability.helpers import Tmpfs

    fs = Tmpfs(tmp_path / "mnt", "32m")  # root ignores permission bits: a read-only mount is the real thing
    try:
        workspace = init_workspace(fs.path / "ws")
        model_id = _train_into(Registry(workspace.registry_path))
        fs.read_only()
        tab = BrowserTab(make_context(workspace))
        qtbot.addWidget(tab)
        tab.show()
        tab.select_key(model_id)
        assert "read-only file system" in tab.read_only_label.text() and tab.read_only_label.isVisible()
        assert not tab.act_delete.isEnabled() and "read-only file system" in tab.act_delete.toolTip()
        assert tab.act_export.isEnabled()
    finally:
        fs.read_only(False)
        fs.unmount()
