"""The benchmarks still run: `python -m bench.run --smoke` in a subprocess writes its results file.

No timing is asserted (timings belong in bench/BENCHMARKS.md); this only keeps the benchmark code
from rotting as the app changes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
@pytest.mark.mic
def test_smoke_run_writes_every_figure(tmp_path):
    from bench.run import FIGURES

    out = tmp_path / "results" / "BENCHMARKS.md"
    committed = REPO / "bench" / "BENCHMARKS.md"
    before = committed.read_bytes() if committed.exists() else None
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "bench.run", "--smoke", "--out", str(out)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# SpeakFeed benchmarks") and "Smoke mode" in text
    assert "This figure failed" not in text
    for module in FIGURES.values():
        assert f"## {module.TITLE}" in text, module.TITLE
    assert "CPU:" in text and "numpy" in text  # machine and library versions are recorded
    assert (committed.read_bytes() if committed.exists() else None) == before  # the real results file is untouched
