"""NVIDIA NeMo models (placeholder)."""

from __future__ import annotations

from typing import Any, Mapping

from speakfeed_gui.core.models.base import BaseModel, register_model_type


@register_model_type("nemo")
class NemoModel(BaseModel):
    config_fields = {
        "model_path": "str", "model_name": "str", "task": "str", "device": "device",
        "batch_size": "int", "label_map": "mapping",
    }

    def _predict_proba(self, batch: list[Any]) -> list[Mapping[str, float]]:
        raise NotImplementedError
