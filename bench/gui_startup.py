"""Figure 5: GUI cold start to the first painted window, and until the default model is ready."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench.common import Figure, cpu_seconds, process_tree, summarize, verdict
from bench.context import REPO, BenchContext, say

KEY = "gui-startup"
TITLE = "5. GUI start-up"
FIRST_PAINT_GOAL_S = 1.0


def first_paint_seconds(ctx: BenchContext, workspace: Path) -> tuple[float, list[str]]:
    """Launch `python main.py` with SPEAKFEED_SMOKE_EXIT=1: it prints after its first paint and exits."""
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), "--workspace", str(workspace)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ctx.subprocess_env(SPEAKFEED_SMOKE_EXIT="1"))
    line = proc.stdout.readline()
    seconds = time.perf_counter() - began
    _, err = proc.communicate(timeout=60)
    if proc.returncode != 0 or not line.strip():
        raise RuntimeError(f"main.py exited with {proc.returncode}: {err.strip()[-300:]}")
    return seconds, json.loads(line)["heavy_modules"]


def stop_tree(proc: subprocess.Popen) -> None:
    """End a process we started and every process it started (loky workers), by pid."""
    import os
    import signal

    pids = process_tree(proc.pid)
    for pid in reversed(pids):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    for pid in cpu_seconds(pids):  # still alive after SIGTERM
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def default_model_seconds(ctx: BenchContext, workspace: Path, timeout: float = 120.0) -> float:
    """Launch the app on a new workspace; seconds until the registry's `live` alias exists (polled every 20 ms)."""
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.settings.workspace import init_workspace

    registry = ModelRegistry(init_workspace(workspace).registry_path)
    began = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), "--workspace", str(workspace)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ctx.subprocess_env())
    try:
        while time.perf_counter() - began < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"main.py exited early with {proc.returncode}: {proc.stderr.read()[-300:]!r}")
            if "live" in registry.aliases():
                return time.perf_counter() - began
            time.sleep(0.02)
        raise RuntimeError(f"no default model after {timeout:.0f} s")
    finally:
        stop_tree(proc)


def run(ctx: BenchContext) -> Figure:
    workspace = ctx.trained_workspace().root
    repeats = ctx.pick(7, 1)
    figure = Figure(KEY, TITLE, method=(
        "*First paint*: wall time from launching a fresh `python main.py --workspace W` (offscreen Qt, a workspace "
        "holding the demo model) until the process reports its first painted window (SPEAKFEED_SMOKE_EXIT=1 makes "
        f"it print right after the first paint and exit), {repeats} launches after one unrecorded launch (warm OS "
        "file cache), median (min–max). *Default model ready*: launch on a brand-new workspace and poll the "
        "workspace registry from outside until the `live` alias appears (the background bootstrap trained, saved, "
        "registered and aliased the demo model); the process tree is then terminated."))
    if not ctx.smoke:
        first_paint_seconds(ctx, workspace)
    runs = [first_paint_seconds(ctx, workspace) for _ in range(repeats)]
    paint = summarize([s for s, _ in runs])
    heavy = sorted({m for _, mods in runs for m in mods})
    say(f"{KEY}: first paint {paint.median:.2f} s")
    figure.add("cold start to first painted window", paint.text("s", 2, spread="range"),
               f"≤ {FIRST_PAINT_GOAL_S:g} s", verdict(paint.median <= FIRST_PAINT_GOAL_S))
    figure.notes.append("heavy libraries already imported at the first paint: " + (", ".join(heavy) or "none"))
    ready = summarize([default_model_seconds(ctx, ctx.root / f"fresh-ws-{n}") for n in range(ctx.pick(3, 1))])
    say(f"{KEY}: default model ready after {ready.median:.2f} s")
    figure.add("launch on a new workspace until the default model is ready", ready.text("s", 2, spread="range"))
    return figure
