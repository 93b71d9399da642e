"""Real speech in the GUI: the Train tab's label mapping, the Model Browser's evaluation on another
dataset, and the Live tab's note on how sure the model is (EmoDB clips from resources/emodb)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.workspace import init_workspace
from speakfeed_gui.ui.browser_tab import BrowserTab
from speakfeed_gui.ui.error_dialog import error_bus
from speakfeed_gui.ui.train_tab import TrainTab
from speakfeed_gui.ui.validation import is_marked_invalid
from tests.emodb import write_subset

LABELS = ["anger", "disgust", "neutral", "sadness"]
MAPPING = "anger=frustrated, disgust=frustrated, neutral=calm, sadness=burned_out"


@pytest.fixture(scope="module")
def emodb_csvs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("emodb")
    return (write_subset(folder, ["spk08", "spk10", "spk11"], LABELS, per_cell=2, name="train.csv"),
            write_subset(folder, ["spk13", "spk16"], LABELS, per_cell=2, name="unseen.csv"))


@pytest.fixture(scope="module")
def mapped_model(tmp_path_factory, emodb_csvs):
    """A workspace with a model trained on three actors, labels mapped to three coaching labels."""
    from speakfeed_gui.core.training.datasets import label_map_from_text
    from speakfeed_gui.core.training.trainer import run_training_experiment

    ws = init_workspace(tmp_path_factory.mktemp("ws"))
    model_id = run_training_experiment(emodb_csvs[0], "logistic_regression", {"C": 0.1}, experiment_name="emo",
                                       workspace=ws, label_map=label_map_from_text(MAPPING))
    return ws, model_id


def metadata_of(ws, model_id):
    return json.loads(Path(ModelRegistry(ws.registry_path).get_model_info(model_id)["metadata_path"]).read_text())


def test_train_tab_mapping_field_shows_mapped_labels_and_trains_with_them(qtbot, context, emodb_csvs):
    tab = TrainTab(context)
    qtbot.addWidget(tab)
    with qtbot.waitSignal(tab.dataset_checked, timeout=30_000):
        tab.set_dataset(emodb_csvs[0])
    assert "anger:" in tab.dataset_summary.text()
    with qtbot.waitSignal(tab.dataset_checked, timeout=30_000):
        tab.dataset.set_label_map("anger=frustrated angry=calm")
    assert is_marked_invalid(tab.dataset.map_edit) and not is_marked_invalid(tab.dataset_edit)
    assert "'angry' is not a label" in tab.message_label.text() and not tab.start_button.isEnabled()
    with qtbot.waitSignal(tab.dataset_checked, timeout=30_000):
        tab.dataset.set_label_map("anger")
    assert "expected OLD=NEW" in tab.message_label.text() and is_marked_invalid(tab.dataset.map_edit)
    with qtbot.waitSignal(tab.dataset_checked, timeout=30_000):
        tab.dataset.set_label_map(MAPPING)
    summary = tab.dataset_summary.text()
    assert "frustrated:" in summary and "burned_out:" in summary and "anger:" not in summary
    assert not is_marked_invalid(tab.dataset.map_edit)
    tab.model_combo.setCurrentIndex(tab.model_combo.findData("logistic_regression"))
    tab.experiment_edit.setText("mapped")
    assert tab.start_button.isEnabled(), tab.message_label.text()
    with qtbot.waitSignal(tab.run_finished, timeout=120_000):
        tab.start()
    metadata = metadata_of(context.workspace, tab.model_id)
    assert metadata["labels"] == ["burned_out", "calm", "frustrated"]
    assert metadata["dataset"]["label_map"]["disgust"] == "frustrated"


def test_browser_evaluates_on_unseen_speakers_in_a_worker_and_shows_the_result(qtbot, make_context, mapped_model,
                                                                              emodb_csvs):
    ws, model_id = mapped_model
    context = make_context(ws)
    tab = BrowserTab(context)
    qtbot.addWidget(tab)
    assert tab.select_key(model_id) and tab.act_evaluate.isEnabled()
    assert not tab.details.evaluation_choice.isVisible()
    tab.evaluate_selected()  # the dialog asks for the dataset and the mapping
    dialog = tab.evaluate_dialog
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.dataset.setText(str(emodb_csvs[1]))
    dialog.mapping.setText(MAPPING)
    assert ok.isEnabled()
    messages: list[str] = []
    context.status_message.connect(messages.append)
    ok.click()
    worker = tab.evaluate_worker
    assert worker is not None and not tab.act_evaluate.isEnabled()
    with qtbot.waitSignal(worker.done, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: tab.details.evaluation_choice.count() == 2, timeout=10_000)
    record = metadata_of(ws, model_id)["extra_evaluations"][-1]
    assert record["kind"] == "dataset" and record["dataset"]["source"] == str(emodb_csvs[1])
    assert any(f"UAR {record['uar']:.3f}" in m for m in messages)
    choice = tab.details.evaluation_choice
    assert choice.currentText().startswith("Dataset ") and f"UAR {record['uar']:.3f}" in choice.currentText()
    assert f"{record['n_test']} test clips" in tab.details.metrics.summary.text()
    assert any(key.startswith("Evaluations/") for key in tab.details.values())
    choice.setCurrentIndex(0)  # back to the model's own held-out split
    held_out = metadata_of(ws, model_id)["evaluation_results"]["n_test"]
    assert f"{held_out} test clips" in tab.details.metrics.summary.text()
    assert tab.act_evaluate.isEnabled()


def test_evaluate_with_labels_the_model_lacks_reports_one_line_and_keeps_the_model(qtbot, make_context, mapped_model,
                                                                                  emodb_csvs):
    ws, model_id = mapped_model
    before = metadata_of(ws, model_id)
    tab = BrowserTab(make_context(ws))
    qtbot.addWidget(tab)
    tab.select_key(model_id)
    with qtbot.waitSignal(error_bus().shown, timeout=60_000) as shown:
        tab.evaluate_selected(emodb_csvs[1], "")
    message, details = shown.args
    assert "label 'anger' is not one the model predicts" in message and details == ""
    qtbot.waitUntil(lambda: tab.evaluate_worker is None, timeout=10_000)
    assert metadata_of(ws, model_id) == before
    with qtbot.waitSignal(error_bus().shown, timeout=10_000) as shown:
        tab.evaluate_selected(emodb_csvs[1], "anger")  # a malformed mapping never starts a worker
    assert "expected OLD=NEW" in shown.args[0] and tab.evaluate_worker is None


def test_live_note_says_how_sure_the_model_is_and_what_is_not_known(mapped_model, emodb_csvs, qapp):
    from speakfeed_gui.core.models.factory import ModelFactory
    from speakfeed_gui.core.training.external_eval import add_evaluation, leave_one_speaker_out
    from speakfeed_gui.ui.live_display import LiveDisplay, model_note

    ws, model_id = mapped_model
    from speakfeed_gui.core.training.datasets import label_map_from_text

    record = leave_one_speaker_out(emodb_csvs[0], "logistic_regression", {"C": 0.1},
                                   label_map=label_map_from_text(MAPPING), workspace=ws)
    add_evaluation(ModelRegistry(ws.registry_path), model_id, record)
    model = ModelFactory(workspace=ws).resolve(model_id).load()
    note = model_note(model)
    assert "probability" in note and "uncertain" in note
    assert f"UAR {record['uar']:.2f}" in note and "3 speakers it never heard" in note and "not known" in note
    display = LiveDisplay()
    display.reset(model, ModelFactory(workspace=ws).config.live)
    assert display.model_note.text() == note
    dummy = ModelFactory(workspace=ws).resolve("dummy")
    assert "UAR" not in model_note(dummy) and "30%" in model_note(dummy)
