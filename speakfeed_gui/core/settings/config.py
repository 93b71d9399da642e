"""Load and validate `config/models.yaml`: one pydantic schema (`Document`), plain frozen dataclasses out.

The dataclasses (AppConfig, ModelSpec, ...) are what the rest of SpeakFeed reads; the schema classes
(settings/document.py, imported on the first load so importing this module stays light for the GUI's
start) take their defaults from the dataclasses, so a default lives in one place. Every problem is reported as one `ConfigError` line naming the file, the key path and what is
expected, e.g. ``models.yaml: models.dummy.confidence_threshold: expected a number from 0 to 1, got 'high'``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from speakfeed_gui.core.errors import ConfigError, first_line

DEFAULT_LABELS = ("calm", "anxious", "frustrated", "energetic", "burned_out")


@dataclass(frozen=True)
class ModelSpec:
    """One `models:` entry of the YAML."""

    name: str
    type: str
    version: str = "1.0"
    confidence_threshold: float = 0.0
    labels: tuple[str, ...] = DEFAULT_LABELS
    description: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Preprocessing:
    """Text clean-up applied before a text model (the seed's preprocessing settings)."""

    lowercase: bool = True
    remove_special_chars: bool = False
    remove_stop_words: bool = False


@dataclass(frozen=True)
class Inference:
    batch_size: int = 8
    enable_metadata: bool = True
    add_timestamps: bool = True


@dataclass(frozen=True)
class LiveSettings:
    """Sliding-window analysis, VAD, smoothing, speech recognition and target bands."""

    window_seconds: float = 2.0
    hop_seconds: float = 0.5
    smoothing: float = 0.5
    vad: str = "auto"
    asr_model: str | None = None
    filler_words: tuple[str, ...] = ("um", "uh", "like", "you know")
    targets: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class AppConfig:
    path: Path
    default_model: str
    models: Mapping[str, ModelSpec]
    preprocessing: Preprocessing = Preprocessing()
    inference: Inference = Inference()
    live: LiveSettings = LiveSettings()


DEFAULT_TARGETS: dict[str, tuple[float, float]] = {
    "pitch_variation_semitones": (2.0, 8.0),
    "loudness_dbfs": (-35.0, -12.0),
    "loudness_variation_db": (3.0, 12.0),
    "pause_share": (0.05, 0.35),
    "mean_pause_seconds": (0.2, 1.5),
    "speaking_rate_sps": (3.0, 5.5),
    "words_per_minute": (130.0, 175.0),
    "filler_per_minute": (0.0, 3.0),
}


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
    )


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
