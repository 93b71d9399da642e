"""Figure 6: training time per model type on cached features, and the first-run bootstrap."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np

from bench.common import Figure, summarize, verdict
from bench.context import BenchContext, say
from bench.data import corpus_copies

KEY = "training"
TITLE = "6. Training time"
BOOTSTRAP_GOAL_S = 15.0
_BOOTSTRAP = (
    "import sys; from speakfeed_gui.core.settings.workspace import init_workspace; "
    "from speakfeed_gui.core.training.bootstrap import bootstrap; assert bootstrap(init_workspace(sys.argv[1]))"
)


def _fit_only(model_type: str, X: np.ndarray, y: np.ndarray) -> float:
    """Scaler + estimator fit with the catalogue's defaults (what the Train tab's form starts from)."""
    from sklearn.preprocessing import StandardScaler

    from speakfeed_gui.core.training.estimators import make_estimator, validate_hyperparameters

    began = time.perf_counter()
    scaler = StandardScaler().fit(X)
    make_estimator(model_type, validate_hyperparameters(model_type, None), 42).fit(scaler.transform(X), y)
    return time.perf_counter() - began


def run(ctx: BenchContext) -> Figure:
    from speakfeed_gui.core.features.batch import featurize_files
    from speakfeed_gui.core.settings.workspace import init_workspace
    from speakfeed_gui.core.training.datasets import load_dataset
    from speakfeed_gui.core.training.estimators import ESTIMATOR_NAMES
    from speakfeed_gui.core.training.trainer import run_training_experiment

    n_clips, repeats = ctx.pick(1000, 40), ctx.pick(3, 1)
    csv_path, paths = corpus_copies(ctx.folder(f"train-{n_clips}"), n_clips)
    ws = init_workspace(ctx.folder("train-ws"))
    X = featurize_files(paths, cache_dir=ws.cache_dir)  # warms the cache: the runs below read it
    labels = {c.path.name: c.label for c in load_dataset(csv_path).clips}
    y = np.array([labels[p.name] for p in paths])
    figure = Figure(KEY, TITLE, method=(
        f"A {n_clips}-clip dataset (demo-corpus copies with their own gain and dither, 5 labels, 6 voices) whose "
        "feature vectors are already in the workspace cache. *Fit* is StandardScaler + the estimator with the "
        "catalogue's default hyperparameters on all vectors. *Trainer end to end* is `run_training_experiment` "
        "(dataset check, cache look-up, speaker-grouped split, fit, held-out evaluation, skops save, registration) "
        f"in this already-warm process. {repeats} run(s) each, median (min–max). *First-run bootstrap* is a fresh "
        "`python` process running `core.demo.bootstrap` on a new workspace (imports, featurising the 180-clip demo "
        "corpus with a cold cache and a cold process pool, training, saving, aliasing), as a newcomer's first "
        "launch does in the background."))
    for model_type in ESTIMATOR_NAMES:
        fits = [_fit_only(model_type, X, y) for _ in range(repeats)]
        ends = []
        for _ in range(repeats):
            began = time.perf_counter()
            run_training_experiment(csv_path, model_type, workspace=ws, experiment_name=f"bench-{model_type}")
            ends.append(time.perf_counter() - began)
        f, e = summarize(fits), summarize(ends)
        say(f"{KEY}: {model_type}: fit {f.median:.2f} s, trainer end to end {e.median:.2f} s")
        figure.add(f"{model_type}: fit / trainer end to end ({n_clips} cached vectors)",
                   f"{f.text('s', 2, spread='range')} / {e.text('s', 2, spread='range')}")
    boots = []
    for n in range(ctx.pick(3, 1)):
        target = ctx.root / f"bootstrap-{n}"
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", _BOOTSTRAP, str(target)], check=True, env=ctx.subprocess_env(),
                       capture_output=True, timeout=300)
        boots.append(time.perf_counter() - began)
    b = summarize(boots)
    say(f"{KEY}: first-run bootstrap {b.median:.2f} s")
    figure.add("first-run bootstrap, fresh process, end to end", b.text("s", 2, spread="range"),
               f"≤ {BOOTSTRAP_GOAL_S:g} s", verdict(b.median <= BOOTSTRAP_GOAL_S))
    return figure
