"""`speakfeed train DATASET --model-type T --param k=v ...`."""

from __future__ import annotations

import argparse

from speakfeed_gui.cli.common import TerminalProgress, workspace_from
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
    add_map_arguments(p)
    p.set_defaults(handler=run)


def add_map_arguments(p: argparse.ArgumentParser) -> None:
    """--map OLD=NEW ... and --map-file F: the label mapping `train` and `evaluate` share."""
    p.add_argument("--map", nargs="+", action="extend", default=[], metavar="OLD=NEW",
                   help="rename or merge dataset labels, e.g. --map neutral=calm anger=frustrated disgust=frustrated")
    p.add_argument("--map-file", metavar="FILE", help="label mapping file: YAML (old: new lines) or CSV (old,new)")


def label_map_from(args: argparse.Namespace) -> dict[str, str] | None:
    """The mapping from --map-file, then --map pairs on top (a label mapped differently by both is an error)."""
    from speakfeed_gui.core.errors import DatasetError
    from speakfeed_gui.core.training.datasets import load_label_map, parse_label_map

    mapping = load_label_map(args.map_file) if args.map_file else {}
    for old, new in parse_label_map(args.map).items():
        if mapping.get(old, new) != new:
            raise DatasetError(f"--map {old}={new}: {args.map_file} maps {old!r} to {mapping[old]!r}; map each label once")
        mapping[old] = new
    return mapping or None


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
    cancel = CancelToken()
    try:
        model_id = run_training_experiment(
            args.dataset, args.model_type, parse_params(args.param), experiment_name=args.experiment,
            workspace=ws, test_fraction=args.test_fraction, seed=args.seed, cv_folds=args.cv,
            group_by_speaker=not args.no_speaker_split, skip_bad=args.skip_bad, progress=TerminalProgress(),
            cancel=cancel, description=args.description, tags=args.tag, label_map=label_map_from(args),
        )
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    entry = ModelRegistry(ws.registry_path).get_model_info(model_id)
    print(f"registered {model_id}  {entry['model_name']}  accuracy {entry['accuracy']:.3f}  macro-F1 {entry['macro_f1']:.3f}")
    return 0
