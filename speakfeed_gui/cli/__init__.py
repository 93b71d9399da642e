"""`speakfeed` command line: the same core calls as the GUI tabs.

Each sub-command group lives in its own module exposing `register(subparsers)`; handlers
receive the parsed args and return an exit code. A SpeakFeedError becomes one line on stderr
and exit code 2; Ctrl-C exits 130 after the core has cleaned up.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from speakfeed_gui import __version__
from speakfeed_gui.core.errors import SpeakFeedError

log = logging.getLogger("speakfeed")

COMMAND_MODULES = (
    "models_cmd", "predict_cmd", "dataset_cmd", "train_cmd", "tune_cmd", "evaluate_cmd", "live_cmd", "demo_cmd",
    "workspace_cmd", "keys_cmd", "sessions_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="speakfeed", description="SpeakFeed: vocal feedback for public speakers.")
    parser.add_argument("--version", action="version", version=f"speakfeed {__version__}")
    parser.add_argument("--workspace", help="folder holding config/ and models/ (default: $SPEAKFEED_WORKSPACE or the project)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to the console")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"speakfeed_gui.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"speakfeed_gui.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from speakfeed_gui.core.logging_setup import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(console_level=logging.DEBUG if args.verbose else logging.WARNING)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 1
    try:
        return int(args.handler(args) or 0)
    except SpeakFeedError as exc:
        print(f"speakfeed: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("speakfeed: cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
