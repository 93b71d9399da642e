"""Load a trained model's artifacts (classifier, scaler, metadata), verifying every hash."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from speakfeed_gui.core.errors import IntegrityError
from speakfeed_gui.core.settings.workspace import Workspace

log = logging.getLogger(__name__)


def read_metadata(metadata_path: str | Path, metadata_sha256: str | None = None) -> dict[str, Any]:
    """A model's `<stem>_metadata.json`, refused if its sha256 differs from the registry's record."""
    from speakfeed_gui.core.storage.atomic import read_json
    from speakfeed_gui.core.storage.hashing import sha256_file

    metadata_path = Path(metadata_path)
    if metadata_sha256 is not None and metadata_path.is_file() and sha256_file(metadata_path) != metadata_sha256:
        raise IntegrityError(f"{metadata_path}: sha256 does not match the registry: the metadata was changed or corrupted")
    return read_json(metadata_path, "model metadata")


def load_from_metadata(metadata_path: str | Path, metadata_sha256: str | None = None) -> tuple[Any, Any, dict]:
    """Read `<stem>_metadata.json` and the classifier and scaler it lists, checking sha256s."""
    from speakfeed_gui.core.storage.skops_io import load_estimator
    from speakfeed_gui.core.storage.versions import check_versions

    metadata_path = Path(metadata_path)
    metadata = read_metadata(metadata_path, metadata_sha256)
    try:
        artifacts = metadata["artifacts"]
        model_file, scaler_file = artifacts["model"], artifacts["scaler"]
        model_path = metadata_path.parent / model_file["file"]
        scaler_path = metadata_path.parent / scaler_file["file"]
    except (KeyError, TypeError):
        raise IntegrityError(f"{metadata_path}: no 'artifacts' section with model and scaler files") from None
    for warning in check_versions(metadata):
        log.warning("%s: %s", metadata_path.name, warning)
    model = load_estimator(model_path, model_file.get("sha256"))
    scaler = load_estimator(scaler_path, scaler_file.get("sha256"))
    return model, scaler, metadata


def load_registered(ref: str, workspace: Workspace) -> tuple[Any, Any, dict]:
    """Resolve a registry id, prefix or alias and load its artifacts."""
    from speakfeed_gui.core.registry.api import ModelRegistry

    entry = ModelRegistry(workspace.registry_path).get_model_info(ref)
    return load_from_metadata(entry["metadata_path"], entry.get("metadata_sha256"))
