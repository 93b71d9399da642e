"""`speakfeed init`: create a workspace with the default config."""

from __future__ import annotations

import argparse

from speakfeed_gui.core.workspace import init_workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="create a workspace folder with the default models.yaml")
    p.add_argument("folder")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    ws = init_workspace(args.folder)
    print(f"workspace ready: {ws.root} (config: {ws.config_path})")
    return 0
