"""Compare models in the Model Browser (Ctrl+click two, Compare…) and A/B them on one real recording."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import yaml
from PySide6.QtCore import QItemSelectionModel, Qt

from speakfeed_gui.core.live.ab import ab_compare
from speakfeed_gui.core.settings.config import DEFAULT_TARGETS, LiveSettings
from speakfeed_gui.ui.browser_tab import BrowserTab
from speakfeed_gui.ui.registry_table import NAME
from tests.history.fixtures import two_models, two_models_template  # noqa: F401  (fixtures)
from tests.history.helpers import real_talk


def _select(tab: BrowserTab, keys: list[str]) -> None:
    selection = tab.view.selectionModel()
    selection.clearSelection()
    for key in keys:
        index = tab.proxy.mapFromSource(tab.model.index(tab.model.row_for_key(key), NAME))
        selection.select(index, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)


@pytest.fixture
def browser(qtbot, make_context, two_models):
    ws, ids = two_models
    tab = BrowserTab(make_context(ws))
    qtbot.addWidget(tab)
    tab.resize(1300, 700)
    tab.show()
    qtbot.waitExposed(tab)
    return tab, ids


def test_ctrl_click_two_models_and_compare_them(qtbot, browser):
    tab, (a, b) = browser
    assert not tab.act_compare.isEnabled()
    rows = [tab.proxy.mapFromSource(tab.model.index(tab.model.row_for_key(k), NAME)) for k in (a, b)]
    qtbot.mouseClick(tab.view.viewport(), Qt.MouseButton.LeftButton, pos=tab.view.visualRect(rows[0]).center())
    assert not tab.act_compare.isEnabled()  # one model is no comparison
    qtbot.mouseClick(tab.view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     pos=tab.view.visualRect(rows[1]).center())
    assert sorted(tab.selected_trained_keys()) == sorted([a, b]) and tab.act_compare.isEnabled()
    tab.act_compare.trigger()
    dialog = tab.compare_dialog
    qtbot.waitExposed(dialog)
    assert {m["id"] for m in dialog.comparison.models} == {a, b}
    assert dialog.tree.columnCount() == 3
    everything = dialog.visible_rows("training")
    assert "clips" in everything and "split" in everything
    qtbot.mouseClick(dialog.only_differences, Qt.MouseButton.LeftButton)
    assert dialog.only_differences.isChecked()
    assert "clips" not in dialog.visible_rows("training")  # the same data for both
    assert "model type" in dialog.visible_rows("hyperparameters")
    assert dialog.visible_rows("extra evaluations") == ["emodb.accuracy", "emodb.macro_f1", "emodb.n_clips"]
    item = dialog.items[("hyperparameters", "model type")]
    assert item.font(1).bold() and {item.text(1), item.text(2)} == {"logistic_regression", "random_forest"}
    for plot in dialog.matrices:
        texts = plot.cell_texts()
        assert texts and all(t for t in texts)
    dialog.close()


def test_ab_core_lines_up_two_models_on_real_speech(two_models):
    from speakfeed_gui.core.models.factory import ModelFactory

    ws, (a, b) = two_models
    factory = ModelFactory(workspace=ws)
    models = [factory.resolve(ref).load() for ref in (a, b)]
    settings = LiveSettings(window_seconds=1.0, hop_seconds=0.25, vad="energy", targets=dict(DEFAULT_TARGETS))
    result = ab_compare(real_talk(gap_seconds=2.0), 16000, models, settings)
    assert len(result.smoothed) == 2 and len(result.smoothed[0]) == len(result.times) > 20
    speech = [i for i, p in enumerate(result.smoothed[0]) if p is not None]
    assert speech and all(result.smoothed[1][i] is not None for i in speech)  # same windows for both
    assert 0.0 <= result.agreement <= 1.0
    differ = [i for i in speech if result.top[0][i] != result.top[1][i]]
    covered = [i for i in differ if any(s <= result.times[i] <= e for s, e in result.disagreements)]
    assert covered == differ


def test_ab_view_overlays_both_timelines_from_the_comparison(qtbot, browser, tmp_path):
    tab, (a, b) = browser
    config = tab.context.workspace.config_path
    data = yaml.safe_load(config.read_text())
    data["live"]["vad"] = "energy"  # silero would take ~20 s on a busy machine; the view is what is tested
    config.write_text(yaml.safe_dump(data))
    tab.context.reload()
    _select(tab, [a, b])
    dialog = tab.compare_selected()
    qtbot.waitExposed(dialog)
    wav = tmp_path / "talk.wav"
    sf.write(str(wav), real_talk(gap_seconds=2.0), 16000, subtype="PCM_16")
    dialog.open_ab(wav)  # the analysis runs in a worker; its result arrives through the event loop
    view = dialog.ab_dialog.view
    qtbot.waitUntil(lambda: view.result is not None or "Could not" in view.summary.text(), timeout=60_000)
    assert view.result is not None, view.summary.text()
    result = view.result
    labels = result.labels
    assert set(view.curves) == {(n, label) for n in (0, 1) for label in labels}
    solid, dashed = view.curves[(0, labels[0])], view.curves[(1, labels[0])]
    assert solid.opts["pen"].style() == Qt.PenStyle.SolidLine and dashed.opts["pen"].style() == Qt.PenStyle.DashLine
    assert np.isfinite(solid.getData()[1]).any() and np.isfinite(dashed.getData()[1]).any()
    assert len(view.regions) == len(result.disagreements)
    assert "agree on" in view.summary.text()
    dialog.ab_dialog.close()
    dialog.close()

