"""Hugging Face transformers pipelines (placeholder)."""

from __future__ import annotations

from typing import Any, Mapping

from speakfeed_gui.core.models.base import BaseModel, register_model_type


@register_model_type("huggingface")
class HuggingFaceModel(BaseModel):
    input_kind = "text"
    config_fields = {
        "model_name": "str", "task": "str", "device": "device", "max_length": "int", "truncation": "bool",
        "padding": "bool", "batch_size": "int", "label_map": "mapping", "revision": "str",
    }
    required_config = ("model_name",)

    def _predict_proba(self, batch: list[Any]) -> list[Mapping[str, float]]:
        raise NotImplementedError
