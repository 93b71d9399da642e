"""Per-speaker normalisation measured on unseen speakers: leave-one-speaker-out over EmoDB.

    .venv/bin/python -m bench.speaker_norm [--corpus DATASET.csv] [--orders 5] [--out bench/SPEAKER_NORMALIZATION.md]

For each held-out speaker, a model is trained on the other speakers and scored on the held-out
one; the predictions of all folds are pooled into one UAR (macro recall) per condition:

- global: StandardScaler on the training speakers only (the app's `--normalize none`);
- per speaker, batch: every speaker z-scored by all of its own clips (`--normalize speaker` as
  `speakfeed train --cv loso` measures it; at prediction time this is a labelled batch of one voice);
- per speaker, live: the same model, but the held-out voice is seen one clip at a time in random
  order and normalised by `SessionNormalizer`, the running statistics the live path uses (prior
  pseudo-count w; w=0 means the speaker's own statistics alone);
- live after a calibration: k clips of the voice (random emotions, or only neutral ones) are fed in
  first and then not scored; the other conditions are scored on the same remaining clips.

The classifiers are the app's own (`make_estimator`) with default hyperparameters, features the
app's `sf-prosody-mfcc` set. Nothing here is tuned on the held-out speakers.

A second table sets SpeakFeed's feature set beside openSMILE's eGeMAPSv02 (88 functionals, the
`opensmile` package) on the same clips, folds and classifiers, global vs per-speaker scaling,
with each extraction's wall time on all cores (cold cache; bench/featurize.py's openSMILE runner).
"""

from __future__ import annotations

import argparse
import csv
import logging
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpora" / "emodb" / "dataset.csv"
for candidate in (REPO / "resources" / "emodb" / "dataset.csv", Path("/work/shared/corpora/emodb/dataset.csv")):
    if candidate.is_file():
        DEFAULT_CORPUS = candidate
        break
log = logging.getLogger("bench.speaker_norm")


def load(corpus: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    from speakfeed_gui.core.features.batch import featurize_files

    with corpus.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as cache:  # a cold cache: the extraction time is real
        X = featurize_files([corpus.parent / r["path"] for r in rows], cache_dir=Path(cache))
    seconds = time.perf_counter() - began
    return X.astype(np.float64), np.array([r["label"] for r in rows]), np.array([r["speaker"] for r in rows]), seconds


def uar(y: np.ndarray, pred: np.ndarray) -> float:
    from sklearn.metrics import recall_score

    return float(recall_score(y, pred, average="macro"))


def fit(model_type: str, X: np.ndarray, y: np.ndarray):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from speakfeed_gui.core.training.estimators import make_estimator, validate_hyperparameters

    params = validate_hyperparameters(model_type, {})
    return make_pipeline(StandardScaler(), make_estimator(model_type, params, 42, y)).fit(X, y)


def measure(model_type: str, X, y, speakers, *, orders: int, calibration: int) -> dict[str, float]:
    """Pooled LOSO UAR per condition (see the module docstring)."""
    from speakfeed_gui.core.features.normalization import NormalizationSpec, SessionNormalizer, zscore_by_speaker

    Z = zscore_by_speaker(X, list(speakers))
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def add(name: str, truth: np.ndarray, pred: np.ndarray) -> None:
        pooled.setdefault(name, []).append((truth, pred))

    for speaker in sorted(set(speakers)):
        test, train = speakers == speaker, speakers != speaker
        global_model = fit(model_type, X[train], y[train])
        speaker_model = fit(model_type, Z[train], y[train])
        spec = NormalizationSpec.fit("speaker", X[train], list(speakers[train]))
        Xt, yt = X[test], y[test]
        g_pred, b_pred = global_model.predict(Xt), speaker_model.predict(Z[test])
        add("global", yt, g_pred)
        add("per speaker, batch", yt, b_pred)
        for order in range(orders):
            rng = np.random.default_rng(order)
            perm = rng.permutation(len(yt))
            for weight in (0.0, 8.0, 32.0):
                session = SessionNormalizer(NormalizationSpec("speaker", spec.prior_mean, spec.prior_std, weight))
                rows = np.vstack([session.transform(Xt[i][None]) for i in perm])
                add(f"per speaker, live (w={weight:g})", yt[perm], speaker_model.predict(rows))
            # calibration: the first k of this order are fed in, the rest scored (by every condition alike)
            calib, rest = perm[:calibration], perm[calibration:]
            neutral = [i for i in perm if yt[i] == "neutral"][: min(4, calibration)]
            rest_n = np.array([i for i in perm if i not in set(neutral)])
            for name, feed, scored in ((f"live after {calibration} random clips", calib, rest),
                                       (f"live after {len(neutral)} neutral clips", neutral, rest_n)):
                session = SessionNormalizer(spec)
                session.calibrate(Xt[list(feed)])
                rows = np.vstack([session.transform(Xt[i][None]) for i in scored])
                add(name, yt[scored], speaker_model.predict(rows))
            add(f"global, same clips as the {calibration}-clip calibration", yt[rest], g_pred[rest])
            add(f"per speaker batch, same clips as the {calibration}-clip calibration", yt[rest], b_pred[rest])
    return {name: uar(np.concatenate([t for t, _ in parts]), np.concatenate([p for _, p in parts]))
            for name, parts in pooled.items()}


def compare_sets(X: np.ndarray, y: np.ndarray, speakers: np.ndarray) -> dict[str, float]:
    """Pooled LOSO UAR for LR/SVM x global/per-speaker scaling, through the app's own cross_validate."""
    from speakfeed_gui.core.features.normalization import zscore_by_speaker
    from speakfeed_gui.core.training.estimators import make_estimator, validate_hyperparameters
    from speakfeed_gui.core.training.evaluation import cross_validate
    from speakfeed_gui.core.training.versioning import cv_splits

    folds = cv_splits(list(y), list(speakers), folds="loso", seed=42)
    out = {}
    for scaling, features in (("global", X), ("per speaker", zscore_by_speaker(X, list(speakers)))):
        for model_type in ("logistic_regression", "svm"):
            params = validate_hyperparameters(model_type, {})
            cv = cross_validate(lambda y_fold, m=model_type, p=params: make_estimator(m, p, 42, y_fold),
                                features, y, folds)
            out[f"{model_type}, {scaling}"] = cv["macro_recall"]
    return out


def opensmile_features(corpus: Path) -> tuple[np.ndarray, float] | None:
    try:
        import opensmile  # noqa: F401
    except ImportError:
        return None
    from bench.featurize import smile_files

    with corpus.open(newline="") as handle:
        paths = [str(corpus.parent / r["path"]) for r in csv.DictReader(handle)]
    began = time.perf_counter()
    X = smile_files(paths, -1)
    return X.astype(np.float64), time.perf_counter() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.speaker_norm", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--orders", type=int, default=5, help="random clip orders per held-out speaker (live)")
    parser.add_argument("--calibration", type=int, default=10, help="clips in the calibration condition")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "SPEAKER_NORMALIZATION.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    X, y, speakers, seconds = load(args.corpus)
    results = {}
    for model_type in ("logistic_regression", "svm"):
        log.info("measuring %s", model_type)
        results[model_type] = measure(model_type, X, y, speakers, orders=args.orders, calibration=args.calibration)
    sets = {"SpeakFeed `sf-prosody-mfcc` (80)": (compare_sets(X, y, speakers), seconds)}
    smile = opensmile_features(args.corpus)
    if smile is not None:
        sets["openSMILE eGeMAPSv02 (88)"] = (compare_sets(smile[0], y, speakers), smile[1])
    names = list(results["logistic_regression"])
    lines = [
        "# Per-speaker normalisation on unseen speakers (leave-one-speaker-out)",
        "",
        f"Produced by `python -m bench.speaker_norm` on {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC. "
        f"Corpus: {args.corpus.parent.name} ({len(y)} clips, {len(set(speakers))} speakers, {len(set(y))} emotions, "
        f"2 s each); features: SpeakFeed `sf-prosody-mfcc` (80), extracted in {seconds:.1f} s. "
        "Each figure is the UAR (macro recall, chance "
        f"{1 / len(set(y)):.3f}) of all folds' predictions pooled; live conditions pool {args.orders} random clip "
        "orders per speaker. Default hyperparameters; see the module docstring for each condition.",
        "",
        "| condition | logistic regression | SVM |",
        "|---|---|---|",
    ]
    lines += [f"| {n} | {results['logistic_regression'][n]:.3f} | {results['svm'][n]:.3f} |" for n in names]
    columns = ["logistic_regression, global", "svm, global", "logistic_regression, per speaker", "svm, per speaker"]
    lines += [
        "",
        "## Feature sets side by side (same clips, folds and classifiers; pooled LOSO UAR)",
        "",
        "| features | LR, global | SVM, global | LR, per speaker | SVM, per speaker | extraction, all cores |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {name} | " + " | ".join(f"{uars[c]:.3f}" for c in columns) + f" | {secs:.1f} s |"
              for name, (uars, secs) in sets.items()]
    if smile is None:
        lines.append("\nopenSMILE is not installed (bench/requirements.txt): only SpeakFeed's set was measured.")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
