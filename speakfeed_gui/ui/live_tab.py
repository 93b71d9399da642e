"""Live Feedback tab: pick a model and a microphone, press Start, see emotion and delivery live.

A thin Qt layer over core/live (friture's layout): the PortAudio callback only fills the
capture's ring buffer, `LiveAnalyzer` analyses windows in its own thread and puts results on a
thread-safe queue, and a ~30 fps QTimer on the GUI thread drains the queue, reads the level
meter and redraws. Loading the model, the voice detector and the pitch tracker runs in a Worker.
A lost device or a failing model shows a banner in the tab; the session so far is always saved.
This module runs the session; live_controls.py is the top row, live_display.py what is shown.
"""

from __future__ import annotations

import collections
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressBar, QVBoxLayout, QWidget

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.live.analyzer import WindowResult
from speakfeed_gui.core.live.preparation import Prepared, prepare_analysis
from speakfeed_gui.ui.banner import Banner
from speakfeed_gui.ui.context import AppContext
from speakfeed_gui.ui.live_controls import LiveControls
from speakfeed_gui.ui.live_display import LiveDisplay, clock
from speakfeed_gui.ui.live_run import LiveRun
from speakfeed_gui.ui.report_view import ReportDialog, ReportView, SessionsDialog, open_report
from speakfeed_gui.ui.workers import Worker

log = logging.getLogger(__name__)
IDLE, LOADING, RUNNING = "idle", "loading", "running"
TICK_MS = 33  # ~30 fps: level meter, queue drain, redraw
DEVICE_KEY = "live/device"


class LiveTab(QWidget):
    session_started = Signal(str)  # session file path
    session_finished = Signal(str)
    report_shown = Signal(object)  # the ReportDialog

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.state = IDLE
        self._run: LiveRun | None = None
        self._worker: Worker | None = None
        self._scanned = False
        self.last_session_path: Path | None = None
        self.report_dialog: ReportDialog | None = None
        self.sessions_dialog: SessionsDialog | None = None
        self.tick_seconds: collections.deque = collections.deque(maxlen=5000)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._build()
        context.workspace_changed.connect(self._on_workspace_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.controls = LiveControls(self.context)
        controls = self.controls
        self.model_combo, self.device_picker, self.record_box = (controls.model_combo, controls.device_picker,
                                                                 controls.record_box)
        self.start_button, self.sessions_button = controls.start_button, controls.sessions_button
        self.elapsed_label = controls.elapsed_label
        controls.problem.connect(self.show_banner)
        self.device_picker.device_changed.connect(self._on_device_changed)
        self.start_button.clicked.connect(self.toggle)
        self.sessions_button.clicked.connect(self.show_sessions)

        self.banner = Banner()
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setTextVisible(True)

        self.display = LiveDisplay()
        display = self.display
        self.panel, self.timeline, self.pitch_level = display.panel, display.timeline, display.pitch_level
        self.cards, self.transcript = display.cards, display.transcript
        self.emotion_label, self.detail_label = self.panel.emotion_label, self.panel.detail_label
        self.meter, self.stats_label = self.panel.meter, self.panel.stats_label

        layout = QVBoxLayout(self)
        layout.addWidget(controls)
        layout.addWidget(self.banner)
        layout.addWidget(self.progress)
        layout.addWidget(display, 1)

    @property
    def results_shown(self) -> int:
        """Analysed windows shown in the current (or last) session."""
        return self.display.results_shown

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._scanned:  # PortAudio is initialised on first show, not at app start-up
            self.scan_devices(rescan=False)

    # -- banner -----------------------------------------------------------------------------
    def show_banner(self, text: str, kind: str = "error") -> None:
        self.banner.show_message(text, kind)

    def hide_banner(self) -> None:
        self.banner.clear_message()

    def banner_text(self) -> str:
        return self.banner.message()

    @property
    def banner_kind(self) -> str:
        return self.banner.kind

    # -- devices ------------------------------------------------------------------------------
    def scan_devices(self, rescan: bool = True) -> None:
        self._scanned = True
        preferred = self.device_picker.current_name() or str(self.context.setting(DEVICE_KEY, ""))
        devices = self.device_picker.refresh(preferred, rescan=rescan)
        if not devices:
            self.show_banner(f"No microphone: {self.device_picker.problem}. Connect one and press Refresh.", "warning")
        elif self.banner_kind == "warning" and self.banner_text().startswith("No microphone"):
            self.hide_banner()

    def _on_device_changed(self, name: str) -> None:
        if name and self._scanned:
            self.context.set_setting(DEVICE_KEY, name)

    def _on_workspace_changed(self) -> None:
        if self.state != IDLE:
            self.stop()
        self.controls.fill_models()

    # -- start / stop ---------------------------------------------------------------------------
    def toggle(self) -> None:
        if self.state == IDLE:
            self.start()
        else:
            self.stop()

    def start(self) -> None:
        """Check the choices, then load the model in a worker; capture starts when it is ready."""
        if self.state != IDLE:
            return
        self.hide_banner()
        if not self._scanned:
            self.scan_devices(rescan=False)
        if self.device_picker.current_device() is None:
            self.show_banner("No microphone to listen to: connect one and press Refresh.", "warning")
            return
        try:
            factory = self.context.factory()
            model = factory.resolve(self.context.live_model_ref() or None)
        except SpeakFeedError as exc:
            self.show_banner(f"Cannot use the model: {exc}")
            return
        live = factory.config.live
        if model.input_kind == "text" and not live.asr_model:
            self.show_banner(
                f"Model {model.name} classifies text, so live speech must be transcribed first: set live.asr_model "
                f"in {factory.config.path} to a speech recogniser (a Hugging Face hub id, a local folder or a .nemo "
                "file), or choose an audio model.")
            return
        self._set_state(LOADING)
        worker = Worker(prepare_analysis(model, live, self.context.workspace), name="live model")
        worker.progress.connect(self._on_progress)
        worker.finished.connect(lambda prepared, w=worker: self._on_prepared(w, prepared))
        worker.failed.connect(lambda exc, w=worker: self._on_prepare_failed(w, exc))
        worker.cancelled.connect(lambda w=worker: self._set_state(IDLE) if w is self._worker else None)
        self._worker = worker
        self.context.track(worker, f"Loading {model.name} for Live Feedback")
        worker.start()

    def _on_progress(self, stage: str, done: int, total: int, message: str) -> None:
        self.progress.setRange(0, max(total, 0))
        self.progress.setValue(done)
        self.progress.setFormat(f"{stage}… {message}".strip())

    def _on_prepare_failed(self, worker: Worker, exc: BaseException) -> None:
        if worker is not self._worker:
            return
        self._worker = None
        self._set_state(IDLE)
        text = str(exc) if isinstance(exc, SpeakFeedError) else f"{type(exc).__name__}: {exc}"
        if not isinstance(exc, SpeakFeedError):
            log.error("loading the live model failed", exc_info=exc)
        self.show_banner(f"The model could not be started: {text}")

    def _on_prepared(self, worker: Worker, prepared: Prepared) -> None:
        if worker is not self._worker or self.state != LOADING:
            return
        self._worker = None
        config = self.context.factory().config
        try:
            run = LiveRun.open(prepared, self.device_picker.current_device(), self.device_picker.devices, config,
                               self.context.workspace.sessions_dir, record_audio=self.record_box.isChecked())
        except SpeakFeedError as exc:
            self._set_state(IDLE)
            self.show_banner(str(exc))
            return
        self.tick_seconds.clear()
        self.display.reset(prepared.model, config.live)
        self._run = run
        self._set_state(RUNNING)
        self.timer.start()
        self.session_started.emit(str(run.session.path))

    def stop(self) -> None:
        """Cancel loading, or end the session (saved as completed) and show its report."""
        if self.state == LOADING:
            if self._worker is not None:
                self._worker.cancel()
            self._worker = None
            self._set_state(IDLE)
        elif self.state == RUNNING:
            self._end_session()

    def shutdown(self) -> None:
        """Stop everything without showing a report (window closing, app quitting)."""
        if self._run is not None:
            self._end_session(show_report=False)
        elif self.state == LOADING:
            self.stop()

    def _end_session(self, show_report: bool = True) -> None:
        run, self._run = self._run, None
        self.timer.stop()
        if run is None:
            return
        run.close()
        self._drain(run)
        self._set_state(IDLE)
        self.last_session_path = run.session.path
        if run.device_lost:
            self.show_banner(
                f"Microphone lost: {run.capture.error or 'the device stopped'}. The session so far was saved as "
                f"{run.session.path.name} (status: device lost). Check the microphone, press Refresh, then Start.")
        elif self.banner_kind != "warning":  # keep a model problem in view
            self.show_banner(f"Session saved as {run.session.path.name} ({run.session.window_count} windows); "
                             "Sessions… reopens it.", "info")
        if show_report:
            document = dict(run.session.document, path=str(run.session.path))
            self.show_report(ReportDialog(self._report_view(document), self))
        self.session_finished.emit(str(run.session.path))

    def _set_state(self, state: str) -> None:
        self.state = state
        self.start_button.setText({IDLE: "Start", LOADING: "Cancel", RUNNING: "Stop"}[state])
        self.controls.set_locked(state != IDLE)
        self.progress.setVisible(state == LOADING)
        if state == LOADING:
            self.progress.setRange(0, 0)
            self.progress.setFormat("loading…")

    # -- the GUI timer ---------------------------------------------------------------------------
    def elapsed(self) -> float:
        return 0.0 if self._run is None else self._run.elapsed()

    def _tick(self) -> None:
        run = self._run
        if run is None:
            return
        began = time.perf_counter()
        now = self.elapsed()
        self._drain(run)
        self.display.show_level(now, run.capture.level_dbfs())
        self.elapsed_label.setText(clock(now))
        self.panel.show_stats(run.capture.overflows, run.analyzer.skipped, self.results_shown)
        self.tick_seconds.append(time.perf_counter() - began)
        if run.ended_by_itself:  # the device was lost
            self._end_session()

    def _drain(self, run: LiveRun) -> None:
        latest: WindowResult | None = None
        for kind, item in run.pending():
            if kind == "result":
                self.display.add_result(item)
                latest = item
            else:
                run.errors += 1
                more = f" ({run.errors} problems in this session; analysis goes on)" if run.errors > 1 else ""
                self.show_banner(f"{item}{more}", "warning" if not item.startswith("audio device lost") else "error")
        if latest is not None:
            self.display.show_latest(latest)

    def timer_stats(self) -> dict[str, float]:
        """GUI timer cost per tick in ms (mean, p95, max) over the current or last session."""
        ticks = np.asarray(self.tick_seconds, dtype=float) * 1000.0
        if ticks.size == 0:
            return {"ticks": 0, "mean_ms": math.nan, "p95_ms": math.nan, "max_ms": math.nan}
        return {"ticks": int(ticks.size), "mean_ms": float(ticks.mean()), "p95_ms": float(np.percentile(ticks, 95)),
                "max_ms": float(ticks.max())}

    # -- reports ----------------------------------------------------------------------------------
    def _report_view(self, document: dict[str, Any]) -> ReportView:
        live = self.context.factory().config.live
        return ReportView(document, live.targets, live.filler_words)

    def show_report(self, dialog: ReportDialog) -> ReportDialog:
        """Show a report window (replacing the previous one)."""
        if self.report_dialog is not None:
            self.report_dialog.close()
        self.report_dialog = self._owned(dialog, "report_dialog")
        dialog.show()
        self.report_shown.emit(dialog)
        return dialog

    def show_sessions(self) -> SessionsDialog:
        """The past sessions window; when it is open already it is re-read and brought to the front."""
        dialog = self.sessions_dialog
        if dialog is not None and dialog.sessions_dir != Path(self.context.workspace.sessions_dir):
            dialog.close()  # another workspace's sessions
            dialog = None
        if dialog is None:
            dialog = self._owned(SessionsDialog(self.context.workspace.sessions_dir, self, self._session_keys()),
                                 "sessions_dialog")
            dialog.open_requested.connect(self.open_session)
            self.sessions_dialog = dialog
        else:
            dialog.reload()
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def _owned(self, dialog: Any, attribute: str) -> Any:
        """A closed window is deleted and forgotten (each report holds its plots and the whole session)."""
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: setattr(self, attribute, None)
                                if getattr(self, attribute) is dialog else None)
        return dialog

    def _session_keys(self) -> Any:
        """Where the key of encrypted sessions is (privacy.key_file, else the OS keyring)."""
        from speakfeed_gui.core.storage.crypto import KeySource

        try:
            return KeySource(self.context.factory().config.privacy.key_file)
        except SpeakFeedError:
            return KeySource()

    def open_session(self, path: str | Path) -> ReportDialog | None:
        live = self.context.factory().config.live
        try:
            dialog = open_report(path, live.targets, live.filler_words, self, self._session_keys())
        except SpeakFeedError as exc:
            self.show_banner(f"Cannot open the session: {exc}")
            return None
        return self.show_report(dialog)
