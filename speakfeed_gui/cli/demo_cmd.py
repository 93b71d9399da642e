"""`speakfeed demo-data` (generate the synthetic corpus) and `speakfeed bootstrap` (the default model)."""

from __future__ import annotations

import argparse
import sys

from speakfeed_gui.cli.common import TerminalProgress, workspace_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("demo-data", help="generate the synthetic espeak-ng demo corpus (FLAC clips + CSV)")
    p.add_argument("--out", help="output folder (default: <workspace>/demo_corpus)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: the shipped corpus's seed)")
    p.set_defaults(handler=run_demo_data)
    b = subparsers.add_parser("bootstrap", help="train the default model on the bundled EmoDB speech and alias it `live` (once per workspace)")
    b.add_argument("--force", action="store_true", help="train a new default model even if a `live` model exists")
    b.set_defaults(handler=run_bootstrap)


def run_demo_data(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.training.demo_corpus import DEFAULT_SEED, generate_demo_corpus

    out = args.out or workspace_from(args).root / "demo_corpus"
    csv_path = generate_demo_corpus(out, seed=DEFAULT_SEED if args.seed is None else args.seed, progress=TerminalProgress(sys.stderr))
    with csv_path.open(encoding="utf-8") as fh:
        clips = sum(1 for _ in fh) - 1
    print(f"demo corpus: {clips} clips, table {csv_path}")
    return 0


def run_bootstrap(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.progress import CancelToken
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.training.bootstrap import LIVE_ALIAS, bootstrap

    ws = workspace_from(args)
    cancel = CancelToken()
    try:
        model_id = bootstrap(ws, progress=TerminalProgress(sys.stderr), cancel=cancel, force=args.force)
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    registry = ModelRegistry(ws.registry_path)
    live = registry.aliases().get(LIVE_ALIAS)
    if model_id is None:
        print(f"nothing to do: `{LIVE_ALIAS}` is already model {live}; use --force to train a new default model")
        return 0
    entry = registry.get_model_info(model_id)
    split = "speaker-independent" if entry.get("speaker_independent") else "clip-level"
    print(f"default model {model_id}  {entry.get('model_name', '')}: {entry.get('description', '')}")
    print(f"held-out ({split}) accuracy {entry['accuracy']:.3f}  macro-F1 {entry['macro_f1']:.3f}")
    if live == model_id:
        print(f"`{LIVE_ALIAS}` now points at this model")
    else:
        print(f"`{LIVE_ALIAS}` left on your choice {live}")
    return 0
