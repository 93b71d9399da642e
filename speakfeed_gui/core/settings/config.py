"""Load and validate `config/models.yaml`.

Every problem is reported as one `ConfigError` line naming the file, the key path and what is
expected, e.g. ``models.yaml: models.dummy.confidence_threshold: expected a number from 0 to 1, got 'high'``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from speakfeed_gui.core.errors import ConfigError, first_line
from speakfeed_gui.core.settings.backends import known_types, validate_backend_config
from speakfeed_gui.core.settings.measures import DEFAULT_TARGETS

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




class _Reader:
    """Typed access to a YAML mapping with error messages that carry the key path."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, expected: str, got: Any) -> ConfigError:
        return ConfigError(f"{self.path}: {key}: expected {expected}, got {got!r}")

    def mapping(self, value: Any, key: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, "a mapping", value)
        return value

    def get(self, data: Mapping[str, Any], key: str, prefix: str, kind: str, default: Any) -> Any:
        value = data.get(key, default)
        where = f"{prefix}.{key}" if prefix else key
        if value is None and default is None:
            return None
        if kind == "bool":
            if not isinstance(value, bool):
                raise self.fail(where, "true or false", value)
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise self.fail(where, "a whole number of at least 1", value)
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise self.fail(where, "a number", value)
            value = float(value)
        elif kind == "fraction":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise self.fail(where, "a number from 0 to 1", value)
            value = float(value)
        elif kind == "str":
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise self.fail(where, "a text value", value)
            value = str(value)
        elif kind == "labels":
            if not isinstance(value, (list, tuple)) or not value or not all(isinstance(v, str) and v for v in value):
                raise self.fail(where, "a non-empty list of label names", value)
            if len(set(value)) != len(value):
                raise self.fail(where, "label names without repeats", value)
            value = tuple(value)
        return value


def _read_model(reader: _Reader, name: str, raw: Any) -> ModelSpec:
    prefix = f"models.{name}"
    data = reader.mapping(raw, prefix)
    if "type" not in data:
        raise ConfigError(f"{reader.path}: {prefix}.type: missing; expected one of {', '.join(known_types())}")
    mtype = data["type"]
    if not isinstance(mtype, str) or mtype not in known_types():
        raise ConfigError(
            f"{reader.path}: {prefix}.type: unknown model type {mtype!r}; known types: {', '.join(known_types())}"
        )
    known = {"type", "version", "confidence_threshold", "emotion_labels", "labels", "description", "config"}
    for key in data:
        if key not in known:
            raise ConfigError(f"{reader.path}: {prefix}.{key}: unknown key; valid keys: {', '.join(sorted(known))}")
    label_key = "emotion_labels" if "emotion_labels" in data else "labels"
    config = dict(reader.mapping(data.get("config"), f"{prefix}.config"))
    problem = validate_backend_config(mtype, config)
    if problem:
        key, expected = problem
        raise reader.fail(f"{prefix}.config.{key}", expected, config.get(key))
    return ModelSpec(
        name=name,
        type=mtype,
        version=reader.get(data, "version", prefix, "str", "1.0"),
        confidence_threshold=reader.get(data, "confidence_threshold", prefix, "fraction", 0.0),
        labels=reader.get(data, label_key, prefix, "labels", list(DEFAULT_LABELS)),
        description=reader.get(data, "description", prefix, "str", ""),
        config=config,
    )


def _read_targets(reader: _Reader, raw: Any) -> dict[str, tuple[float, float]]:
    targets = dict(DEFAULT_TARGETS)
    for key, band in reader.mapping(raw, "live.targets").items():
        where = f"live.targets.{key}"
        if key not in DEFAULT_TARGETS:
            raise ConfigError(f"{reader.path}: {where}: unknown metric; valid metrics: {', '.join(DEFAULT_TARGETS)}")
        ok = isinstance(band, (list, tuple)) and len(band) == 2
        ok = ok and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in band)
        if not ok or band[0] > band[1]:
            raise reader.fail(where, "a [low, high] pair of numbers with low <= high", band)
        targets[key] = (float(band[0]), float(band[1]))
    return targets


def _read_live(reader: _Reader, raw: Any) -> LiveSettings:
    data = reader.mapping(raw, "live")
    window = reader.get(data, "window_seconds", "live", "number", 2.0)
    hop = reader.get(data, "hop_seconds", "live", "number", 0.5)
    if not 0.25 <= window <= 30:
        raise reader.fail("live.window_seconds", "a number of seconds from 0.25 to 30", window)
    if not 0.05 <= hop <= window:
        raise reader.fail("live.hop_seconds", f"a number of seconds from 0.05 to window_seconds ({window})", hop)
    vad = reader.get(data, "vad", "live", "str", "auto")
    if vad not in ("auto", "silero", "energy"):
        raise reader.fail("live.vad", "one of auto, silero, energy", vad)
    fillers = data.get("filler_words", ["um", "uh", "like", "you know"])
    if not isinstance(fillers, list) or not all(isinstance(w, str) for w in fillers):
        raise reader.fail("live.filler_words", "a list of words or phrases", fillers)
    return LiveSettings(
        window_seconds=window,
        hop_seconds=hop,
        smoothing=reader.get(data, "smoothing", "live", "fraction", 0.5),
        vad=vad,
        asr_model=reader.get(data, "asr_model", "live", "str", None),
        filler_words=tuple(w.lower() for w in fillers),
        targets=_read_targets(reader, data.get("targets")),
    )


def parse_config(data: Any, path: Path) -> AppConfig:
    """Validate an already-parsed YAML document."""
    reader = _Reader(path)
    root = reader.mapping(data, "(top level)")
    for key in root:
        if key not in ("default_model", "models", "pipeline", "live"):
            raise ConfigError(f"{path}: {key}: unknown key; valid keys: default_model, models, pipeline, live")
    raw_models = reader.mapping(root.get("models"), "models")
    if not raw_models:
        raise ConfigError(f"{path}: models: missing or empty; expected a mapping of model names to settings")
    models = {str(name): _read_model(reader, str(name), raw) for name, raw in raw_models.items()}
    default = root.get("default_model")
    if not isinstance(default, str) or default not in models:
        raise reader.fail("default_model", f"one of the configured models ({', '.join(models)})", default)
    pipeline = reader.mapping(root.get("pipeline"), "pipeline")
    pre = reader.mapping(pipeline.get("preprocessing"), "pipeline.preprocessing")
    inf = reader.mapping(pipeline.get("inference"), "pipeline.inference")
    p, i = "pipeline.preprocessing", "pipeline.inference"
    return AppConfig(
        path=path,
        default_model=default,
        models=models,
        preprocessing=Preprocessing(
            lowercase=reader.get(pre, "lowercase", p, "bool", True),
            remove_special_chars=reader.get(pre, "remove_special_chars", p, "bool", False),
            remove_stop_words=reader.get(pre, "remove_stop_words", p, "bool", False),
        ),
        inference=Inference(
            batch_size=reader.get(inf, "batch_size", i, "int", 8),
            enable_metadata=reader.get(inf, "enable_metadata", i, "bool", True),
            add_timestamps=reader.get(inf, "add_timestamps", i, "bool", True),
        ),
        live=_read_live(reader, root.get("live")),
    )


def load_config(path: str | Path) -> AppConfig:
    """Read and validate a models.yaml file."""
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
