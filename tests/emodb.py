"""Real speech for tests: the EmoDB subset bundled in resources/emodb (7 actors, CC0-1.0)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

EMODB = Path(__file__).resolve().parents[1] / "resources" / "emodb"


def emodb_rows() -> list[dict[str, str]]:
    """`path,label,speaker` rows of the bundled dataset.csv, paths made absolute."""
    with (EMODB / "dataset.csv").open(encoding="utf-8", newline="") as handle:
        return [{**row, "path": str(EMODB / row["path"])} for row in csv.DictReader(handle)]


def write_subset(folder: Path, speakers: Iterable[str], labels: Iterable[str], per_cell: int = 2,
                 name: str = "subset.csv") -> Path:
    """A dataset CSV of the first `per_cell` clips of each (speaker, EmoDB label): real files, real labels."""
    speakers, labels = set(speakers), set(labels)
    taken: dict[tuple[str, str], int] = {}
    rows = []
    for row in emodb_rows():
        key = (row["speaker"], row["label"])
        if row["speaker"] in speakers and row["label"] in labels and taken.get(key, 0) < per_cell:
            taken[key] = taken.get(key, 0) + 1
            rows.append(row)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["path", "label", "speaker"])
        writer.writeheader()
        writer.writerows(rows)
    return path
