"""Run SpeakFeed's benchmarks and write the results file.

    .venv/bin/python -m bench.run                  # everything, full sizes -> bench/BENCHMARKS.md
    .venv/bin/python -m bench.run --smoke          # tiny sizes, seconds: proves the benchmarks still run
    .venv/bin/python -m bench.run --only featurize # one figure (repeat --only for several)

Peers (openSMILE, MLflow) come from bench/requirements.txt; a peer that is not installed is
reported as such and only our side is measured.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench import (
    common,
    featurize,
    gui_startup,
    live_compute,
    live_latency,
    memory,
    registry_scale,
    speaking_rate,
    training,
)
from bench.context import REPO, BenchContext, say

FIGURES = {m.KEY: m for m in (live_compute, live_latency, featurize, registry_scale, gui_startup, training, memory,
                               speaking_rate)}
DEFAULT_OUT = REPO / "bench" / "BENCHMARKS.md"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds per figure (CI)")
    parser.add_argument("--only", action="append", choices=sorted(FIGURES), metavar="NAME",
                        help=f"run only this figure (repeatable): {', '.join(FIGURES)}")
    parser.add_argument("--out", type=Path,
                        help=f"results file (default: {DEFAULT_OUT.relative_to(REPO)} for a full run of every figure, "
                             "else BENCHMARKS.md in a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (workspaces, clips, logs)")
    return parser.parse_args(argv)


def _isolate(root: Path) -> None:
    """Nothing the benchmarks start may touch the user's workspace, settings or logs."""
    os.environ.update(
        QT_QPA_PLATFORM="offscreen", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
        SPEAKFEED_WORKSPACE=str(root / "default-ws"), SPEAKFEED_SETTINGS_DIR=str(root / "qsettings"),
        SPEAKFEED_LOG_DIR=str(root / "logs"),
    )


def run_figure(module: object, ctx: BenchContext) -> common.Figure:
    began = time.perf_counter()
    say(f"{module.KEY}: start")
    try:
        figure = module.run(ctx)
    except Exception as exc:  # one broken figure must not hide the others; the exit code reports it
        traceback.print_exc()
        figure = common.Figure(module.KEY, module.TITLE, error=f"{type(exc).__name__}: {(str(exc) or '').strip().splitlines()[0] if str(exc).strip() else ''}")
    figure.seconds = time.perf_counter() - began
    say(f"{module.KEY}: done in {figure.seconds:.1f} s" + (f" — FAILED: {figure.error}" if figure.error else ""))
    return figure


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    keys = args.only or list(FIGURES)
    root = Path(tempfile.mkdtemp(prefix="speakfeed-bench-"))
    out = args.out or (DEFAULT_OUT if not args.smoke and not args.only else root / "BENCHMARKS.md")
    _isolate(root)
    started, load_before, began = time.strftime("%Y-%m-%d %H:%M"), common.load_average(), time.perf_counter()
    ctx = BenchContext(smoke=args.smoke, root=root / "work")
    try:
        figures = [run_figure(FIGURES[key], ctx) for key in keys]
    finally:
        ctx.close()
    command = "python -m bench.run " + shlex.join(argv if argv is not None else sys.argv[1:])
    text = common.render(
        figures, command=command.strip(), smoke=args.smoke, machine=common.machine_info(),
        versions=common.library_versions(), load_before=load_before, load_after=common.load_average(),
        started=started, seconds=time.perf_counter() - began,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    if not args.keep:  # everything but the results file, which may live there
        for child in root.iterdir():
            if child != out:
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        if out.parent != root:
            shutil.rmtree(root, ignore_errors=True)
    say(f"results written to {out}")
    failed = [f.key for f in figures if f.error]
    if failed:
        say(f"figures that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
