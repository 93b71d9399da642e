"""Qt-free core of SpeakFeed: config, models, features, training, registry, live analysis.

Nothing under this package may import PySide6 or pyqtgraph (tests/core/test_core_is_qt_free.py checks it).

The seed's Python API is importable from here (`from speakfeed_gui.core import ModelFactory`). The
names are resolved on first use (PEP 562 module `__getattr__`), so `import speakfeed_gui.core`
stays as light as before: each name imports only its own module.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it (the seed's names; each a thin face over today's functions)
_SEED_API = {
    "ModelFactory": "speakfeed_gui.core.models.factory",
    "BaseModel": "speakfeed_gui.core.models.base",
    "DummyModel": "speakfeed_gui.core.models.dummy",
    "HuggingFaceModel": "speakfeed_gui.core.models.huggingface",
    "NeMoModel": "speakfeed_gui.core.models.nemo",
    "NemoModel": "speakfeed_gui.core.models.nemo",
    "AudioEmotionModel": "speakfeed_gui.core.models.audio_emotion",
    "PipelineConfig": "speakfeed_gui.core.settings.pipeline",
    "ModelTrainer": "speakfeed_gui.core.training.seed_api",
    "ModelRegistry": "speakfeed_gui.core.training.seed_api",
    "DataVersionControl": "speakfeed_gui.core.training.seed_api",
}

__all__ = sorted(_SEED_API)


def __getattr__(name: str) -> Any:
    module = _SEED_API.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in ("NeMoModel", "NemoModel", "DummyModel", "HuggingFaceModel", "AudioEmotionModel"):
        importlib.import_module("speakfeed_gui.core.models")  # registers every backend type first
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
