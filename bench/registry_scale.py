"""Figure 4: the model registry at 100 / 1,000 / 10,000 entries, side by side with MLflow's.

Also the trainer's save step end to end (skops dump, metadata, registration) against MLflow's
`log_model`, and the Model Browser's table model loading every entry (offscreen Qt).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

from bench.common import Figure, installed, ratio, repeat, summarize, verdict
from bench.context import DEMO_CSV, BenchContext, say

KEY = "registry"
TITLE = "4. Model registry at scale"
MODEL_TYPES = ("random_forest", "logistic_regression", "gradient_boosting", "svm", "mlp")
LABELS = ["anxious", "burned_out", "calm", "energetic", "frustrated"]
SAVE_GOAL_S = 0.100
LIST_GOAL_RATIO = 10.0
REGISTER_GOAL_RATIO = 3.0  # issue 14: a registration may cost up to 3x MLflow's, the file staying the seed's map
_FRESH_OURS = (
    "import sys; from speakfeed_gui.core.registry.api import ModelRegistry; "
    "ModelRegistry(sys.argv[1]).register_model({'experiment_name': 'exp-00', 'model_type': 'svm', 'accuracy': 0.9})"
)
_FRESH_MLFLOW = (
    "import sys; from bench.mlflow_peer import MlflowRegistry; from pathlib import Path; "
    "MlflowRegistry(Path(sys.argv[1])).register({'experiment_name': 'exp-00', 'model_type': 'svm', 'accuracy': 0.9})"
)


def fake_entries(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Entries shaped like the trainer's: 20 experiments, 5 model types, artifact paths (relative to the
    workspace root, as the registry stores them), hashes."""
    rng = np.random.default_rng(seed)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        experiment, model_type = f"exp-{i % 20:02d}", MODEL_TYPES[i % len(MODEL_TYPES)]
        name = f"{model_type}_{i:06d}"
        out.append({
            "experiment_name": experiment, "model_type": model_type, "model_name": name,
            "accuracy": round(float(rng.uniform(0.4, 0.95)), 4), "macro_f1": round(float(rng.uniform(0.3, 0.9)), 4),
            "labels": LABELS, "created_at": (start + timedelta(minutes=i)).isoformat(timespec="seconds"),
            "description": f"benchmark entry {i}", "tags": ["bench"], "speaker_independent": True,
            "dataset_sha256": f"{rng.integers(1 << 62):064x}", "n_clips": 1000,
            "model_path": f"models/{experiment}/{name}.skops", "scaler_path": f"models/{experiment}/{name}_scaler.skops",
            "metadata_path": f"models/{experiment}/{name}_metadata.json",
            "metadata_sha256": f"{rng.integers(1 << 62):064x}", "extra_files": [f"models/{experiment}/{name}_split.json"],
        })
    return out


def _ours(path: Path, entries: list[dict[str, Any]], new_entry: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    """Our registry filled with `entries` through the API; the operations to time."""
    from speakfeed_gui.core.registry.api import ModelRegistry

    registry = ModelRegistry(path)
    ids = [registry.register_model(entry) for entry in entries]
    return {
        "register": lambda: registry.register_model(new_entry),
        "register_cold": lambda: ModelRegistry(path).register_model(new_entry),
        "alias": lambda: registry.set_alias("bench", ids[len(ids) // 2]),  # a whole-file rewrite
        "list": registry.list_models,
        "list_cold": lambda: ModelRegistry(path).list_models(),
        "filter": lambda: [e for e in registry.list_models() if e.get("model_type") == "svm"],
    }


def _theirs(folder: Path, entries: list[dict[str, Any]], new_entry: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    from bench.mlflow_peer import MlflowRegistry

    registry = MlflowRegistry(folder)
    registry.fill(entries)
    return {
        "register": lambda: registry.register(new_entry),
        "alias": lambda: registry.set_alias("bench", entries[len(entries) // 2]["experiment_name"], 2),
        "list": registry.list_all,
        "filter": lambda: registry.list_all("tags.model_type = 'svm'"),
    }


def _alternating(sides: dict[str, dict[str, Callable[[], Any]]], repeats: int) -> dict[str, dict[str, list[float]]]:
    """Seconds per call of each operation, the sides taking turns call by call (after one warm-up call each)."""
    out: dict[str, dict[str, list[float]]] = {side: {} for side in sides}
    for op in dict.fromkeys(op for ops in sides.values() for op in ops):
        having = [side for side in sides if op in sides[side]]
        for side in having:
            sides[side][op]()
            out[side][op] = []
        for _ in range(repeats):
            for side in having:
                began = time.perf_counter()
                sides[side][op]()
                out[side][op].append(time.perf_counter() - began)
    return out


def _fresh_process(code: str, target: Path, ctx: BenchContext, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, str(target)], check=True, capture_output=True, timeout=120,
                       env=ctx.subprocess_env(MLFLOW_DISABLE_TELEMETRY="true", GIT_PYTHON_REFRESH="quiet"))
        times.append(time.perf_counter() - began)
    return times


def _ms(values: list[float]) -> str:
    return summarize([v * 1e3 for v in values]).text("ms", 2)


def _compare(figure: Figure, what: str, ours: list[float], theirs: list[float] | None, goal: str = "",
             ok: bool | None = None, missing: str = "MLflow not installed") -> None:
    if theirs is None:
        figure.add(what, _ms(ours), goal, verdict(ok), missing, "")
    else:
        figure.add(what, _ms(ours), goal, verdict(ok), _ms(theirs), f"MLflow takes {ratio(theirs, ours):.1f}×")


def _save_step(ctx: BenchContext, model_type: str, params: dict[str, Any]) -> tuple[list[float], Any]:
    """Seconds between the trainer's ("save", 0) and ("save", 1) progress reports, and the last model id."""
    from speakfeed_gui.core.training.trainer import run_training_experiment

    ws = ctx.trained_workspace()  # its feature cache already holds the demo corpus
    times, model_id = [], None
    for _ in range(ctx.pick(5, 1)):
        marks: dict[int, float] = {}

        def progress(stage: str, done: int, total: int, message: str = "") -> None:
            if stage == "save":
                marks[done] = time.perf_counter()  # noqa: B023  (called within the iteration)

        model_id = run_training_experiment(DEMO_CSV, model_type, params, workspace=ws, progress=progress,
                                           experiment_name=f"bench-save-{model_type}")
        times.append(marks[1] - marks[0])
    return times, model_id


def table_timings(path: Path, repeats: int) -> dict[str, list[float]]:
    """In this (fresh) process: the Model Browser's table model and tab over every entry, offscreen Qt."""
    from PySide6.QtWidgets import QApplication

    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.settings.workspace import init_workspace
    from speakfeed_gui.ui.browser_tab import BrowserTab
    from speakfeed_gui.ui.context import AppContext
    from speakfeed_gui.ui.registry_table import RegistryFilterProxy, RegistryTableModel, trained_row

    app = QApplication.instance() or QApplication([])
    model, proxy = RegistryTableModel(), RegistryFilterProxy()
    proxy.setSourceModel(model)

    def load() -> None:
        model.set_rows([trained_row(e) for e in ModelRegistry(path).list_models()])

    def search() -> None:
        proxy.set_search("svm")
        proxy.set_search("")

    workspace = init_workspace(path.parent.parent)
    opened = []

    def first_show() -> None:
        context = AppContext(workspace, poll_ms=0)
        tab = BrowserTab(context)
        tab.resize(1200, 700)
        tab.show()
        app.processEvents()
        opened.append((context, tab))

    out = {"load": repeat(load, repeats), "search": repeat(search, repeats), "first_show": repeat(first_show, repeats)}
    context, tab = opened[-1]

    def refresh() -> None:
        context.notify_registry_changed()  # what F5 or a registry change seen by the poll timer does
        app.processEvents()

    out["refresh"] = repeat(refresh, repeats)
    for context, tab in opened:
        tab.close()
        context.shutdown()
    return out


def _table(figure: Figure, path: Path, ctx: BenchContext) -> None:
    from speakfeed_gui.core.registry.api import ModelRegistry

    n = len(ModelRegistry(path))
    done = subprocess.run([sys.executable, "-m", "bench.registry_scale", str(path), str(ctx.pick(7, 1))],
                          capture_output=True, text=True, timeout=600, env=ctx.subprocess_env(), check=True)
    times = json.loads(done.stdout.strip().splitlines()[-1])
    figure.add(f"Model Browser table model: read registry (new handle) + build rows + set_rows, {n:,} entries",
               _ms(times["load"]))
    figure.add(f"Model Browser search box: filter {n:,} rows and clear", _ms(times["search"]))
    figure.add(f"Model Browser tab: create, read {n:,} entries (new handle), show and paint", _ms(times["first_show"]))
    figure.add(f"Model Browser tab: refresh with {n:,} entries (rows rebuilt, repainted)", _ms(times["refresh"]))


def run(ctx: BenchContext) -> Figure:
    sizes = ctx.pick((100, 1_000, 10_000), (100,))
    repeats = ctx.pick(15, 2)
    peer = installed("mlflow") and installed("sqlalchemy")
    figure = Figure(KEY, TITLE, method=(
        "Registries of N entries shaped like the trainer's (20 experiments, 5 model types, artifact paths, hashes). "
        "Ours: `ModelRegistry` filled through `register_model` (each one fsync'd). MLflow: its model registry on a "
        "local SQLite file (`MlflowClient`), one model *version* per entry, our experiment name as the registered "
        "model and the entry's fields as version tags (see bench/mlflow_peer.py). *Register* adds one model with "
        "an open handle (a long-running app); *cold* opens a new `ModelRegistry` first, which re-reads the files. "
        "*List* returns every entry (MLflow: `search_model_versions` paged to the end); *filter* selects one "
        "model type (ours: list + Python filter; MLflow: a tag filter in SQL). "
        f"{repeats} timed repeats after one warm-up, the two sides taking turns call by call; register repeats each "
        "add one more entry. The Model Browser rows "
        "run in a fresh process (offscreen Qt) over the largest registry. *Save + register* "
        "is the trainer's save step (the time between its `save` progress reports: metadata, split manifest, "
        "skops dump of classifier and scaler, hashes, registration) on the demo corpus; MLflow's counterpart is "
        "`mlflow.sklearn.log_model` of a Pipeline(scaler, classifier) with `registered_model_name`, defaults. "
        "Our registration appends one line in place over models/model_registry.json's closing brace (pending "
        "record fsync'd, then pwrite + fsync), so the file stays the seed's complete map; *set alias* is one of "
        "the changes that rewrite the whole file (temp file + fsync + rename; MLflow: "
        "`set_registered_model_alias`)."))
    if not peer:
        figure.notes.append("MLflow is not installed (pip install -r bench/requirements.txt): only our side measured.")
    root = ctx.folder("registry")
    new_entry = fake_entries(1, seed=99)[0]
    biggest = None
    for n in sizes:
        entries = fake_entries(n, seed=n)
        path = root / f"ours-{n}" / "models" / "model_registry.json"
        sides = {"ours": _ours(path, entries, new_entry)}
        if peer:
            sides["mlflow"] = _theirs(root / f"mlflow-{n}", entries, new_entry)
        timed = _alternating(sides, repeats)
        ours, theirs = timed["ours"], timed.get("mlflow")
        say(f"{KEY}: {n} entries: register {np.median(ours['register']) * 1e3:.2f} ms, list "
            f"{np.median(ours['list']) * 1e3:.2f} ms" + (f"; MLflow register {np.median(theirs['register']) * 1e3:.1f} ms, "
                                                          f"list {np.median(theirs['list']) * 1e3:.1f} ms" if theirs else ""))
        top = n == max(sizes)
        get = (lambda key: theirs[key]) if theirs else (lambda key: None)  # noqa: B023
        ok_reg = (ratio(ours["register"], theirs["register"]) <= REGISTER_GOAL_RATIO) if theirs and top else None
        ok_list = (ratio(theirs["list"], ours["list"]) >= LIST_GOAL_RATIO) if theirs and top else None
        _compare(figure, f"register one model into {n:,}", ours["register"], get("register"),
                 f"≤ {REGISTER_GOAL_RATIO:g}× MLflow's time" if top else "", ok_reg)
        figure.add(f"  register one model into {n:,}, cold handle", _ms(ours["register_cold"]))
        _compare(figure, f"list all {n:,}", ours["list"], get("list"), f"≥ {LIST_GOAL_RATIO:g}× faster than MLflow" if top else "",
                 ok_list)
        figure.add(f"  list all {n:,}, cold handle (parse the files)", _ms(ours["list_cold"]))
        _compare(figure, f"filter {n:,} by model type", ours["filter"], get("filter"))
        _compare(figure, f"set an alias among {n:,} (ours: rewrites the whole file)", ours["alias"], get("alias"))
        biggest = path
    fresh = ctx.pick(3, 1)
    mine = _fresh_process(_FRESH_OURS, biggest, ctx, fresh)
    other = _fresh_process(_FRESH_MLFLOW, root / f"mlflow-{max(sizes)}", ctx, fresh) if peer and not ctx.smoke else None
    _compare(figure, f"register one model into {max(sizes):,} from a fresh `python` process (imports included)", mine, other,
             missing="not run in smoke mode" if peer else "MLflow not installed")
    _table(figure, biggest, ctx)
    for model_type, params in ctx.pick(((MODEL_TYPES[1], None), (MODEL_TYPES[0], None)), ((MODEL_TYPES[1], None),)):
        saves, model_id = _save_step(ctx, model_type, params)
        theirs_save = None
        if peer:
            from bench.mlflow_peer import log_model_seconds
            from speakfeed_gui.core.training.trainer import load_model

            classifier, scaler, _ = load_model(model_id, ctx.trained_workspace())
            theirs_save = [log_model_seconds(root / "mlflow-log-model", classifier, scaler, f"bench-{model_type}")
                           for _ in range(ctx.pick(3, 1))]
        say(f"{KEY}: save + register {model_type}: {np.median(saves) * 1e3:.1f} ms")
        _compare(figure, f"save + register a freshly trained {model_type} (trainer's save step)", saves, theirs_save,
                 f"≤ {SAVE_GOAL_S * 1e3:g} ms", bool(np.median(saves) <= SAVE_GOAL_S))
    return figure


if __name__ == "__main__":  # python -m bench.registry_scale REGISTRY_JSON REPEATS
    print(json.dumps(table_timings(Path(sys.argv[1]), int(sys.argv[2]))))
