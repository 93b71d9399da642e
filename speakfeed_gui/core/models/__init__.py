"""Model backends, registered by type name (the timm/scikit-learn registry pattern).

Importing this package imports only the light backend modules; each backend defers its heavy
libraries (sklearn, torch, transformers, nemo) to `load()`.
"""

from speakfeed_gui.core.models import audio_emotion as _audio_emotion  # noqa: F401
from speakfeed_gui.core.models import dummy as _dummy  # noqa: F401  (registers "dummy")
from speakfeed_gui.core.models import huggingface as _huggingface  # noqa: F401
from speakfeed_gui.core.models import nemo as _nemo  # noqa: F401
from speakfeed_gui.core.models.base import MODEL_TYPES, BaseModel, register_model_type

__all__ = ["MODEL_TYPES", "BaseModel", "register_model_type"]
