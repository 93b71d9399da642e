"""`speakfeed clean`: leftovers of killed saves go, saves in progress and real files stay."""

from __future__ import annotations

import os
import time
from pathlib import Path

from speakfeed_gui.cli import main
from speakfeed_gui.core.settings.workspace import init_workspace


def _age(path: Path, hours: float) -> Path:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def test_clean_deletes_old_leftovers_only(tmp_path: Path, capsys) -> None:
    ws = init_workspace(tmp_path / "ws")
    experiment = ws.models_dir / "calm-vs-anxious"
    (experiment / ".staging-0123456789ab").mkdir(parents=True)
    (experiment / ".staging-0123456789ab" / "random_forest_20260101_000000.skops").write_bytes(b"x" * 5000)
    old = [_age(experiment / ".staging-0123456789ab", 3),
           _age(_touch(experiment / ".random_forest_20260101_000000.reserved"), 2),
           _age(_touch(ws.models_dir / ".model_registry.json.k2j3.tmp"), 5)]
    young = _touch(experiment / ".staging-ffffffffffff")  # a save running right now
    kept = [_touch(experiment / "random_forest_20260101_000000_metadata.json"), _touch(ws.registry_path)]
    for path in kept:
        _age(path, 10)

    assert main(["--workspace", str(ws.root), "clean", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert all(str(path) in out for path in old) and str(young) not in out
    assert "3 leftovers" in out and all(path.exists() for path in old)

    assert main(["--workspace", str(ws.root), "clean"]) == 0
    assert "deleted 3 leftovers" in capsys.readouterr().out
    assert not any(path.exists() for path in old)
    assert young.exists() and all(path.exists() for path in kept)

    assert main(["--workspace", str(ws.root), "clean", "--min-age", "0"]) == 0
    assert not young.exists()
    assert main(["--workspace", str(ws.root), "clean"]) == 0
    assert "nothing to clean" in capsys.readouterr().out


def test_clean_rejects_a_negative_age(tmp_path: Path, capsys) -> None:
    ws = init_workspace(tmp_path / "ws")
    assert main(["--workspace", str(ws.root), "clean", "--min-age", "-5"]) == 2
    assert capsys.readouterr().err.strip() == "speakfeed: error: --min-age: expected minutes ≥ 0, got -5.0"


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path
