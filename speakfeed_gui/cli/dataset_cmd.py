"""`speakfeed dataset check`: list a dataset and say which files cannot be used, and why."""

from __future__ import annotations

import argparse
import sys

from speakfeed_gui.cli.common import TerminalProgress, print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("dataset", help="inspect a labelled speech dataset")
    commands = p.add_subparsers(dest="dataset_command", metavar="ACTION", required=True)
    check = commands.add_parser(
        "check",
        help="open every file and report clips, duration, labels, speakers and unusable files",
        description="Exit code 0 when every file is usable, 1 when some are not (they are listed).",
    )
    check.add_argument("dataset", metavar="DATASET", help="CSV file (path,label[,speaker]) or dataset folder")
    check.add_argument("--json", action="store_true", help="print the report as JSON")
    check.add_argument(
        "--min-seconds", type=float, default=0.25, metavar="S", help="shortest usable clip in seconds (default 0.25)"
    )
    check.set_defaults(handler=run_check)


def run_check(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.training.datasets import check_dataset, load_dataset
    from speakfeed_gui.core.training.versioning import relative_name

    dataset = load_dataset(args.dataset)
    report = check_dataset(dataset, min_seconds=args.min_seconds, progress=TerminalProgress(sys.stderr))
    if args.json:
        print_json(report.to_dict())
    else:
        for line in report.summary_lines(details=False):
            print(line)
        print()
        print_table(["label", "clips"], report.label_counts.items())
        if report.problems:
            print()
            count = len(report.problems)
            print(f"{count} unusable file{'' if count == 1 else 's'}:")
            rows = [(relative_name(p.path, dataset.root), p.reason) for p in report.problems]
            print_table(["file", "reason"], rows)
    return 1 if report.problems else 0

