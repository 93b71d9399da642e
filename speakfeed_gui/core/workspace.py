"""Where a user's config, models and sessions live.

A workspace is a folder holding `config/models.yaml` and `models/`. It is chosen by an explicit
argument (`--workspace`), else the SPEAKFEED_WORKSPACE environment variable, else the project
folder itself (the bundled default). A new folder is initialised with the default config.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from speakfeed_gui.core.errors import ConfigError

ENV_VAR = "SPEAKFEED_WORKSPACE"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "models.yaml"
RESOURCES = PROJECT_ROOT / "resources"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / "config" / "models.yaml"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def registry_path(self) -> Path:
        return self.models_dir / "model_registry.json"

    @property
    def cache_dir(self) -> Path:
        """Per-clip feature vectors keyed by content hash (safe to delete)."""
        return self.root / ".cache" / "features"

    @property
    def sessions_dir(self) -> Path:
        return self.root / "pipeline_results"


def init_workspace(root: str | Path) -> Workspace:
    """Create the folders and a default models.yaml where missing; never overwrite."""
    ws = Workspace(Path(root).expanduser().resolve())
    try:
        ws.models_dir.mkdir(parents=True, exist_ok=True)
        ws.config_path.parent.mkdir(parents=True, exist_ok=True)
        if not ws.config_path.exists():
            shutil.copyfile(DEFAULT_CONFIG, ws.config_path)
    except OSError as exc:
        raise ConfigError(f"{ws.root}: cannot initialise workspace ({exc.strerror or exc})") from None
    return ws


def resolve_workspace(explicit: str | Path | None = None) -> Workspace:
    """Pick the workspace (argument > environment > project folder) and initialise it."""
    chosen = explicit or os.environ.get(ENV_VAR) or PROJECT_ROOT
    path = Path(chosen).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: workspace must be a folder, not a file")
    return init_workspace(path)
