"""Drives the real app in a child process for figures 2 and 7: `python -m bench.gui_probe ...`.

The app starts exactly as `main.py` starts it; a timer inside its event loop waits until the
start-up work (default model, warm-up) is done and the app is idle, prints the idle resident
size, then optionally presses Start in the Live tab while the virtual microphone is fed:
`--session S` talks for S seconds and samples the resident size (figure 7); `--latency N`
plays N bursts after silence and times when the tab shows their results (figure 2). Results
are JSON lines on stdout. For diagnosing growth, `--trace-after S` lists the Python allocations
and `--maps S` the memory mappings (GUI thread's malloc heap, other threads' arenas, Python's
object arenas and large blocks) that grew from S seconds of the session to its end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from typing import Any

from bench.common import rss_mb

ARENA_ALIGN = 64 << 20  # glibc's per-thread malloc heaps are 64 MiB-aligned reservations
HEAVY = ("torch", "sklearn", "librosa", "scipy", "numba", "transformers", "silero_vad", "pyqtgraph")


def emit(kind: str, **data: Any) -> None:
    print(json.dumps({"kind": kind, **data}), flush=True)


def mappings() -> dict[tuple[int, str], tuple[int, str, int]]:
    """/proc/self/smaps as (start, path) -> (size KiB, perms, resident KiB)."""
    found: dict[tuple[int, str], tuple[int, str, int]] = {}
    key, size, perms = (0, ""), 0, ""
    with open("/proc/self/smaps") as handle:
        for line in handle:
            head = line.split(" ", 1)[0]
            if "-" in head and not head.endswith(":"):
                parts = line.split()
                start, end = (int(x, 16) for x in head.split("-"))
                key, size, perms = (start, parts[5] if len(parts) > 5 else ""), (end - start) >> 10, parts[1]
            elif head == "Rss:":
                found[key] = (size, perms, int(line.split()[1]))
    return found


def mapping_kind(start: int, path: str) -> str:
    """The main malloc arena ([heap], the GUI thread's), other threads' malloc arenas, other anonymous
    memory (Python's object arenas, large mmapped blocks, thread stacks), a file, or [stack]/[vdso]..."""
    if path == "[heap]":
        return "heap"
    if path.startswith("/"):
        return "files"
    if path.startswith("["):
        return "stack_vdso"
    return "thread_arenas" if start % ARENA_ALIGN == 0 else "other_anon"


def rss_by_kind(maps: dict[tuple[int, str], tuple[int, str, int]]) -> dict[str, float]:
    """Resident MB per `mapping_kind`."""
    kinds: dict[str, float] = {}
    for (start, path), (_size, _perms, rss) in maps.items():
        kind = mapping_kind(start, path)
        kinds[kind] = kinds.get(kind, 0.0) + rss * 1024 / 1e6
    return {k: round(v, 2) for k, v in sorted(kinds.items())}


def mapping_growth(before: dict, after: dict, top: int = 20) -> list[dict]:
    """The mappings whose resident size grew most between two `mappings()` snapshots."""
    rows = []
    for key, (size, perms, rss) in after.items():
        grown = rss - before.get(key, (0, "", 0))[2]
        if grown:
            rows.append({"kib": grown, "size_kib": size, "perms": perms, "kind": mapping_kind(*key),
                         "where": f"{key[0]:#x} {key[1]}".strip(), "new": key not in before})
    gone = sum(v[2] for k, v in before.items() if k not in after)
    rows.sort(key=lambda r: -r["kib"])
    return rows[:top] + [{"kib": -gone, "where": "mappings unmapped since", "kind": "-"}]


class Talker:
    """Feeds demo-corpus speech (the clips in turn, silence between) into the virtual microphone."""

    def __init__(self) -> None:
        from bench.context import DEMO_CSV
        from bench.data import demo_rows
        from speakfeed_gui.core.audio.decode import load_audio
        from tests.virtual_mic import MicFeeder

        rows = demo_rows()[::7]
        self.clips = [load_audio(DEMO_CSV.parent / r["path"]) for r in rows]
        self.feeder = MicFeeder(os.environ["SPEAKFEED_MIC_FIFO"]).start()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        n = 0
        while not self._halt.is_set():
            self.feeder.play_and_wait(self.clips[n % len(self.clips)])
            n += 1
            self._halt.wait(0.4)

    def stop(self) -> None:
        self._halt.set()
        self.feeder.stop()
        self._thread.join(timeout=5)


class Script:
    """A 100 ms timer stepping through: wait idle -> measure -> (live session -> sample) -> quit."""

    def __init__(self, app: Any, args: argparse.Namespace) -> None:
        from PySide6.QtCore import QTimer

        self.app, self.args = app, args
        self.began = time.monotonic()
        self.idle_since: float | None = None
        self.step = self.wait_idle
        self.window: Any = None
        self.talker: Talker | None = None
        self.feeder: Any = None
        self.session_start = 0.0
        self.next_sample = 0.0
        self.maps_before: dict | None = None
        self.timer = QTimer()
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._step)
        self.timer.start()

    def _step(self) -> None:
        try:
            self.step()
        except Exception as exc:  # report once and stop, instead of once per timer tick
            emit("error", message=f"{type(exc).__name__}: {exc}")
            self.finish()

    def _window(self) -> Any:
        from speakfeed_gui.ui.main_window import MainWindow

        return next((w for w in self.app.topLevelWidgets() if isinstance(w, MainWindow)), None)

    def wait_idle(self) -> None:
        from speakfeed_gui.ui.workers import Worker

        self.window = self.window or self._window()
        now = time.monotonic()
        if self.window is None or not self.window._painted or Worker.active():
            self.idle_since = None
        elif self.idle_since is None:
            self.idle_since = now
        elif now - self.idle_since >= self.args.settle:
            emit("idle", rss_mb=rss_mb(), seconds_since_launch=now - self.began,
                 heavy_modules=[m for m in HEAVY if m in sys.modules])
            if self.args.session <= 0 and self.args.latency <= 0:
                self.finish()
                return
            if self.args.latency > 0:
                from bench.live_latency import scheduled_feeder_class

                self.feeder = scheduled_feeder_class()(os.environ["SPEAKFEED_MIC_FIFO"]).start()
            else:
                self.talker = Talker()
            self.window.tabs.setCurrentIndex(0)
            self.window.live_tab.start()
            self.step = self.wait_running

    def wait_running(self) -> None:
        tab = self.window.live_tab
        if tab.state == "running" and self.args.latency > 0:
            self.start_bursts(tab)
        elif tab.state == "running":
            self.session_start = self.next_sample = time.monotonic()
            self.step = self.sample
        elif tab.state == "idle":
            emit("error", message=f"live session did not start: {tab.banner_text()}")
            self.finish()

    def sample(self) -> None:
        now = time.monotonic()
        tab = self.window.live_tab
        if now >= self.next_sample:
            run = tab._run
            emit("sample", t=now - self.session_start, rss_mb=rss_mb(), results=tab.results_shown,
                 skipped=run.analyzer.skipped if run else None, overflows=run.capture.overflows if run else None,
                 **({"maps": rss_by_kind(mappings())} if self.args.maps is not None else {}))
            self.next_sample += self.args.every
            self._trace(now - self.session_start)
            if self.args.maps is not None and self.maps_before is None and now - self.session_start >= self.args.maps:
                self.maps_before = mappings()
        if now - self.session_start >= self.args.session or tab.state != "running":
            self._trace(None)
            if self.maps_before is not None:
                emit("maps_growth", top=mapping_growth(self.maps_before, mappings()))
            tab.stop()
            emit("session_end", heavy_modules=[m for m in HEAVY if m in sys.modules], state=tab.state,
                 banner=tab.banner_text())
            self.finish()

    def _trace(self, elapsed: float | None) -> None:
        """--trace-after S: Python allocations (numpy's included) that grew between S seconds and the end."""
        import tracemalloc

        if self.args.trace_after is None:
            return
        if elapsed is not None and elapsed >= self.args.trace_after and not tracemalloc.is_tracing():
            tracemalloc.start(8)
            self.baseline = tracemalloc.take_snapshot()
        elif elapsed is None and tracemalloc.is_tracing():
            growth = tracemalloc.take_snapshot().compare_to(self.baseline, "traceback")
            emit("trace", top=[{"kib": round(s.size_diff / 1024, 1), "count": s.count_diff,
                                "where": [f"{f.filename}:{f.lineno}" for f in s.traceback][-4:]} for s in growth[:25]])

    def start_bursts(self, tab: Any) -> None:
        """Time each result when the tab's timer has drained it and updated the widgets; bursts from a thread."""
        from bench.live_latency import locate_bursts

        arrivals: list[tuple[float, Any]] = []
        pending: list[Any] = []
        add_result, drain = tab.display.add_result, tab._drain

        def add_and_note(result: Any) -> None:
            pending.append(result)
            add_result(result)

        def drain_and_stamp(run: Any) -> None:
            drain(run)
            now = time.monotonic()
            arrivals.extend((now, result) for result in pending)
            pending.clear()

        tab.display.add_result, tab._drain = add_and_note, drain_and_stamp  # instrumentation, same behaviour
        run = tab._run
        settings = tab.context.factory().config.live
        outcome: dict[str, Any] = {}

        def bursts() -> None:
            try:
                outcome["bursts"] = locate_bursts(self.feeder, run.capture.ring, settings, self.args.latency)
            except Exception as exc:  # reported by the GUI thread
                outcome["error"] = f"{type(exc).__name__}: {exc}"

        worker = threading.Thread(target=bursts, daemon=True)
        worker.start()

        def wait_bursts() -> None:
            if worker.is_alive():
                return
            from bench.live_latency import delays

            if "error" in outcome:
                emit("error", message=outcome["error"])
            else:
                try:
                    found = delays(list(arrivals), outcome["bursts"], run.analyzer._origin, run.capture.samplerate,
                                   settings.window_seconds)
                    emit("latency", delays=found, counts=f"windows skipped {run.analyzer.skipped}, input overflows "
                                                         f"{run.capture.overflows}, timer ticks {tab.timer_stats()}")
                except RuntimeError as exc:
                    emit("error", message=str(exc))
            tab.stop()
            self.finish()

        self.step = wait_bursts

    def finish(self) -> None:
        self.timer.stop()
        if self.talker is not None:
            self.talker.stop()
        if self.feeder is not None:
            self.feeder.stop()
        self.step = lambda: None
        self.app.exit(0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.gui_probe")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds with no background task before 'idle'")
    parser.add_argument("--session", type=float, default=0.0, help="live session seconds (0: none)")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between samples during the session")
    parser.add_argument("--latency", type=int, default=0, help="bursts for the sound-in to Live tab delay (0: none)")
    parser.add_argument("--trace-after", type=float, help="diagnosis: trace Python allocations from S s of the session")
    parser.add_argument("--maps", type=float, help="diagnosis: resident size by kind of mapping per sample, and "
                                                   "the mappings that grew from S s of the session to its end")
    args = parser.parse_args(argv)
    os.environ.pop("SPEAKFEED_SMOKE_EXIT", None)
    from PySide6.QtWidgets import QApplication

    app = QApplication([sys.argv[0]])
    script = Script(app, args)  # noqa: F841  (kept alive for the event loop)
    from speakfeed_gui.ui.app import main as app_main

    return app_main(["--workspace", args.workspace])


if __name__ == "__main__":
    raise SystemExit(main())
