"""Fixtures of the live-analysis tests: the virtual microphone, synthetic voices, the dummy model."""

from __future__ import annotations

import numpy as np
import pytest

from speakfeed_gui.core.settings.config import DEFAULT_TARGETS, LiveSettings
from tests.virtual_mic import mic_feeder, virtual_mic  # noqa: F401  (fixtures)

SR = 16_000


def harmonic(f0, seconds: float, amp: float = 0.1, sr: int = SR) -> np.ndarray:
    """A voiced-vowel stand-in: 7 harmonics of f0 (a number or a per-sample array), peak about `amp`."""
    n = int(round(seconds * sr))
    phase = 2 * np.pi * np.cumsum(np.broadcast_to(np.asarray(f0, dtype=float), (n,))) / sr
    wave = sum(np.sin(k * phase) / k for k in range(1, 8))
    return (amp * wave / 1.8).astype(np.float32)


def syllables(f0: float, seconds: float, rate_hz: float = 4.0, amp: float = 0.1, sr: int = SR) -> np.ndarray:
    """Speech-like: a harmonic signal amplitude-modulated at `rate_hz` (one peak per "syllable")."""
    t = np.arange(int(round(seconds * sr))) / sr
    envelope = (0.5 - 0.5 * np.cos(2 * np.pi * rate_hz * t)) ** 1.5
    return (harmonic(f0, seconds, amp, sr) * envelope).astype(np.float32)


def silence(seconds: float, sr: int = SR) -> np.ndarray:
    return np.zeros(int(round(seconds * sr)), dtype=np.float32)


def live_settings(**changes) -> LiveSettings:
    values = dict(window_seconds=1.0, hop_seconds=0.25, smoothing=0.5, vad="energy", targets=dict(DEFAULT_TARGETS))
    values.update(changes)
    return LiveSettings(**values)


@pytest.fixture(scope="session")
def dummy_model(tmp_path_factory):
    from speakfeed_gui.core.models.factory import ModelFactory
    from speakfeed_gui.core.settings.workspace import init_workspace

    factory = ModelFactory(workspace=init_workspace(tmp_path_factory.mktemp("ws")))
    return factory.get_model("dummy").load()
