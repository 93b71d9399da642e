"""Hyperparameter search by speaker-grouped CV, and the Dask path, on real EmoDB clips (tests/data/emodb)."""

import json
from pathlib import Path

import numpy as np
import pytest

from speakfeed_gui.cli import main
from speakfeed_gui.core.errors import Cancelled, HyperparameterError, SpeakFeedError
from speakfeed_gui.core.progress import CancelToken
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.training.search import run_search, searched_specs
from speakfeed_gui.core.training.trainer import load_model, run_training_experiment

EMODB = Path(__file__).resolve().parents[1] / "data" / "emodb" / "dataset.csv"


def _metadata(workspace, model_id: str) -> dict:
    return json.loads(Path(ModelRegistry(workspace.registry_path).get_model_info(model_id)["metadata_path"]).read_text())


def test_search_registers_the_best_trial_with_its_record(workspace):
    reports = []
    result = run_search(EMODB, "logistic_regression", trials=4, workspace=workspace,
                        progress=lambda stage, done, total, msg="": reports.append((stage, done, total)))
    assert [r for r in reports if r[0] == "search"] == [("search", n, 4) for n in range(5)]
    assert len(result.trials) == 4 and result.best.uar == max(t.uar for t in result.trials)
    assert len({t.params["C"] for t in result.trials}) == 4  # every trial drew its own C
    assert result.trials[0].params["C"] == 1.0 and result.trials[0].params["class_weight"] == "balanced"  # defaults
    meta = _metadata(workspace, result.model_id)
    record = meta["search"]
    assert record["cv"] == "leave-one-speaker-out" and [t["number"] for t in record["trials"]] == [1, 2, 3, 4]
    assert set(record["searched"]) == {"C", "class_weight"}
    # the registered model is the best trial's values, and its own LOSO evaluation repeats the trial's score
    assert meta["model_info"]["hyperparameters"]["C"] == pytest.approx(result.best.params["C"])
    assert meta["evaluation_results"]["cv"]["macro_recall"] == pytest.approx(result.best.uar)
    assert "search" in ModelRegistry(workspace.registry_path).get_model_info(result.model_id)["tags"]


def test_cancel_during_a_search_registers_nothing(workspace):
    cancel = CancelToken()
    seen = []

    def on_trial(trial):
        seen.append(trial.number)
        if len(seen) == 2:
            cancel.cancel()

    with pytest.raises(Cancelled):
        run_search(EMODB, "svm", trials=10, workspace=workspace, cancel=cancel, on_trial=on_trial)
    assert seen == [1, 2]
    assert ModelRegistry(workspace.registry_path).list_models() == []


@pytest.mark.parametrize("kwargs, message", [({"trials": 0}, "trials 0"), ({"cv_folds": 0}, "needs cross-validation"),
                                             ({"cv_folds": "1"}, "loso"), ({"normalize": "x"}, "choose one of")])
def test_bad_search_options_fail_before_any_work(workspace, kwargs, message):
    with pytest.raises(HyperparameterError, match=message):
        run_search(EMODB, "svm", workspace=workspace, **kwargs)


def test_every_model_type_has_a_search_space_starting_at_its_defaults():
    import optuna

    from speakfeed_gui.core.training.estimators import ESTIMATOR_NAMES, validate_hyperparameters
    from speakfeed_gui.core.training.search import starting_point, suggest

    for name in ESTIMATOR_NAMES:
        specs = searched_specs(name)
        assert specs, name
        defaults = validate_hyperparameters(name, {})
        trial = optuna.trial.FixedTrial(starting_point(specs, defaults))
        assert {s.name: suggest(trial, s) for s in specs} == {s.name: defaults[s.name] for s in specs}, name
    assert "max_iter" not in {s.name for s in searched_specs("logistic_regression")}


def test_cli_tune_prints_the_trials_and_the_best_model(workspace, capsys):
    assert main(["--workspace", str(workspace.root), "tune", str(EMODB), "--model-type", "svm", "--trials", "2",
                 "--normalize", "speaker"]) == 0
    out = capsys.readouterr().out
    assert "trial  UAR" in out and "kernel" in out and "best: trial" in out
    assert "leave-one-speaker-out (4 folds, pooled, normalize speaker): UAR" in out


def test_cli_tune_rejects_bad_trials_in_one_line(workspace, capsys):
    assert main(["--workspace", str(workspace.root), "tune", str(EMODB), "--trials", "0"]) == 2
    err = capsys.readouterr().err
    assert "trials 0: expected a whole number from 1 to 1000" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def local_cluster():
    from dask.distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


def test_cross_validation_on_a_dask_cluster_gives_the_local_result(workspace, local_cluster):
    from dask.distributed import Client

    local = run_training_experiment(EMODB, "logistic_regression", workspace=workspace, cv_folds="loso",
                                    normalize="speaker", experiment_name="local")
    with Client(local_cluster) as client:
        before = sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())
        remote = run_training_experiment(EMODB, "logistic_regression", workspace=workspace, cv_folds="loso",
                                         normalize="speaker", experiment_name="remote",
                                         cluster=local_cluster.scheduler_address)
        executed = sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())
    assert executed > before  # the folds ran on the cluster's workers
    a, b = (_metadata(workspace, m)["evaluation_results"]["cv"] for m in (local, remote))
    assert a["macro_recall"] == b["macro_recall"] and a["confusion_matrix"] == b["confusion_matrix"]
    clf_a, _, _ = load_model(local, workspace)
    clf_b, _, _ = load_model(remote, workspace)
    assert np.allclose(clf_a.coef_, clf_b.coef_)


def test_search_on_a_dask_cluster_gives_the_local_trials(workspace, local_cluster):
    local = run_search(EMODB, "logistic_regression", trials=2, workspace=workspace, experiment_name="l")
    remote = run_search(EMODB, "logistic_regression", trials=2, workspace=workspace, experiment_name="r",
                        cluster=local_cluster.scheduler_address)
    assert [(t.params, t.uar) for t in local.trials] == [(t.params, t.uar) for t in remote.trials]


def test_a_bad_cluster_address_is_one_line(workspace):
    with pytest.raises(SpeakFeedError, match="expected a Dask scheduler address such as tcp://host:8786"):
        run_training_experiment(EMODB, "svm", workspace=workspace, cv_folds="loso", cluster="host:8786")


def test_featurising_on_a_dask_cluster_gives_the_local_vectors_and_fills_the_local_cache(tmp_path, local_cluster):
    from speakfeed_gui.core.features.batch import cache_folder, featurize_files

    clips = sorted((EMODB.parent / "wav").iterdir())[:20]
    local = featurize_files(clips, cache_dir=None, n_jobs=1)
    remote = featurize_files(clips, cache_dir=tmp_path, cluster=local_cluster.scheduler_address)
    assert np.array_equal(local, remote)
    assert len(list(cache_folder(tmp_path).glob("*.npy"))) == 20


def test_the_workspace_compute_section_sends_training_to_its_cluster(workspace, local_cluster):
    """`compute: {cluster: ADDRESS}` in models.yaml does what --cluster does; a bad address is one line."""
    from dask.distributed import Client

    config = workspace.config_path
    original = config.read_text()
    config.write_text(original + f"compute:\n  cluster: {local_cluster.scheduler_address}\n")
    with Client(local_cluster) as client:
        before = sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())
        assert main(["--workspace", str(workspace.root), "train", str(EMODB), "--model-type", "logistic_regression",
                     "--cv", "loso", "--experiment", "via-config"]) == 0
        executed = sum(client.run(lambda dask_worker: dask_worker.state.executed_count).values())
    assert executed > before  # the folds ran on the configured cluster's workers
    config.write_text(original + "compute:\n  cluster: host:8786\n")
    with pytest.raises(SpeakFeedError, match=r"compute\.cluster: expected a Dask scheduler address"):
        from speakfeed_gui.core.settings.config import load_config

        load_config(config)
