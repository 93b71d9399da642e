"""Worker processes the reliability tests start, kill and race: `python -m tests.reliability.workers CMD ...`.

Each worker prints one line to stdout (flushed) right after a call returned, so every printed line is
an acknowledged write; the tests SIGKILL workers at random moments and compare.

    register REGISTRY TAG COUNT [JOURNAL_LIMIT]   register COUNT models (0: forever), print each id
    read REGISTRY STOP_FILE                       read the registry files until STOP_FILE exists
    save WORKSPACE [COUNT]                        trainer._save_and_register a fitted model COUNT times (0: forever)
    train WORKSPACE DATASET                       run_training_experiment forever
    session FOLDER [KEY_FILE]                     SessionRecorder.append forever (encrypted with a key file), print the window count
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def register(path: str, tag: str, count: str, journal_limit: str = str(256 * 1024)) -> None:
    from speakfeed_gui.core.registry.api import ModelRegistry

    registry = ModelRegistry(path, journal_limit=int(journal_limit))
    n = 0
    while int(count) == 0 or n < int(count):
        model_id = registry.register_model({
            "model_name": f"{tag}-{n}", "experiment_name": "shared", "model_path": f"shared/{tag}-{n}.skops",
            "accuracy": 0.5, "labels": ["calm", "anxious"], "description": "x" * 40,
        })
        print(model_id, flush=True)
        n += 1


def read(path: str, stop_file: str) -> None:
    """Raw files must always parse; a registry view must never shrink or lose an id it showed."""
    from speakfeed_gui.core.registry.api import ModelRegistry

    snapshot, journal = Path(path), Path(path).with_name(Path(path).stem + ".journal")
    persistent = ModelRegistry(path)
    seen: set[str] = set()
    reads = snapshot_reads = 0
    while not os.path.exists(stop_file):
        try:
            raw = snapshot.read_bytes()
        except FileNotFoundError:
            raw = None
        if raw is not None:
            data = json.loads(raw)  # a partial snapshot would raise here
            assert isinstance(data, dict) and isinstance(data.get("_generation", 0), int), raw[:200]
            snapshot_reads += 1
        before = _stat(snapshot)
        try:
            lines = journal.read_bytes().split(b"\n")
        except FileNotFoundError:
            lines = [b""]
        try:
            for line in lines[:-1]:  # complete lines only: the last one may be in progress
                op = json.loads(line)
                assert op["op"] == "put" and isinstance(op["gen"], int), line
        except (ValueError, AssertionError):
            if _stat(snapshot) == before:  # no compaction truncated the journal under this read
                raise
        now = {entry["id"] for entry in persistent.list_models()}
        cold = {entry["id"] for entry in ModelRegistry(path).list_models()}
        assert seen <= now, f"an entry disappeared: {len(seen - now)} ids"
        assert now <= cold, "a fresh reader is behind an older one"
        seen = now
        reads += 1
    print(json.dumps({"reads": reads, "snapshot_reads": snapshot_reads, "seen": len(seen)}, separators=(",", ":")), flush=True)


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


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


def train(root: str, dataset: str) -> None:
    from speakfeed_gui.core.settings.workspace import init_workspace
    from speakfeed_gui.core.training.trainer import run_training_experiment

    ws = init_workspace(root)
    while True:
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
