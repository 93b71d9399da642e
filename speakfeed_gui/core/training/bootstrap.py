"""The default model: trained once per workspace on the bundled demo corpus, aliased `live`.

A newcomer's Live tab needs a model at once and nothing can be downloaded, so the first launch
trains one through the normal trainer (speaker-independent split, features cached in the
workspace) on resources/demo_corpus. It never runs twice and never replaces a `live` alias the
user chose. The registered description says plainly that it is a demo, not an emotion detector.
"""

from __future__ import annotations

import logging
from typing import Any

from speakfeed_gui.core.errors import DatasetError, RegistryError
from speakfeed_gui.core.models.live_choice import LIVE_ALIAS
from speakfeed_gui.core.progress import CancelToken, ProgressCallback
from speakfeed_gui.core.settings.workspace import Workspace
from speakfeed_gui.core.training.demo_corpus import CSV_NAME, DEFAULT_VOICES, DEMO_DIR

log = logging.getLogger(__name__)

DEMO_CSV = DEMO_DIR / CSV_NAME
EXPERIMENT_NAME = "demo-default"
# Compared on the shipped corpus (leave-one-voice-out, the project's features): logistic
# regression 0.93 accuracy, random forest (200 trees) 0.92, SVM 0.91. Logistic regression wins
# and fits in about 0.2 s, with smoother probabilities for the live confidence display.
MODEL_TYPE = "logistic_regression"
HYPERPARAMETERS: dict[str, Any] = {"C": 1.0, "max_iter": 2000, "class_weight": "balanced"}
DESCRIPTION = (
    f"Demo model trained on SpeakFeed's synthetic espeak-ng corpus (prosody-styled, {len(DEFAULT_VOICES)} voices); "
    "a demo of the pipeline, not a validated emotion detector"
)
TAGS = ("demo", "default")
_LOCK_TIMEOUT_S = 300


def _registry(workspace: Workspace) -> Any:
    from speakfeed_gui.core.registry.api import ModelRegistry

    return ModelRegistry(workspace.registry_path)


def needs_bootstrap(workspace: Workspace) -> bool:
    """True when no registry model carries the `live` alias."""
    return LIVE_ALIAS not in _registry(workspace).aliases()


def _is_demo_default(registry: Any, model_id: str) -> bool:
    """Whether a registry entry is a previous demo default (which --force may replace)."""
    try:
        tags = registry.get_model_info(model_id).get("tags") or ()
    except Exception:  # a dangling alias is not the user's choice either way; keep it
        return False
    return set(TAGS) <= set(tags)


def bootstrap(
    workspace: Workspace,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
) -> str | None:
    """Train and alias the demo default model if the workspace has no `live` model; return its id.

    Returns None when nothing was needed. With `force` a new demo model is trained even if `live`
    exists; the alias then moves to it only if it pointed at an earlier demo default. Concurrent
    calls (GUI and CLI) are serialised by a lock file next to the registry, so the second one
    finds the alias set and returns None.
    """
    from filelock import FileLock, Timeout

    from speakfeed_gui.core.training.trainer import run_training_experiment

    workspace.models_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(workspace.models_dir / ".bootstrap.lock"))
    try:
        lock.acquire(timeout=_LOCK_TIMEOUT_S)
    except Timeout:
        raise RegistryError(
            f"{lock.lock_file}: another SpeakFeed process has been training the default model for over "
            f"{_LOCK_TIMEOUT_S} s; wait for it or delete the lock file if no SpeakFeed is running"
        ) from None
    try:
        before = _registry(workspace).aliases().get(LIVE_ALIAS)
        if before is not None and not force:
            log.debug("bootstrap not needed: %s already points at %s", LIVE_ALIAS, before)
            return None
        if not DEMO_CSV.is_file():
            raise DatasetError(
                f"{DEMO_CSV}: bundled demo corpus is missing; regenerate it with `speakfeed demo-data --out {DEMO_DIR}`"
            )
        model_id = run_training_experiment(
            DEMO_CSV,
            MODEL_TYPE,
            HYPERPARAMETERS,
            experiment_name=EXPERIMENT_NAME,
            workspace=workspace,
            group_by_speaker=True,
            progress=progress,
            cancel=cancel,
            description=DESCRIPTION,
            tags=TAGS,
        )
        registry = _registry(workspace)
        # compare-and-set: if the user chose a live model meanwhile, theirs stays
        if (before is None or _is_demo_default(registry, before)) and registry.set_alias(
            LIVE_ALIAS, model_id, only_if=before
        ):
            log.info("default model %s trained on the demo corpus and aliased %r", model_id, LIVE_ALIAS)
        else:
            log.info("demo model %s trained; %r left on the user's choice", model_id, LIVE_ALIAS)
        return model_id
    finally:
        lock.release()
