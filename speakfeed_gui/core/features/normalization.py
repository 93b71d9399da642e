"""Per-speaker feature normalisation: batch z-scoring for training, a running form for live use.

Why: a voice's own level, pitch and timbre move every feature more than emotion does, so a model
that sees features relative to the speaker's own typical values generalises to unseen voices far
better (nkululeko's `scale = speaker`; issue 15 measures it on EmoDB, see bench/BENCHMARKS.md).

- `zscore_by_speaker(X, speakers)`: every feature z-scored within each speaker with that speaker's
  own clips (training, cross-validation, a labelled batch of one speaker at prediction time).
- `SessionNormalizer`: the same idea for one speaker talking live: running mean and variance of
  the windows heard so far (Welford), shrunk toward the training population's statistics while
  only a few windows are in, so the first predictions of a session are not pure noise. An
  optional calibration (`calibrate`) feeds a short recording in before the talk starts.

The numbers stored with a model (`NormalizationSpec.to_metadata`) are plain JSON lists, so the
metadata file carries everything prediction needs; no extra artifact file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from speakfeed_gui.core.errors import DatasetError, HyperparameterError

NORMALIZE_CHOICES = ("none", "speaker")
# A feature with (almost) no spread within a speaker is only centred, not blown up.
_MIN_STD = 1e-6
# Pseudo-count of the training population's statistics in a live session: after this many windows
# the speaker's own statistics weigh as much as the prior.
DEFAULT_PRIOR_WEIGHT = 8.0


def check_normalize(value: str) -> str:
    """The normalisation name, or a HyperparameterError listing the choices."""
    if value not in NORMALIZE_CHOICES:
        raise HyperparameterError(f"normalize {value!r}: choose one of {', '.join(NORMALIZE_CHOICES)}")
    return value


def zscore_by_speaker(X: np.ndarray, speakers: Sequence[str | None]) -> np.ndarray:
    """X with every column z-scored within each speaker's own rows (float64 copy)."""
    if any(s is None or s == "" for s in speakers):
        missing = sum(s is None or s == "" for s in speakers)
        raise DatasetError(
            f"{missing} of {len(speakers)} clips have no speaker: per-speaker normalisation needs a speaker "
            "for every clip (fill them in or use normalize none)"
        )
    X = np.asarray(X, dtype=np.float64)
    out = np.empty_like(X)
    groups = np.asarray(speakers, dtype=object)
    for speaker in dict.fromkeys(speakers):
        rows = groups == speaker
        mean = X[rows].mean(axis=0)
        std = X[rows].std(axis=0)
        out[rows] = (X[rows] - mean) / np.where(std < _MIN_STD, 1.0, std)
    return out


@dataclass(frozen=True)
class NormalizationSpec:
    """How a model's features were normalised, and the population prior for live sessions."""

    kind: str = "none"
    prior_mean: tuple[float, ...] = ()
    prior_std: tuple[float, ...] = ()
    prior_weight: float = DEFAULT_PRIOR_WEIGHT

    @classmethod
    def fit(cls, kind: str, X: np.ndarray, speakers: Sequence[str | None]) -> "NormalizationSpec":
        """The spec of a training run: for `speaker`, the mean of the speakers' means and std's as prior."""
        check_normalize(kind)
        if kind == "none":
            return cls()
        X = np.asarray(X, dtype=np.float64)
        groups = np.asarray(speakers, dtype=object)
        means = np.array([X[groups == s].mean(axis=0) for s in dict.fromkeys(speakers)])
        stds = np.array([X[groups == s].std(axis=0) for s in dict.fromkeys(speakers)])
        return cls(kind, tuple(means.mean(axis=0).tolist()), tuple(stds.mean(axis=0).tolist()))

    @classmethod
    def from_metadata(cls, metadata: Mapping[str, Any]) -> "NormalizationSpec":
        """The spec recorded in a model's metadata; models from before this option mean `none`."""
        section = metadata.get("normalization")
        if not isinstance(section, Mapping) or section.get("kind", "none") == "none":
            return cls()
        kind = str(section["kind"])
        check_normalize(kind)
        return cls(kind, tuple(map(float, section.get("prior_mean", ()))), tuple(map(float, section.get("prior_std", ()))),
                   float(section.get("prior_weight", DEFAULT_PRIOR_WEIGHT)))

    def to_metadata(self) -> dict[str, Any]:
        if self.kind == "none":
            return {"kind": "none"}
        return {"kind": self.kind, "prior_mean": list(self.prior_mean), "prior_std": list(self.prior_std),
                "prior_weight": self.prior_weight}

    def session(self) -> "SessionNormalizer | None":
        """A fresh running normaliser for one speaker's session, or None when the model needs none."""
        return None if self.kind == "none" else SessionNormalizer(self)


class SessionNormalizer:
    """Running per-speaker z-scoring for one session (one voice), shrunk toward the population prior.

    mean = (w * prior_mean + n * running_mean) / (w + n), and the same for the variance, where w is
    the prior's pseudo-count and n the number of windows seen. `transform` first adds the new rows
    (the current window counts: it is the best evidence of the voice there is), then normalises.
    """

    def __init__(self, spec: NormalizationSpec) -> None:
        self.spec = spec
        self._prior_mean = np.asarray(spec.prior_mean, dtype=np.float64)
        self._prior_var = np.asarray(spec.prior_std, dtype=np.float64) ** 2
        self.reset()

    def reset(self) -> None:
        """Forget the voice: a new talk, a new speaker."""
        self.n = 0
        self._mean = np.zeros_like(self._prior_mean)
        self._m2 = np.zeros_like(self._prior_mean)

    def update(self, X: np.ndarray) -> None:
        """Add feature rows of this speaker to the running statistics (Welford's update)."""
        for row in np.atleast_2d(np.asarray(X, dtype=np.float64)):
            self.n += 1
            delta = row - self._mean
            self._mean += delta / self.n
            self._m2 += delta * (row - self._mean)

    def calibrate(self, X: np.ndarray) -> None:
        """Feed a short calibration recording's windows in before the talk (same as update)."""
        self.update(X)

    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) used now: the prior blended with what has been heard."""
        w, n = self.spec.prior_weight, self.n
        var = self._m2 / n if n else np.zeros_like(self._m2)
        mean = (w * self._prior_mean + n * self._mean) / (w + n)
        variance = (w * self._prior_var + n * var) / (w + n)
        return mean, np.sqrt(np.maximum(variance, _MIN_STD**2))

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        if X.shape[1] != self._prior_mean.shape[0]:
            raise DatasetError(
                f"features have {X.shape[1]} columns, the model's speaker normalisation has {self._prior_mean.shape[0]}"
            )
        self.update(X)
        mean, std = self.statistics()
        return (X - mean) / std
