"""Speech recognition for the live text models: 16 kHz audio in, a transcript string out.

The live analyzer only needs a `transcriber(audio16k) -> str` callable. A Hugging Face speech
recogniser (hub id or folder) is wrapped in `Transcriber`; a `.nemo` file becomes a NeMo ASR model.
Both load lazily, on the first call, from the analysis thread.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np

from speakfeed_gui.core.errors import ModelLoadError, first_line
from speakfeed_gui.core.models.base import ModelContext
from speakfeed_gui.core.models.huggingface import fit_audio, import_transformers, locate_weights
from speakfeed_gui.core.settings.config import LiveSettings, ModelSpec

log = logging.getLogger(__name__)


def workspace_root(workspace: Any) -> Path:
    """The folder of a Workspace, or a folder given directly (None: the current folder)."""
    from speakfeed_gui.core.settings.workspace import Workspace

    return workspace.root if isinstance(workspace, Workspace) else Path(workspace or ".")


class Transcriber:
    """A transformers `automatic-speech-recognition` pipeline behind a plain callable."""

    def __init__(self, model_name_or_folder: str, *, device: str = "auto", workspace: Any = None) -> None:
        self.model_name = model_name_or_folder
        self.requested_device = device
        self.context = ModelContext(workspace=workspace_root(workspace))
        self.device: str | None = None
        self.source: str | None = None
        self._pipeline: Any = None
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        return self._pipeline is not None

    @property
    def sample_rate(self) -> int:
        """The recogniser's own rate (16 kHz until loaded)."""
        extractor = getattr(self._pipeline, "feature_extractor", None)
        return int(getattr(extractor, "sampling_rate", 16_000))

    def load(self) -> "Transcriber":
        """Import transformers and read the weights; safe to call from several threads."""
        from speakfeed_gui.core.audio.devices import resolve_device

        with self._lock:
            if self._pipeline is None:
                transformers = import_transformers(f"speech recogniser {self.model_name!r}")
                self.device = resolve_device(self.requested_device)
                self.source = locate_weights(self.model_name, self.context.resolve)
                try:
                    self._pipeline = transformers.pipeline(
                        "automatic-speech-recognition", model=self.source, device=self.device
                    )
                except Exception as exc:  # OSError (missing files), ValueError (not an ASR model), ...
                    raise ModelLoadError(
                        f"speech recogniser {self.model_name!r} cannot be loaded: {first_line(exc)}"
                    ) from None
                log.info("speech recogniser %s loaded from %s on %s", self.model_name, self.source, self.device)
        return self

    def __call__(self, audio16k: np.ndarray) -> str:
        """The transcript of a 16 kHz mono clip ('' for an empty clip)."""
        self.load()
        audio = np.asarray(audio16k, dtype=np.float32)
        if audio.size == 0:
            return ""
        result = self._pipeline(fit_audio(audio, self.sample_rate))
        return str(result.get("text", "")).strip()


def make_transcriber(live: LiveSettings, workspace: Any = None) -> Callable[[np.ndarray], str] | None:
    """The transcriber named by `live.asr_model` (hub id, folder or .nemo file), or None when unset.

    `workspace` is a Workspace or a folder; relative model paths resolve against it.
    """
    if not live.asr_model:
        return None
    root = workspace_root(workspace)
    if live.asr_model.lower().endswith(".nemo"):
        from speakfeed_gui.core.models.nemo import NemoModel

        spec = ModelSpec(name="asr", type="nemo", config={"model_path": live.asr_model, "task": "asr"})
        return NemoModel(spec, ModelContext(workspace=root)).transcribe
    return Transcriber(live.asr_model, workspace=root)
