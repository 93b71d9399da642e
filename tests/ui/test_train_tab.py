"""Train tab driven like a user: dataset, form validation, start, cancel, failure, persistence."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, Qt, QUrl
from PySide6.QtWidgets import QApplication

from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.ui.error_dialog import error_bus
from speakfeed_gui.ui.main_window import BROWSER, TRAIN, MainWindow
from speakfeed_gui.ui.registry_table import ACCURACY, NAME
from speakfeed_gui.ui.train_tab import TrainTab
from speakfeed_gui.ui.validation import is_marked_invalid
from tests.synth import make_dataset
from tests.ui.conftest import drag_and_drop

LEFT = Qt.MouseButton.LeftButton


def _tab(qtbot, context) -> TrainTab:
    tab = TrainTab(context)
    qtbot.addWidget(tab)
    return tab


def _choose(qtbot, tab: TrainTab, path) -> None:
    with qtbot.waitSignal(tab.dataset_checked, timeout=20_000):
        tab.set_dataset(path)


def _model_files(workspace) -> list[Path]:
    return [p for p in workspace.models_dir.rglob("*") if p.is_file() and not p.name.startswith("model_registry")
            and p.suffix != ".lock"]


def test_train_from_the_form_then_find_sort_filter_and_use_the_model(qtbot, context, dataset_csv):
    window = MainWindow(context)
    qtbot.addWidget(window)
    window.show()
    window.tabs.setCurrentIndex(TRAIN)
    tab = window.train_tab
    assert not tab.start_button.isEnabled()
    _choose(qtbot, tab, dataset_csv)
    assert "12 clips" in tab.dataset_summary.text() and "4 speakers" in tab.dataset_summary.text()
    tab.model_combo.setCurrentIndex(tab.model_combo.findData("logistic_regression"))
    tab.hyper_form.editors["C"].spin.setValue(0.5)
    tab.experiment_edit.setText("gui-run")
    assert tab.start_button.isEnabled(), tab.message_label.text()

    stages: list[str] = []
    with qtbot.waitSignal(tab.run_finished, timeout=120_000) as blocker:
        qtbot.mouseClick(tab.start_button, LEFT)
        assert not tab.start_button.isEnabled() and tab.cancel_button.isEnabled()
        assert not tab.form.isEnabled()
        assert tab.start() is None  # a second run cannot start while one is active
        tab.worker.progress.connect(lambda stage, *_: stages.append(stage))
    model_id = blocker.args[0]
    assert {"features", "train", "evaluate", "save"} <= set(stages)
    assert "[save] 1/1 registered model" in tab.log_view.toPlainText()
    assert tab.start_button.isEnabled() and tab.form.isEnabled()
    assert tab.metrics.table.rowCount() == 3 and tab.metrics.confusion.cell_texts()
    entry = ModelRegistry(context.workspace.registry_path).get_model_info(model_id)
    assert entry["experiment_name"] == "gui-run" and entry["model_type"] == "logistic_regression"
    meta = json.loads(Path(entry["metadata_path"]).read_text())
    assert meta["model_info"]["hyperparameters"]["C"] == 0.5

    qtbot.mouseClick(tab.show_button, LEFT)
    assert window.tabs.currentIndex() == BROWSER
    browser = window.browser_tab
    assert browser.selected_key() == model_id
    browser.view.sortByColumn(ACCURACY, Qt.SortOrder.DescendingOrder)
    assert browser.selected_key() == model_id  # sorting keeps the selection
    assert browser.proxy.index(0, ACCURACY).data() == f"{entry['accuracy']:.3f}"
    browser.search.setText("gui-run")
    assert [browser.proxy.index(r, NAME).data() for r in range(browser.proxy.rowCount())] == [entry["model_name"]]

    window.tabs.setCurrentIndex(TRAIN)
    with qtbot.waitSignal(context.live_model_changed, timeout=10000):  # the alias is written in the background
        qtbot.mouseClick(tab.live_button, LEFT)
    assert ModelRegistry(context.workspace.registry_path).aliases()["live"] == model_id
    assert model_id[:8] in window.live_label.text()


def test_cancel_mid_training_leaves_nothing_behind(qtbot, context, dataset_csv):
    tab = _tab(qtbot, context)
    _choose(qtbot, tab, dataset_csv)
    tab.model_combo.setCurrentIndex(tab.model_combo.findData("random_forest"))
    tab.hyper_form.editors["n_estimators"].spin.setValue(2000)  # trained in steps, cancel checked between them
    tab.start()
    seen: list[str] = []

    def on_progress(stage, done, total, message):
        seen.append(stage)
        if stage == "train" and done > 0:
            tab.cancel()

    tab.worker.progress.connect(on_progress)
    with qtbot.waitSignal(tab.run_cancelled, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: not tab.running(), timeout=5000)
    assert "train" in seen and "save" not in seen
    assert len(ModelRegistry(context.workspace.registry_path)) == 0
    assert _model_files(context.workspace) == []
    assert tab.stage_label.text() == "Cancelled" and "nothing was saved" in tab.log_view.toPlainText()
    assert tab.start_button.isEnabled()
    trees = [line for line in tab.log_view.toPlainText().splitlines() if line.startswith("[train]")]
    assert trees and all(re.fullmatch(r"\[train\] \d+/2000 estimators", line) for line in trees), trees


def test_progress_text_shows_the_count_once():
    from speakfeed_gui.ui.train_run import progress_text

    assert progress_text(200, 200, "200/200 estimators") == "200/200 estimators"
    assert progress_text(200, 200, "200/200 estimators", " — ") == "200/200 estimators"
    assert progress_text(3, 12, "clip.wav") == "3/12 clip.wav"
    assert progress_text(3, 12, "clip.wav", " — ") == "3/12 — clip.wav"
    assert progress_text(1, 1, "") == "1/1"
    assert progress_text(1, 10, "10/100 files") == "1/10 10/100 files"  # another count is not the stage's


def test_bad_dataset_path_is_flagged_and_blocks_start(qtbot, context, tmp_path):
    tab = _tab(qtbot, context)
    _choose(qtbot, tab, tmp_path / "missing.csv")
    assert is_marked_invalid(tab.dataset_edit)
    assert "no such file or folder" in tab.message_label.text()
    assert "no such file" in tab.dataset_edit.toolTip()
    assert not tab.start_button.isEnabled()


def test_a_typed_path_blocks_start_until_it_is_checked(qtbot, context, dataset_csv, tmp_path):
    tab = _tab(qtbot, context)
    _choose(qtbot, tab, dataset_csv)
    assert tab.start_button.isEnabled()
    qtbot.keyClicks(tab.dataset_edit, ".bak")  # the checked report is of the old path
    assert not tab.start_button.isEnabled() and tab.message_label.text() == "Checking the dataset…"
    assert tab.start() is None
    with qtbot.waitSignal(tab.dataset_checked, timeout=20_000):
        pass  # checked once the typing pauses
    assert "no such file or folder" in tab.message_label.text() and not tab.start_button.isEnabled()


def test_dataset_with_one_label_blocks_start(qtbot, context, tmp_path):
    csv = make_dataset(tmp_path / "one", "csv", labels=["calm", "energetic"], speakers=2, clips_per_speaker_label=1,
                       seconds=0.4)
    rows = csv.read_text().splitlines()
    csv.write_text("\n".join([rows[0]] + [r for r in rows[1:] if r.split(",")[1] == "calm"]) + "\n")
    tab = _tab(qtbot, context)
    _choose(qtbot, tab, csv)
    assert not tab.start_button.isEnabled()
    assert "1 label(s) (calm); need at least 2" in tab.message_label.text()
    assert is_marked_invalid(tab.dataset_edit)


def test_labels_left_after_skipping_unusable_files_must_be_two(qtbot, context, tmp_path):
    csv = make_dataset(tmp_path / "two", "csv", labels=["calm", "energetic"], speakers=2, clips_per_speaker_label=1,
                       seconds=0.4)
    for wav in (csv.parent / "audio").glob("*energetic*.wav"):
        wav.write_bytes(b"")  # every energetic clip unusable
    tab = _tab(qtbot, context)
    tab.skip_bad.setChecked(True)
    _choose(qtbot, tab, csv)
    assert tab.message_label.text().endswith("1 usable label(s); training needs at least 2 labels")
    assert not tab.start_button.isEnabled() and is_marked_invalid(tab.dataset_edit)


def test_unusable_files_need_the_skip_box(qtbot, context, dataset_csv, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(dataset_csv.parent, copy)
    broken = sorted((copy / "audio").glob("*.wav"))[0]
    broken.write_bytes(b"not audio")
    tab = _tab(qtbot, context)
    _choose(qtbot, tab, copy / "dataset.csv")
    assert "1 unusable files" in tab.dataset_summary.text() and broken.name in tab.dataset_summary.text()
    assert not tab.start_button.isEnabled() and "Skip unusable files" in tab.message_label.text()
    tab.skip_bad.setChecked(True)
    assert tab.start_button.isEnabled()


def test_invalid_values_are_flagged_in_place(qtbot, context, dataset_csv):
    tab = _tab(qtbot, context)
    _choose(qtbot, tab, dataset_csv)
    assert tab.start_button.isEnabled()

    tab.experiment_edit.setText("bad name!")
    assert not tab.start_button.isEnabled()
    assert is_marked_invalid(tab.experiment_edit) and "experiment name" in tab.experiment_edit.toolTip()
    tab.experiment_edit.setText("good-name")
    assert tab.start_button.isEnabled() and not is_marked_invalid(tab.experiment_edit)

    tab.model_combo.setCurrentIndex(tab.model_combo.findData("random_forest"))
    spin = tab.hyper_form.editors["n_estimators"].spin
    spin.lineEdit().selectAll()
    qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Backspace)  # an empty number field
    assert not tab.start_button.isEnabled()
    assert is_marked_invalid(spin) and "n_estimators: enter a whole number from 1 to 2000" == spin.toolTip()
    assert tab.message_label.text() == spin.toolTip()
    qtbot.keyClicks(spin.lineEdit(), "50")
    assert tab.start_button.isEnabled() and not is_marked_invalid(spin)

    tab.cv_folds.setValue(1)  # one fold is not cross-validation
    assert not tab.start_button.isEnabled() and is_marked_invalid(tab.cv_folds)
    tab.cv_folds.setValue(3)
    assert tab.start_button.isEnabled()

    tab.model_combo.setCurrentIndex(tab.model_combo.findData("logistic_regression"))
    c_spin = tab.hyper_form.editors["C"].spin
    c_spin.lineEdit().selectAll()
    qtbot.keyClicks(c_spin.lineEdit(), "1e5")  # above the 1e4 limit
    assert not tab.start_button.isEnabled() and "C: enter a number from 0.0001 to 10000" in tab.message_label.text()
    c_spin.lineEdit().selectAll()
    qtbot.keyClicks(c_spin.lineEdit(), "2.5e-3")
    assert tab.start_button.isEnabled() and tab.hyper_form.values()["C"] == pytest.approx(0.0025)

    tab.model_combo.setCurrentIndex(tab.model_combo.findData("random_forest"))
    editor = tab.hyper_form.editors["max_depth"]
    editor.none_box.setChecked(False)
    editor.spin.setValue(7)
    assert tab.hyper_form.values()["max_depth"] == 7
    editor.none_box.setChecked(True)
    assert tab.hyper_form.values()["max_depth"] is None and not editor.spin.isEnabled()


def test_training_failure_shows_the_error_and_the_form_stays_usable(qtbot, context, dataset_csv, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(dataset_csv.parent, copy)
    tab = _tab(qtbot, context)
    _choose(qtbot, tab, copy / "dataset.csv")
    assert tab.start_button.isEnabled()
    sorted((copy / "audio").glob("*.wav"))[0].unlink()  # disappears after the check, before the run
    with qtbot.waitSignal(error_bus().shown, timeout=60_000) as shown:
        tab.start()
    message, details = shown.args
    assert "unusable files" in message and details == ""  # the core's one-line DatasetError
    qtbot.waitUntil(lambda: not tab.running(), timeout=5000)
    assert tab.message_label.text() == message
    assert tab.form.isEnabled() and tab.start_button.isEnabled() and not tab.cancel_button.isEnabled()
    assert tab.stage_label.text() == "Failed"
    assert len(ModelRegistry(context.workspace.registry_path)) == 0


def test_dropping_a_folder_chooses_it(qtbot, context, tmp_path):
    folder = make_dataset(tmp_path / "folders", "folders", speakers=2, clips_per_speaker_label=1, seconds=0.4)
    tab = _tab(qtbot, context)
    tab.show()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "nothing.txt")), QUrl.fromLocalFile(str(folder))])
    enter, drop = drag_and_drop(mime)
    QApplication.sendEvent(tab, enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(tab.dataset_checked, timeout=20_000):
        QApplication.sendEvent(tab, drop)
    assert tab.dataset_edit.text() == str(folder)
    assert "6 clips" in tab.dataset_summary.text() and "layout folders" in tab.dataset_summary.text()
    text_only = QMimeData()
    text_only.setUrls([QUrl.fromLocalFile(str(tmp_path / "nothing.txt"))])
    refused, _drop = drag_and_drop(text_only)
    QApplication.sendEvent(tab, refused)
    assert not refused.isAccepted()


def test_form_values_persist(qtbot, make_context, workspace, dataset_csv, settings):
    tab = _tab(qtbot, make_context(workspace))
    _choose(qtbot, tab, dataset_csv)
    tab.model_combo.setCurrentIndex(tab.model_combo.findData("svm"))
    tab.hyper_form.editors["kernel"].set_value("linear")
    tab.experiment_edit.setText("kept")
    tab.seed.setValue(7)
    tab.test_fraction.setValue(0.3)
    tab.group_by_speaker.setChecked(False)
    tab.skip_bad.setChecked(True)
    tab.save_state()
    settings.sync()

    again = TrainTab(make_context(workspace))
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.check_worker is None, timeout=20_000)
    assert again.dataset_edit.text() == str(dataset_csv)
    assert again.model_type() == "svm" and again.hyper_form.values()["kernel"] == "linear"
    assert again.experiment_edit.text() == "kept" and again.seed.value() == 7
    assert again.test_fraction.value() == pytest.approx(0.3)
    assert not again.group_by_speaker.isChecked() and again.skip_bad.isChecked()
    assert "12 clips" in again.dataset_summary.text()
