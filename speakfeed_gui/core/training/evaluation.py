"""Held-out evaluation and pooled cross-validation (UAR = macro recall) of a scaler + classifier pair."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np


def evaluate(y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro precision/recall/F1, per-class report and confusion matrix (rows: true)."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    labels = list(labels)
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    mp, mr, mf, _ = precision_recall_fscore_support(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro_precision": float(mp),
        "macro_recall": float(mr),
        "macro_f1": float(mf),
        "per_class": {
            label: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]), "support": int(s[i])}
            for i, label in enumerate(labels)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "labels": labels,
        "n_test": len(y_true),
    }


def _present_uar(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Macro recall over the labels this subset holds (one speaker may lack some)."""
    from sklearn.metrics import recall_score

    return float(recall_score(y_true, y_pred, labels=sorted(set(y_true.tolist())), average="macro", zero_division=0))


def cross_validate(
    make_model: Callable[[np.ndarray], Any],
    X: np.ndarray,
    y: np.ndarray,
    folds: list[tuple[list[int], list[int]]],
    *,
    speakers: Sequence[str | None] | None = None,
    scheme: str = "",
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Pooled cross-validated evaluation: every clip predicted by the fold that held it out.

    scikit-learn's `cross_val_predict` fits StandardScaler + `make_model(...)` per fold (`folds` is a
    partition, e.g. LeaveOneGroupOut's). The result is `evaluate()` of the pooled predictions (UAR is
    `macro_recall`), plus per-speaker accuracy and the per-fold mean and std of accuracy and macro-F1.
    `make_model` receives the training labels of the fold with the rarest label, so a model that sizes
    inner folds by them (the SVM's calibration) fits every fold. Features normalised per speaker are
    passed in already normalised: each speaker's statistics come from its own clips only.
    """
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    y = np.asarray(y)
    labels = sorted(set(y.tolist()))

    def rarest(train: list[int]) -> int:
        return int(np.unique(y[train], return_counts=True)[1].min())

    tightest = min((train for train, _ in folds), key=rarest)
    pipeline = make_pipeline(StandardScaler(), make_model(y[tightest]))
    pred = cross_val_predict(pipeline, X, y, cv=folds, n_jobs=n_jobs)
    result = evaluate(y, pred, labels)
    accs = [accuracy_score(y[test], pred[test]) for _, test in folds]
    f1s = [f1_score(y[test], pred[test], average="macro", zero_division=0) for _, test in folds]
    result.update({
        "scheme": scheme or f"{len(folds)}-fold",
        "folds": len(folds),
        "accuracy_mean": float(np.mean(accs)),
        "accuracy_std": float(np.std(accs)),
        "macro_f1_mean": float(np.mean(f1s)),
        "macro_f1_std": float(np.std(f1s)),
    })
    if speakers is not None and all(s is not None for s in speakers):
        who = np.asarray(speakers, dtype=object)
        result["per_speaker"] = {
            str(s): {"accuracy": float(np.mean(pred[who == s] == y[who == s])), "n": int(np.sum(who == s)),
                     "uar": _present_uar(y[who == s], pred[who == s])}
            for s in sorted(set(speakers))
        }
    return result


def permutation_importance_of(
    model: Any, X_test: np.ndarray, y_test: np.ndarray, names: Sequence[str], *, seed: int, repeats: int = 5
) -> dict[str, Any]:
    """How much the held-out UAR drops when each feature is shuffled (scikit-learn's permutation_importance).

    `X_test` is what `model` takes (already scaled); features sorted by mean drop, largest first.
    """
    from sklearn.inspection import permutation_importance

    result = permutation_importance(model, X_test, y_test, scoring="balanced_accuracy", n_repeats=repeats,
                                    random_state=seed)
    order = np.argsort(-result.importances_mean, kind="stable")
    return {
        "scoring": "balanced_accuracy (UAR)",
        "on": "held-out split",
        "n_repeats": repeats,
        "features": [{"name": str(names[i]), "mean": float(result.importances_mean[i]),
                      "std": float(result.importances_std[i])} for i in order],
    }
