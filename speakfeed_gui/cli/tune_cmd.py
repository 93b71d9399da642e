"""`speakfeed tune DATASET --model-type T --trials N`: hyperparameter search, best model registered."""

from __future__ import annotations

import argparse

from speakfeed_gui.cli.common import TerminalProgress, cluster_from, print_table, workspace_from
from speakfeed_gui.cli.train_cmd import add_map_arguments
from speakfeed_gui.core.features.normalization import NORMALIZE_CHOICES
from speakfeed_gui.core.training.estimators import ESTIMATOR_NAMES


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("tune", help="search hyperparameters by speaker-grouped cross-validation (UAR)")
    p.add_argument("dataset", help="CSV (path,label,speaker), folder of label folders, or RAVDESS folder")
    p.add_argument("--model-type", default="logistic_regression", choices=ESTIMATOR_NAMES)
    p.add_argument("--trials", type=int, default=20, help="value sets to try (default 20)")
    p.add_argument("--cv", default="loso", metavar="FOLDS",
                   help="loso (leave one speaker out, default) or 2-20 speaker-grouped folds")
    p.add_argument("--normalize", default="none", choices=NORMALIZE_CHOICES)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="fixed hyperparameter, not searched (repeatable)")
    p.add_argument("--experiment", help="experiment name of the registered best model")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--features", metavar="SPEC", default=None,
                   help="feature set: sf-prosody-mfcc (default) or ssl:<model folder or hub id>[@layer] "
                        "(mean-pooled hidden states of a wav2vec2/HuBERT/WavLM model)")
    p.add_argument("--cluster", metavar="ADDRESS", help="run the trials' folds on a Dask cluster (tcp://host:8786; default: compute.cluster in models.yaml)")
    p.add_argument("--skip-bad", action="store_true")
    p.add_argument("--tag", action="append", default=[])
    add_map_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from speakfeed_gui.cli.train_cmd import label_map_from, parse_params, print_cv
    from speakfeed_gui.core.progress import CancelToken
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.training.search import run_search

    ws = workspace_from(args)
    cancel = CancelToken()
    try:
        result = run_search(
            args.dataset, args.model_type, trials=args.trials, cv_folds=args.cv, normalize=args.normalize,
            fixed=parse_params(args.param), experiment_name=args.experiment, workspace=ws, seed=args.seed,
            skip_bad=args.skip_bad, cluster=cluster_from(args), feature_extractor=args.features, progress=TerminalProgress(),
            cancel=cancel, tags=args.tag, label_map=label_map_from(args),
        )
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    names = result.record["searched"]
    rows = [(t.number, f"{t.uar:.3f}", f"{t.accuracy:.3f}", f"{t.macro_f1:.3f}",
             *(_value(t.params.get(n)) for n in names)) for t in result.trials]
    print_table(["trial", "UAR", "accuracy", "macro-F1", *names], rows)
    entry = ModelRegistry(ws.registry_path).get_model_info(result.model_id)
    print(f"best: trial {result.best.number}, UAR {result.best.uar:.3f}; "
          f"registered {result.model_id}  {entry['model_name']}")
    print_cv(ws, entry)
    return 0


def _value(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
