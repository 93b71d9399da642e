"""Where a user's config, models and sessions live.

A workspace is a folder holding `config/models.yaml` and `models/`. It is chosen by an explicit
argument (`--workspace`), else the SPEAKFEED_WORKSPACE environment variable, else the current
folder when it holds `config/models.yaml` (the seed's layout: code run from the project folder),
else the project folder itself when running from a checkout (the bundled default), else the
user's data folder after `pip install .`. A new folder is initialised with the default config.

The shipped defaults (`config/models.yaml`) and `resources/` (corpora) come from the checkout, or
from `<prefix>/share/speakfeed/` where `pip install .` puts them (pyproject `data-files`).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from speakfeed_gui.core.errors import ConfigError

ENV_VAR = "SPEAKFEED_WORKSPACE"
CHECKOUT_ROOT = Path(__file__).resolve().parents[3]
INSTALLED_DATA = Path(sys.prefix) / "share" / "speakfeed"


def _running_from_checkout() -> bool:
    return (CHECKOUT_ROOT / "pyproject.toml").is_file() and (CHECKOUT_ROOT / "config" / "models.yaml").is_file()


def _default_workspace() -> Path:
    if _running_from_checkout():
        return CHECKOUT_ROOT
    import platformdirs

    return platformdirs.user_data_path("SpeakFeed", appauthor=False) / "workspace"


DATA_ROOT = CHECKOUT_ROOT if _running_from_checkout() else INSTALLED_DATA
DEFAULT_CONFIG = DATA_ROOT / "config" / "models.yaml"
RESOURCES = DATA_ROOT / "resources"
PROJECT_ROOT = _default_workspace()  # the default workspace


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


def _current_folder_workspace() -> Path | None:
    try:
        here = Path.cwd()
    except OSError:  # the current folder was deleted
        return None
    return here if (here / "config" / "models.yaml").is_file() else None


def resolve_workspace(explicit: str | Path | None = None) -> Workspace:
    """Pick the workspace (argument > environment > current folder with config/ > project folder), initialise it."""
    chosen = explicit or os.environ.get(ENV_VAR) or _current_folder_workspace() or PROJECT_ROOT
    path = Path(chosen).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: workspace must be a folder, not a file")
    return init_workspace(path)


def workspace_for_config(config_path: str | Path) -> Workspace:
    """The workspace a models.yaml belongs to: the folder holding its `config/` folder, as in the seed.

    `ModelFactory("config/models.yaml")` run in a project folder uses that folder's `models/`. A file
    anywhere else (not inside a `config/` folder) belongs to the workspace `resolve_workspace()` picks.
    """
    path = Path(config_path).expanduser().absolute()
    if path.parent.name == "config":
        return Workspace(path.parent.parent)
    return resolve_workspace()
