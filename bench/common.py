"""What every benchmark shares: timing, robust statistics, CPU time, machine facts, the report.

Numbers on a shared 2-core machine are noisy, so every figure is a median over repeats with its
spread (interquartile range and min-max), and every peer comparison is a ratio of medians
measured in the same run, interleaved where the two sides do not disturb each other.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

MET, MISSED, INFO = "met", "MISSED", "–"


@dataclass(frozen=True)
class Summary:
    """Order statistics of repeated measurements (in the unit they were taken in)."""

    n: int
    median: float
    q1: float
    q3: float
    low: float
    high: float
    p95: float
    p99: float

    def scaled(self, factor: float) -> "Summary":
        return Summary(self.n, *(v * factor for v in (self.median, self.q1, self.q3, self.low, self.high, self.p95, self.p99)))

    def text(self, unit: str = "", digits: int = 1, *, spread: str = "iqr") -> str:
        """`12.3 ms (IQR 11.9–12.8, n=30)`; spread "range" shows min–max instead."""
        fmt = f"{{:.{digits}f}}"
        value = fmt.format(self.median) + (f" {unit}" if unit else "")
        if self.n < 2:
            return f"{value} (n=1)"
        if spread == "range":
            return f"{value} (min–max {fmt.format(self.low)}–{fmt.format(self.high)}, n={self.n})"
        return f"{value} (IQR {fmt.format(self.q1)}–{fmt.format(self.q3)}, n={self.n})"


def summarize(values: Iterable[float]) -> Summary:
    data = np.asarray([float(v) for v in values], dtype=float)
    if data.size == 0:
        nan = float("nan")
        return Summary(0, nan, nan, nan, nan, nan, nan, nan)
    q1, med, q3, p95, p99 = np.percentile(data, [25, 50, 75, 95, 99])
    return Summary(int(data.size), float(med), float(q1), float(q3), float(data.min()), float(data.max()), float(p95), float(p99))


def ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Ratio of medians (robust to the odd slow repeat on either side)."""
    if not numerator or not denominator:
        return float("nan")
    bottom = statistics.median(denominator)
    return statistics.median(numerator) / bottom if bottom else float("inf")


def repeat(fn: Callable[[], object], repeats: int, *, warmup: int = 1) -> list[float]:
    """Wall seconds of `repeats` calls after `warmup` unrecorded ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return times


# -- CPU time and memory from /proc (Linux), for this process and its children ------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()  # fields after "pid (comm) "


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields_ = _stat_fields(int(entry.name))
            if fields_ and int(fields_[1]) == pid:
                found.append(int(entry.name))
    return found


def process_tree(pid: int | None = None) -> list[int]:
    pid = pid or os.getpid()
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [c for p in frontier for c in _children(p)]
        tree += frontier
    return tree


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """user + system CPU seconds of each live process (utime and stime, fields 14 and 15)."""
    out = {}
    for pid in pids:
        fields_ = _stat_fields(pid)
        if fields_:
            out[pid] = (int(fields_[11]) + int(fields_[12])) / _TICK
    return out


class CpuMeter:
    """CPU seconds used by this process and its (possibly long-lived) children between start and stop."""

    def __init__(self) -> None:
        self._before: dict[int, float] = {}

    def __enter__(self) -> "CpuMeter":
        self._before = cpu_seconds(process_tree())
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        after = cpu_seconds(process_tree())
        self.seconds = sum(after[p] - self._before.get(p, 0.0) for p in after)


def rss_mb(pid: int | None = None) -> float:
    """Resident set size (VmRSS) in MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    return float("nan")


# -- the machine and the libraries ------------------------------------------------------------


def load_average() -> str:
    try:
        return " / ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "unknown"


def machine_info() -> dict[str, str]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": cpu,
        "cores": f"{os.cpu_count()} logical, {usable} usable by this process",
        "memory": memory,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }


LIBRARIES = (
    "speakfeed", "numpy", "scipy", "scikit-learn", "joblib", "librosa", "soundfile", "soxr", "skops",
    "torch", "silero-vad", "PySide6-Essentials", "pyqtgraph", "sounddevice", "opensmile", "mlflow", "SQLAlchemy",
)


def library_versions(names: Sequence[str] = LIBRARIES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# -- results and the markdown report ----------------------------------------------------------


@dataclass
class Row:
    """One line of a figure's table. `peer`/`ratio` stay empty when there is no peer."""

    metric: str
    ours: str
    goal: str = ""
    verdict: str = INFO
    peer: str = ""
    ratio: str = ""


@dataclass
class Figure:
    key: str
    title: str
    method: str = ""
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def add(self, metric: str, ours: str, goal: str = "", verdict: str = INFO, peer: str = "", ratio: str = "") -> Row:
        row = Row(metric, ours, goal, verdict, peer, ratio)
        self.rows.append(row)
        return row


def verdict(ok: bool | None) -> str:
    return INFO if ok is None else (MET if ok else MISSED)


def render(figures: Sequence[Figure], *, command: str, smoke: bool, machine: dict[str, str],
           versions: dict[str, str], load_before: str, load_after: str, started: str, seconds: float) -> str:
    lines = ["# SpeakFeed benchmarks", ""]
    if smoke:
        lines += ["> **Smoke mode**: tiny sizes, to prove the benchmarks still run. These numbers mean nothing.", ""]
    lines += [
        f"Produced by `{command}` on {started} in {seconds:.0f} s. Each figure is the median over repeated runs with "
        "its spread (IQR = 25th–75th percentile, or min–max where there are few runs); a peer comparison is the ratio "
        "of the two medians measured in the same run. The goals are the issue's, for this 2-core machine.",
        "",
        "## Machine",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in machine.items()]
    lines += [f"- load average (1/5/15 min) before: {load_before}; after: {load_after}", "", "## Library versions", ""]
    lines += [", ".join(f"{k} {v}" for k, v in versions.items()), "", "## Summary", ""]
    lines += ["| Figure | Metric | SpeakFeed | Goal | Verdict |", "|---|---|---|---|---|"]
    for figure in figures:
        if figure.error:
            lines.append(f"| {figure.title} | — | failed: {_cell(figure.error)} | | |")
        for row in figure.rows:
            if row.goal:
                lines.append(f"| {figure.title} | {_cell(row.metric)} | {_cell(row.ours)} | {_cell(row.goal)} | {row.verdict} |")
    for figure in figures:
        lines += ["", f"## {figure.title}", ""]
        if figure.method:
            lines += [figure.method.strip(), ""]
        if figure.error:
            lines += [f"**This figure failed:** `{figure.error}`", ""]
        if figure.rows:
            with_peer = any(r.peer or r.ratio for r in figure.rows)
            head = ["Metric", "SpeakFeed"] + (["Peer", "Ratio"] if with_peer else []) + ["Goal", "Verdict"]
            lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            for r in figure.rows:
                cells = [r.metric, r.ours] + ([r.peer, r.ratio] if with_peer else []) + [r.goal, r.verdict if r.goal else ""]
                lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
            lines.append("")
        lines += [f"- {note}" for note in figure.notes]
        lines += [f"- (this figure took {figure.seconds:.0f} s to measure)"]
    return "\n".join(lines).rstrip() + "\n"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")
