"""A user's own pickled model (`.pkl`, `.joblib`), loaded only on the user's word that it is theirs.

Unpickling runs whatever code the file names, so SpeakFeed never opens a pickle it was merely given:
bundles refuse them (registry.bundle) and registered models are skops files. A pickle the user
made themselves (the seed's `audio_emotion` model_path) opens when models.yaml says
`trust_pickle: true`, or once through `speakfeed models import-pickle FILE --trust`, which stores it
as a registered skops model from then on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from speakfeed_gui.core.errors import ModelLoadError, first_line

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")


def is_pickle(path: str | Path) -> bool:
    return Path(path).suffix.lower() in PICKLE_SUFFIXES


def untrusted_message(path: str | Path, owner: str) -> str:
    """Why a pickle is not opened, and the two ways to say it is the user's own."""
    return (f"{owner}: {path} is a pickle, which runs any code it names when loaded, so it is not opened; "
            "if you made it yourself, set trust_pickle: true in its config: block, or convert it once with "
            f"`speakfeed models import-pickle {path} --trust`")


def load_trusted_pickle(path: str | Path) -> tuple[Any, Any]:
    """(classifier, scaler or None) from a pickle the caller has decided to trust.

    Accepted shapes: a fitted classifier (a Pipeline counts), a `(classifier, scaler)` pair, or a
    dict with `model` (or `classifier`) and optionally `scaler`, as the seed's storage wrote them.
    """
    import joblib

    path = Path(path)
    try:
        obj = joblib.load(path)
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: file not found") from None
    except Exception as exc:  # noqa: BLE001 - unpickling can raise anything; the user gets one line
        raise ModelLoadError(f"{path}: cannot be unpickled ({type(exc).__name__}: {first_line(exc)})") from None
    if isinstance(obj, dict):
        model, scaler = obj.get("model", obj.get("classifier")), obj.get("scaler")
    elif isinstance(obj, (tuple, list)) and len(obj) == 2:
        model, scaler = obj
    else:
        model, scaler = obj, None
    if not hasattr(model, "predict_proba") or not hasattr(model, "classes_"):
        raise ModelLoadError(f"{path}: holds {type(model).__name__}, not a fitted classifier with predict_proba")
    if scaler is not None and not hasattr(scaler, "transform"):
        raise ModelLoadError(f"{path}: its scaler {type(scaler).__name__} has no transform()")
    return model, scaler
