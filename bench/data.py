"""Benchmark datasets made from the bundled demo corpus (no download).

`corpus_copies(folder, n)` writes n distinct clips (the 180 demo clips cycled, each copy with its
own gain and a faint dither, so every file has its own content hash and the feature cache cannot
share work between copies) plus a `dataset.csv` with path, label and speaker columns.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from bench.context import DEMO_CSV


def demo_rows() -> list[dict[str, str]]:
    with open(DEMO_CSV, newline="") as handle:
        return list(csv.DictReader(handle))


def corpus_copies(folder: Path, n: int, *, rate: int = 16_000, suffix: str = ".wav") -> tuple[Path, list[Path]]:
    """(csv path, clip paths); reused when the folder already holds them."""
    import soundfile as sf

    from speakfeed_gui.core.audio.decode import load_audio, resample

    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "dataset.csv"
    rows = demo_rows()
    paths = [folder / f"clip{i:05d}{suffix}" for i in range(n)]
    if csv_path.exists() and all(p.exists() for p in paths):
        return csv_path, paths
    rng = np.random.default_rng(n)
    sources: dict[str, np.ndarray] = {}
    with open(csv_path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "speaker"])
        for i, path in enumerate(paths):
            row = rows[i % len(rows)]
            if row["path"] not in sources:
                sources[row["path"]] = resample(load_audio(DEMO_CSV.parent / row["path"]), 16_000, rate)
            audio = sources[row["path"]] * rng.uniform(0.6, 1.0) + rng.normal(0, 2e-4, sources[row["path"]].size)
            sf.write(str(path), np.clip(audio, -1, 1).astype(np.float32), rate, subtype="PCM_16")
            writer.writerow([path.name, row["label"], row["speaker"]])
    return csv_path, paths


def audio_seconds(paths: list[Path]) -> float:
    import soundfile as sf

    return float(sum(sf.info(str(p)).duration for p in paths))
