"""Convert a user's own pickled classifier into a registered skops model (`speakfeed models import-pickle`).

After the one trusted unpickling here, the model is stored and loaded like any trained one: skops
files with hashes, an entry in the registry, usable by id or alias. Without `trust` nothing is opened.
"""

from __future__ import annotations

from pathlib import Path

from speakfeed_gui.core.errors import ModelLoadError
from speakfeed_gui.core.settings.workspace import Workspace
from speakfeed_gui.core.storage.trusted_pickle import is_pickle, load_trusted_pickle, untrusted_message


def import_pickle(
    path: str | Path, *, trust: bool, workspace: Workspace | None = None, experiment_name: str = "imported",
    description: str = "",
) -> str:
    """Register the pickle's classifier (and scaler) as skops files; returns the new model id."""
    from speakfeed_gui.core.training.seed_api import ModelTrainer

    path = Path(path)
    if not is_pickle(path):
        raise ModelLoadError(f"{path}: not a pickle (.pkl, .pickle or .joblib); bundles go through `speakfeed models import`")
    if not trust:
        raise ModelLoadError(untrusted_message(path, "import-pickle"))
    model, scaler = load_trusted_pickle(path)
    info = {"model_type": type(model).__name__, "experiment_name": experiment_name,
            "description": description or f"imported from {path.name}", "source": str(path.resolve())}
    return ModelTrainer(workspace).save_model(model, info, {}, scaler=scaler)
