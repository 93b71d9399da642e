"""Real speech for tests: the EmoDB subset bundled in resources/emodb (7 actors, CC0-1.0).

Layout: dataset.csv (path,label,speaker), syllables.csv (path,syllables,first_onset_s,end_s,whole) and
wav/*.flac, 16 kHz mono, every clip 2.0 s.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

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


@dataclass(frozen=True)
class Utterance:
    path: Path
    speaker: str
    syllables: int
    first_onset_s: float
    end_s: float
    whole: bool

    @property
    def rate(self) -> float:
        """The hand-counted speaking rate: syllables over the span they fill."""
        return self.syllables / (self.end_s - self.first_onset_s)

    def audio(self) -> np.ndarray:
        import soundfile as sf

        samples, rate = sf.read(str(self.path), dtype="float32")
        assert rate == 16000
        return samples


def find_root() -> Path | None:
    """The bundled subset (bench/ uses this too)."""
    return EMODB if (EMODB / "syllables.csv").is_file() else None


def emodb_root() -> Path:
    assert find_root() is not None, f"{EMODB}: the bundled EmoDB subset is missing"
    return EMODB


def utterances(root: Path | None = None) -> list[Utterance]:
    """Every hand-counted utterance (syllables.csv) with its speaker."""
    root = root or emodb_root()
    with open(root / "dataset.csv", newline="") as handle:
        speakers = {row["path"]: row["speaker"] for row in csv.DictReader(handle)}
    with open(root / "syllables.csv", newline="") as handle:
        return [Utterance(root / row["path"], speakers[row["path"]], int(row["syllables"]), float(row["first_onset_s"]),
                          float(row["end_s"]), row["whole"] == "1") for row in csv.DictReader(handle)]
