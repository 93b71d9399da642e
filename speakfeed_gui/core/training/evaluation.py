"""Held-out evaluation and optional cross-validation of a scaler + classifier pair."""

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


def cross_validate(
    make_model: Callable[[np.ndarray], Any], X: np.ndarray, y: np.ndarray, folds: list[tuple[list[int], list[int]]]
) -> dict[str, Any]:
    """Fit scaler + `make_model(fold's training labels)` per fold; mean and std of accuracy and macro-F1."""
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.preprocessing import StandardScaler

    accs, f1s = [], []
    for train, test in folds:
        scaler = StandardScaler().fit(X[train])
        model = make_model(y[train]).fit(scaler.transform(X[train]), y[train])
        pred = model.predict(scaler.transform(X[test]))
        accs.append(accuracy_score(y[test], pred))
        f1s.append(f1_score(y[test], pred, average="macro", zero_division=0))
    return {
        "folds": len(folds),
        "accuracy_mean": float(np.mean(accs)),
        "accuracy_std": float(np.std(accs)),
        "macro_f1_mean": float(np.mean(f1s)),
        "macro_f1_std": float(np.std(f1s)),
    }
