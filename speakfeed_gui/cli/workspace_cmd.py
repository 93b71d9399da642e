"""`speakfeed init` (create a workspace) and `speakfeed clean` (leftovers of interrupted saves)."""

from __future__ import annotations

import argparse

from speakfeed_gui.core.settings.workspace import init_workspace


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("init", help="create a workspace folder with the default models.yaml")
    p.add_argument("folder")
    p.set_defaults(handler=run)
    p = subparsers.add_parser("clean", help="delete what interrupted saves left behind (hidden staging and temp files)")
    p.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    p.add_argument("--min-age", type=float, default=60.0, metavar="MINUTES",
                   help="only leftovers untouched this long, so saves still running are spared (default 60)")
    p.set_defaults(handler=run_clean)


def run(args: argparse.Namespace) -> int:
    ws = init_workspace(args.folder)
    print(f"workspace ready: {ws.root} (config: {ws.config_path})")
    return 0


def run_clean(args: argparse.Namespace) -> int:
    from speakfeed_gui.cli.common import workspace_from
    from speakfeed_gui.core.errors import SpeakFeedError
    from speakfeed_gui.core.registry.cleanup import find_leftovers, remove_leftovers

    if not args.min_age >= 0:
        raise SpeakFeedError(f"--min-age: expected minutes ≥ 0, got {args.min_age}")
    ws = workspace_from(args)
    leftovers = find_leftovers(ws, min_age_s=args.min_age * 60.0)
    for item in leftovers:
        print(f"{item.path}  {item.size / 1e6:.1f} MB  {item.age_s / 3600:.1f} h old")
    total = sum(item.size for item in leftovers) / 1e6
    if not leftovers:
        print(f"nothing to clean in {ws.root}")
    elif args.dry_run:
        print(f"{len(leftovers)} leftovers, {total:.1f} MB; run without --dry-run to delete them")
    else:
        print(f"deleted {len(leftovers)} leftovers, {remove_leftovers(leftovers) / 1e6:.1f} MB freed")
    return 0
