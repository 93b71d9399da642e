"""How the default model's recipe was chosen: leave-one-speaker-out over the bundled EmoDB actors.

    PYTHONPATH=. python -m bench.default_model_recipe

Featurises resources/emodb with SpeakFeed's own extractor, maps its seven emotions onto the five coaching
labels (the bootstrap's mapping) and prints, for a few classifiers of the trainer's catalogue, the pooled
leave-one-speaker-out UAR (scikit-learn LeaveOneGroupOut + cross_val_predict, recall_score macro), the
range of per-actor UAR, and the same with the synthetic demo corpus added to every fold's training data.
Also prints the share of `uncertain` answers at the default config's threshold. About a minute on 2 cores.
"""

from __future__ import annotations

import csv
import warnings

import numpy as np


def _corpus(csv_path, label_map=None):
    with open(csv_path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    from speakfeed_gui.core.features.batch import featurize_files

    X = featurize_files([csv_path.parent / r["path"] for r in rows], cache_dir=None)
    y = np.array([(label_map or {}).get(r["label"], r["label"]) for r in rows])
    return X, y, np.array([r.get("speaker") or "" for r in rows])


def main() -> None:
    from sklearn.metrics import recall_score
    from sklearn.model_selection import LeaveOneGroupOut, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from speakfeed_gui.core.training.bootstrap import EMODB_CSV, EMODB_LABEL_MAP, HYPERPARAMETERS, MODEL_TYPE
    from speakfeed_gui.core.training.demo_corpus import CSV_NAME, DEMO_DIR
    from speakfeed_gui.core.training.estimators import make_estimator, validate_hyperparameters

    warnings.filterwarnings("ignore")
    X, y, groups = _corpus(EMODB_CSV, EMODB_LABEL_MAP)
    Xd, yd, _ = _corpus(DEMO_DIR / CSV_NAME)
    recipes = [(MODEL_TYPE, {**HYPERPARAMETERS, "C": c}) for c in (1.0, 3.0, 10.0)]
    recipes += [("logistic_regression", {"C": c, "max_iter": 3000}) for c in (0.01, 0.1, 1.0)]
    recipes += [("random_forest", {"n_estimators": 300})]
    logo = LeaveOneGroupOut()
    for model_type, params in recipes:
        params = validate_hyperparameters(model_type, params)

        def model(y_train, model_type=model_type, params=params):
            return make_pipeline(StandardScaler(), make_estimator(model_type, params, 42, y_train))

        predicted = cross_val_predict(model(y), X, y, groups=groups, cv=logo)
        per_actor = [recall_score(y[groups == g], predicted[groups == g], average="macro") for g in np.unique(groups)]
        with_demo = np.empty_like(y)
        for train, test in logo.split(X, y, groups):
            fitted = model(y[train]).fit(np.vstack([X[train], Xd]), np.concatenate([y[train], yd]))
            with_demo[test] = fitted.predict(X[test])
        shown = {k: v for k, v in params.items() if k in ("C", "n_estimators")}
        print(f"{model_type:20s} {shown}  UAR {recall_score(y, predicted, average='macro'):.3f} "
              f"(actors {min(per_actor):.2f}-{max(per_actor):.2f})  "
              f"+demo corpus {recall_score(y, with_demo, average='macro'):.3f}")
    probabilities = cross_val_predict(
        make_pipeline(StandardScaler(), make_estimator(MODEL_TYPE, validate_hyperparameters(MODEL_TYPE, HYPERPARAMETERS),
                                                       42, y)), X, y, groups=groups, cv=logo, method="predict_proba")
    print(f"chosen recipe: {np.mean(probabilities.max(axis=1) < 0.4):.1%} of clips below the 0.4 confidence threshold")


if __name__ == "__main__":
    main()
