"""Train tab: leave-one-speaker-out and per-speaker normalisation from the form, on real EmoDB clips,
and the pooled results beside the held-out split in the Train tab and the Model Browser."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt

from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.ui.main_window import BROWSER, TRAIN, MainWindow
from speakfeed_gui.ui.train_tab import CvSpinBox, TrainTab
from speakfeed_gui.ui.validation import is_marked_invalid

EMODB = Path(__file__).resolve().parents[1] / "data" / "emodb" / "dataset.csv"
LEFT = Qt.MouseButton.LeftButton


def _typed(qtbot, spin: CvSpinBox, text: str) -> None:
    spin.lineEdit().selectAll()
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Backspace)
    qtbot.keyClicks(spin.lineEdit(), text)
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)


def test_cv_field_takes_loso_off_and_fold_counts_by_keyboard(qtbot, context):
    tab = TrainTab(context)
    qtbot.addWidget(tab)
    spin = tab.cv_folds
    _typed(qtbot, spin, "leave one speaker out")
    assert spin.cv() == "loso" and spin.text() == "leave one speaker out"
    _typed(qtbot, spin, "5")
    assert spin.cv() == 5 and spin.text() == "5 folds"
    _typed(qtbot, spin, "off")
    assert spin.cv() == 0
    spin.setValue(1)
    assert is_marked_invalid(spin) and "cross-validation folds 1" in spin.toolTip()
    qtbot.keyClick(spin, Qt.Key.Key_Down)
    qtbot.keyClick(spin, Qt.Key.Key_Down)  # below off: leave one speaker out
    assert spin.cv() == "loso" and not is_marked_invalid(spin)


def test_loso_with_per_speaker_normalisation_from_the_form(qtbot, context):
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentIndex(TRAIN)
    tab = window.train_tab
    with qtbot.waitSignal(tab.dataset_checked, timeout=20_000):
        tab.set_dataset(EMODB)
    tab.model_combo.setCurrentIndex(tab.model_combo.findData("logistic_regression"))
    tab.cv_folds.set_cv("loso")
    tab.normalize_combo.setCurrentIndex(tab.normalize_combo.findData("speaker"))
    tab.importance_check.setChecked(True)
    assert tab.start_button.isEnabled(), tab.message_label.text()
    with qtbot.waitSignal(tab.run_finished, timeout=180_000) as blocker:
        qtbot.mouseClick(tab.start_button, LEFT)
    model_id = blocker.args[0]
    meta = json.loads(Path(ModelRegistry(context.workspace.registry_path).get_model_info(model_id)["metadata_path"])
                      .read_text())
    cv = meta["evaluation_results"]["cv"]
    assert meta["normalization"]["kind"] == "speaker" and cv["scheme"] == "leave-one-speaker-out"

    metrics = tab.metrics
    summary = metrics.summary.text()
    assert f"UAR {cv['macro_recall']:.3f}" in summary and "per-speaker normalisation" in summary
    assert "Accuracy per speaker: spk08" in summary
    top = meta["evaluation_results"]["permutation_importance"]["features"][0]
    assert f"Permutation importance (drop in held-out UAR): {top['name']} {top['mean']:+.3f}" in summary
    assert metrics.shown() == "cv" and sum(int(t) for t in metrics.confusion.cell_texts()) == 36
    metrics.view_combo.setCurrentIndex(metrics.view_combo.findData("holdout"))
    assert metrics.shown() == "holdout"
    assert sum(int(t) for t in metrics.confusion.cell_texts()) == meta["evaluation_results"]["n_test"]
    tab.save_state()
    assert context.setting("train/cv_folds", "0") == "loso" and context.setting("train/normalize", "") == "speaker"

    window.tabs.setCurrentIndex(BROWSER)
    browser = window.browser_tab
    assert browser.select_key(model_id)
    details = browser.details.metrics
    assert f"UAR {cv['macro_recall']:.3f}" in details.summary.text() and details.shown() == "cv"
    assert sum(int(t) for t in details.confusion.cell_texts()) == 36

    again = TrainTab(context)  # the choices come back in a new session
    qtbot.addWidget(again)
    assert again.cv_folds.cv() == "loso" and again.normalize() == "speaker"


def test_feature_set_field_is_checked_in_place(qtbot, context):
    tab = TrainTab(context)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.dataset_checked, timeout=20_000):
        tab.set_dataset(EMODB)
    assert tab.start_button.isEnabled()
    tab.features_edit.setText("mfcc")
    assert not tab.start_button.isEnabled() and is_marked_invalid(tab.features_edit)
    assert "use sf-prosody-mfcc or ssl:" in tab.message_label.text()
    tab.features_edit.setText("ssl:/models/wavlm-base-plus@6")  # syntax only here; the model loads in the run
    assert tab.start_button.isEnabled() and not is_marked_invalid(tab.features_edit)
