"""The registry across real processes: parallel writers, SIGKILL mid-write, readers during writes."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.workspace import init_workspace

# A writer process: registers `count` models (forever if 0) and prints each id once it is acknowledged.
WRITER = textwrap.dedent("""
    import sys
    from speakfeed_gui.core.registry.api import ModelRegistry
    path, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    registry = ModelRegistry(path)
    n = 0
    while count == 0 or n < count:
        model_id = registry.register_model({
            "model_name": f"{tag}-{n}", "experiment_name": "shared",
            "model_path": f"shared/{tag}-{n}.skops", "accuracy": 0.5, "labels": ["calm", "anxious"],
        })
        print(model_id, flush=True)
        n += 1
""")


def _writer(path: Path, tag: str, count: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), tag, str(count)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _finish(proc: subprocess.Popen) -> list[str]:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out.split()


def test_parallel_writers_lose_no_entry(tmp_path: Path) -> None:
    path = init_workspace(tmp_path).registry_path
    writers = [_writer(path, f"w{i}", 25) for i in range(4)]
    printed = [i for proc in writers for i in _finish(proc)]
    registry = ModelRegistry(path)
    models = registry.list_models()
    assert len(printed) == 100 and sorted(m["id"] for m in models) == sorted(printed)
    assert sorted(m["version"] for m in models) == list(range(1, 101))  # versions assigned under the lock
    assert sorted(json.loads(path.read_text())) == sorted(printed)  # the plain file lists every model


@pytest.mark.parametrize("round_", range(4))
def test_sigkill_keeps_every_acknowledged_registration(tmp_path: Path, round_: int) -> None:
    path = init_workspace(tmp_path).registry_path
    rng = random.Random(round_)
    acknowledged: list[str] = []
    for kill in range(3):
        proc = _writer(path, f"k{kill}", 0)
        assert proc.stdout.readline().strip()  # it is registering
        time.sleep(rng.uniform(0.02, 0.25))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        # The first line was read above; ids printed before the kill are acknowledged.
        lines = out.split()
        acknowledged += lines
        present = {m["id"] for m in ModelRegistry(path).list_models()}  # rolls back a torn append
        assert set(acknowledged) <= present, f"lost {len(set(acknowledged) - present)} acknowledged ids"
        assert set(json.loads(path.read_text())) == present
    registry = ModelRegistry(path)
    new = registry.register_model({"model_name": "after", "experiment_name": "shared"})
    assert ModelRegistry(path).get_model_info(new)["model_name"] == "after"


def test_reader_never_sees_a_broken_registry_while_writers_write(tmp_path: Path) -> None:
    path = init_workspace(tmp_path).registry_path
    writers = [_writer(path, f"w{i}", 150) for i in range(2)]
    persistent = ModelRegistry(path)
    counts, reads = [], 0
    while any(proc.poll() is None for proc in writers) or reads < 5:
        counts.append(len(persistent.list_models()))  # incremental reads of the appended bytes
        assert len(ModelRegistry(path).list_models()) >= counts[-1]  # a cold read is never behind
        reads += 1
    printed = [i for proc in writers for i in _finish(proc)]
    assert counts == sorted(counts), "an entry disappeared from a reader's view"
    assert {m["id"] for m in persistent.list_models()} == set(printed)
    assert len(set(counts)) > 3, "the reader did not overlap the writers"
