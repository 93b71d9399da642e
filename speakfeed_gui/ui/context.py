"""What every tab shares: the workspace, its factory and registry, settings and app-wide signals.

Tabs never talk to each other directly; they call the AppContext and listen to its signals
(`registry_changed`, `live_model_changed`, `show_model_requested`, `task_started`). A cheap timer
polls `registry.stat_token()` so a model registered by another process (the CLI, a second
window) shows up without a restart.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Callable

from PySide6.QtCore import QObject, QSettings, QTimer, Signal

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.models.live_choice import LIVE_ALIAS, live_model_ref
from speakfeed_gui.core.settings.workspace import Workspace

log = logging.getLogger(__name__)

ORGANIZATION = "SpeakFeed"
APPLICATION = "SpeakFeed"
SETTINGS_DIR_ENV = "SPEAKFEED_SETTINGS_DIR"
_LIVE_CHOICE_KEY = "live/model_choice"


def app_settings() -> QSettings:
    """The app's QSettings (INI file); SPEAKFEED_SETTINGS_DIR moves it, e.g. for tests."""
    override = os.environ.get(SETTINGS_DIR_ENV)
    if override:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, override)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


class AppContext(QObject):
    registry_changed = Signal()
    live_model_changed = Signal(str)
    workspace_changed = Signal()
    show_model_requested = Signal(str)
    task_started = Signal(object, str)  # (Worker, title) for the status bar
    status_message = Signal(str)

    def __init__(self, workspace: Workspace, settings: QSettings | None = None, *,
                 poll_ms: int = 1000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else app_settings()
        self._workspace = workspace
        self._factory: Any = None
        self._registry: Any = None
        self._entries: list[dict[str, Any]] | None = None
        self._token: Any = None
        self._last_live = ""
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll_registry)
        if poll_ms > 0:
            self._timer.start()

    # -- workspace, factory, registry ---------------------------------------------------
    @property
    def workspace(self) -> Workspace:
        return self._workspace

    def set_workspace(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._factory = self._registry = self._entries = None
        self._token = None
        self.workspace_changed.emit()
        self.registry_changed.emit()
        self._emit_live_if_changed()

    def factory(self) -> Any:
        """The workspace's ModelFactory (reads models.yaml on first use; may raise ConfigError)."""
        if self._factory is None:
            from speakfeed_gui.core.models.factory import ModelFactory

            self._factory = ModelFactory(workspace=self._workspace)
        return self._factory

    def configured_models(self) -> dict[str, Any]:
        """name -> ModelSpec from models.yaml; empty (and logged) if the config is broken."""
        try:
            return dict(self.factory().config.models)
        except SpeakFeedError as exc:
            log.warning("%s", exc)
            return {}

    def registry(self) -> Any:
        if self._registry is None:
            from speakfeed_gui.core.registry.api import ModelRegistry

            self._registry = ModelRegistry(self._workspace.registry_path)
            self.registry_write_refusal()
        return self._registry

    def registry_write_refusal(self) -> str | None:
        """Re-check whether this user may change the registry (registry.maintainers, folder permissions);
        the reason it is read-only, or None. The registry then refuses writes with that reason."""
        from speakfeed_gui.core.registry.api import guard_writes

        try:
            maintainers = self.factory().config.registry.maintainers
        except SpeakFeedError:
            maintainers = ()
        return guard_writes(self.registry(), maintainers)

    def write_registry(self, change: Callable[[Any], Any], title: str, *, done: Callable[[Any], None] | None = None,
                       parent: QObject | None = None) -> Any:
        """Run a registry change off the GUI thread, then refresh every view; returns the Worker.

        A write waits up to 30 s for the cross-process lock when another process holds it; on the GUI
        thread that would freeze the window. The change gets its own ModelRegistry, so the GUI's reads
        never queue behind the waiting writer; errors go to the error dialog.
        """
        from speakfeed_gui.core.registry.api import ModelRegistry
        from speakfeed_gui.ui.error_dialog import report_error
        from speakfeed_gui.ui.workers import Worker

        path, refusal = self._workspace.registry_path, self.registry_write_refusal()

        def work(_progress: Any, _cancel: Any) -> Any:
            registry = ModelRegistry(path)
            registry.read_only = refusal  # the same maintainers/permissions check as the app's registry
            return change(registry)

        worker = Worker(work, name=title, parent=parent or self)
        worker.failed.connect(lambda exc: report_error(exc, title=title))
        if done is not None:
            worker.finished.connect(done)
        worker.done.connect(self.notify_registry_changed)
        self.track(worker, title)
        return worker.start()

    def entries(self) -> list[dict[str, Any]]:
        """Registry entries (newest first), cached until the registry file changes."""
        if self._entries is None:
            self._token = self.registry().stat_token()
            self._entries = self.registry().list_models()
        return self._entries

    def aliases(self) -> dict[str, str]:
        try:
            return dict(self.registry().aliases())
        except SpeakFeedError as exc:
            log.warning("%s", exc)
            return {}

    def poll_registry(self) -> bool:
        """Emit registry_changed if the registry file changed on disk; True if it did."""
        try:
            token = self.registry().stat_token()
        except SpeakFeedError as exc:
            log.debug("registry poll: %s", exc)
            return False
        if token == self._token:
            return False
        self.notify_registry_changed()
        return True

    def reload(self) -> None:
        """Re-read models.yaml and the registry (F5)."""
        self._factory = None
        self.notify_registry_changed()

    def notify_registry_changed(self) -> None:
        """Drop the cache and tell every view (call after changing the registry)."""
        self._entries = None
        self._token = self.registry().stat_token()
        self.registry_changed.emit()
        self._emit_live_if_changed()

    # -- the Live tab's model ---------------------------------------------------------------
    def live_model_ref(self) -> str:
        """What the Live tab uses (core rule: a configured choice, else the `live` alias, else default_model)."""
        try:
            default_model = self.factory().config.default_model
        except SpeakFeedError:
            default_model = ""
        return live_model_ref(default_model, self.aliases(), self.configured_models(),
                              str(self.setting(_LIVE_CHOICE_KEY, "")))

    def live_model_label(self) -> str:
        """Human-readable form of live_model_ref() for the status bar."""
        ref = self.live_model_ref()
        if not ref:
            return "none"
        if ref in self.configured_models():
            return f"{ref} (configured)"
        entry = next((e for e in self._entries or () if e.get("id") == ref), None)
        if entry is None:
            try:
                entry = self.registry().get_model_info(ref)
            except SpeakFeedError:
                return ref[:8]
        return f"{entry.get('model_name') or entry.get('experiment_name')} · {ref[:8]} ({LIVE_ALIAS} alias)"

    def set_live_choice(self, ref: str, *, configured: bool) -> Any:
        """Make a model the Live tab's choice: a configured name (at once), or a trained model (the
        `live` alias, written in the background; returns its Worker)."""
        if configured:
            self.set_setting(_LIVE_CHOICE_KEY, ref)
            self._emit_live_if_changed()
            return None

        def said(_result: Any) -> None:
            self.set_setting(_LIVE_CHOICE_KEY, "")
            self.status_message.emit(f"Live Feedback will use {self.live_model_label()}")

        return self.write_registry(lambda registry: registry.set_alias(LIVE_ALIAS, ref), "Use for Live Feedback",
                                   done=said)

    def use_for_live(self, ref: str, *, configured: bool) -> Any:
        """The "Use for Live Feedback" action: set the choice and say so (a trained model's in the background)."""
        worker = self.set_live_choice(ref, configured=configured)
        if worker is None:
            self.status_message.emit(f"Live Feedback will use {self.live_model_label()}")
        return worker

    def _emit_live_if_changed(self) -> None:
        ref = self.live_model_ref()
        if ref != self._last_live:
            self._last_live = ref
            self.live_model_changed.emit(ref)

    # -- settings ---------------------------------------------------------------------------
    def setting(self, key: str, default: Any) -> Any:
        """A QSettings value coerced to the default's type (INI files store text)."""
        if isinstance(default, (dict, list)):
            raw = self.settings.value(key, "")
            try:
                value = json.loads(raw) if raw else default
            except (TypeError, ValueError):
                return default
            return value if isinstance(value, type(default)) else default
        if default is None:
            return self.settings.value(key)
        try:
            return self.settings.value(key, default, type=type(default))
        except (TypeError, ValueError):
            return default

    def set_setting(self, key: str, value: Any) -> None:
        if isinstance(value, (dict, list)):
            value = json.dumps(value)
        self.settings.setValue(key, value)

    def track(self, worker: Any, title: str) -> None:
        """Show a background task's progress in the status bar."""
        self.task_started.emit(worker, title)

    def shutdown(self) -> None:
        self._timer.stop()
        self.settings.sync()
