"""Hugging Face transformers classifiers: text sentiment or audio emotion, from the hub or a folder.

transformers and torch are imported only in `_load()`: the factory imports this module to list
models, and the GUI must start without paying for them. Weights come from a local folder, the
local hub cache, or (when the hub answers quickly) a download; a machine with no network gets one
clear error line instead of transformers' long retry loop.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from speakfeed_gui.core.audio.decode import SAMPLE_RATE, resample
from speakfeed_gui.core.errors import ConfigError, ModelLoadError, first_line
from speakfeed_gui.core.models.base import BaseModel, ModelContext, register_model_type
from speakfeed_gui.core.settings.backends import HF_TASK_INPUTS, backend_fields
from speakfeed_gui.core.settings.config import ModelSpec

log = logging.getLogger(__name__)

TASK_INPUTS = HF_TASK_INPUTS
HF_EXTRA = "pip install 'speakfeed[hf]'"
_TRUE = ("1", "true", "yes", "on")


# -- shared with core/asr.py and the NeMo backend -----------------------------------------------
def import_transformers(purpose: str) -> Any:
    """transformers (and torch), or a ModelLoadError naming the extra to install."""
    try:
        import torch  # noqa: F401
        import transformers
    except ImportError as exc:
        raise ModelLoadError(f"{purpose} needs {exc.name or 'transformers'}, which is not installed: {HF_EXTRA}") from None
    transformers.utils.logging.disable_progress_bar()
    return transformers


def hub_offline() -> bool:
    """True when the user asked for offline mode (read now, not at huggingface_hub's import)."""
    return any(os.environ.get(var, "").strip().lower() in _TRUE for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_reachable(url: str | None = None, timeout: float = 3.0) -> bool:
    """One quick HEAD request, so a missing network costs seconds, not transformers' retries."""
    try:
        from huggingface_hub import constants
        from huggingface_hub.utils import get_session

        get_session().head(url or constants.ENDPOINT, timeout=timeout)
    except Exception as exc:  # connection, DNS, proxy or offline-mode errors all mean "no"
        log.debug("hub %s unreachable: %s", url, exc)
        return False
    return True


def not_downloaded_error(model_id: str, hint: str | None = None) -> ModelLoadError:
    hint = hint or f"download it on a connected machine (`hf download {model_id}`) or set model_name to a local folder"
    return ModelLoadError(f"model {model_id!r} is not downloaded and the hub is unreachable: {hint}")


def looks_like_folder(value: str) -> bool:
    """A path rather than a hub id ('name' or 'org/name')."""
    return value.startswith((".", "/", "~")) or "\\" in value or value.count("/") > 1 or Path(value).is_absolute()


def locate_weights(model_name: str, resolve: Callable[[str], Path], revision: str | None = None) -> str:
    """What to give `from_pretrained`: a local folder, a cached hub snapshot, or the hub id to download."""
    folder = resolve(model_name)
    if folder.is_dir():
        return str(folder)
    if looks_like_folder(model_name):
        raise ModelLoadError(f"model folder {folder} does not exist; set model_name to an existing folder or a hub id")
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(model_name, revision=revision, local_files_only=True)
    except Exception as exc:  # LocalEntryNotFoundError, or HFValidationError for a malformed id
        log.debug("%s not in the local hub cache: %s", model_name, exc)
    if hub_offline() or not hub_reachable():
        raise not_downloaded_error(model_name)
    return model_name


def fit_audio(audio16k: np.ndarray, rate: int, min_seconds: float = 0.1) -> np.ndarray:
    """Resample app audio (16 kHz) to a model's rate; pad clips too short for its convolutions."""
    audio = resample(np.asarray(audio16k, dtype=np.float32), SAMPLE_RATE, rate)
    shortfall = int(rate * min_seconds) - audio.size
    return np.pad(audio, (0, shortfall)) if shortfall > 0 else audio


def read_label_map(spec: ModelSpec) -> dict[str, str]:
    """`label_map` as str -> str (YAML may give int keys such as `0: frustrated`)."""
    raw = spec.config.get("label_map") or {}
    for key, value in raw.items():
        if not isinstance(value, str) or not value:
            raise ConfigError(f"models.{spec.name}.config.label_map.{key}: expected an app label name, got {value!r}")
    return {str(k): v for k, v in raw.items()}


def mapped_probabilities(row: Sequence[float], labels: Sequence[str]) -> dict[str, float]:
    """Sum the probabilities of model labels that map to the same app label."""
    out: dict[str, float] = {}
    for label, p in zip(labels, row):
        out[label] = out.get(label, 0.0) + float(p)
    return out


# -- the backend --------------------------------------------------------------------------------
@register_model_type("huggingface")
class HuggingFaceModel(BaseModel):
    """A sequence classifier (text) or audio classifier (audio) loaded with transformers.

    `padding: true` pads each batch to its longest text; `padding: false` runs texts one by one.
    Audio arrays are taken at the app's 16 kHz and resampled to the feature extractor's rate.
    """

    input_kind = "text"
    config_fields = backend_fields("huggingface")
    required_config = ("model_name",)

    def __init__(self, spec: ModelSpec, context: ModelContext | None = None) -> None:
        super().__init__(spec, context)
        self.task = str(spec.config.get("task") or "text-classification")
        if self.task not in TASK_INPUTS:
            raise ConfigError(
                f"models.{spec.name}.config.task: expected one of {', '.join(TASK_INPUTS)}, got {self.task!r}"
            )
        self.input_kind = TASK_INPUTS[self.task]
        self.label_map = read_label_map(spec)
        self.model_name = str(spec.config["model_name"])
        self.device: str | None = None
        self.source: str | None = None
        self._model: Any = None
        self._processor: Any = None  # tokenizer (text) or feature extractor (audio)
        self._model_labels: list[str] = []

    @property
    def labels(self) -> list[str]:
        if not self._model_labels:
            return list(self.spec.labels)
        return list(dict.fromkeys(self._model_labels))

    def _load(self) -> None:
        from speakfeed_gui.core.audio.devices import resolve_device

        transformers = import_transformers(f"model {self.name} (type huggingface)")
        self.device = resolve_device(self.spec.config.get("device"))
        revision = self.spec.config.get("revision")
        self.source = locate_weights(self.model_name, self.context.resolve, revision)
        kwargs = {"revision": revision} if revision and self.source == self.model_name else {}
        if self.task == "text-classification":
            processor_cls, model_cls = transformers.AutoTokenizer, transformers.AutoModelForSequenceClassification
        else:
            processor_cls, model_cls = transformers.AutoFeatureExtractor, transformers.AutoModelForAudioClassification
        try:
            self._processor = processor_cls.from_pretrained(self.source, **kwargs)
            self._model = model_cls.from_pretrained(self.source, **kwargs).to(self.device).eval()
        except Exception as exc:  # OSError (missing files), ValueError (wrong architecture), ...
            raise ModelLoadError(f"model {self.model_name!r} cannot be loaded for {self.task}: {first_line(exc)}") from None
        id2label = self._model.config.id2label
        raw = [str(id2label[i]) for i in range(len(id2label))]
        self._model_labels = [self.label_map.get(label, label) for label in raw]
        log.info("loaded %s from %s on %s; labels %s", self.name, self.source, self.device, self.labels)

    def _predict_proba(self, batch: list[Any]) -> list[Mapping[str, float]]:
        import torch

        groups = [batch] if self.task != "text-classification" or self._padding else [[t] for t in batch]
        rows: list[Mapping[str, float]] = []
        with torch.inference_mode():
            for group in groups:
                logits = self._model(**self._encode(group).to(self.device)).logits
                for row in logits.float().softmax(dim=-1).cpu().numpy():
                    rows.append(mapped_probabilities(row, self._model_labels))
        return rows

    @property
    def _padding(self) -> bool:
        return bool(self.spec.config.get("padding", True))

    def _encode(self, group: list[Any]) -> Any:
        if self.task == "text-classification":
            limit = self._processor.model_max_length
            max_length = self.spec.config.get("max_length") or (limit if limit <= 100_000 else 512)
            return self._processor(
                group, padding="longest" if self._padding else False,
                truncation=bool(self.spec.config.get("truncation", True)), max_length=max_length, return_tensors="pt",
            )
        rate = int(self._processor.sampling_rate)
        clips = [fit_audio(clip, rate) for clip in group]
        return self._processor(clips, sampling_rate=rate, padding=True, return_tensors="pt")

    def get_model_info(self) -> dict[str, Any]:
        info = super().get_model_info()
        folder = self.context.resolve(self.model_name)
        info.update(
            task=self.task,
            device=self.device or self.spec.config.get("device", "auto"),
            model_path=self.source or (str(folder) if folder.is_dir() else self.model_name),
        )
        return info
