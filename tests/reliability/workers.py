"""Worker processes the reliability tests start, kill and race: `python -m tests.reliability.workers CMD ...`.

Each worker prints one line to stdout (flushed) right after a call returned, so every printed line is
an acknowledged write; the tests SIGKILL workers at random moments and compare.

    register REGISTRY TAG COUNT     register COUNT models (0: forever), print each id
    read REGISTRY STOP_FILE         read the registry file until STOP_FILE exists
    save WORKSPACE [COUNT]          trainer._save_and_register a fitted model COUNT times (0: forever)
    train WORKSPACE DATASET [COUNT] run_training_experiment COUNT times (0: forever)
    session FOLDER [KEY_FILE]       SessionRecorder.append forever (encrypted with a key file), print the window count
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def register(path: str, tag: str, count: str) -> None:
    from speakfeed_gui.core.registry.api import ModelRegistry

    registry = ModelRegistry(path)
    n = 0
    while int(count) == 0 or n < int(count):
        model_id = registry.register_model({
            "model_name": f"{tag}-{n}", "experiment_name": "shared", "model_path": f"shared/{tag}-{n}.skops",
            "accuracy": 0.5, "labels": ["calm", "anxious"], "description": "x" * 40,
        })
        print(model_id, flush=True)
        n += 1


def read(path: str, stop_file: str) -> None:
    """The raw file must parse whenever no write is in progress (read under the shared lock, as any
    reader that needs it may); a registry view must never shrink or lose an id it showed."""
    import fcntl

    from speakfeed_gui.core.registry.api import ModelRegistry

    registry_file = Path(path)
    persistent = ModelRegistry(path)
    seen: set[str] = set()
    reads = raw_reads = unlocked_torn = 0
    with open(f"{path}.lock", "a") as lock:
        while not os.path.exists(stop_file):
            fcntl.flock(lock, fcntl.LOCK_SH)  # writers hold LOCK_EX on it (filelock) while they write
            try:
                raw = registry_file.read_bytes() if registry_file.exists() else None
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
            if raw is not None:
                data = json.loads(raw)  # a partial file would raise here
                assert isinstance(data, dict) and not any(key.startswith("_") for key in data), raw[:200]
                raw_reads += 1
            try:  # without the lock, a read may catch an append mid-write: counted, not asserted
                json.loads(registry_file.read_bytes())
            except FileNotFoundError:
                pass
            except ValueError:
                unlocked_torn += 1
            now = {entry["id"] for entry in persistent.list_models()}
            cold = {entry["id"] for entry in ModelRegistry(path).list_models()}
            assert seen <= now, f"an entry disappeared: {len(seen - now)} ids"
            assert now <= cold, "a fresh reader is behind an older one"
            seen = now
            reads += 1
    print(json.dumps({"reads": reads, "raw_reads": raw_reads, "unlocked_torn": unlocked_torn, "seen": len(seen)},
                     separators=(",", ":")), flush=True)


def _fitted() -> tuple[object, object]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 80))
    y = np.array(["calm", "energetic"] * 15)
    scaler = StandardScaler().fit(X)
    return LogisticRegression(max_iter=200).fit(scaler.transform(X), y), scaler


def save(root: str, count: str = "0") -> None:
    from speakfeed_gui.core.settings.workspace import init_workspace
    from speakfeed_gui.core.training.trainer import _save_and_register

    ws = init_workspace(root)
    estimator, scaler = _fitted()
    for _ in iter(int, 1) if int(count) == 0 else range(int(count)):
        metadata = {"experiment_name": "crash", "labels": ["calm", "energetic"], "feature_set": {}}
        entry = {"experiment_name": "crash", "model_type": "logistic_regression", "accuracy": 1.0}
        manifest = {"train": [{"path": "a.wav", "label": "calm"}], "test": []}
        print(_save_and_register(ws, "crash", "logistic_regression", estimator, scaler, metadata, manifest, entry),
              flush=True)


def train(root: str, dataset: str, count: str = "0") -> None:
    from speakfeed_gui.core.settings.workspace import init_workspace
    from speakfeed_gui.core.training.trainer import run_training_experiment

    ws = init_workspace(root)
    for _ in iter(int, 1) if int(count) == 0 else range(int(count)):
        print(run_training_experiment(dataset, "logistic_regression", experiment_name="crash", workspace=ws), flush=True)


def session(folder: str, key_file: str = "") -> None:
    from speakfeed_gui.core.live.session import SessionRecorder
    from speakfeed_gui.core.storage.crypto import KeySource

    cipher = KeySource(key_file).cipher(create=True) if key_file else None
    recorder = SessionRecorder(folder, model_info={"name": "dummy", "version": "1.0"}, settings={"window_seconds": 1.0},
                               record_audio=True, flush_seconds=0.0, cipher=cipher)
    print(recorder.path.name, flush=True)
    n = 0
    while True:
        recorder.write_audio([0.1] * 800)
        recorder.append({"t_start": n * 0.05, "t_end": n * 0.05 + 1.0, "label": "calm", "probabilities": {"calm": 1.0}})
        n += 1
        print(n, flush=True)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    {"register": register, "read": read, "save": save, "train": train, "session": session}[command](*arguments)
