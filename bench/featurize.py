"""Figure 3: dataset featurisation throughput, side by side with openSMILE's eGeMAPSv02 functionals.

Both sides read the same files on the same cores. openSMILE (licence: no commercial use) is a
benchmark-only peer, parallelised with joblib's loky processes in chunks like ours.

`python -m bench.featurize ours|opensmile LIST N_JOBS [SCRATCH]` featurises the files named in LIST
(one path a line) once in this fresh process and prints {"seconds", "cpu_seconds"} as JSON: the
cold-start measurement (process pool started from nothing), as `speakfeed train` experiences it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import CpuMeter, Figure, installed, ratio, summarize, verdict
from bench.context import BenchContext, say
from bench.data import audio_seconds, corpus_copies

KEY = "featurize"
TITLE = "3. Dataset featurisation throughput"
GOAL_X_REALTIME = 500.0
GOAL_X_OPENSMILE = 4.0
_SMILE: Any = None
SCRATCH: str | None = None  # where ours_files puts its caches (None: the system temporary folder)


def _smile() -> Any:
    global _SMILE
    if _SMILE is None:
        import opensmile

        _SMILE = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                                 feature_level=opensmile.FeatureLevel.Functionals)
    return _SMILE


def smile_chunk(paths: list[str]) -> np.ndarray:
    """eGeMAPSv02 functionals (88 values) of each file."""
    return np.stack([_smile().process_file(p).to_numpy()[0] for p in paths])


def smile_files(paths: list[str], n_jobs: int) -> np.ndarray:
    """openSMILE over files: chunks of up to 16 on joblib's loky processes (in-process for one job)."""
    import joblib

    workers = joblib.effective_n_jobs(n_jobs)
    size = max(1, min(16, -(-len(paths) // (workers * 4))))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    if workers == 1:
        return np.concatenate([smile_chunk(c) for c in chunks])
    return np.concatenate(joblib.Parallel(n_jobs=workers)(joblib.delayed(smile_chunk)(c) for c in chunks))


def ours_files(paths: list[str], n_jobs: int) -> np.ndarray:
    """SpeakFeed's featurize_files with a new, empty feature cache in the scratch folder.

    The cache folders are left in place: a chunk the pool was still finishing when the call
    returned (see features._shared_chunks) may write into its folder a moment later.
    """
    from speakfeed_gui.core.features.batch import featurize_files

    return featurize_files(paths, cache_dir=Path(tempfile.mkdtemp(dir=SCRATCH, prefix="cache-")), n_jobs=n_jobs)


def _timed(fn: Any, *args: Any) -> tuple[float, float]:
    with CpuMeter() as cpu:
        began = time.perf_counter()
        fn(*args)
        seconds = time.perf_counter() - began
    return seconds, cpu.seconds


def _fresh(ctx: BenchContext, side: str, listing: Path, n_jobs: int) -> tuple[float, float]:
    """One cold run in a new process (its imports are not timed, its pool start-up is)."""
    out = subprocess.run([sys.executable, "-m", "bench.featurize", side, str(listing), str(n_jobs), SCRATCH or ""],
                         capture_output=True, text=True, timeout=900, env=ctx.subprocess_env(), check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["seconds"], data["cpu_seconds"]


def _measure(ctx: BenchContext, figure: Figure, paths: list[str], label: str, peer: bool) -> None:
    seconds_audio = audio_seconds([Path(p) for p in paths])
    listing = ctx.root / f"files-{label}.txt"
    listing.write_text("\n".join(paths))
    repeats = ctx.pick(3, 1)
    sides = {"ours": ours_files} | ({"opensmile": smile_files} if peer else {})
    subset = paths[: ctx.pick(120, len(paths))]
    results: dict[tuple[str, str], list[tuple[float, float]]] = {(s, m): [] for s in sides for m in ("cold", "one")}
    for _ in range(repeats):  # the two sides take turns, so a change in the machine's load hits both
        for side, fn in sides.items():
            results[(side, "cold")].append(_fresh(ctx, side, listing, -1))
            results[(side, "one")].append(_timed(fn, subset, 1))
    for side, fn in sides.items():  # in blocks: each side's pool would restart the other's
        fn(paths[:32], -1)  # start (and keep) this side's process pool
        results[(side, "warm")] = [_timed(fn, paths, -1) for _ in range(repeats)]
    one_seconds = audio_seconds([Path(p) for p in subset])
    for mode, what, audio in (("cold", "all cores, fresh process (pool started cold)", seconds_audio),
                              ("warm", "all cores, process pool already running", seconds_audio),
                              ("one", "one process", one_seconds)):
        ours = [audio / s for s, _ in results[("ours", mode)]]
        cpu = summarize([c / audio * 1e3 for _, c in results[("ours", mode)]])
        text = summarize(ours).text("× real time", 0, spread="range") + f"; CPU {cpu.median:.2f} ms per s of audio"
        goal = f"≥ {GOAL_X_REALTIME:g}× and ≥ {GOAL_X_OPENSMILE:g}× openSMILE" if mode != "one" else ""
        if peer:
            theirs = [audio / s for s, _ in results[("opensmile", mode)]]
            cpu_theirs = summarize([c / audio * 1e3 for _, c in results[("opensmile", mode)]])
            times_ratio = ratio(ours, theirs)
            ok = None if mode == "one" else bool(np.median(ours) >= GOAL_X_REALTIME and times_ratio >= GOAL_X_OPENSMILE)
            figure.add(f"{label}: {what}", text, goal, verdict(ok),
                       summarize(theirs).text("× real time", 0, spread="range") + f"; CPU {cpu_theirs.median:.2f} ms/s",
                       f"ours {times_ratio:.1f}× faster")
        else:
            ok = None if mode == "one" else bool(np.median(ours) >= GOAL_X_REALTIME)
            figure.add(f"{label}: {what}", text, goal, verdict(ok), "openSMILE not installed", "")
        say(f"{KEY}: {label} {mode}: ours {np.median(ours):.0f}×" +
            (f", openSMILE {np.median(theirs):.0f}×" if peer else ""))


def run(ctx: BenchContext) -> Figure:
    import joblib

    global SCRATCH
    SCRATCH = str(ctx.folder("feature-caches"))
    peer = installed("opensmile")
    n = ctx.pick(540, 8)
    figure = Figure(KEY, TITLE, method=(
        f"{n} clips (the demo corpus cycled, each copy with its own gain and dither, 1.2–4.3 s each) written as "
        "16-bit WAV at 16 kHz and again at 48 kHz (which both sides then process: we resample to 16 kHz, openSMILE "
        "works at the file's rate). Ours: `featurize_files` end to end (content hashing, a new empty feature cache, "
        "reading, resampling, extraction, cache writes) with `n_jobs=-1`. openSMILE: eGeMAPSv02 functionals "
        "(`opensmile` Python package, `process_file`) in chunks on `joblib.Parallel(n_jobs=-1)`. Throughput is "
        "seconds of audio per wall second; CPU is user+system time of the process and its workers per second of "
        "audio (less sensitive to other load on a shared machine). *Fresh process*: the first call in a new "
        "process, worker start-up included (a `speakfeed train` run); *pool running*: later calls in the same "
        f"process (a second training in the app); *one process*: `n_jobs=1` on the first {ctx.pick(120, n)} clips. "
        f"{ctx.pick(3, 1)} runs each, median (min–max); ratios of medians. Fresh-process and one-process runs "
        "alternate between the two sides; pool-running runs come in blocks (each side's pool would restart the "
        "other's)."))
    figure.notes.append(f"cores used: joblib.effective_n_jobs(-1) = {joblib.effective_n_jobs(-1)}")
    if not peer:
        figure.notes.append("openSMILE is not installed (pip install -r bench/requirements.txt): only our side measured.")
    for rate in ctx.pick((16_000, 48_000), (16_000,)):
        _, paths = corpus_copies(ctx.folder(f"featurize-{rate}"), n, rate=rate)
        _measure(ctx, figure, [str(p) for p in paths], f"{rate // 1000} kHz WAV", peer)
    return figure


def _main(argv: list[str]) -> None:
    global SCRATCH
    side, listing, n_jobs = argv[0], argv[1], int(argv[2])
    SCRATCH = argv[3] if len(argv) > 3 and argv[3] else None
    paths = Path(listing).read_text().split("\n")
    if side == "ours":
        from speakfeed_gui.core.features import extractor as features  # noqa: F401  (imported before the clock starts, like the CLI)
        seconds, cpu = _timed(ours_files, paths, n_jobs)
    else:
        import joblib  # noqa: F401

        seconds, cpu = _timed(smile_files, paths, n_jobs)
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu}))


if __name__ == "__main__":
    _main(sys.argv[1:])
