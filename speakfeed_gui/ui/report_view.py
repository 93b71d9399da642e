"""The end-of-session report: emotion share, timeline, delivery against target bands, observations.

Built from a session document (the recorder's or `load_session`'s), so a finished live session
and a session reopened from disk show the same view. Export writes the report JSON, the windows
CSV (core/live/report.py) or a PNG of the rendered report (QWidget.grab()).
"""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.live.report import SessionReport, export_csv, export_json, summarize
from speakfeed_gui.core.live.session import load_session
from speakfeed_gui.core.settings.measures import DEFAULT_TARGETS
from speakfeed_gui.ui.error_dialog import report_error
from speakfeed_gui.ui.live_plots import EmotionTimeline
from speakfeed_gui.ui.moments_panel import MomentsPanel
from speakfeed_gui.ui.plot_style import AXIS_TEXT, label_colors, style_plot
from speakfeed_gui.ui.prosody_cards import METRICS, STATUS_COLORS, TEXT_METRICS

log = logging.getLogger(__name__)
OTHER_COLOR = QColor("#9e9e9e")  # "uncertain" and labels the model did not declare


def session_targets(session: Mapping[str, Any], fallback: Mapping[str, Any] | None = None) -> dict[str, tuple[float, float]]:
    """The target bands the session was recorded with, else `fallback`, else the defaults."""
    saved = (session.get("settings") or {}).get("targets")
    source = saved if isinstance(saved, Mapping) and saved else (fallback or DEFAULT_TARGETS)
    bands = {}
    for key, band in source.items():
        try:
            bands[str(key)] = (float(band[0]), float(band[1]))
        except (TypeError, ValueError, IndexError):
            log.warning("ignoring malformed target band %s: %r", key, band)
    return bands


def build_report(session: Mapping[str, Any], targets: Mapping[str, tuple[float, float]],
                 filler_words: Sequence[str] = ()) -> SessionReport:
    """The session's report; words per minute and fillers come from its transcript (core/live/report.py)."""
    report = summarize(session, targets, list(filler_words) or None)
    report.path = session.get("path") or report.path
    return report


class ShareBarChart(pg.PlotWidget):
    """Share of speech windows per label: horizontal bars (long label names stay readable)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w")
        style_plot(self.getPlotItem(), None, "% of speech windows", grid=False, invert_y=True)
        self.bars: pg.BarGraphItem | None = None
        self.texts: list[pg.TextItem] = []
        self.share: dict[str, float] = {}
        self.setMinimumHeight(160)
        self.setMaximumHeight(250)

    def set_share(self, share: Mapping[str, float], labels: Sequence[str]) -> None:
        plot = self.getPlotItem()
        for item in ([self.bars] if self.bars else []) + self.texts:
            plot.removeItem(item)
        self.texts = []
        order = [label for label in labels if label in share] + [label for label in share if label not in labels]
        self.share = {label: float(share[label]) for label in order}
        colors = label_colors(labels)
        percents = [100.0 * self.share[label] for label in order]
        self.bars = pg.BarGraphItem(x0=0, y=list(range(len(order))), width=percents, height=0.65, pen=pg.mkPen(None),
                                    brushes=[QBrush(colors.get(label, OTHER_COLOR)) for label in order])
        plot.addItem(self.bars)
        for i, value in enumerate(percents):
            text = pg.TextItem(f"{value:.0f}%", color=AXIS_TEXT, anchor=(0.0, 0.5))
            text.setPos(value, i)
            plot.addItem(text)
            self.texts.append(text)
        plot.getAxis("left").setTicks([[(i, label.replace("_", " ")) for i, label in enumerate(order)]])
        plot.setYRange(-0.6, max(len(order), 1) - 0.4, padding=0)
        plot.setXRange(0.0, min(100.0, max(percents + [10.0]) * 1.2), padding=0)


class ReportView(QWidget):
    """The report of one session with its export buttons; `content` is what the PNG shows."""

    exported = Signal(str)  # path of a written file

    def __init__(self, session: Mapping[str, Any], targets: Mapping[str, tuple[float, float]] | None = None,
                 filler_words: Sequence[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = dict(session)
        self.targets = session_targets(session, targets)
        self.report = build_report(self.session, self.targets, filler_words)
        self.labels = list((self.session.get("model") or {}).get("labels") or [])
        self.content = QWidget()
        self.content.setObjectName("reportContent")
        self.content.setStyleSheet("QWidget#reportContent { background: white; }")
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.observations = QLabel()
        self.observations.setWordWrap(True)
        self.observations.setTextFormat(Qt.TextFormat.RichText)
        self.share_chart = ShareBarChart()
        self.timeline = EmotionTimeline(span_seconds=None)
        self.timeline.setMinimumHeight(260)
        self.prosody_table = QTableWidget(0, 4)
        self.moments = MomentsPanel(self.session, self.targets, filler_words, self.timeline)
        self.transcript = QLabel()
        self.transcript.setWordWrap(True)
        self.transcript.setTextFormat(Qt.TextFormat.RichText)
        self.transcript.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build()
        self._fill()
        self.moments.draw()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        table = self.prosody_table
        table.setHorizontalHeaderLabels(["Measure", "Session", "Target", "Rating"])
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        charts = QHBoxLayout()
        charts.addWidget(self._titled("Emotion share", self.share_chart), 2)
        charts.addWidget(self._titled("Delivery against target bands", table, stretch=False), 3)
        layout = QVBoxLayout(self.content)
        layout.addWidget(self.header)
        layout.addWidget(self._titled("Observations", self.observations))
        layout.addLayout(charts)
        layout.addWidget(self._titled("Emotion timeline (smoothed probabilities)", self.timeline), 1)
        layout.addWidget(self._titled("Moments", self.moments, stretch=False))
        layout.addWidget(self._titled("Transcript", self.transcript, stretch=False))
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.content)
        self.buttons = {}
        row = QHBoxLayout()
        row.addStretch(1)
        for kind, text in (("json", "Export JSON…"), ("csv", "Export CSV…"), ("png", "Export PNG…")):
            button = QPushButton(text)
            button.clicked.connect(lambda _c=False, k=kind: self.ask_export(k))
            row.addWidget(button)
            self.buttons[kind] = button
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll, 1)
        outer.addLayout(row)

    @staticmethod
    def _titled(title: str, widget: QWidget, stretch: bool = True) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addWidget(QLabel(f"<b>{title}</b>"))
        layout.addWidget(widget, 1 if stretch else 0)
        if not stretch:
            layout.addStretch(1)
        return box

    def _fill(self) -> None:
        r = self.report
        status_color = "#2e7d32" if r.status == "completed" else "#c62828"
        started = (r.started_at or "")[:19].replace("T", " ")
        self.header.setText(
            f"<span style='font-size:15pt; font-weight:bold'>Session report</span><br>"
            f"{started} · model <b>{r.model or '?'}</b> · "
            f"<span style='color:{status_color}; font-weight:bold'>{r.status.replace('_', ' ')}</span><br>"
            f"{r.duration_seconds:.1f} s in total, {r.speech_seconds:.1f} s of speech · "
            f"{r.speech_windows} of {r.windows} windows with speech"
            + (f"<br><span style='color:#757575'>{self.session.get('message')}</span>" if self.session.get("message") else "")
        )
        notes = r.observations or ["Nothing to report."]
        self.observations.setText("<ul style='margin-left:-20px'>" + "".join(f"<li>{n}</li>" for n in notes) + "</ul>")
        self.share_chart.set_share(r.emotion_share, self.labels)
        self._fill_timeline()
        self._fill_prosody()
        self._fill_transcript()

    def _fill_transcript(self) -> None:
        r = self.report
        if not r.words:
            self.transcript.setText("<span style='color:#757575'>No words were transcribed.</span>")
            return
        words = r.words
        fillers = ", ".join(f"{html.escape(k)} {v}" for k, v in words["fillers"].items()) or "none"
        repeated = {**words["repeats"]["immediate"], **words["repeats"]["phrases"]}
        lines = [f"{words['word_count']} words in {words['speech_seconds']:.0f} s: "
                 f"<b>{words['words_per_minute']:.0f} words per minute</b> · fillers: {fillers}"]
        if repeated:
            lines.append("repeated: " + ", ".join(f"“{html.escape(k)}” {v}×" for k, v in repeated.items()))
        lines += [f"<span style='color:#757575'>{int(s['start']) // 60}:{int(s['start']) % 60:02d}</span> "
                  f"{html.escape(s['text'])}" for s in r.transcript_segments]
        self.transcript.setText("<br>".join(lines))

    def _fill_timeline(self) -> None:
        if not self.labels:  # an old session without the model's labels: take them from the points
            self.timeline.set_points(self.report.timeline)
            return
        self.timeline.set_labels(self.labels)
        for point in self.report.timeline:
            self.timeline.append(float(point["t"]), point.get("probabilities"))
        self.timeline.redraw()

    def _fill_prosody(self) -> None:
        r = self.report
        rows = [k for k in METRICS if k in r.prosody and (k not in TEXT_METRICS or r.prosody[k] is not None)]
        table = self.prosody_table
        table.setRowCount(len(rows))
        for i, key in enumerate(rows):
            metric, status = METRICS[key], r.prosody_status.get(key)
            band = self.targets.get(key)
            cells = [metric.title, metric.format(r.prosody[key]), metric.format_band(band).removeprefix("target "),
                     status or ("–" if band else "")]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 3 and status:
                    item.setForeground(QBrush(QColor("white")))
                    item.setBackground(QBrush(QColor(STATUS_COLORS[status])))
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                table.setItem(i, column, item)
        table.resizeRowsToContents()
        height = table.horizontalHeader().height() + sum(table.rowHeight(i) for i in range(len(rows))) + 4
        table.setFixedHeight(height)

    # -- export -----------------------------------------------------------------------------
    def _default_path(self, suffix: str) -> Path:
        source = self.report.path or self.session.get("path")
        if source:
            path = Path(source)
            return path.with_name(path.stem + suffix)
        return Path.home() / f"speakfeed_report{suffix}"

    def export_json(self, path: str | Path) -> Path:
        written = export_json(self.report, path)
        self.exported.emit(str(written))
        return written

    def export_csv(self, path: str | Path) -> Path:
        written = export_csv(self.session, path)
        self.exported.emit(str(written))
        return written

    def export_png(self, path: str | Path) -> Path:
        path = Path(path)
        if not self.content.grab().save(str(path), "PNG"):
            raise SpeakFeedError(f"{path}: cannot write the PNG (check the folder exists and is writable)")
        self.exported.emit(str(path))
        return path

    def ask_export(self, kind: str) -> None:
        suffix, name = {"json": ("_report.json", "JSON (*.json)"), "csv": (".csv", "CSV (*.csv)"),
                        "png": ("_report.png", "PNG image (*.png)")}[kind]
        chosen, _ = QFileDialog.getSaveFileName(self, "Export report", str(self._default_path(suffix)), name)
        if not chosen:
            return
        try:
            getattr(self, f"export_{kind}")(chosen)
        except (SpeakFeedError, OSError) as exc:
            report_error(exc, title="Export report")


class ReportDialog(QDialog):
    """A non-modal window holding one ReportView."""

    def __init__(self, view: ReportView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        name = Path(view.report.path).name if view.report.path else "session"
        self.setWindowTitle(f"Session report — {name}")
        layout = QVBoxLayout(self)
        layout.addWidget(view)
        self.resize(980, 860)


def open_report(path: str | Path, targets: Mapping[str, tuple[float, float]] | None = None,
                filler_words: Sequence[str] = (), parent: QWidget | None = None, keys: Any = None) -> ReportDialog:
    """A report window for a session file (SessionError if the file cannot be used); `keys` decrypts it."""
    view = ReportView(load_session(path, keys), targets, filler_words)
    view.moments.keys = keys  # an encrypted recording plays with the same key
    return ReportDialog(view, parent)


class SessionsDialog(QDialog):
    """Past sessions of a folder, newest first; Open (or double-click) asks for one's report."""

    open_requested = Signal(str)
    COLUMNS = ("Started", "Status", "Duration", "Model", "Windows", "Audio")

    def __init__(self, sessions_dir: str | Path, parent: QWidget | None = None, keys: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Past sessions")
        self.sessions_dir = Path(sessions_dir)
        self.keys = keys  # KeySource for encrypted sessions (None: the OS keyring)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.empty = QLabel(f"No sessions in {self.sessions_dir} yet.")
        self.open_button = QPushButton("Open report")
        self.open_button.clicked.connect(self.open_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.resize(760, 420)
        self.sessions: list[dict[str, Any]] = []
        self.loading = False
        self.reload()

    def reload(self) -> Any:
        """List the folder's sessions in a worker thread (hundreds of long talks take seconds the first
        time; the history index then serves their summaries from its cache); returns the Worker."""
        from speakfeed_gui.core.live.history import HistoryIndex
        from speakfeed_gui.ui.workers import Worker

        self.loading = True
        self.empty.setText(f"Reading the sessions in {self.sessions_dir}…")
        self.empty.setVisible(True)
        self.open_button.setEnabled(False)
        folder, keys = self.sessions_dir, self.keys

        def work(progress: Any, cancel: Any) -> list[dict[str, Any]]:
            if not folder.is_dir():
                return []
            return [s.to_dict() for s in HistoryIndex(folder, keys).load(progress, cancel)]

        # No parent: the dialog may be closed (and deleted) before the folder is read; the worker then
        # finishes on its own and its result is dropped instead of reaching a deleted window.
        worker = Worker(work, name="list sessions")
        worker.finished.connect(lambda sessions: self._show(sessions) if shiboken6.isValid(self) else None)
        worker.failed.connect(lambda exc: report_error(exc, title="Past sessions"))
        return worker.start()

    def _show(self, sessions: list[dict[str, Any]]) -> None:
        self.loading = False
        self.sessions = sorted(sessions, key=lambda s: s["path"], reverse=True)  # the file names are timestamps
        self.table.setRowCount(len(self.sessions))
        for row, s in enumerate(self.sessions):
            cells = [str(s.get("started_at") or "")[:19].replace("T", " "), str(s["status"]).replace("_", " "),
                     f"{float(s.get('duration_seconds') or 0):.1f} s", str(s.get("model") or ""), str(s["windows"]),
                     Path(s["audio_path"]).name if s.get("audio_path") else ""]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(s["path"])
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        self.empty.setText(f"No sessions in {self.sessions_dir} yet.")
        self.empty.setVisible(not self.sessions)
        self.open_button.setEnabled(bool(self.sessions))
        if self.sessions:
            self.table.selectRow(0)

    def open_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.sessions):
            self.open_requested.emit(self.sessions[row]["path"])
