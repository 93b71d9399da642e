"""Load and validate `config/models.yaml`: one pydantic schema (`Document`), plain frozen dataclasses out.

The dataclasses (AppConfig, ModelSpec, ... in settings/values.py, importable from here) are what the
rest of SpeakFeed reads; the schema classes (settings/document.py, imported on the first load so
importing this module stays light for the GUI's start) take their defaults from the dataclasses, so a
default lives in one place. Every problem is reported as one `ConfigError` line naming the file, the
key path and what is expected, e.g. ``models.yaml: models.dummy.confidence_threshold: expected a number from 0 to 1, got 'high'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from speakfeed_gui.core.errors import ConfigError, first_line
from speakfeed_gui.core.settings.values import (  # noqa: F401  (re-exported: the names consumers import from here)
    DEFAULT_LABELS,
    DEFAULT_TARGETS,
    AppConfig,
    ComputeSettings,
    Inference,
    LiveSettings,
    ModelSpec,
    Preprocessing,
    PrivacySettings,
    RegistrySettings,
    SecuritySettings,
)


def parse_config(data: Any, path: Path) -> AppConfig:
    """Validate an already-parsed YAML document (None, an empty file, counts as an empty mapping)."""
    from pydantic import ValidationError

    from speakfeed_gui.core.settings.document import Document
    from speakfeed_gui.core.settings.schema import first_problem

    data = {} if data is None else data
    try:
        document = Document.model_validate(data)
    except ValidationError as exc:
        where, message = first_problem(exc, Document, data)
        raise ConfigError(f"{path}: {where}: {message}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested too deeply") from None
    pipeline = document.pipeline
    return AppConfig(
        path=path,
        default_model=document.default_model,
        models={name: entry.to_spec(name) for name, entry in document.models.items()},
        preprocessing=Preprocessing(**pipeline.preprocessing.model_dump()),
        inference=Inference(**pipeline.inference.model_dump()),
        live=document.live.to_settings(),
        security=SecuritySettings(require_signed=document.security.require_signed),
        privacy=document.privacy.to_settings(workspace_of(path)),
        registry=RegistrySettings(maintainers=document.registry.maintainers),
        compute=ComputeSettings(cluster=document.compute.cluster),
    )


def workspace_of(config_path: Path) -> Path:
    """The workspace of a `<workspace>/config/models.yaml` (the file's folder for a file elsewhere)."""
    folder = Path(config_path).parent
    return folder.parent if folder.name == "config" else folder


def load_config(path: str | Path) -> AppConfig:
    """Read and validate a models.yaml file."""
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found; create it or run `speakfeed init` for a default one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__}: {exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    except (ValueError, OverflowError) as exc:  # PyYAML's constructors: a date like 2024-13-45, a 5000-digit number
        raise ConfigError(f"{path}: not valid YAML: {first_line(exc)}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid YAML: nested too deeply") from None
    return parse_config(data, path)
