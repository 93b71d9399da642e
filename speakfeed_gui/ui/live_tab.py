"""Live Feedback tab: pick a model and a microphone, press Start, see emotion and delivery live.

A thin Qt layer over core/live (friture's layout): the PortAudio callback only fills the
capture's ring buffer, `LiveAnalyzer` analyses windows in its own thread and puts results on a
thread-safe queue, and a ~30 fps QTimer on the GUI thread drains the queue, reads the level
meter and redraws. Loading the model, the voice detector and the pitch tracker runs in a Worker.
A lost device or a failing model shows a banner in the tab; the session so far is always saved.
"""

from __future__ import annotations

import collections
import logging
import math
import queue
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QSplitter, QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.live.analyzer import LiveAnalyzer, WindowResult
from speakfeed_gui.core.live.capture import AudioCapture
from speakfeed_gui.core.live.session import SessionRecorder
from speakfeed_gui.ui.context import AppContext
from speakfeed_gui.ui.device_picker import DevicePicker
from speakfeed_gui.ui.live_plots import EmotionPanel, EmotionTimeline, PitchLevelPlot, label_colors
from speakfeed_gui.core.live.preparation import Prepared, limit_torch_threads, prepare_analysis, recent_medians
from speakfeed_gui.ui.prosody_cards import ProsodyCards, TranscriptLog
from speakfeed_gui.ui.report_view import ReportDialog, ReportView, SessionsDialog, open_report
from speakfeed_gui.ui.workers import Worker

log = logging.getLogger(__name__)
IDLE, LOADING, RUNNING = "idle", "loading", "running"
TICK_MS = 33  # ~30 fps: level meter, queue drain, redraw
CARD_SECONDS = 10.0  # cards show the median of the speech windows of the last 10 s
TRANSCRIPT_SECONDS = 30.0  # words / fillers per minute over the last 30 s of transcript
MAX_TRAINED_IN_PICKER = 200
DEVICE_KEY, RECORD_KEY = "live/device", "live/record"
BANNER_STYLES = {
    "error": "background: #fdecea; color: #8a1c1c; border: 1px solid #e57373;",
    "warning": "background: #fff6e5; color: #6d4a00; border: 1px solid #ffb74d;",
    "info": "background: #e8f1fb; color: #17405f; border: 1px solid #90b8e0;",
}


@dataclass
class _Run:
    """One running session and what the tab accumulated from it."""

    capture: AudioCapture
    analyzer: LiveAnalyzer
    session: SessionRecorder
    model: Any
    origin: int
    speech: collections.deque = field(default_factory=lambda: collections.deque(maxlen=512))
    transcript: TranscriptLog = field(default_factory=TranscriptLog)
    errors: int = 0
    torch_threads: int | None = None  # to restore when the session ends


class LiveTab(QWidget):
    session_started = Signal(str)  # session file path
    session_finished = Signal(str)
    report_shown = Signal(object)  # the ReportDialog

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.state = IDLE
        self._run: _Run | None = None
        self._worker: Worker | None = None
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._scanned = False
        self.results_shown = 0
        self.last_session_path: Path | None = None
        self.report_dialog: ReportDialog | None = None
        self.sessions_dialog: SessionsDialog | None = None
        self.tick_seconds: collections.deque = collections.deque(maxlen=5000)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._build()
        self._fill_models()
        context.live_model_changed.connect(self._select_model)
        context.registry_changed.connect(self._fill_models)
        context.workspace_changed.connect(self._on_workspace_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    # -- layout -----------------------------------------------------------------------------
    def _build(self) -> None:
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(22)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setToolTip("Model to listen with (the newest trained models; more in the Model Browser)")
        self.model_combo.activated.connect(self._on_model_chosen)
        self.device_picker = DevicePicker()
        self.device_picker.device_changed.connect(self._on_device_changed)
        self.record_box = QCheckBox("Record audio")
        self.record_box.setToolTip("Also save the audio as a WAV next to the session file")
        self.record_box.setChecked(bool(self.context.setting(RECORD_KEY, False)))
        self.record_box.toggled.connect(lambda on: self.context.set_setting(RECORD_KEY, bool(on)))
        self.start_button = QPushButton("Start")
        self.start_button.setMinimumWidth(90)
        self.start_button.clicked.connect(self.toggle)
        self.sessions_button = QPushButton("Sessions…")
        self.sessions_button.clicked.connect(self.show_sessions)
        self.elapsed_label = QLabel("0:00")
        self.elapsed_label.setToolTip("Time since Start (audio captured)")
        top = QHBoxLayout()
        top.addWidget(QLabel("Model"))
        top.addWidget(self.model_combo, 2)
        top.addWidget(QLabel("Microphone"))
        top.addWidget(self.device_picker, 3)
        top.addWidget(self.record_box)
        top.addWidget(self.start_button)
        top.addWidget(self.sessions_button)
        top.addWidget(self.elapsed_label)

        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.setVisible(False)
        self.banner_kind = ""
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.progress.setTextVisible(True)

        self.panel = EmotionPanel()
        self.emotion_label, self.detail_label = self.panel.emotion_label, self.panel.detail_label
        self.meter, self.stats_label = self.panel.meter, self.panel.stats_label

        self.timeline = EmotionTimeline()
        self.pitch_level = PitchLevelPlot()
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.timeline)
        plots.addWidget(self.pitch_level)
        plots.setSizes([260, 220])
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(self.panel)
        middle.addWidget(plots)
        middle.setStretchFactor(1, 1)
        middle.setSizes([260, 900])

        self.cards = ProsodyCards()
        self.transcript = QPlainTextEdit()
        self.transcript.setReadOnly(True)
        self.transcript.setMaximumBlockCount(500)
        self.transcript.setPlaceholderText("What the speech recogniser hears appears here.")
        self.transcript.setMaximumHeight(90)
        self.transcript.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.progress)
        layout.addWidget(middle, 1)
        layout.addWidget(self.cards)
        layout.addWidget(self.transcript)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._scanned:  # PortAudio is initialised on first show, not at app start-up
            self.scan_devices(rescan=False)

    # -- banner -----------------------------------------------------------------------------
    def show_banner(self, text: str, kind: str = "error") -> None:
        self.banner_kind = kind
        self.banner.setText(text)
        self.banner.setStyleSheet(f"QLabel {{ {BANNER_STYLES[kind]} padding: 6px; border-radius: 4px; }}")
        self.banner.setVisible(True)
        log.info("live tab banner (%s): %s", kind, text)

    def hide_banner(self) -> None:
        self.banner.setVisible(False)
        self.banner.clear()
        self.banner_kind = ""

    def banner_text(self) -> str:
        return self.banner.text() if self.banner_kind else ""

    # -- models and devices -------------------------------------------------------------------
    def _fill_models(self) -> None:
        """Configured models, then the newest trained ones; item data is "config:<name>" or "trained:<id>"."""
        combo = self.model_combo
        combo.blockSignals(True)
        combo.clear()
        for name, spec in self.context.configured_models().items():
            combo.addItem(f"{name} (configured, {spec.type})", f"config:{name}")
        try:
            entries = self.context.entries()[:MAX_TRAINED_IN_PICKER]
        except SpeakFeedError as exc:
            log.warning("%s", exc)
            entries = []
        for entry in entries:
            name = entry.get("model_name") or entry.get("experiment_name") or "model"
            aliases = f" [{', '.join(entry['aliases'])}]" if entry.get("aliases") else ""
            combo.addItem(f"{name} · {entry['id'][:8]}{aliases}", f"trained:{entry['id']}")
        combo.blockSignals(False)
        self._select_model()

    def _select_model(self, _ref: str = "") -> None:
        ref = self.context.live_model_ref()
        for index in range(self.model_combo.count()):
            if str(self.model_combo.itemData(index)).split(":", 1)[1] == ref:
                self.model_combo.setCurrentIndex(index)
                return
        if ref:  # a trained model older than the newest MAX_TRAINED_IN_PICKER
            self.model_combo.addItem(f"{ref[:8]} (live choice)", f"trained:{ref}")
            self.model_combo.setCurrentIndex(self.model_combo.count() - 1)

    def _on_model_chosen(self, index: int) -> None:
        kind, ref = str(self.model_combo.itemData(index)).split(":", 1)
        try:
            self.context.set_live_choice(ref, configured=kind == "config")
        except SpeakFeedError as exc:
            self.show_banner(f"Cannot choose this model: {exc}")

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
        self._fill_models()

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
        factory = self.context.factory()
        live = factory.config.live
        device = self.device_picker.current_device()
        names = [d.name for d in self.device_picker.devices]
        try:
            if device is None:
                raise SpeakFeedError("no microphone selected; connect one and press Refresh")
            capture = AudioCapture(device.name if names.count(device.name) == 1 else device.index)
            capture.start()
        except SpeakFeedError as exc:
            self._set_state(IDLE)
            self.show_banner(f"Cannot listen to the microphone: {exc}. Check it and press Refresh.")
            return
        try:
            session = SessionRecorder(
                self.context.workspace.sessions_dir, model_info=prepared.model.get_model_info(),
                settings=asdict(live), add_timestamps=factory.config.inference.add_timestamps,
                record_audio=self.record_box.isChecked(), sample_rate=capture.samplerate, source=capture.device.label)
        except SpeakFeedError as exc:
            capture.stop()
            self._set_state(IDLE)
            self.show_banner(f"Cannot save the session: {exc}")
            return
        analyzer = LiveAnalyzer(
            capture, prepared.model, live, session=session, vad=prepared.vad, transcriber=prepared.transcriber,
            on_result=lambda result: self._queue.put(("result", result)),
            on_error=lambda message: self._queue.put(("error", message)))
        self._reset_views(prepared.model, live)
        self._run = _Run(capture, analyzer, session, prepared.model, capture.ring.total_written,
                         torch_threads=limit_torch_threads(1))
        analyzer.start()
        self._set_state(RUNNING)
        self.timer.start()
        self.session_started.emit(str(session.path))

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
        run.analyzer.stop()
        run.capture.stop()
        limit_torch_threads(run.torch_threads)
        self._drain(run)
        self._set_state(IDLE)
        self.last_session_path = run.session.path
        if run.analyzer.stopped_reason == "device_lost":
            self.show_banner(
                f"Microphone lost: {run.capture.error or 'the device stopped'}. The session so far was saved as "
                f"{run.session.path.name} (status: device lost). Check the microphone, press Refresh, then Start.")
        elif self.banner_kind != "warning":  # keep a model problem in view
            self.show_banner(f"Session saved as {run.session.path.name} ({len(run.session.windows)} windows); "
                             "Sessions… reopens it.", "info")
        if show_report:
            document = dict(run.session.document, path=str(run.session.path))
            self.show_report(ReportDialog(self._report_view(document), self))
        self.session_finished.emit(str(run.session.path))

    def _set_state(self, state: str) -> None:
        self.state = state
        idle = state == IDLE
        self.start_button.setText({IDLE: "Start", LOADING: "Cancel", RUNNING: "Stop"}[state])
        self.model_combo.setEnabled(idle)
        self.device_picker.set_locked(not idle)
        self.record_box.setEnabled(idle)
        self.progress.setVisible(state == LOADING)
        if state == LOADING:
            self.progress.setRange(0, 0)
            self.progress.setFormat("loading…")

    # -- the GUI timer ---------------------------------------------------------------------------
    def _reset_views(self, model: Any, live: Any) -> None:
        self.results_shown = 0
        self.tick_seconds.clear()
        self.timeline.hop = live.hop_seconds
        self.timeline.set_labels(model.labels)
        self.pitch_level.clear_data()
        self.cards.set_targets(live.targets)
        self.cards.set_text_mode(model.input_kind == "text")
        self.cards.clear_values()
        self.transcript.clear()
        self.transcript.setVisible(model.input_kind == "text")
        self.panel.reset()

    def elapsed(self) -> float:
        run = self._run
        return 0.0 if run is None else (run.capture.ring.total_written - run.origin) / run.capture.samplerate

    def _tick(self) -> None:
        run = self._run
        if run is None:
            return
        began = time.perf_counter()
        now = self.elapsed()
        self._drain(run)
        level = run.capture.level_dbfs()
        self.meter.set_level(level)
        self.pitch_level.add_level(now, level)
        self.pitch_level.redraw(now)
        self.elapsed_label.setText(f"{int(now) // 60}:{int(now) % 60:02d}")
        self.panel.show_stats(run.capture.overflows, run.analyzer.skipped, self.results_shown)
        self.tick_seconds.append(time.perf_counter() - began)
        if run.analyzer.stopped_reason is not None and not run.analyzer.running:  # the device was lost
            self._end_session()

    def _drain(self, run: _Run) -> None:
        latest: WindowResult | None = None
        while True:
            try:
                kind, item = self._queue.get_nowait()
            except queue.Empty:
                break
            if kind == "result":
                self._add_result(run, item)
                latest = item
            else:
                run.errors += 1
                more = f" ({run.errors} problems in this session; analysis goes on)" if run.errors > 1 else ""
                self.show_banner(f"{item}{more}", "warning" if not item.startswith("audio device lost") else "error")
        if latest is not None:
            self.panel.show_result(latest, label_colors(self.timeline.labels))
            self.timeline.redraw()
            if latest.is_speech:
                self._update_cards(run, latest.t_end)

    def _add_result(self, run: _Run, result: WindowResult) -> None:
        self.results_shown += 1
        probabilities = result.smoothed if result.prediction is not None else None
        if probabilities and not set(probabilities) <= set(self.timeline.labels):
            self.timeline.set_labels(list(probabilities))  # the model's outputs differ from its declared labels
        self.timeline.append(result.t_end, probabilities)
        self.pitch_level.add_pitch(result.t_end, result.prosody.pitch_hz if result.is_speech else None)
        if result.is_speech:
            run.speech.append(result)
        if run.transcript.add(result.t_start, result.t_end, result.transcript) and result.transcript:
            self.transcript.appendPlainText(f"[{int(result.t_start) // 60}:{int(result.t_start) % 60:02d}] "
                                            f"{result.transcript}")

    def _update_cards(self, run: _Run, now: float) -> None:
        values: dict[str, Any] = recent_medians(run.speech, now - CARD_SECONDS)
        if run.model.input_kind == "text":
            filler_words = self.context.factory().config.live.filler_words
            values.update(run.transcript.metrics(filler_words, since=now - TRANSCRIPT_SECONDS))
        self.cards.update_values(values)

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
        if self.report_dialog is not None and isValid(self.report_dialog):
            self.report_dialog.close()
        self.report_dialog = dialog
        dialog.show()
        self.report_shown.emit(dialog)
        return dialog

    def show_sessions(self) -> SessionsDialog:
        dialog = SessionsDialog(self.context.workspace.sessions_dir, self)
        dialog.open_requested.connect(self.open_session)
        self.sessions_dialog = dialog
        dialog.show()
        return dialog

    def open_session(self, path: str | Path) -> ReportDialog | None:
        live = self.context.factory().config.live
        try:
            dialog = open_report(path, live.targets, live.filler_words, self)
        except SpeakFeedError as exc:
            self.show_banner(f"Cannot open the session: {exc}")
            return None
        return self.show_report(dialog)
