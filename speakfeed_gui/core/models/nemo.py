"""NVIDIA NeMo speech models: an audio classifier, or a speech recogniser for the live text models.

NeMo is heavy (seconds to import, gigabytes installed) and optional, so it is imported only in
`_load()`. A `.nemo` file is restored with `ModelPT.restore_from`, which rebuilds whatever class
the file's config names; a pretrained name goes through `ASRModel.from_pretrained`, or, when
the hub cannot be reached, restores the copy an earlier `from_pretrained` left in its cache.
"""

from __future__ import annotations

import glob
import logging
import os
from pathlib import Path
from typing import Any, Mapping, Sequence

from speakfeed_gui.core.audio.decode import as_audio
from speakfeed_gui.core.errors import ConfigError, ModelLoadError, first_line
from speakfeed_gui.core.models.base import BaseModel, ModelContext, register_model_type
from speakfeed_gui.core.models.huggingface import (
    fit_audio,
    hub_offline,
    hub_reachable,
    mapped_probabilities,
    read_label_map,
)
from speakfeed_gui.core.models.prediction import Prediction
from speakfeed_gui.core.settings.backends import NEMO_TASKS, backend_fields
from speakfeed_gui.core.settings.config import ModelSpec

log = logging.getLogger(__name__)

TASKS = NEMO_TASKS
NOT_INSTALLED = "NVIDIA NeMo is not installed: pip install 'nemo_toolkit[asr]' (the `nemo` extra)"
NGC_URL = "https://api.ngc.nvidia.com"


def import_nemo() -> tuple[Any, Any]:
    """(nemo.core.ModelPT, nemo.collections.asr.models.ASRModel) or a ModelLoadError."""
    try:
        from nemo.collections.asr.models import ASRModel
        from nemo.core import ModelPT
    except ImportError as exc:
        if (exc.name or "nemo").split(".")[0] == "nemo":
            raise ModelLoadError(NOT_INSTALLED) from None
        raise ModelLoadError(
            f"NVIDIA NeMo is installed but cannot be imported ({first_line(exc)}): "
            "pip install --upgrade 'nemo_toolkit[asr]'"
        ) from None
    return ModelPT, ASRModel


def cached_pretrained(name: str) -> Path | None:
    """The .nemo file an earlier `from_pretrained(name)` downloaded, if any (newest first).

    NGC names are cached as `<NEMO_CACHE_DIR or ~/.cache/torch/NeMo/NeMo_<version>>/<name>/<hash>/
    <name>.nemo`; Hugging Face names (`org/name`) as `<name>.nemo` in the hub's own cache.
    """
    if "/" in name:
        try:
            from huggingface_hub import try_to_load_from_cache

            found = try_to_load_from_cache(repo_id=name, filename=f"{name.rsplit('/', 1)[1]}.nemo")
        except Exception as exc:  # not installed, or a name the hub would refuse
            log.debug("no cached download of %r: %s", name, exc)
            return None
        return Path(found) if isinstance(found, str) else None
    override = os.environ.get("NEMO_CACHE_DIR", "").strip()
    roots = [Path(override)] if override else sorted((Path.home() / ".cache" / "torch" / "NeMo").glob("NeMo_*"))
    files = [f for root in roots for f in root.glob(f"{glob.escape(name)}/*/{glob.escape(name)}.nemo") if f.is_file()]
    return max(files, key=lambda f: f.stat().st_mtime) if files else None


@register_model_type("nemo")
class NemoModel(BaseModel):
    """A restored NeMo model: `task: classification` predicts labels, `task: asr` transcribes."""

    input_kind = "audio"
    config_fields = backend_fields("nemo")

    def __init__(self, spec: ModelSpec, context: ModelContext | None = None) -> None:
        super().__init__(spec, context)
        where = f"models.{spec.name}.config"
        self.task = str(spec.config.get("task") or "classification")
        if self.task not in TASKS:
            raise ConfigError(f"{where}.task: expected one of {', '.join(TASKS)}, got {self.task!r}")
        if not spec.config.get("model_path") and not spec.config.get("model_name"):
            raise ConfigError(f"{where}: expected model_path (a .nemo file) or model_name (a pretrained name), got neither")
        self.label_map = read_label_map(spec)
        self.device: str | None = None
        self._model: Any = None
        self._model_labels: list[str] = []
        self._rate = 16_000

    @property
    def labels(self) -> list[str]:
        return list(dict.fromkeys(self._model_labels)) if self._model_labels else list(self.spec.labels)

    def _local_file(self) -> Path | None:
        """The .nemo file to restore (None: download model_name); checked before NeMo's slow import."""
        path, name = self.spec.config.get("model_path"), self.spec.config.get("model_name")
        if path:
            file = self.context.resolve(path)
            if not file.is_file():
                raise ModelLoadError(f"NeMo model file {file} does not exist; set model_path to a .nemo file")
            return file
        if hub_offline() or not hub_reachable(None if "/" in name else NGC_URL):
            cached = cached_pretrained(name)
            if cached is None:
                raise ModelLoadError(
                    f"NeMo model {name!r} needs a download and the hub is unreachable: download the .nemo "
                    "file on a connected machine and set model_path to it"
                )
            log.info("hub unreachable: NeMo model %r restored from its earlier download %s", name, cached)
            return cached
        return None

    def _load(self) -> None:
        from speakfeed_gui.core.audio.devices import resolve_device

        path, name = self.spec.config.get("model_path"), self.spec.config.get("model_name")
        file = self._local_file()
        model_pt, asr_model = import_nemo()
        import torch

        self.device = resolve_device(self.spec.config.get("device"))
        location = torch.device(self.device)
        try:
            if file is not None:
                model = model_pt.restore_from(str(file), map_location=location)
            else:
                model = asr_model.from_pretrained(name, map_location=location)
        except Exception as exc:  # NeMo raises many types for corrupt files, wrong classes, downloads
            raise ModelLoadError(f"NeMo model {path or name!r} cannot be loaded: {first_line(exc)}") from None
        self._model = model.eval()
        self._rate = int(getattr(model.cfg, "sample_rate", None) or 16_000)
        if self.task == "asr" and not hasattr(model, "transcribe"):
            raise ModelLoadError(f"NeMo model {path or name!r} is a {type(model).__name__}, not a speech recogniser")
        if self.task == "classification":
            raw = [str(v) for v in (getattr(model.cfg, "labels", None) or self.spec.labels)]
            self._model_labels = [self.label_map.get(v, v) for v in raw]
        log.info("loaded NeMo %s (%s) on %s", self.name, type(model).__name__, self.device)

    def _refuse_if_asr(self) -> None:
        if self.task == "asr":
            raise ConfigError(
                f"model {self.name} is a NeMo speech recogniser (task: asr) and cannot be used as an emotion "
                "classifier directly; set live.asr_model to its .nemo file, or use a task: classification model"
            )

    def batch_predict(self, items: Sequence[Any]) -> list[Prediction]:
        self._refuse_if_asr()  # before load(): no need to import NeMo to say so
        return super().batch_predict(items)

    def _predict_proba(self, batch: list[Any]) -> list[Mapping[str, float]]:
        self._refuse_if_asr()
        import torch

        clips = [fit_audio(clip, self._rate) for clip in batch]
        lengths = torch.tensor([c.size for c in clips])
        signal = torch.zeros(len(clips), int(lengths.max()))
        for i, clip in enumerate(clips):
            signal[i, : clip.size] = torch.from_numpy(clip)
        with torch.inference_mode():
            out = self._model.forward(input_signal=signal.to(self.device), input_signal_length=lengths.to(self.device))
        logits = out[0] if isinstance(out, (tuple, list)) else out
        probs = logits.float().softmax(dim=-1)
        if probs.ndim == 3:  # frame classifiers: average the per-frame distributions
            probs = probs.mean(dim=1)
        if probs.shape[-1] != len(self._model_labels):
            raise ModelLoadError(
                f"NeMo model {self.name} outputs {probs.shape[-1]} classes but has {len(self._model_labels)} labels; "
                "list one label per class in emotion_labels"
            )
        return [mapped_probabilities(row, self._model_labels) for row in probs.cpu().numpy()]

    def transcribe(self, audio: Any) -> str:
        """The transcript of a 16 kHz array or an audio file (task: asr)."""
        if self.task != "asr":
            raise ConfigError(f"model {self.name} is a NeMo classifier (task: classification); it cannot transcribe")
        self.load()
        clip = fit_audio(as_audio(audio), self._rate)
        out = self._model.transcribe([clip], batch_size=1, verbose=False)
        first = (out[0] if isinstance(out, tuple) else out)[0]
        return str(getattr(first, "text", first)).strip()

    def get_model_info(self) -> dict[str, Any]:
        info = super().get_model_info()
        path = self.spec.config.get("model_path")
        info.update(
            task=self.task,
            device=self.device or self.spec.config.get("device", "auto"),
            model_path=str(self.context.resolve(path)) if path else self.spec.config.get("model_name"),
        )
        return info
NeMoModel = NemoModel  # the seed spells it so
