"""The one prediction shape every backend returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

UNCERTAIN = "uncertain"


@dataclass
class Prediction:
    """Label (or `uncertain`), its confidence, the full distribution and who produced it."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    model_name: str
    model_version: str
    timestamp: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def top_label(self) -> str:
        """The most probable label even when the shown label is `uncertain`."""
        return max(self.probabilities, key=self.probabilities.__getitem__)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def make_prediction(
    probabilities: Mapping[str, float],
    *,
    model_name: str,
    model_version: str,
    threshold: float = 0.0,
    add_timestamp: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> Prediction:
    """Normalise a distribution and apply the confidence threshold.

    Probabilities are re-normalised to sum to 1; below `threshold` the label is `uncertain`
    but the probabilities are kept, so a UI can still draw them.
    """
    if not probabilities:
        raise ValueError("a prediction needs at least one label")
    probs = {str(k): max(float(v), 0.0) for k, v in probabilities.items()}
    total = sum(probs.values())
    if total <= 0 or total != total:  # zero or NaN: fall back to uniform
        probs = {k: 1.0 / len(probs) for k in probs}
    else:
        probs = {k: v / total for k, v in probs.items()}
    top = max(probs, key=probs.__getitem__)
    confidence = probs[top]
    return Prediction(
        label=top if confidence >= threshold else UNCERTAIN,
        confidence=confidence,
        probabilities=probs,
        model_name=model_name,
        model_version=model_version,
        timestamp=datetime.now(timezone.utc).isoformat(timespec="milliseconds") if add_timestamp else None,
        metadata=dict(metadata or {}),
    )
