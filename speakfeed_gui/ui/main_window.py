"""The main window: three tabs, menus and shortcuts, status bar, background start-up work."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from speakfeed_gui import __version__
from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.ui.browser_tab import BrowserTab
from speakfeed_gui.ui.context import AppContext
from speakfeed_gui.ui.error_dialog import error_bus, report_error
from speakfeed_gui.ui.history_tab import HistoryTab
from speakfeed_gui.ui.live_tab import LiveTab
from speakfeed_gui.ui.task_status import TaskStatus
from speakfeed_gui.ui.train_tab import TrainTab
from speakfeed_gui.ui.workers import Worker

log = logging.getLogger(__name__)
LIVE, BROWSER, TRAIN = range(3)


def _bootstrap_default_model(workspace: Any) -> Any:
    """Work function: train the default model (bundled EmoDB speech) if the workspace has no `live` model."""

    def work(progress: Any, cancel: Any) -> str | None:
        try:
            from speakfeed_gui.core.training.bootstrap import bootstrap, needs_bootstrap
        except ImportError as exc:
            raise SpeakFeedError(f"default model set-up is not available ({exc})") from None
        if not needs_bootstrap(workspace):
            return None
        return bootstrap(workspace, progress=progress, cancel=cancel)

    return work


def _warm_up(progress: Any, cancel: Any) -> None:
    """Work function: compile and cache the feature extractor so the first analysis is quick."""
    from speakfeed_gui.core.features.extractor import warm_up

    warm_up()


class MainWindow(QMainWindow):
    first_painted = Signal()

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._painted = False
        self.background: list[Worker] = []
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.live_tab = LiveTab(context)
        self.browser_tab = BrowserTab(context)
        self.train_tab = TrainTab(context)
        self.tabs.addTab(self.live_tab, "Live Feedback")
        self.tabs.addTab(self.browser_tab, "Model Browser")
        self.tabs.addTab(self.train_tab, "Train")
        self.history_tab = HistoryTab(context)
        self.tabs.addTab(self.history_tab, "History")
        self.history_tab.open_requested.connect(self.live_tab.open_session)
        self.setCentralWidget(self.tabs)
        self._build_menus()
        self._build_status_bar()
        context.live_model_changed.connect(self._update_live_label)
        context.workspace_changed.connect(self._on_workspace_changed)
        context.status_message.connect(lambda text: self.statusBar().showMessage(text, 10_000))
        context.task_started.connect(self.task_status.track)
        context.show_model_requested.connect(self.show_model)
        error_bus().parent_widget = self
        self._on_workspace_changed()
        self._restore()
        self.installEventFilter(self)

    # -- layout ---------------------------------------------------------------------------
    def _build_menus(self) -> None:
        def action(menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
            act = QAction(text, self)
            if shortcut is not None:
                act.setShortcut(QKeySequence(shortcut))
            act.triggered.connect(slot)
            menu.addAction(act)
            return act

        file_menu = self.menuBar().addMenu("&File")
        self.act_open = action(file_menu, "Open workspace…", self.open_workspace, QKeySequence.StandardKey.Open)
        self.act_import = action(file_menu, "Import model bundle…", lambda: self.browser_tab.import_bundle(), "Ctrl+I")
        self.act_export = action(file_menu, "Export model bundle…", self.export_bundle, "Ctrl+E")
        file_menu.addSeparator()
        self.act_quit = action(file_menu, "Quit", self.close, "Ctrl+Q")
        view_menu = self.menuBar().addMenu("&View")
        for index, title in enumerate(("Live Feedback", "Model Browser", "Train", "History")):
            action(view_menu, title, lambda _c=False, i=index: self.tabs.setCurrentIndex(i), f"Ctrl+{index + 1}")
        view_menu.addSeparator()
        self.act_refresh = action(view_menu, "Refresh", self.refresh, "F5")
        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "Open log folder", self.open_log_folder)
        action(help_menu, "About SpeakFeed", self.about)

    def _build_status_bar(self) -> None:
        self.workspace_label = QLabel()
        self.live_label = QLabel()
        self.task_status = TaskStatus()
        bar = self.statusBar()
        bar.addPermanentWidget(self.task_status)
        bar.addPermanentWidget(self.live_label)
        bar.addPermanentWidget(self.workspace_label)

    def _restore(self) -> None:
        settings = self.context.settings
        geometry = settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 820)
        state = settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.tabs.setCurrentIndex(int(self.context.setting("window/tab", BROWSER)))

    def save_state(self) -> None:
        settings = self.context.settings
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())
        self.context.set_setting("window/tab", self.tabs.currentIndex())
        self.browser_tab.save_state()
        self.train_tab.save_state()
        settings.sync()

    # -- status -----------------------------------------------------------------------------
    def _update_live_label(self, _ref: str = "") -> None:
        self.live_label.setText(f"Live model: {self.context.live_model_label()}")

    def _on_workspace_changed(self) -> None:
        root = self.context.workspace.root
        self.workspace_label.setText(f"Workspace: {root}")
        self.workspace_label.setToolTip(str(root))
        self.setWindowTitle(f"SpeakFeed — {root.name or root}")
        self._update_live_label()

    # -- actions ----------------------------------------------------------------------------
    def show_model(self, model_id: str) -> None:
        self.tabs.setCurrentIndex(BROWSER)
        self.browser_tab.show_model(model_id)

    def export_bundle(self) -> None:
        row = self.browser_tab.selected_row()
        if row is None or row.configured:
            self.tabs.setCurrentIndex(BROWSER)
            self.statusBar().showMessage("Select a trained model in the Model Browser to export it.", 8000)
            return
        self.browser_tab.export_selected()

    def refresh(self) -> None:
        self.context.reload()
        self.statusBar().showMessage("Reloaded the registry and models.yaml", 4000)

    def open_workspace(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Open workspace", str(self.context.workspace.root))
        if chosen:
            self.switch_workspace(chosen)

    def switch_workspace(self, path: str | Path) -> None:
        from speakfeed_gui.core.settings.workspace import init_workspace

        try:
            workspace = init_workspace(path)
        except SpeakFeedError as exc:
            report_error(exc, title="Open workspace")
            return
        self.context.set_workspace(workspace)
        self.context.set_setting("workspace/last", str(workspace.root))
        self.statusBar().showMessage(f"Opened workspace {workspace.root}", 8000)
        self.start_default_model()

    def open_log_folder(self) -> None:
        from speakfeed_gui.core.logging_setup import log_dir

        folder = log_dir()
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def about(self) -> None:
        QMessageBox.about(self, "About SpeakFeed",
                          f"<b>SpeakFeed {__version__}</b><p>Live vocal-emotion and delivery feedback for public "
                          "speakers, with a model registry and trainer.</p>"
                          f"<p>Workspace: {self.context.workspace.root}</p>")

    # -- start-up work (after the first paint) ------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self and event.type() == QEvent.Type.Paint and not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.first_painted.emit)
        return super().eventFilter(watched, event)

    def start_background_tasks(self) -> None:
        """Default model (if the workspace has none), then warm up the feature extractor."""
        self.start_default_model(then_warm_up=True)

    def start_default_model(self, then_warm_up: bool = False) -> Worker:
        worker = Worker(_bootstrap_default_model(self.context.workspace), name="default model", parent=self)
        worker.finished.connect(self._on_default_model)
        worker.failed.connect(self._on_background_failed)
        if then_warm_up:
            worker.done.connect(self._start_warm_up)
        self.background.append(worker)
        self.context.track(worker, "Preparing the default model")
        return worker.start()

    def _on_default_model(self, model_id: Any) -> None:
        if model_id:
            self.context.notify_registry_changed()
            self.statusBar().showMessage(f"Default model ready ({str(model_id)[:8]})", 8000)

    def _on_background_failed(self, exc: Any) -> None:
        """Start-up helpers are optional: report in the status bar and the log, no dialog."""
        message = str(exc) if isinstance(exc, SpeakFeedError) else f"{type(exc).__name__}: {exc}"
        log.warning("background task failed: %s", message, exc_info=exc if not isinstance(exc, SpeakFeedError) else None)
        self.statusBar().showMessage(f"Background task failed: {message}", 30_000)

    def _start_warm_up(self) -> None:
        worker = Worker(_warm_up, name="warm-up", parent=self)
        worker.failed.connect(self._on_background_failed)
        self.background.append(worker)
        worker.start()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.live_tab.shutdown()  # a running session is stopped and saved before workers are torn down
        Worker.shutdown_all()
        self.context.shutdown()
        super().closeEvent(event)
