"""Feature sets to choose from, by the `feature_extractor` key: the built-in set and SSL embeddings.

- `sf-prosody-mfcc` (default): the built-in 80 prosody/MFCC functionals (extractor.py).
- `ssl`: the mean-pooled hidden states of one layer of a pretrained speech model (wav2vec2, HuBERT,
  WavLM, anything `transformers.AutoModel` loads) from a local folder or the Hugging Face hub cache
  (offline is fine: nothing is downloaded when HF_HUB_OFFLINE=1). Spec: "ssl:<folder or hub id>[@layer]"
  or {"type": "ssl", "model": ..., "layer": N}; layer -1 is the last.

Every set has an `id` and `version` recorded in the model's metadata; the SSL id carries a short hash
of the model's config and weights, so the feature cache (batch.py) and trained models key on the exact
model that produced the numbers. `feature_set_from_spec(metadata["feature_set"]["extractor"])` rebuilds
the set at prediction time.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from speakfeed_gui.core.audio.decode import SAMPLE_RATE
from speakfeed_gui.core.errors import HyperparameterError, ModelLoadError

log = logging.getLogger(__name__)
BUILTIN = "sf-prosody-mfcc"
SSL_VERSION = 1
_SSL_MIN_SAMPLES = 400  # the conv front-end needs ~25 ms; shorter clips are zero-padded


@dataclass(frozen=True)
class FeatureSet:
    """What turns audio into a fixed-length vector; picklable (worker processes rebuild the extractor)."""

    kind: str  # "builtin" or "ssl"
    id: str
    version: int
    dim: int
    model: str = ""
    layer: int = -1

    def names(self) -> list[str]:
        if self.kind == "builtin":
            from speakfeed_gui.core.features.extractor import feature_names

            return feature_names()
        return [f"ssl_l{self.layer}_{i}" for i in range(self.dim)]

    def extract(self, audio: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
        if self.kind == "builtin":
            from speakfeed_gui.core.features.extractor import extract_features

            return extract_features(audio, sr)
        return _ssl_embedding(self.model, self.layer, audio, sr)

    def spec(self) -> dict[str, Any]:
        """The `feature_extractor` value that rebuilds this set."""
        return {"type": BUILTIN} if self.kind == "builtin" else {"type": "ssl", "model": self.model, "layer": self.layer}

    def to_metadata(self) -> dict[str, Any]:
        return {"id": self.id, "version": self.version, "names": self.names(), "extractor": self.spec()}


def builtin() -> FeatureSet:
    from speakfeed_gui.core.features.extractor import FEATURE_SET_ID, FEATURE_SET_VERSION, N_FEATURES

    return FeatureSet("builtin", FEATURE_SET_ID, FEATURE_SET_VERSION, N_FEATURES)


def parse_spec(spec: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Normalise the CLI / config forms into {"type": ..., "model": ..., "layer": ...}."""
    if spec in (None, "", BUILTIN, "builtin"):
        return {"type": BUILTIN}
    if isinstance(spec, str):
        if not spec.startswith("ssl:") or len(spec) <= 4:
            raise HyperparameterError(
                f"feature extractor {spec!r}: use {BUILTIN} or ssl:<model folder or hub id>[@layer]")
        model, _, layer = spec[4:].rpartition("@") if "@" in spec[4:] else (spec[4:], "", "-1")
        try:
            return {"type": "ssl", "model": model, "layer": int(layer)}
        except ValueError:
            raise HyperparameterError(f"feature extractor {spec!r}: the layer after @ must be a whole number") from None
    if isinstance(spec, Mapping) and spec.get("type") in (BUILTIN, "builtin"):
        return {"type": BUILTIN}
    if isinstance(spec, Mapping) and spec.get("type") == "ssl" and spec.get("model"):
        layer = spec.get("layer", -1)
        if isinstance(layer, bool) or not isinstance(layer, int):
            raise HyperparameterError(f"feature extractor layer {layer!r}: expected a whole number")
        return {"type": "ssl", "model": str(spec["model"]), "layer": layer}
    raise HyperparameterError(f"feature extractor {spec!r}: use {BUILTIN} or {{type: ssl, model: ..., layer: N}}")


def feature_set_from_spec(spec: str | Mapping[str, Any] | None) -> FeatureSet:
    """The FeatureSet a spec names; an SSL model is loaded once to learn its size and hash."""
    parsed = parse_spec(spec)
    if parsed["type"] == BUILTIN:
        return builtin()
    model, processor, folder = _load_ssl(parsed["model"])
    n_layers = int(model.config.num_hidden_layers)
    layer = parsed["layer"]
    if not -(n_layers + 1) <= layer <= n_layers:
        raise HyperparameterError(
            f"feature extractor layer {layer}: {parsed['model']} has hidden states 0 to {n_layers} (or -1 for the last)")
    name = Path(parsed["model"]).name or parsed["model"].replace("/", "-")
    digest = _model_digest(folder)
    return FeatureSet("ssl", f"ssl-{name}-l{layer}-{digest[:12]}", SSL_VERSION, int(model.config.hidden_size),
                      parsed["model"], layer)


def _model_digest(folder: Path) -> str:
    """sha256 over the model folder's config and weight files: the cache and metadata key on the exact model."""
    from speakfeed_gui.core.storage.hashing import sha256_file

    digest = hashlib.sha256()
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.suffix in (".json", ".safetensors", ".bin"):
            digest.update(f"{path.name}\t{sha256_file(path)}\n".encode())
    return digest.hexdigest()


_LOCK = threading.Lock()


@functools.lru_cache(maxsize=2)
def _load_ssl(model: str) -> tuple[Any, Any, Path]:
    """(model in eval mode, feature extractor, its folder), from a local folder or the hub cache only."""
    try:
        from transformers import AutoFeatureExtractor, AutoModel
    except ImportError:
        raise ModelLoadError("ssl features need torch and transformers (pip install 'speakfeed[hf]')") from None
    folder = Path(model).expanduser()
    if not folder.is_dir():
        try:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(model, local_files_only=True))
        except Exception as exc:  # noqa: BLE001 - hub errors have many classes; one line is what the user needs
            raise ModelLoadError(f"ssl model {model!r}: not a local folder and not in the hub cache ({exc})") from None
    try:
        loaded = AutoModel.from_pretrained(str(folder)).eval()
        processor = AutoFeatureExtractor.from_pretrained(str(folder))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelLoadError(f"ssl model {folder}: cannot load it ({str(exc).splitlines()[0]})") from None
    return loaded, processor, folder


def _ssl_embedding(model_name: str, layer: int, audio: np.ndarray, sr: int) -> np.ndarray:
    import torch

    from speakfeed_gui.core.audio.decode import resample, to_mono

    audio = to_mono(np.asarray(audio, dtype=np.float32))
    if sr != SAMPLE_RATE:
        audio = resample(audio, sr, SAMPLE_RATE)
    if audio.size < _SSL_MIN_SAMPLES:
        audio = np.pad(audio, (0, _SSL_MIN_SAMPLES - audio.size))
    model, processor, _ = _load_ssl(model_name)
    inputs = processor(audio, sampling_rate=SAMPLE_RATE, return_tensors="pt")
    with _LOCK, torch.inference_mode():  # one forward pass at a time per process: torch already uses every core
        hidden = model(**inputs, output_hidden_states=True).hidden_states[layer]
    vector = hidden[0].mean(dim=0).numpy().astype(np.float32)
    return np.nan_to_num(vector, nan=0.0, posinf=0.0, neginf=0.0)
