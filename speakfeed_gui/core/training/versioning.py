"""Data versioning: a content fingerprint of a dataset and reproducible train/test splits.

The fingerprint plays the role of DVC's directory hash: it changes when any clip's bytes, label,
speaker or relative path change, and it is recorded next to every trained model together with
the split manifest, so a result can be traced to the exact data it came from.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from speakfeed_gui.core.errors import DatasetError
from speakfeed_gui.core.progress import CancelToken
from speakfeed_gui.core.storage.hashing import content_hashes

log = logging.getLogger(__name__)

def relative_name(path: Path, root: Path) -> str:
    """POSIX path relative to the dataset root (absolute when the file lies outside it).

    Lexical (`abspath`), not `resolve()`: a clip reached through a symlink keeps its name in the
    dataset, and no file-system walk per clip.
    """
    absolute, base = os.path.abspath(path), os.path.abspath(root)
    try:
        inside = os.path.commonpath([absolute, base]) == base
    except ValueError:  # another drive (Windows)
        inside = False
    return Path(os.path.relpath(absolute, base) if inside else absolute).as_posix()


def dataset_fingerprint(clips: Sequence[Any], root: Path, *, cancel: CancelToken | None = None) -> dict[str, Any]:
    """sha256 over the sorted (relative path, label, speaker, content sha256) of every clip, plus counts."""
    hashes = content_hashes([c.path for c in clips], cancel=cancel)
    rows = sorted(
        (relative_name(c.path, root), c.label, c.speaker or "", digest) for c, digest in zip(clips, hashes)
    )
    digest = hashlib.sha256()
    for row in rows:
        digest.update(("\t".join(row) + "\n").encode("utf-8"))
    counts = Counter(c.label for c in clips)
    return {
        "sha256": digest.hexdigest(),
        "n_clips": len(clips),
        "n_labels": len(counts),
        "label_counts": dict(sorted(counts.items())),
        "n_speakers": len({c.speaker for c in clips if c.speaker}),
    }


@dataclass
class Split:
    """Indices into the clip list; `grouped` means no speaker is on both sides."""

    train: list[int]
    test: list[int]
    grouped: bool
    seed: int
    test_fraction: float

    def to_manifest(self, clips: Sequence[Any], root: Path) -> dict[str, Any]:
        def side(indices: list[int]) -> list[dict[str, Any]]:
            return [
                {"path": relative_name(clips[i].path, root), "label": clips[i].label, "speaker": clips[i].speaker}
                for i in indices
            ]

        return {
            "train": side(self.train),
            "test": side(self.test),
            "grouped": self.grouped,
            "seed": self.seed,
            "test_fraction": self.test_fraction,
        }


def _use_groups(speakers: Sequence[str | None], group_by_speaker: bool) -> bool:
    """Decide whether the split holds out whole speakers; explain when it cannot."""
    if not group_by_speaker or all(s is None for s in speakers):
        if group_by_speaker:
            log.info("speakers unknown: splitting clips without speaker grouping")
        return False
    missing = sum(s is None for s in speakers)
    if missing:
        raise DatasetError(
            f"{missing} of {len(speakers)} clips have no speaker: fill in every speaker "
            "or turn off the speaker-independent split"
        )
    distinct = sorted(set(speakers))  # type: ignore[arg-type]
    if len(distinct) < 2:
        raise DatasetError(
            f"only 1 speaker ({distinct[0]}): cannot hold out speakers; turn off the speaker-independent split"
        )
    return True


def _check_labels(labels: Sequence[str], minimum: int) -> Counter:
    counts = Counter(labels)
    if len(counts) < 2:
        raise DatasetError(f"need at least 2 labels to train and test, got {len(counts)} ({', '.join(counts)})")
    few = sorted(label for label, n in counts.items() if n < minimum)
    if few:
        raise DatasetError(f"label(s) {', '.join(few)} have fewer than {minimum} clips; add clips or drop the label")
    return counts


def _stratified_holdout(labels: Sequence[str], test_fraction: float, seed: int) -> list[int]:
    """Per-label shuffled hold-out sized by largest remainders; every label keeps >= 1 train clip."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    names = sorted(by_label)
    exact = np.array([len(by_label[n]) * test_fraction for n in names])
    sizes = np.floor(exact).astype(int)
    target = max(1, int(round(len(labels) * test_fraction)))
    for k in np.argsort(-(exact - sizes), kind="stable")[: max(0, target - sizes.sum())]:
        sizes[k] += 1
    test: list[int] = []
    for name, size in zip(names, sizes):
        members = list(rng.permutation(by_label[name]))
        test += [int(i) for i in members[: min(size, len(members) - 1)]]
    return sorted(test)


def _grouped_folds(
    labels: Sequence[str], speakers: Sequence[str | None], folds: int, seed: int
) -> list[tuple[list[int], list[int]]]:
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    dummy = np.zeros(len(labels))
    return [
        (sorted(map(int, tr)), sorted(map(int, te)))
        for tr, te in splitter.split(dummy, np.asarray(labels), np.asarray(speakers))
    ]


def make_split(
    labels: Sequence[str],
    speakers: Sequence[str | None],
    *,
    test_fraction: float = 0.2,
    seed: int = 0,
    group_by_speaker: bool = True,
) -> Split:
    """Seeded, stratified train/test split, holding out whole speakers when speakers are known."""
    if not 0.0 < test_fraction < 1.0:
        raise DatasetError(f"test fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    if len(labels) != len(speakers):
        raise ValueError("labels and speakers must have the same length")
    counts = _check_labels(labels, 2)
    grouped = _use_groups(speakers, group_by_speaker)
    if not grouped:
        test = _stratified_holdout(labels, test_fraction, seed)
        train = sorted(set(range(len(labels))) - set(test))
    else:
        n_speakers = len(set(speakers))
        folds = min(max(2, int(round(1 / test_fraction))), n_speakers)
        if folds < round(1 / test_fraction):
            log.info(
                "only %d speakers: holding out about 1/%d of the clips instead of %.0f%%",
                n_speakers, folds, 100 * test_fraction,
            )
        target = len(labels) * test_fraction
        usable = [
            (tr, te)
            for tr, te in _grouped_folds(labels, speakers, folds, seed)
            if set(labels[i] for i in tr) == set(counts)
        ]
        if not usable:
            voices: dict[str, set] = {}
            for label, speaker in zip(labels, speakers):
                voices.setdefault(label, set()).add(speaker)
            lonely = sorted(label for label, who in voices.items() if len(who) < 2)
            raise DatasetError(
                "no speaker-independent split keeps every label in training"
                + (f" (label(s) {', '.join(lonely)} come from only 1 speaker)" if lonely else "")
                + "; add speakers or turn off the speaker-independent split"
            )
        train, test = min(usable, key=lambda fold: abs(len(fold[1]) - target))
    missing = sorted(set(counts) - {labels[i] for i in test})
    if missing:
        log.warning("test set has no clips of %s; its scores will not cover those labels", ", ".join(missing))
    return Split(train=list(train), test=list(test), grouped=grouped, seed=seed, test_fraction=test_fraction)


LOSO = "loso"


def check_cv(value: int | str) -> int | str:
    """`loso`, 0 (off) or 2-20 folds; accepts the CLI's strings ('loso', '5')."""
    from speakfeed_gui.core.errors import HyperparameterError

    if isinstance(value, str):
        text = value.strip().lower()
        if text in (LOSO, "leave-one-speaker-out"):
            return LOSO
        if not text.isdigit():
            raise HyperparameterError(f"cross-validation {value!r}: expected loso, 0 (off) or 2 to 20 folds")
        value = int(text)
    if isinstance(value, bool) or not isinstance(value, int) or value == 1 or not 0 <= value <= 20:
        raise HyperparameterError(f"cross-validation folds {value!r}: expected loso, 0 (off) or 2 to 20")
    return value


def cv_splits(
    labels: Sequence[str],
    speakers: Sequence[str | None],
    *,
    folds: int | str,
    seed: int,
    group_by_speaker: bool = True,
) -> list[tuple[list[int], list[int]]]:
    """Stratified k-fold (grouped by speaker when known), or `loso`: one fold per speaker.

    Every clip is in exactly one test fold, so the folds' predictions can be pooled.
    """
    if folds == LOSO:
        if not _use_groups(speakers, True):
            raise DatasetError("leave-one-speaker-out needs a speaker for every clip; the dataset has none")
        _check_labels(labels, 2)
        from sklearn.model_selection import LeaveOneGroupOut

        splitter = LeaveOneGroupOut()
        return [
            (sorted(map(int, tr)), sorted(map(int, te)))
            for tr, te in splitter.split(np.zeros(len(labels)), groups=np.asarray(speakers))
        ]
    if not isinstance(folds, int) or folds < 2:
        raise DatasetError(f"cross-validation needs at least 2 folds, got {folds}")
    _check_labels(labels, folds)
    if _use_groups(speakers, group_by_speaker):
        n_speakers = len(set(speakers))
        if folds > n_speakers:
            raise DatasetError(
                f"{folds} folds need at least {folds} speakers, the data has {n_speakers}; use fewer folds"
            )
        return _grouped_folds(labels, speakers, folds, seed)
    from sklearn.model_selection import StratifiedKFold

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return [
        (sorted(map(int, tr)), sorted(map(int, te)))
        for tr, te in splitter.split(np.zeros(len(labels)), np.asarray(labels))
    ]
