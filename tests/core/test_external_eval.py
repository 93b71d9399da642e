"""Extra evaluations in a model's metadata: written through the registry, atomically, hash kept true."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from speakfeed_gui.core.errors import IntegrityError, RegistryError
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.registry.artifacts import load_registered
from speakfeed_gui.core.settings.workspace import init_workspace
from speakfeed_gui.core.training.external_eval import (
    EXTRA_KEY,
    KIND_LOSO,
    add_evaluation,
    evaluate_on_dataset,
    extra_evaluations,
    leave_one_speaker_out,
)
from tests.emodb import write_subset

MAP = {"anger": "frustrated", "sadness": "burned_out", "neutral": "calm"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from speakfeed_gui.core.training.trainer import run_training_experiment

    folder = tmp_path_factory.mktemp("emodb")
    train = write_subset(folder, ["spk08", "spk10", "spk12"], list(MAP), per_cell=3, name="train.csv")
    unseen = write_subset(folder, ["spk14"], list(MAP), per_cell=3, name="unseen.csv")
    template = init_workspace(tmp_path_factory.mktemp("template"))
    model_id = run_training_experiment(train, "svm", {"C": 3.0}, workspace=template, label_map=MAP)
    return template, model_id, train, unseen


@pytest.fixture
def ws(trained, tmp_path):
    """A private copy of the trained workspace (tests change its metadata)."""
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(trained[0].root, root)
    return init_workspace(root)


def metadata(ws, model_id):
    return json.loads(Path(ModelRegistry(ws.registry_path).get_model_info(model_id)["metadata_path"]).read_text())


def test_evaluation_is_appended_and_the_model_still_loads_hash_checked(ws, trained):
    _, model_id, _, unseen = trained
    record = evaluate_on_dataset(model_id, unseen, label_map=MAP, workspace=ws)
    assert record["n_test"] == 9 and 0 <= record["uar"] <= 1
    _, _, loaded = load_registered(model_id, ws)  # raises if the registry's sha256 were stale
    assert loaded[EXTRA_KEY] == [record] == extra_evaluations(metadata(ws, model_id))
    again = evaluate_on_dataset(model_id, unseen, label_map=MAP, workspace=ws, store=False)
    assert again["confusion_matrix"] == record["confusion_matrix"] and again["uar"] == record["uar"]
    assert len(extra_evaluations(metadata(ws, model_id))) == 1  # store=False wrote nothing


def test_concurrent_writers_lose_no_record(ws, trained):
    _, model_id, _, _ = trained
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            add_evaluation(ModelRegistry(ws.registry_path), model_id, {"kind": "dataset", "n": n})
        except BaseException as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert sorted(r["n"] for r in extra_evaluations(metadata(ws, model_id))) == list(range(8))
    load_registered(model_id, ws)


def test_tampered_metadata_is_refused_not_blessed_with_a_new_hash(ws, trained):
    _, model_id, _, _ = trained
    path = Path(ModelRegistry(ws.registry_path).get_model_info(model_id)["metadata_path"])
    path.write_text(path.read_text().replace('"svm"', '"evil"', 1))
    before = path.read_bytes()
    with pytest.raises(IntegrityError, match="sha256 does not match"):
        add_evaluation(ModelRegistry(ws.registry_path), model_id, {"kind": "dataset"})
    assert path.read_bytes() == before


def test_a_failed_registry_write_puts_the_metadata_back(ws, trained, monkeypatch):
    _, model_id, _, _ = trained
    registry = ModelRegistry(ws.registry_path)
    path = Path(registry.get_model_info(model_id)["metadata_path"])
    before = path.read_bytes()

    def full_disk(*_args):
        raise RegistryError(f"{registry.journal_path}: cannot write (No space left on device); nothing was changed")

    monkeypatch.setattr(registry, "_rewrite", full_disk)  # the registry write fails after the metadata was replaced
    with pytest.raises(RegistryError, match="No space left"):
        add_evaluation(registry, model_id, {"kind": "dataset"})
    assert path.read_bytes() == before
    load_registered(model_id, ws)


def test_leave_one_speaker_out_predicts_every_clip_with_a_model_that_never_heard_its_speaker(ws, trained):
    _, _, train, _ = trained
    record = leave_one_speaker_out(train, "svm", {"C": 3.0}, label_map=MAP, workspace=ws)
    assert record["kind"] == KIND_LOSO and record["n_test"] == 27
    assert sorted(record["per_speaker_uar"]) == ["spk08", "spk10", "spk12"]
    assert record["dataset"]["n_speakers"] == 3 and record["dataset"]["label_map"] == MAP
    assert sum(map(sum, record["confusion_matrix"])) == 27


def test_leave_one_speaker_out_needs_speakers(ws, tmp_path):
    from speakfeed_gui.core.errors import DatasetError
    from tests.emodb import emodb_rows

    rows = [r for r in emodb_rows() if r["label"] in MAP][:9]
    csv_path = tmp_path / "nospeakers.csv"
    csv_path.write_text("path,label\n" + "".join(f"{r['path']},{r['label']}\n" for r in rows))
    with pytest.raises(DatasetError, match="needs a speaker for every clip and at least 3 speakers"):
        leave_one_speaker_out(csv_path, "logistic_regression", {}, workspace=ws)
