"""A deterministic model for exercising the whole pipeline without any weights."""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

import numpy as np

from speakfeed_gui.core.models.base import BaseModel, register_model_type
from speakfeed_gui.core.settings.backends import backend_fields


@register_model_type("dummy")
class DummyModel(BaseModel):
    """Same input, same probabilities: derived from a sha256 of the text or the audio bytes."""

    input_kind = "any"
    config_fields = backend_fields("dummy")

    def _predict_proba(self, batch: list[Any]) -> list[Mapping[str, float]]:
        return [self._probs(item) for item in batch]

    def _probs(self, item: Any) -> dict[str, float]:
        data = item.astype("<f4").tobytes() if isinstance(item, np.ndarray) else item.encode("utf-8")
        seed = str(self.spec.config.get("seed", 0)).encode()
        digest = hashlib.sha256(seed + data).digest()
        weights = np.frombuffer(digest[: 2 * len(self.labels)].ljust(2 * len(self.labels), b"\1"), dtype="<u2")
        weights = weights.astype(float) + 1.0
        weights = weights**2  # sharper than uniform so labels differ visibly
        return dict(zip(self.labels, (weights / weights.sum()).tolist()))
