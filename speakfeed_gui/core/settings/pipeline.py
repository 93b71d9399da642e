"""The seed's `PipelineConfig`: the pipeline settings as three plain dicts.

SpeakFeed reads the same settings from models.yaml's `pipeline:` section into `Preprocessing` and
`Inference` (settings.config); this face shows them in the seed's shape and turns them back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from speakfeed_gui.core.settings.config import AppConfig, Inference, Preprocessing, load_config

SEED_BATCH_SIZE = 32  # the seed's default; models.yaml's shipped pipeline.inference says 8


def _seed_model_config() -> dict[str, Any]:
    return {"config_path": "config/models.yaml", "default_model": "dummy"}


def _seed_preprocessing() -> dict[str, Any]:
    return asdict(Preprocessing())


def _seed_inference() -> dict[str, Any]:
    return {**asdict(Inference()), "batch_size": SEED_BATCH_SIZE}


@dataclass
class PipelineConfig:
    """`PipelineConfig()` holds the seed's defaults; `from_workspace` / `from_config` read a models.yaml."""

    model_config: dict[str, Any] = field(default_factory=_seed_model_config)
    preprocessing_config: dict[str, Any] = field(default_factory=_seed_preprocessing)
    inference_config: dict[str, Any] = field(default_factory=_seed_inference)

    @classmethod
    def from_config(cls, config: AppConfig) -> "PipelineConfig":
        """The `pipeline:` section (and default model) of an already loaded models.yaml."""
        return cls(
            model_config={"config_path": str(config.path), "default_model": config.default_model},
            preprocessing_config=asdict(config.preprocessing),
            inference_config=asdict(config.inference),
        )

    @classmethod
    def from_workspace(cls, workspace: str | Path | None = None) -> "PipelineConfig":
        """Read `<workspace>/config/models.yaml` (default: the workspace `resolve_workspace()` picks)."""
        from speakfeed_gui.core.settings.workspace import Workspace, resolve_workspace

        ws = Workspace(Path(workspace)) if workspace is not None else resolve_workspace()
        return cls.from_config(load_config(ws.config_path))

    def preprocessing(self) -> Preprocessing:
        """The preprocessing dict as SpeakFeed's settings (checked by the models.yaml schema)."""
        return self._checked().preprocessing

    def inference(self) -> Inference:
        return self._checked().inference

    def _checked(self) -> AppConfig:
        from speakfeed_gui.core.settings.config import parse_config

        document = {
            "default_model": "m", "models": {"m": {"type": "dummy"}},
            "pipeline": {"preprocessing": self.preprocessing_config, "inference": self.inference_config},
        }
        return parse_config(document, Path("PipelineConfig"))
