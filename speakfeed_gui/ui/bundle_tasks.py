"""Model bundles from the GUI: choose the file, then export, import or verify in a background task.

Used by the Model Browser's toolbar and the File menu. Each task shows in the status bar while it
runs, says what it did in the status line, and a failure goes to the error dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtWidgets import QFileDialog, QWidget

from speakfeed_gui.ui.context import AppContext
from speakfeed_gui.ui.error_dialog import report_error
from speakfeed_gui.ui.workers import Worker, WorkFn

BUNDLE_FILTER = "SpeakFeed model bundles (*.sfbundle);;All files (*)"
_DIR_KEY = "paths/bundles"


def choose_bundle(parent: QWidget, context: AppContext, *, save_as: str | None = None) -> Path | None:
    """Ask for a bundle to import, or where to save one (`save_as`: the suggested file name)."""
    folder = Path(str(context.setting(_DIR_KEY, str(Path.home()))))
    if save_as is not None:
        chosen, _ = QFileDialog.getSaveFileName(parent, "Export model bundle", str(folder / save_as), BUNDLE_FILTER)
    else:
        chosen, _ = QFileDialog.getOpenFileName(parent, "Import model bundle", str(folder), BUNDLE_FILTER)
    if not chosen:
        return None
    context.set_setting(_DIR_KEY, str(Path(chosen).parent))
    return Path(chosen)


def _start(context: AppContext, work: WorkFn, *, name: str, status: str, error_title: str,
           on_finished: Callable[[Any], None], parent: QWidget | None) -> Worker:
    worker = Worker(work, name=name, parent=parent)
    worker.finished.connect(on_finished)
    worker.failed.connect(lambda exc: report_error(exc, title=error_title))
    context.track(worker, status)
    return worker.start()


def export_task(context: AppContext, key: str, dest: str | Path, parent: QWidget | None = None) -> Worker:
    registry, target = context.registry(), Path(dest)

    def work(progress: Any, cancel: Any) -> Path:
        from speakfeed_gui.core.registry.bundle import export_bundle

        return export_bundle(registry, key, target)

    return _start(context, work, name="export bundle", status="Exporting bundle", error_title="Export bundle",
                  parent=parent, on_finished=lambda path: context.status_message.emit(f"Exported bundle to {path}"))


def import_task(context: AppContext, path: str | Path, on_imported: Callable[[str], None],
                parent: QWidget | None = None) -> Worker:
    registry, source, root = context.registry(), Path(path), context.workspace.root

    def work(progress: Any, cancel: Any) -> str:
        from speakfeed_gui.core.registry.bundle import TrustPolicy, import_bundle
        from speakfeed_gui.core.settings.config import load_config

        require = load_config(root / "config" / "models.yaml").security.require_signed  # broken config: refused
        return import_bundle(registry, source, policy=TrustPolicy.for_workspace(root, require))

    return _start(context, work, name="import bundle", status="Importing bundle", error_title="Import bundle",
                  parent=parent, on_finished=lambda model_id: on_imported(str(model_id)))


def verify_task(context: AppContext, key: str, parent: QWidget | None = None) -> Worker:
    registry = context.registry()

    def work(progress: Any, cancel: Any) -> str:
        from speakfeed_gui.core.registry.bundle import verify_model

        verify_model(registry, key)
        return key

    return _start(context, work, name="verify model", status="Verifying model",
                  error_title="Integrity check failed", parent=parent,
                  on_finished=lambda k: context.status_message.emit(f"Model {k[:8]}: every artifact matches its sha256"))
