"""`speakfeed train DATASET --model-type T --param k=v ...`."""

from __future__ import annotations

import argparse

from speakfeed_gui.cli.common import TerminalProgress, workspace_from, writable_registry
from speakfeed_gui.core.errors import HyperparameterError
from speakfeed_gui.core.training.estimators import ESTIMATOR_NAMES


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train an emotion model on a labelled dataset and register it")
    p.add_argument("dataset", help="CSV (path,label[,speaker]), folder of label folders, or RAVDESS folder")
    p.add_argument("--model-type", default="random_forest", choices=ESTIMATOR_NAMES)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="hyperparameter (repeatable)")
    p.add_argument("--experiment", help="experiment name (folder under models/); default: the model type")
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cv", type=int, default=0, metavar="FOLDS", help="k-fold cross-validation (0: off)")
    p.add_argument("--no-speaker-split", action="store_true", help="allow a speaker in both train and test")
    p.add_argument("--skip-bad", action="store_true", help="skip unusable clips (recorded in the metadata)")
    p.add_argument("--description", default="")
    p.add_argument("--tag", action="append", default=[])
    p.set_defaults(handler=run)


def parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise HyperparameterError(f"--param {pair!r}: expected NAME=VALUE, e.g. --param n_estimators=300")
        params[name.strip()] = value.strip()
    return params


def run(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.progress import CancelToken
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.training.trainer import run_training_experiment

    ws = workspace_from(args)
    writable_registry(args)  # refuse before training, not after (registry.maintainers, a read-only folder)
    cancel = CancelToken()
    try:
        model_id = run_training_experiment(
            args.dataset, args.model_type, parse_params(args.param), experiment_name=args.experiment,
            workspace=ws, test_fraction=args.test_fraction, seed=args.seed, cv_folds=args.cv,
            group_by_speaker=not args.no_speaker_split, skip_bad=args.skip_bad, progress=TerminalProgress(),
            cancel=cancel, description=args.description, tags=args.tag,
        )
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    entry = ModelRegistry(ws.registry_path).get_model_info(model_id)
    print(f"registered {model_id}  {entry['model_name']}  accuracy {entry['accuracy']:.3f}  macro-F1 {entry['macro_f1']:.3f}")
    return 0
