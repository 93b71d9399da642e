"""Figure 2: sound-in to prediction delay through the real capture path (virtual microphone).

Definitions (also written into BENCHMARKS.md):

- The feeder writes 16 kHz PCM into the PulseAudio pipe source on a real-time schedule; sample k
  of its stream is "spoken" at t0 + k / 16000. Nothing is written ahead of the clock (lead 0);
  a 2 ms block goes out when its first sample is due, so a sample can reach the pipe at most
  2 ms before a real microphone would have heard it (the delays below may be 2 ms flattering).
- A burst (a demo-corpus utterance) follows silence. Its onset is its first non-zero sample; the
  capture is bit-exact, so the same sample is the first non-zero one in the ring buffer, which
  ties ring positions to the schedule: ring sample j was spoken at onset + (j - j_onset) / 16000.
- A window's audio is complete when its last sample has been spoken. Its *delay beyond the
  window* is (time `on_result` receives its result) - (that moment). Whatever the window
  length, this is the time the app adds: capture buffering, waiting for the analyzer's poll,
  VAD + prosody + model, delivery.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, Callable

import numpy as np

from bench.common import Figure, summarize, verdict
from bench.context import BenchContext, say
from bench.data import demo_rows

KEY = "live-latency"
TITLE = "2. Sound-in to prediction delay (real capture path)"
GOAL_MS = 150.0
RATE = 16_000
BLOCK_S = 0.002  # the feeder writes a block when its first sample is due: its last is up to 2 ms early


def scheduled_feeder_class() -> type:
    from tests.virtual_mic import MicFeeder

    class ScheduledFeeder(MicFeeder):
        """A MicFeeder that records when each clip's first sample is scheduled to sound."""

        def __init__(self, fifo: Any, **kwargs: Any) -> None:
            super().__init__(fifo, lead=0.0, block_seconds=BLOCK_S, **kwargs)
            self.t0: float | None = None
            self.handed = 0  # samples handed to the writer since t0

        def _next_block(self) -> bytes:
            if self.t0 is None:
                self.t0 = time.monotonic()  # _run sets its own start a few microseconds before
            head = self._queue[0] if self._queue else None
            if head is not None and head.offset == 0:
                head.scheduled = self.t0 + self.handed / RATE
            block = super()._next_block()
            self.handed += len(block) // 2
            return block

    return ScheduledFeeder


def burst(index: int) -> np.ndarray:
    from bench.context import DEMO_CSV
    from speakfeed_gui.core.audio.decode import load_audio

    rows = demo_rows()
    return load_audio(DEMO_CSV.parent / rows[(index * 37) % len(rows)]["path"])


def first_nonzero(samples: np.ndarray) -> int:
    hits = np.flatnonzero(np.round(samples * 32767.0) != 0)
    return int(hits[0]) if hits.size else -1


def locate_bursts(feeder: Any, ring: Any, settings: Any, trials: int,
                  report: Callable[[int], None] | None = None) -> list[tuple[float, int]]:
    """Play `trials` bursts, each after silence; (scheduled onset time, ring position of the onset) of each."""
    time.sleep(settings.window_seconds + 1.0)  # the analyzer is already polling silence windows
    out = []
    for trial in range(trials):
        audio = burst(trial)
        mark = ring.total_written
        clip = feeder.play_and_wait(audio)
        time.sleep(settings.window_seconds + settings.hop_seconds + 0.5)  # its last window, then silence
        found = first_nonzero(ring.read_range(mark, ring.total_written))
        if found < 0:
            raise RuntimeError(f"burst {trial}: it never arrived in the ring buffer")
        out.append((clip.scheduled + first_nonzero(audio) / RATE, mark + found))
        if report is not None:
            report(trial)
    return out


def delays(arrivals: list[tuple[float, Any]], bursts: list[tuple[float, int]], origin: int, rate: int,
           window_seconds: float) -> dict[str, list[float]]:
    """Per burst: delay beyond the window of the first window holding the onset and of the first prediction,
    onset to first prediction, and the delays of all its speech windows (seconds)."""
    out: dict[str, list[float]] = {"first_window": [], "first_prediction": [], "onset_to_prediction": [],
                                   "all_speech": []}
    window = int(round(window_seconds * rate))
    ends = [j for _, j in bursts[1:]] + [1 << 62]
    for (onset, j_onset), next_onset in zip(bursts, ends):
        rows = []
        for stamp, result in arrivals:
            end = origin + int(round(result.t_end * rate))
            if j_onset < end < next_onset:
                rows.append((end, stamp - (onset + (end - j_onset) / rate), stamp - onset, result))
        rows.sort(key=lambda r: r[0])
        holding = [r for r in rows if r[0] - window <= j_onset]
        predicted = [r for r in rows if r[3].prediction is not None]
        if not holding or not predicted:
            raise RuntimeError(f"no result for the windows holding the burst at ring position {j_onset}")
        out["first_window"].append(holding[0][1])
        out["first_prediction"].append(predicted[0][1])
        out["onset_to_prediction"].append(predicted[0][2])
        out["all_speech"] += [r[1] for r in predicted]
    return out


def core_path(ctx: BenchContext, settings: Any, trials: int) -> tuple[dict[str, list[float]], str, str]:
    """AudioCapture -> LiveAnalyzer -> on_result (in the analyzer thread)."""
    from speakfeed_gui.core.audio.capture import AudioCapture
    from speakfeed_gui.core.live.analyzer import LiveAnalyzer
    from speakfeed_gui.core.live.preparation import limit_torch_threads, prepare_analysis
    from speakfeed_gui.core.progress import no_progress

    prepared = prepare_analysis(ctx.live_model(), settings, ctx.trained_workspace())(no_progress, None)
    model, vad = prepared.model, prepared.vad
    arrivals: list[tuple[float, Any]] = []
    with contextlib.ExitStack() as stack:
        stack.callback(limit_torch_threads, limit_torch_threads(1))  # as LiveRun.open does for a Live tab session
        feeder = stack.enter_context(ctx.feeder(scheduled_feeder_class()))
        capture = AudioCapture("pulse")
        capture.start()
        try:
            analyzer = LiveAnalyzer(capture, model, settings, vad=vad,
                                    on_result=lambda result: arrivals.append((time.monotonic(), result)))
            analyzer.start()
            bursts = locate_bursts(feeder, capture.ring, settings, trials,
                                   lambda n: say(f"{KEY}: core path, burst {n + 1}/{trials}"))
            analyzer.stop()
        finally:
            capture.stop()
    origin = analyzer._origin  # ring position of session time 0 (no public accessor)
    counts = f"windows skipped {analyzer.skipped}, input overflows {capture.overflows}"
    return delays(arrivals, bursts, origin, capture.samplerate, settings.window_seconds), type(vad).__name__, counts


def gui_path(ctx: BenchContext, trials: int) -> tuple[dict[str, list[float]], str]:
    """The real app's Live tab in a child process (bench/gui_probe.py --latency)."""
    from bench.memory import probe

    lines = probe(ctx, ["--latency", str(trials)], timeout=120 + trials * 10)
    found = next(line for line in lines if line["kind"] == "latency")
    return found["delays"], found["counts"]


ROWS = (
    ("first_window", "first window holding the onset: delay beyond the window", True),
    ("first_prediction", "first window with a prediction: delay beyond the window", True),
    ("all_speech", "every speech window of the bursts: delay beyond the window", False),
    ("onset_to_prediction", "onset to the first prediction (includes waiting for the window to fill)", False),
)


def run(ctx: BenchContext) -> Figure:
    from speakfeed_gui.core.models.factory import ModelFactory

    trials = ctx.pick(20, 1)
    settings = ModelFactory(workspace=ctx.trained_workspace()).config.live
    core, vad_name, core_counts = core_path(ctx, settings, trials)
    gui_trials = ctx.pick(10, 1)
    gui, gui_counts = gui_path(ctx, gui_trials)
    figure = Figure(KEY, TITLE, method=(
        (__doc__ or "").split("Definitions (also written into BENCHMARKS.md):", 1)[1].strip().replace("\n  ", " ")
        + "\n\n*Core path*: `AudioCapture('pulse')` (PortAudio → ALSA pulse plugin → PulseAudio pipe source) "
        f"feeding `LiveAnalyzer` with the trained demo model and the configured VAD ({vad_name}), prepared by "
        "`prepare_analysis` and run with torch on one thread as the Live tab does; the time is taken in its "
        f"`on_result` callback; {trials} bursts. *Live tab*: the app itself (offscreen) with Start "
        "pressed, the time taken when the tab's 33 ms timer has drained the result and updated its widgets "
        f"(`LiveTab._drain`); {gui_trials} bursts. Live settings: {settings.window_seconds:g} s windows every "
        f"{settings.hop_seconds:g} s" + (" (shortened for the smoke run)" if ctx.smoke else " (the defaults)")
        + "; each burst follows ≥ 1 s of silence."))
    for path, data in (("core path", core), ("Live tab", gui)):
        for key, label, judged in ROWS:
            s = summarize(data[key]).scaled(1e3)
            text = f"p50 {s.median:.0f} ms, p95 {s.p95:.0f} ms (min–max {s.low:.0f}–{s.high:.0f}, n={s.n})"
            figure.add(f"{path}: {label}", text, f"p95 ≤ {GOAL_MS:g} ms" if judged else "",
                       verdict(s.p95 <= GOAL_MS) if judged else "–")
        say(f"{KEY}: {path}: first prediction p95 {np.percentile(data['first_prediction'], 95) * 1e3:.0f} ms")
    figure.notes.append(f"core path: {core_counts}; Live tab: {gui_counts}")
    return figure
