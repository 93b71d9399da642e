"""Figure 7: resident memory of the idle app, and its growth over a live session (virtual microphone)."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

import numpy as np

from bench.common import Figure, summarize, verdict
from bench.context import BenchContext, say

KEY = "memory"
TITLE = "7. Memory"
IDLE_GOAL_MB = 250.0
GROWTH_GOAL_MB = 10.0


def probe(ctx: BenchContext, args: list[str], timeout: float) -> list[dict]:
    """Run bench/gui_probe.py on the trained workspace; its JSON lines."""
    ctx.microphone()  # exports PULSE_SERVER / PULSE_SOURCE / SPEAKFEED_MIC_FIFO for the child
    out = subprocess.run(
        [sys.executable, "-m", "bench.gui_probe", "--workspace", str(ctx.trained_workspace().root),
         "--settle", str(ctx.pick(3.0, 1.0)), *args],
        capture_output=True, text=True, timeout=timeout, env=ctx.subprocess_env(), check=False)
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    errors = [line["message"] for line in lines if line["kind"] == "error"]
    if out.returncode != 0 or errors or not lines:
        fd, log = tempfile.mkstemp(prefix="speakfeed-bench-gui-probe-", suffix=".log")  # outlives the run's folder
        with open(fd, "w") as handle:
            handle.write(out.stdout + "\n--- stderr ---\n" + out.stderr)
        raise RuntimeError(f"gui probe exited with {out.returncode} after {len(lines)} reports: "
                           f"{errors or _crash_lines(out.stderr)} (full output: {log})")
    return lines


def _crash_lines(stderr: str) -> str:
    """The lines that say why a child died (Python's fatal-error dump ends with a useless module list)."""
    keep = [line for line in stderr.splitlines()
            if any(k in line for k in ("Fatal", "Error", "error", "Abort", "assert", "terminate", "File \""))]
    return " | ".join(keep[-12:]) or stderr.strip()[-400:]


def run(ctx: BenchContext) -> Figure:
    session_s, every_s, warm_s = ctx.pick((600.0, 10.0, 60.0), (4.0, 1.0, 1.0))
    figure = Figure(KEY, TITLE, method=(
        "A child process runs the app as `main.py` does (offscreen) on a workspace holding the demo model "
        "(bench/gui_probe.py). *Idle*: resident set size (VmRSS) once the window is painted, the start-up tasks "
        "(default model, feature warm-up) are finished and nothing has run for 3 s. *Live session*: then the Live "
        f"tab's Start is pressed while demo-corpus speech is fed through the virtual microphone for {session_s:g} s "
        f"(default live settings: silero VAD, 2 s windows every 0.5 s); VmRSS is sampled every {every_s:g} s. "
        f"*Growth* is the last sample minus the sample at {warm_s:g} s (after the model, the VAD network and the "
        "plots have allocated what they keep); the slope is a least-squares fit over the same samples."))
    lines = probe(ctx, ["--session", str(session_s), "--every", str(every_s)], timeout=session_s + 300)
    idle = next(line for line in lines if line["kind"] == "idle")
    samples = [line for line in lines if line["kind"] == "sample"]
    end = next((line for line in lines if line["kind"] == "session_end"), {})
    torch_idle = "torch" in idle["heavy_modules"]
    say(f"{KEY}: idle {idle['rss_mb']:.0f} MB (torch loaded: {torch_idle})")
    figure.add("idle app, resident size" + (" (torch NOT loaded)" if not torch_idle else " (torch loaded)"),
               f"{idle['rss_mb']:.0f} MB", f"≤ {IDLE_GOAL_MB:g} MB", verdict(idle["rss_mb"] <= IDLE_GOAL_MB))
    figure.notes.append(f"libraries loaded when idle: {', '.join(idle['heavy_modules'])}; idle reached "
                        f"{idle['seconds_since_launch']:.1f} s after launch")
    later = [s for s in samples if s["t"] >= warm_s]
    if len(later) < 2:
        raise RuntimeError(f"only {len(samples)} memory samples during the session; state {end.get('state')}")
    t = np.array([s["t"] for s in later])
    rss = np.array([s["rss_mb"] for s in later])
    growth = float(rss[-1] - rss[0])
    slope = float(np.polyfit(t, rss, 1)[0]) * 600.0
    say(f"{KEY}: session: {samples[0]['rss_mb']:.0f} -> {rss[-1]:.0f} MB, growth {growth:+.1f} MB")
    figure.add(f"live session: resident size at start / at {warm_s:g} s / at the end",
               f"{samples[0]['rss_mb']:.0f} / {rss[0]:.0f} / {rss[-1]:.0f} MB")
    figure.add(f"growth over the {session_s / 60:g}-minute session (after {warm_s:g} s)",
               f"{growth:+.1f} MB (fitted slope {slope:+.1f} MB per 10 min)", f"≤ {GROWTH_GOAL_MB:g} MB",
               verdict(growth <= GROWTH_GOAL_MB))
    last = samples[-1]
    figure.notes.append(f"windows shown {last['results']}, skipped {last['skipped']}, input overflows "
                        f"{last['overflows']}; libraries loaded at the end: {', '.join(end.get('heavy_modules', []))}")
    spread = summarize(rss)
    figure.notes.append(f"resident size over the session after {warm_s:g} s: {spread.text('MB', 1, spread='range')}")
    return figure
