"""The default model: trained once on the bundled EmoDB speech through the real trainer and registry."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from speakfeed_gui.cli import main
from speakfeed_gui.core.errors import Cancelled, DatasetError
from speakfeed_gui.core.models.factory import ModelFactory
from speakfeed_gui.core.progress import CancelToken
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.config import DEFAULT_LABELS
from speakfeed_gui.core.settings.workspace import Workspace, init_workspace
from speakfeed_gui.core.training import bootstrap as boot
from speakfeed_gui.core.training.bootstrap import EMODB_DIR, EMODB_LABEL_MAP, LIVE_ALIAS, bootstrap, needs_bootstrap
from speakfeed_gui.core.training.external_eval import EXTRA_KEY, KIND_LOSO, extra_evaluations


def registry_of(ws: Workspace) -> ModelRegistry:
    return ModelRegistry(ws.registry_path)


def user_model(ws: Workspace) -> str:
    """A model the user registered and chose for live (an entry without artifacts is enough here)."""
    reg = registry_of(ws)
    model_id = reg.register_model({"experiment_name": "mine", "model_type": "random_forest", "tags": ["user"]})
    reg.set_alias(LIVE_ALIAS, model_id)
    return model_id


@pytest.fixture(scope="module")
def booted(tmp_path_factory) -> tuple[Workspace, str]:
    ws = init_workspace(tmp_path_factory.mktemp("booted"))
    assert needs_bootstrap(ws)
    model_id = bootstrap(ws)
    assert model_id is not None
    return ws, model_id


@pytest.fixture
def warm_ws(booted, tmp_path) -> Workspace:
    """A fresh workspace sharing the booted one's feature cache (content-addressed), so training is quick."""
    ws = init_workspace(tmp_path / "ws")
    shutil.copytree(booted[0].cache_dir, ws.cache_dir)
    return ws


@pytest.mark.slow
def test_bootstrap_trains_the_live_default_on_emodb_with_its_loso_figures(booted):
    ws, model_id = booted
    reg = registry_of(ws)
    assert reg.aliases() == {LIVE_ALIAS: model_id}
    assert not needs_bootstrap(ws)
    entry = reg.get_model_info(LIVE_ALIAS)
    assert entry["id"] == model_id
    assert {"default", "emodb"} <= set(entry["tags"])
    assert entry["experiment_name"] == "default-emodb"
    assert entry["speaker_independent"] is True
    assert sorted(entry["labels"]) == sorted(DEFAULT_LABELS)
    assert entry["n_clips"] == 387

    metadata = json.loads(Path(entry["metadata_path"]).read_text())
    assert Path(metadata["dataset"]["source"]) == EMODB_DIR / "dataset.csv"
    assert metadata["dataset"]["label_map"] == EMODB_LABEL_MAP
    assert metadata["dataset"]["fingerprint"]["n_speakers"] == 7
    (loso,) = [r for r in extra_evaluations(metadata) if r["kind"] == KIND_LOSO]
    assert sorted(loso["per_speaker_uar"]) == ["spk08", "spk10", "spk11", "spk12", "spk13", "spk14", "spk16"]
    assert sorted(loso["labels"]) == sorted(DEFAULT_LABELS)
    matrix = loso["confusion_matrix"]
    assert sum(map(sum, matrix)) == 387 == loso["n_test"]
    chance = 1 / len(DEFAULT_LABELS)
    assert loso["uar"] > chance + 0.3  # measured 0.62 on unseen actors
    # the description says what it learned from, the speaker-independent figure, and what is not known
    description = entry["description"]
    assert "German acted speech of 7 actors" in description and "EmoDB" in description
    assert f"UAR {loso['uar']:.2f}" in description and "not known" in description
    # the stored hash still matches the metadata rewritten with the LOSO record
    assert ModelFactory(workspace=ws).resolve("live").load().metadata[EXTRA_KEY] == metadata[EXTRA_KEY]


@pytest.mark.slow
def test_the_configured_live_model_predicts_real_speech(booted):
    ws, model_id = booted
    model = ModelFactory(workspace=ws).resolve(None)  # default_model `emotion` -> model_ref: live
    prediction = model.predict(str(EMODB_DIR / "wav" / "08a01Ab.flac"))
    assert set(prediction.probabilities) == set(DEFAULT_LABELS)
    assert abs(sum(prediction.probabilities.values()) - 1) < 1e-6


@pytest.mark.slow
def test_second_call_does_nothing(booted):
    ws, _ = booted
    reg = registry_of(ws)
    before = (reg.list_models(), reg.aliases(), sorted(p.name for p in ws.models_dir.rglob("*")))
    assert bootstrap(ws) is None
    assert (reg.list_models(), reg.aliases(), sorted(p.name for p in ws.models_dir.rglob("*"))) == before


def test_users_own_live_alias_is_never_replaced(tmp_path):
    ws = init_workspace(tmp_path)
    mine = user_model(ws)
    assert not needs_bootstrap(ws)
    assert bootstrap(ws) is None
    assert registry_of(ws).aliases() == {LIVE_ALIAS: mine}
    assert len(registry_of(ws)) == 1


@pytest.mark.slow
def test_force_trains_again_but_moves_live_only_off_a_demo_model(warm_ws):
    ws = warm_ws
    first = bootstrap(ws)
    second = bootstrap(ws, force=True)
    assert second not in (None, first)
    assert registry_of(ws).aliases()[LIVE_ALIAS] == second  # an earlier demo default may be replaced
    mine = user_model(ws)
    third = bootstrap(ws, force=True)
    assert third is not None and len(registry_of(ws)) == 4
    assert registry_of(ws).aliases()[LIVE_ALIAS] == mine


@pytest.mark.slow
def test_alias_chosen_during_training_is_kept(warm_ws):
    ws = warm_ws
    chosen: list[str] = []

    def progress(stage: str, done: int, total: int, message: str = "") -> None:
        if stage == "evaluate" and not chosen:  # the user picks a model in the browser meanwhile
            chosen.append(user_model(ws))

    model_id = bootstrap(ws, progress=progress)
    assert model_id is not None and chosen
    assert registry_of(ws).aliases() == {LIVE_ALIAS: chosen[0]}


@pytest.mark.slow
def test_cancel_leaves_no_model_and_no_alias(warm_ws):
    token = CancelToken()

    def progress(stage: str, done: int, total: int, message: str = "") -> None:
        if stage == "split":
            token.cancel()

    with pytest.raises(Cancelled):
        bootstrap(warm_ws, progress=progress, cancel=token)
    assert len(registry_of(warm_ws)) == 0
    assert needs_bootstrap(warm_ws)


@pytest.mark.slow
def test_concurrent_bootstraps_train_once(warm_ws):
    results: list[str | None] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(bootstrap(warm_ws))
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert len(results) == 2 and results.count(None) == 1
    assert len(registry_of(warm_ws)) == 1


def test_missing_corpus_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setattr(boot, "EMODB_CSV", tmp_path / "gone" / "dataset.csv")
    ws = init_workspace(tmp_path / "ws")
    with pytest.raises(DatasetError, match="EmoDB corpus is missing") as info:
        bootstrap(ws)
    assert "\n" not in str(info.value)
    assert needs_bootstrap(ws)


@pytest.mark.slow
def test_cli_bootstrap_reports_accuracy_then_nothing_to_do(warm_ws, capsys):
    assert main(["--workspace", str(warm_ws.root), "bootstrap"]) == 0
    out = capsys.readouterr().out
    live = registry_of(warm_ws).aliases()[LIVE_ALIAS]
    assert live in out and "speaker-independent" in out and "macro-F1" in out
    assert main(["--workspace", str(warm_ws.root), "bootstrap"]) == 0
    assert "nothing to do" in capsys.readouterr().out
