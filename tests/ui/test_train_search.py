"""Train tab's Search mode on real EmoDB clips: trials arrive in a table and a plot, Cancel stops it."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.ui.train_tab import TrainTab
from speakfeed_gui.ui.validation import is_marked_invalid

EMODB = Path(__file__).resolve().parents[1] / "data" / "emodb" / "dataset.csv"
LEFT = Qt.MouseButton.LeftButton


def _search_tab(qtbot, context, model_type: str, trials: int) -> TrainTab:
    tab = TrainTab(context)
    qtbot.addWidget(tab)
    tab.show()
    with qtbot.waitSignal(tab.dataset_checked, timeout=20_000):
        tab.set_dataset(EMODB)
    tab.model_combo.setCurrentIndex(tab.model_combo.findData(model_type))
    tab.search_check.setChecked(True)
    tab.trials_spin.setValue(trials)
    return tab


def test_search_mode_shows_every_trial_and_registers_the_best(qtbot, context):
    tab = _search_tab(qtbot, context, "logistic_regression", 3)
    tab.cv_folds.set_cv(0)
    assert not tab.start_button.isEnabled() and "a search needs cross-validation" in tab.message_label.text()
    assert is_marked_invalid(tab.cv_folds)
    tab.cv_folds.set_cv("loso")
    assert tab.start_button.isEnabled() and tab.start_button.text() == "Start search"
    with qtbot.waitSignal(tab.run_finished, timeout=180_000) as blocker:
        qtbot.mouseClick(tab.start_button, LEFT)
    view = tab.run_panel.search_view
    assert view.isVisible() and view.table.rowCount() == 3
    numbers, scores = view.plotted()
    assert numbers == [1.0, 2.0, 3.0]
    meta = json.loads(Path(ModelRegistry(context.workspace.registry_path).get_model_info(blocker.args[0])
                           ["metadata_path"]).read_text())
    record = meta["search"]
    assert scores == [t["uar"] for t in record["trials"]]
    best = view.best()
    assert best["number"] == record["best_trial"]
    assert view.table.item(best["number"] - 1, 0).font().bold()
    assert "[search] 3/3" in tab.log_view.toPlainText()
    assert f"UAR {meta['evaluation_results']['cv']['macro_recall']:.3f}" in tab.metrics.summary.text()


def test_cancel_stops_a_search_after_the_running_trial_and_saves_nothing(qtbot, context):
    tab = _search_tab(qtbot, context, "svm", 200)
    tab.cv_folds.set_cv("loso")
    tab.trial_reported.connect(lambda _trial: tab.cancel())
    with qtbot.waitSignal(tab.run_cancelled, timeout=180_000):
        qtbot.mouseClick(tab.start_button, LEFT)
    rows = tab.run_panel.search_view.table.rowCount()
    assert 1 <= rows < 200
    assert ModelRegistry(context.workspace.registry_path).list_models() == []
    assert tab.start_button.isEnabled() and tab.stage_label.text() == "Cancelled"
