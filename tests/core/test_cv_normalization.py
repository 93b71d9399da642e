"""Leave-one-speaker-out / grouped k-fold CV with pooled predictions, and per-speaker normalisation,
on real speech: 36 EmoDB clips (4 speakers x anger, neutral, sadness x 3) in tests/data/emodb."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from speakfeed_gui.cli import main
from speakfeed_gui.core.errors import DatasetError, HyperparameterError
from speakfeed_gui.core.features.normalization import NormalizationSpec, SessionNormalizer, zscore_by_speaker
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.training.trainer import load_model, run_training_experiment
from speakfeed_gui.core.training.versioning import check_cv, cv_splits

EMODB = Path(__file__).resolve().parents[1] / "data" / "emodb" / "dataset.csv"


def _rows() -> list[dict[str, str]]:
    with EMODB.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _metadata(workspace, model_id: str) -> dict:
    return json.loads(Path(ModelRegistry(workspace.registry_path).get_model_info(model_id)["metadata_path"]).read_text())


@pytest.fixture(scope="module")
def features() -> tuple[np.ndarray, np.ndarray, list[str]]:
    from speakfeed_gui.core.features.batch import featurize_files

    rows = _rows()
    X = featurize_files([EMODB.parent / r["path"] for r in rows], cache_dir=None, n_jobs=1)
    return X, np.array([r["label"] for r in rows]), [r["speaker"] for r in rows]


def test_loso_pools_every_clip_exactly_as_sklearn_does(workspace, features):
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import recall_score
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model_id = run_training_experiment(EMODB, "logistic_regression", workspace=workspace, cv_folds="loso")
    cv = _metadata(workspace, model_id)["evaluation_results"]["cv"]
    assert cv["scheme"] == "leave-one-speaker-out" and cv["folds"] == 4 and cv["n_test"] == 36
    assert np.asarray(cv["confusion_matrix"]).sum() == 36
    assert {s: v["n"] for s, v in cv["per_speaker"].items()} == {"spk08": 9, "spk10": 9, "spk11": 9, "spk13": 9}
    assert set(cv["per_class"]) == {"anger", "neutral", "sadness"} and cv["normalization"] == "none"
    # an independent run of the same recipe straight through scikit-learn gives the same UAR
    X, y, speakers = features
    reference = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced",
                                                                   random_state=42))
    pred = cross_val_predict(reference, X, y, groups=speakers, cv=LeaveOneGroupOut())
    assert cv["macro_recall"] == pytest.approx(recall_score(y, pred, average="macro"))
    assert cv["macro_recall"] > 1 / 3 + 0.2  # well above chance on voices it never heard


def test_grouped_kfold_keeps_speakers_apart_and_covers_every_clip(features):
    _, y, speakers = features
    folds = cv_splits(list(y), speakers, folds=2, seed=1)
    assert len(folds) == 2
    assert sorted(i for _, test in folds for i in test) == list(range(36))
    for train, test in folds:
        assert not {speakers[i] for i in train} & {speakers[i] for i in test}
    loso = cv_splits(list(y), speakers, folds="loso", seed=1)
    assert [len({speakers[i] for i in test}) for _, test in loso] == [1, 1, 1, 1]


@pytest.mark.parametrize("value, expected", [("loso", "loso"), ("LOSO", "loso"), ("5", 5), (0, 0), ("0", 0)])
def test_cv_option_accepts_loso_and_fold_counts(value, expected):
    assert check_cv(value) == expected


@pytest.mark.parametrize("value", ["1", "21", "abc", 1, -2, True])
def test_cv_option_rejects_with_one_line(value):
    with pytest.raises(HyperparameterError, match="loso"):
        check_cv(value)


def test_loso_without_speakers_is_a_dataset_error():
    with pytest.raises(DatasetError, match="speaker"):
        cv_splits(["a", "a", "b", "b"], [None] * 4, folds="loso", seed=0)


def test_zscore_by_speaker_uses_each_speakers_own_clips(features):
    X, _, speakers = features
    Z = zscore_by_speaker(X, speakers)
    for speaker in set(speakers):
        rows = np.asarray(speakers) == speaker
        assert np.allclose(Z[rows].mean(axis=0), 0, atol=1e-9)
        spread = Z[rows].std(axis=0)
        assert np.all((np.abs(spread - 1) < 1e-9) | (spread == 0))
    # one speaker's statistics never depend on another speaker's clips
    keep = np.asarray(speakers) != "spk08"
    assert np.allclose(zscore_by_speaker(X[keep], [s for s in speakers if s != "spk08"]), Z[keep])
    with pytest.raises(DatasetError, match="1 of 3 clips have no speaker"):
        zscore_by_speaker(X[:3], ["a", None, "a"])


def test_session_normalizer_moves_from_the_prior_to_the_speakers_own_statistics(features):
    X, _, speakers = features
    spec = NormalizationSpec.fit("speaker", X, speakers)
    session = SessionNormalizer(spec)
    mean, std = session.statistics()
    assert np.allclose(mean, spec.prior_mean) and np.allclose(std, spec.prior_std)  # nothing heard yet: the prior
    voice = X[np.asarray(speakers) == "spk10"]
    session.calibrate(np.tile(voice, (40, 1)))  # a long talk of this voice
    mean, std = session.statistics()
    own_share = session.n / (session.n + spec.prior_weight)  # 360 windows against a pseudo-count of 8
    assert np.allclose(mean, own_share * voice.mean(axis=0) + (1 - own_share) * np.asarray(spec.prior_mean))
    # the variance is blended the same way (a feature the voice never moves keeps a little of the prior's)
    blended = own_share * voice.var(axis=0) + (1 - own_share) * np.asarray(spec.prior_std) ** 2
    assert np.allclose(std**2, blended, rtol=1e-4, atol=1e-9)
    session.reset()
    assert session.n == 0 and np.allclose(session.statistics()[0], spec.prior_mean)
    with pytest.raises(DatasetError, match="columns"):
        session.transform(np.zeros((1, 3)))
    assert NormalizationSpec.from_metadata({}).session() is None  # older models: nothing changes
    with pytest.raises(HyperparameterError, match="choose one of none, speaker"):
        NormalizationSpec.fit("global", X, speakers)


def test_speaker_normalised_model_stores_its_prior_and_predicts_with_running_statistics(workspace):
    from speakfeed_gui.core.audio.decode import load_audio
    from speakfeed_gui.core.features.extractor import extract_features
    from speakfeed_gui.core.models.factory import ModelFactory

    model_id = run_training_experiment(EMODB, "svm", workspace=workspace, cv_folds="loso", normalize="speaker")
    clf, scaler, metadata = load_model(model_id, workspace)
    assert metadata["normalization"]["kind"] == "speaker" and len(metadata["normalization"]["prior_mean"]) == 80
    assert metadata["evaluation_results"]["cv"]["normalization"] == "speaker"
    clips = [EMODB.parent / r["path"] for r in _rows() if r["speaker"] == "spk13"]
    model = ModelFactory(workspace=workspace).resolve(model_id)
    model.start_session()
    got = [model.predict(str(c)).probabilities for c in clips[:4]]
    # the same numbers by hand: the session's statistics after each clip, then scaler and classifier
    session = NormalizationSpec.from_metadata(metadata).session()
    for clip, probs in zip(clips[:4], got):
        row = session.transform(extract_features(load_audio(clip))[None])
        expected = clf.predict_proba(scaler.transform(row))[0]
        assert np.allclose([probs[c] for c in clf.classes_], expected)
    assert model.normalizer.n == 4
    model.start_session(calibration=[load_audio(c) for c in clips[4:]])
    assert model.normalizer.n == len(clips) - 4
    assert model.get_model_info()["normalization"] == "speaker"


def test_batch_prediction_normalises_by_the_whole_batch_whatever_the_order(workspace):
    """`predict --model M FILE...` on one voice's recordings: each is normalised by all of them (the
    leave-one-speaker-out condition), so shuffling the files changes no answer."""
    from speakfeed_gui.core.audio.decode import load_audio
    from speakfeed_gui.core.models.factory import ModelFactory

    model_id = run_training_experiment(EMODB, "svm", workspace=workspace, normalize="speaker")
    clf, scaler, metadata = load_model(model_id, workspace)
    clips = [EMODB.parent / r["path"] for r in _rows() if r["speaker"] == "spk13"]
    model = ModelFactory(workspace=workspace).resolve(model_id)
    first = [p.probabilities for p in model.batch_predict([str(c) for c in clips])]
    model.start_session()
    order = np.random.default_rng(3).permutation(len(clips))
    shuffled = model.batch_predict([str(clips[i]) for i in order])
    for n, i in enumerate(order):
        assert shuffled[n].probabilities == pytest.approx(first[i], abs=1e-9)
    # by hand: the batch's own statistics blended with the prior's pseudo-count, then scaler and classifier
    session = NormalizationSpec.from_metadata(metadata).session()
    from speakfeed_gui.core.features.extractor import extract_features

    X = np.stack([extract_features(load_audio(c)) for c in clips])
    session.update(X)
    mean, std = session.statistics()
    expected = clf.predict_proba(scaler.transform((X - mean) / std))
    assert np.allclose([[p[c] for c in clf.classes_] for p in first], expected)


def test_cli_train_loso_prints_pooled_uar_and_models_show_json_has_it(workspace, capsys):
    assert main(["--workspace", str(workspace.root), "train", str(EMODB), "--model-type", "logistic_regression",
                 "--cv", "loso", "--normalize", "speaker"]) == 0
    out = capsys.readouterr().out
    assert "leave-one-speaker-out (4 folds, pooled, normalize speaker): UAR 0." in out
    assert "per speaker accuracy: spk08" in out
    model_id = out.split()[1]
    assert main(["--workspace", str(workspace.root), "models", "show", model_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["metadata"]["evaluation_results"]["cv"]["macro_recall"] > 0.4
    assert shown["metadata"]["normalization"]["kind"] == "speaker"


def test_cli_rejects_bad_cv_in_one_line(workspace, capsys):
    assert main(["--workspace", str(workspace.root), "train", str(EMODB), "--cv", "1"]) == 2
    err = capsys.readouterr().err
    assert "expected loso, 0 (off) or 2 to 20" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_rejects_unknown_normalization(workspace, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--workspace", str(workspace.root), "train", str(EMODB), "--normalize", "global"])
    assert exit_info.value.code == 2 and "invalid choice: 'global'" in capsys.readouterr().err


def test_permutation_importance_on_the_held_out_split(workspace, capsys, tmp_path):
    from speakfeed_gui.core.features.extractor import feature_names
    from tests.emodb import write_subset

    # 6 clips per speaker and emotion: a held-out split large enough that shuffling one feature can change answers
    dataset = write_subset(tmp_path, ["spk08", "spk10", "spk11", "spk13"], ["anger", "neutral", "sadness"], per_cell=6)
    assert main(["--workspace", str(workspace.root), "train", str(dataset), "--model-type", "logistic_regression",
                 "--importance"]) == 0
    assert "permutation importance (drop in held-out UAR): " in capsys.readouterr().out
    model_id = ModelRegistry(workspace.registry_path).list_models()[0]["id"]
    section = _metadata(workspace, model_id)["evaluation_results"]["permutation_importance"]
    means = [f["mean"] for f in section["features"]]
    assert sorted(f["name"] for f in section["features"]) == sorted(feature_names())
    assert means == sorted(means, reverse=True) and means[0] > 0.02  # some feature carries the held-out UAR
    assert section["scoring"].startswith("balanced_accuracy") and section["n_repeats"] == 5
