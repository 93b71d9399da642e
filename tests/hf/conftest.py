"""Session-wide tiny transformers models and a workspace whose models.yaml points at them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from tests.hf import tiny_models


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-hf")


@pytest.fixture(scope="session")
def text_model_dir(tiny_dir: Path) -> Path:
    return tiny_models.build_text_classifier(tiny_dir / "text")


@pytest.fixture(scope="session")
def audio_model_dir(tiny_dir: Path) -> Path:
    return tiny_models.build_audio_classifier(tiny_dir / "audio")


@pytest.fixture(scope="session")
def audio_model_8k_dir(tiny_dir: Path) -> Path:
    """An audio classifier whose feature extractor expects 8 kHz, to prove the backend resamples."""
    return tiny_models.build_audio_classifier(tiny_dir / "audio8k", sampling_rate=8_000)


@pytest.fixture(scope="session")
def asr_model_dir(tiny_dir: Path) -> Path:
    return tiny_models.build_speech_recognizer(tiny_dir / "asr")


@pytest.fixture
def add_models(tmp_path: Path) -> Callable[[dict[str, Any]], Any]:
    """Add `models:` entries to a fresh workspace's models.yaml; returns the Workspace."""
    from speakfeed_gui.core.settings.workspace import init_workspace

    ws = init_workspace(tmp_path / "ws")

    def add(entries: dict[str, Any]) -> Any:
        data = yaml.safe_load(ws.config_path.read_text(encoding="utf-8"))
        data["models"].update(entries)
        ws.config_path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return ws

    return add


def hf_entry(folder: Path | str, labels: tuple[str, ...], **config: Any) -> dict[str, Any]:
    """A `type: huggingface` models.yaml entry."""
    return {
        "type": "huggingface",
        "version": "0.1",
        "emotion_labels": list(labels),
        "config": {"model_name": str(folder), **config},
    }


@pytest.fixture
def factory_with(add_models: Callable[[dict[str, Any]], Any]) -> Callable[..., Any]:
    """A ModelFactory over a workspace holding the given entries."""
    from speakfeed_gui.core.models.factory import ModelFactory

    def make(**entries: dict[str, Any]) -> Any:
        return ModelFactory(workspace=add_models(entries))

    return make
