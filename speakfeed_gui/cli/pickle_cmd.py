"""`speakfeed models import-pickle FILE --trust`: a user's own pickled classifier becomes a skops model."""

from __future__ import annotations

import argparse

from speakfeed_gui.cli.common import workspace_from


def add_import_pickle(sub: argparse._SubParsersAction) -> None:
    q = sub.add_parser("import-pickle", help="convert your own .pkl/.joblib classifier into a registered skops model")
    q.add_argument("file", help="the pickle (.pkl, .pickle, .joblib)")
    q.add_argument("--trust", action="store_true",
                   help="you made this file yourself: unpickling runs any code it names")
    q.add_argument("--experiment", default="imported", help="experiment name (folder under models/)")
    q.add_argument("--alias", help="also point this alias (e.g. live) at the imported model")
    q.set_defaults(handler=import_pickle)


def import_pickle(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.training.pickle_import import import_pickle as convert

    ws = workspace_from(args)
    model_id = convert(args.file, trust=args.trust, workspace=ws, experiment_name=args.experiment)
    if args.alias:
        ModelRegistry(ws.registry_path).set_alias(args.alias, model_id)
    print(model_id)
    return 0
