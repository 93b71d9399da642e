"""`speakfeed train DATASET --model-type T --param k=v ...`."""

from __future__ import annotations

import argparse

from speakfeed_gui.cli.common import TerminalProgress, cluster_from, workspace_from, writable_registry
from speakfeed_gui.core.errors import HyperparameterError
from speakfeed_gui.core.features.normalization import NORMALIZE_CHOICES
from speakfeed_gui.core.training.estimators import ESTIMATOR_NAMES


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("train", help="train an emotion model on a labelled dataset and register it")
    p.add_argument("dataset", help="CSV (path,label[,speaker]), folder of label folders, or RAVDESS folder")
    p.add_argument("--model-type", default="random_forest", choices=ESTIMATOR_NAMES)
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="hyperparameter (repeatable)")
    p.add_argument("--experiment", help="experiment name (folder under models/); default: the model type")
    p.add_argument("--test-fraction", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cv", default="0", metavar="FOLDS",
                   help="cross-validation, predictions of all folds pooled: loso (leave one speaker out), "
                        "2-20 speaker-grouped folds, or 0 (off)")
    p.add_argument("--normalize", default="none", choices=NORMALIZE_CHOICES,
                   help="speaker: z-score every feature within each speaker (stored with the model)")
    p.add_argument("--no-speaker-split", action="store_true", help="allow a speaker in both train and test")
    p.add_argument("--features", metavar="SPEC", default=None,
                   help="feature set: sf-prosody-mfcc (default) or ssl:<model folder or hub id>[@layer] "
                        "(mean-pooled hidden states of a wav2vec2/HuBERT/WavLM model)")
    p.add_argument("--cluster", metavar="ADDRESS", help="run the cross-validation on a Dask cluster (tcp://host:8786; default: compute.cluster in models.yaml)")
    p.add_argument("--importance", action="store_true",
                   help="also compute the permutation feature importance on the held-out split")
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
    writable_registry(args)  # refuse before training, not after (registry.maintainers, a read-only folder)
    cancel = CancelToken()
    try:
        model_id = run_training_experiment(
            args.dataset, args.model_type, parse_params(args.param), experiment_name=args.experiment,
            workspace=ws, test_fraction=args.test_fraction, seed=args.seed, cv_folds=args.cv, normalize=args.normalize,
            cluster=cluster_from(args), feature_extractor=args.features, importance=args.importance,
            group_by_speaker=not args.no_speaker_split, skip_bad=args.skip_bad, progress=TerminalProgress(),
            cancel=cancel, description=args.description, tags=args.tag, label_map=label_map_from(args),
        )
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    entry = ModelRegistry(ws.registry_path).get_model_info(model_id)
    print(f"registered {model_id}  {entry['model_name']}  accuracy {entry['accuracy']:.3f}  macro-F1 {entry['macro_f1']:.3f}")
    print_cv(ws, entry)
    if args.importance:
        print_importance(entry)
    return 0


def print_cv(ws, entry: dict) -> None:
    """The pooled cross-validation figures of a just-registered model, when it has them."""
    from pathlib import Path

    from speakfeed_gui.core.storage.atomic import read_json

    cv = read_json(Path(entry["metadata_path"]), "model metadata").get("evaluation_results", {}).get("cv")
    if not isinstance(cv, dict) or "macro_recall" not in cv:
        return
    print(f"{cv['scheme']} ({cv['folds']} folds, pooled, normalize {cv.get('normalization', 'none')}): "
          f"UAR {cv['macro_recall']:.3f}  accuracy {cv['accuracy']:.3f}  macro-F1 {cv['macro_f1']:.3f}")
    speakers = cv.get("per_speaker") or {}
    if speakers:
        print("per speaker accuracy: " + "  ".join(f"{s} {v['accuracy']:.2f}" for s, v in speakers.items()))


def print_importance(entry: dict, top: int = 10) -> None:
    """The features whose shuffling costs the most held-out UAR."""
    from pathlib import Path

    from speakfeed_gui.core.storage.atomic import read_json

    section = read_json(Path(entry["metadata_path"]), "model metadata").get("evaluation_results", {}).get(
        "permutation_importance") or {}
    features = section.get("features") or []
    if features:
        print("permutation importance (drop in held-out UAR): "
              + ", ".join(f"{f['name']} {f['mean']:+.3f}" for f in features[:top]))
