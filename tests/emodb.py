"""Real speech for tests: the EmoDB subset (CC0), read from resources/emodb when bundled, else the shared copy.

Layout (both places): dataset.csv (path,label,speaker), syllables.csv (path,syllables,first_onset_s,end_s,whole)
and wav/*.flac, 16 kHz mono, every clip 2.0 s.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
CANDIDATES = (REPO / "resources" / "emodb", REPO.parent / "shared" / "corpora" / "emodb",
              REPO.parents[1] / "shared" / "corpora" / "emodb")


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
    """The first place holding the subset, or None (bench/ uses this too)."""
    return next((root for root in CANDIDATES if (root / "syllables.csv").is_file()), None)


def emodb_root() -> Path:
    root = find_root()
    if root is None:
        pytest.skip("EmoDB is not in resources/emodb (nor in ../shared/corpora/emodb)")
    return root


def utterances(root: Path | None = None) -> list[Utterance]:
    root = root or emodb_root()
    with open(root / "dataset.csv", newline="") as handle:
        speakers = {row["path"]: row["speaker"] for row in csv.DictReader(handle)}
    with open(root / "syllables.csv", newline="") as handle:
        return [Utterance(root / row["path"], speakers[row["path"]], int(row["syllables"]), float(row["first_onset_s"]),
                          float(row["end_s"]), row["whole"] == "1") for row in csv.DictReader(handle)]
