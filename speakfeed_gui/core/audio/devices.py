"""Pick the torch device a model runs on.

`auto` prefers a CUDA GPU, then Apple's MPS, then the CPU. torch is imported only when asked,
so listing models never pays for it; without torch every request resolves to the CPU.
"""

from __future__ import annotations

import logging

from speakfeed_gui.core.errors import ModelLoadError

log = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda", "mps")


def available_devices() -> list[str]:
    """The concrete devices this machine can run torch models on, best first."""
    try:
        import torch
    except ImportError:
        return ["cpu"]
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return found + ["cpu"]


def resolve_device(requested: str | None = "auto") -> str:
    """Turn a config value (auto|cpu|cuda|mps) into a device torch can use here."""
    requested = (requested or "auto").lower()
    if requested not in DEVICES:
        raise ModelLoadError(f"device {requested!r} is not known; use one of {', '.join(DEVICES)}")
    available = available_devices()
    if requested == "auto":
        log.debug("device auto -> %s (available: %s)", available[0], ", ".join(available))
        return available[0]
    if requested not in available:
        raise ModelLoadError(
            f"device {requested!r} is not available on this machine (available: {', '.join(available)}); "
            "set device: auto or cpu"
        )
    return requested
