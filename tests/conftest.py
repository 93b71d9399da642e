"""Shared fixtures: an isolated workspace, log folder and Qt settings for every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Logs and the default workspace never touch the developer's real folders."""
    base = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("SPEAKFEED_LOG_DIR", str(base / "logs"))
    monkeypatch.setenv("SPEAKFEED_WORKSPACE", str(base / "workspace"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))  # signing keys, the recordings key file
    monkeypatch.setenv("XDG_DATA_HOME", str(base / "data"))  # keyrings.alt's file keyring


@pytest.fixture
def workspace(tmp_path: Path):
    """A fresh workspace initialised with the default models.yaml."""
    from speakfeed_gui.core.settings.workspace import init_workspace

    return init_workspace(tmp_path / "ws")
