"""Figure 1: live analysis compute per window (VAD + prosody + features + emotion model)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.common import Figure, summarize, verdict
from bench.context import DEMO_CSV, BenchContext, say

KEY = "live-compute"
TITLE = "1. Live analysis compute per window"
GOAL_MS_PER_S = 10.0


def speech_stream(n_clips: int, pause_s: float = 0.3, seed: int = 0) -> np.ndarray:
    """Demo-corpus clips of all voices and labels, shuffled, joined by short pauses: continuous talk."""
    import csv

    from speakfeed_gui.core.audio.decode import load_audio

    with open(DEMO_CSV, newline="") as handle:
        rows = list(csv.DictReader(handle))
    order = np.random.default_rng(seed).permutation(len(rows))[:n_clips]
    gap = np.zeros(int(pause_s * 16000), dtype=np.float32)
    parts = []
    for index in order:
        parts += [load_audio(DEMO_CSV.parent / rows[index]["path"]), gap]
    return np.concatenate(parts)


def windows(audio: np.ndarray, settings: Any) -> list[tuple[float, np.ndarray]]:
    from speakfeed_gui.core.live.analyzer import window_starts

    size, hop = int(settings.window_seconds * 16000), int(settings.hop_seconds * 16000)
    return [(start / 16000, audio[start : start + size]) for start in window_starts(audio.size, size, hop)]


def _analyzer_pass(model: Any, settings: Any, vad: Any, items: list[tuple[float, np.ndarray]]) -> tuple[list[float], int]:
    """compute_ms of every window as WindowAnalyzer reports it, and how many were speech."""
    from speakfeed_gui.core.live.analyzer import WindowAnalyzer

    analyzer = WindowAnalyzer(model, settings, vad=vad)
    results = [analyzer.analyze(window, t) for t, window in items]
    return [r.compute_ms for r in results], sum(r.is_speech for r in results)


def _stages(model: Any, vad: Any, items: list[tuple[float, np.ndarray]]) -> dict[str, list[float]]:
    """The same steps timed one by one (ms per window), to show where the time goes."""
    from speakfeed_gui.core.live.prosody import measure_prosody

    out: dict[str, list[float]] = {"VAD": [], "prosody": [], "emotion model": []}
    vad.reset()
    for t, window in items:
        began = time.perf_counter()
        mask = vad.speech_mask(window, start=round(t * 16000))
        mid = time.perf_counter()
        measure_prosody(window, 16000, mask, vad.frame_seconds)
        late = time.perf_counter()
        model.predict(window)
        out["VAD"].append((mid - began) * 1e3)
        out["prosody"].append((late - mid) * 1e3)
        out["emotion model"].append((time.perf_counter() - late) * 1e3)
    return out


def _torch_threads() -> int | str:
    try:
        import torch
    except ImportError:
        return "?"
    return int(torch.get_num_threads())


def run(ctx: BenchContext) -> Figure:
    from speakfeed_gui.core.audio.vad import make_vad, silero_available
    from speakfeed_gui.core.live.preparation import limit_torch_threads
    from speakfeed_gui.core.live.prosody import warm_up
    from speakfeed_gui.core.models.factory import ModelFactory

    model = ctx.live_model()
    settings = ModelFactory(workspace=ctx.trained_workspace()).config.live
    items = windows(speech_stream(ctx.pick(60, 2)), settings)
    passes = ctx.pick(3, 1)
    per_second = 1.0 / settings.window_seconds
    figure = Figure(KEY, TITLE, method=(
        f"The analyzer's per-window path (`WindowAnalyzer.analyze`, its own `compute_ms`) over {len(items)} windows "
        f"of {settings.window_seconds:g} s every {settings.hop_seconds:g} s (the workspace's live settings) of continuous "
        "speech: demo-corpus clips of all voices joined by 0.3 s pauses, so nearly every window is speech and runs "
        "VAD, prosody and the trained audio_emotion model (the demo default, logistic regression on 80 features). "
        f"{passes} pass(es) after one warm-up pass; percentiles over all windows of all passes, divided by the window "
        "length to give ms per 1 s of audio analysed. The VAD is the configured default (`auto`: silero when torch "
        "is installed, else the energy VAD); silero streams, running each 32 ms frame once with its state carried from "
        "window to window, so a window costs it only the frames of the new hop. A Live tab session runs torch on one intra-op thread "
        "(`limit_torch_threads(1)` in `LiveRun.open`); the CLI's `speakfeed live` keeps torch's default (one per "
        "core), shown for comparison. The per-window rows time the same steps one by one: VAD, prosody "
        "(`measure_prosody`), emotion model (`model.predict`: features + scaler + classifier)."))
    warm_up()
    variants = [("silero", 1, "silero VAD, torch on 1 thread as a Live tab session runs it (default)", True),
                ("silero", None, f"silero VAD on torch's default {_torch_threads()} threads (as `speakfeed live` runs it)",
                 False),
                ("energy", None, "energy VAD (the default without torch)", True)]
    for kind, threads, label, judged in variants:
        if kind == "silero" and not silero_available():
            figure.notes.append(f"{label}: not measured, silero-vad/torch not installed")
            continue
        vad = make_vad(kind)
        previous = limit_torch_threads(threads)  # what LiveRun.open does for a Live tab session
        try:
            _analyzer_pass(model, settings, vad, items[: ctx.pick(8, 2)])  # warm-up: first calls build caches
            times, per_pass_p95, speech = [], [], 0
            for _ in range(passes):
                pass_times, speech = _analyzer_pass(model, settings, vad, items)
                times += pass_times
                per_pass_p95.append(float(np.percentile(pass_times, 95)) * per_second)
            stages = _stages(model, vad, items[: ctx.pick(120, 8)])
        finally:
            limit_torch_threads(previous)
        s = summarize(times).scaled(per_second)
        say(f"{KEY}: {label}: p50 {s.median:.2f} p95 {s.p95:.2f} p99 {s.p99:.2f} ms per 1 s of audio")
        figure.add(f"{label}: compute per 1 s of audio, p50 / p95 / p99",
                   f"{s.median:.2f} / {s.p95:.2f} / {s.p99:.2f} ms (p95 per pass {min(per_pass_p95):.2f}–"
                   f"{max(per_pass_p95):.2f}; {speech}/{len(items)} windows speech)",
                   f"p95 ≤ {GOAL_MS_PER_S:g} ms" if judged else "", verdict(s.p95 <= GOAL_MS_PER_S) if judged else "–")
        figure.add(f"  {label}: per window, p50 (p95)",
                   ", ".join(f"{stage} {np.median(v):.2f} ({np.percentile(v, 95):.2f}) ms" for stage, v in stages.items()))
    return figure
