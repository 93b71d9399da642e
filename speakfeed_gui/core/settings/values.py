"""The validated settings as plain frozen dataclasses: what SpeakFeed reads from models.yaml.

Built by the schema in settings/document.py (which takes its defaults from here); importable from
settings.config as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from speakfeed_gui.core.settings.measures import DEFAULT_TARGETS  # noqa: F401  (re-exported)

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
    transcribe: bool = True  # speech recognition beside any live model (words per minute, fillers)
    filler_words: tuple[str, ...] = ("um", "uh", "like", "you know")
    targets: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class SecuritySettings:
    """`security:` — whether imported bundles must carry a signature from a trusted key."""

    require_signed: bool = False


@dataclass(frozen=True)
class PrivacySettings:
    """`privacy:` — opt-in encryption of recordings and session files.

    `key_file` (absolute, or relative to the workspace) keeps the key in a file the user chooses;
    without it the key lives in the OS keyring.
    """

    encrypt_recordings: bool = False
    key_file: Path | None = None


@dataclass(frozen=True)
class RegistrySettings:
    """`registry:` — who may change a shared registry (user names or signing key ids; empty: anyone)."""

    maintainers: tuple[str, ...] = ()


@dataclass(frozen=True)
class ComputeSettings:
    """`compute:` — an existing Dask cluster for featurising and searches (`--cluster` overrides it)."""

    cluster: str | None = None


@dataclass(frozen=True)
class AppConfig:
    path: Path
    default_model: str
    models: Mapping[str, ModelSpec]
    preprocessing: Preprocessing = Preprocessing()
    inference: Inference = Inference()
    live: LiveSettings = LiveSettings()
    security: SecuritySettings = SecuritySettings()
    privacy: PrivacySettings = PrivacySettings()
    registry: RegistrySettings = RegistrySettings()
    compute: ComputeSettings = ComputeSettings()
