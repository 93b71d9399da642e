"""The History tab: every saved session, each delivery measure's trend with its band and personal best.

The summaries come from core's `HistoryIndex` (cached per session file), loaded in a Worker so a
workspace with hundreds of talks never blocks the window; the date filter then only redraws.
Double-clicking a session (or Open report) asks the Live tab to open its report; "Delete
recording…" removes a talk and its audio for good after a confirmation.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any, Sequence

import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QDate,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.live.history import MEASURES, HistoryIndex, SessionSummary, in_range, trend
from speakfeed_gui.core.settings.config import DEFAULT_TARGETS
from speakfeed_gui.ui.error_dialog import report_error
from speakfeed_gui.ui.plot_style import AXIS_TEXT, label_colors, style_plot
from speakfeed_gui.ui.prosody_cards import METRICS, TEXT_METRICS
from speakfeed_gui.ui.workers import Worker

log = logging.getLogger(__name__)
BAND_BRUSH = QColor(46, 125, 50, 40)
LINE_COLOR = QColor("#1f77b4")
BEST_COLOR = QColor("#f9a825")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1


def epoch(text: str | None) -> float | None:
    try:
        return datetime.fromisoformat(str(text)).timestamp() if text else None
    except ValueError:
        return None


class SessionsModel(QAbstractTableModel):
    """The summaries as a table: when, how long, model, status, each measure, recorded or not."""

    COLUMNS = ("Started", "Length", "Status", *(METRICS[m].title for m in MEASURES), "Audio", "Model")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.summaries: list[SessionSummary] = []

    def set_summaries(self, summaries: Sequence[SessionSummary]) -> None:
        self.beginResetModel()
        self.summaries = list(summaries)
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self.summaries)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section]
        return None

    def _value(self, s: SessionSummary, column: int) -> tuple[Any, str]:
        """(sort key, text) of one cell."""
        if column == 0:
            return s.started_at or "", str(s.started_at or "")[:16].replace("T", " ")
        if column == 1:
            return s.duration_seconds, f"{s.duration_seconds / 60:.1f} min"
        if column == 2:
            return s.status, s.status.replace("_", " ")
        if column == len(self.COLUMNS) - 1:
            return s.model or "", s.model or ""
        if column == len(self.COLUMNS) - 2:
            return bool(s.audio_path), "yes" if s.audio_path else ""
        name = MEASURES[column - 3]
        value = s.measures.get(name)
        return (value if value is not None else float("-inf")), METRICS[name].format(value) if value is not None else ""

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        s = self.summaries[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._value(s, index.column())[1]
        if role == SORT_ROLE:
            return self._value(s, index.column())[0]
        if role == Qt.ItemDataRole.ToolTipRole:
            return s.path
        return None


class TrendPlot(pg.PlotWidget):
    """One measure over sessions (date axis), its target band shaded and the personal best starred."""

    def __init__(self, title: str, unit: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w", axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot = self.getPlotItem()
        style_plot(self.plot, unit or None, None, left_width=48)
        self.plot.setTitle(title, color=AXIS_TEXT, size="10pt")
        self.curve = self.plot.plot([], [], pen=pg.mkPen(LINE_COLOR, width=2), symbol="o", symbolSize=6,
                                    symbolBrush=LINE_COLOR, symbolPen=None)
        self.band = pg.LinearRegionItem(orientation="horizontal", movable=False, brush=pg.mkBrush(BAND_BRUSH),
                                        pen=pg.mkPen(None))
        self.band.setZValue(-10)
        self.band.setVisible(False)
        self.plot.addItem(self.band)
        self.best = pg.ScatterPlotItem(size=16, symbol="star", brush=pg.mkBrush(BEST_COLOR), pen=pg.mkPen("#6d4c00"))
        self.plot.addItem(self.best)
        self.best_text = pg.TextItem("", color=AXIS_TEXT, anchor=(0.5, 1.3))
        self.plot.addItem(self.best_text)
        self.empty_text = pg.TextItem("", color=(120, 120, 120), anchor=(0.5, 0.5))
        self.plot.addItem(self.empty_text)
        self.xs: list[float] = []
        self.ys: list[float] = []
        self.setMinimumHeight(150)

    def set_points(self, xs: Sequence[float], ys: Sequence[float], band: Sequence[float] | None,
                   best: tuple[float, float] | None, best_label: str = "",
                   x_range: tuple[float, float] | None = None, empty: str = "no data") -> None:
        self.xs, self.ys = list(xs), list(ys)
        self.curve.setData(self.xs, self.ys)
        self.band.setVisible(band is not None)
        if band is not None:
            self.band.setRegion((band[0], band[1]))
        self.best.setData([best[0]] if best else [], [best[1]] if best else [])
        self.best_text.setText(best_label if best else "")
        if best:
            self.best_text.setPos(*best)
        values = self.ys + (list(band) if band is not None else [])
        if values:
            low, high = min(values), max(values)
            pad = (high - low) * 0.15 or 1.0
            self.plot.setYRange(low - pad, high + pad, padding=0)
        x_range = x_range or ((min(self.xs), max(self.xs)) if self.xs else None)
        if x_range:
            pad = (x_range[1] - x_range[0]) * 0.05 or 43200.0
            self.plot.setXRange(x_range[0] - pad, x_range[1] + pad, padding=0)
        self.empty_text.setText("" if self.xs else empty)
        if not self.xs:
            y = (band[0] + band[1]) / 2 if band is not None else 0.5
            self.empty_text.setPos(sum(x_range) / 2 if x_range else 0.0, y)


class EmotionTrendPlot(pg.PlotWidget):
    """Each label's share of the speech windows per session, one line per label."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="w", axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot = self.getPlotItem()
        style_plot(self.plot, "share", None, left_width=48)
        self.plot.setTitle("Emotion share", color=AXIS_TEXT, size="10pt")
        self.plot.setYRange(0.0, 1.25, padding=0.0)  # room above 1 for the legend
        self.legend = self.plot.addLegend(offset=(6, 4), colCount=8, labelTextColor=AXIS_TEXT,
                                          brush=pg.mkBrush(255, 255, 255, 200))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.setMinimumHeight(150)

    def set_emotions(self, emotions: dict[str, list[dict[str, Any]]], order: Sequence[str] = (),
                     x_range: tuple[float, float] | None = None) -> None:
        """`order`: the models' label order, so each label keeps the colour it has in the reports."""
        for curve in self.curves.values():
            self.plot.removeItem(curve)
        self.legend.clear()
        labels = [label for label in order if label in emotions] + [label for label in emotions if label not in order]
        emotions = {label: emotions[label] for label in labels}
        colors = label_colors(list(order) + [label for label in labels if label not in order])
        if x_range:
            pad = (x_range[1] - x_range[0]) * 0.05 or 43200.0
            self.plot.setXRange(x_range[0] - pad, x_range[1] + pad, padding=0)
        self.curves = {}
        for label, points in emotions.items():
            xs = [epoch(p["started_at"]) for p in points]
            kept = [(x, p["share"]) for x, p in zip(xs, points) if x is not None]
            self.curves[label] = self.plot.plot([x for x, _ in kept], [y for _, y in kept],
                                                pen=pg.mkPen(colors[label], width=2), symbol="o", symbolSize=5,
                                                symbolBrush=colors[label], symbolPen=None,
                                                name=label.replace("_", " "))


class HistoryTab(QWidget):
    """Sessions table + trend charts; `open_requested(path)` asks for a session's report."""

    open_requested = Signal(str)
    loaded = Signal(int)  # number of sessions after a (re)load

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.summaries: list[SessionSummary] = []
        self.shown: list[SessionSummary] = []
        self.worker: Worker | None = None
        self.load_ms = 0.0
        self.trend_data: dict[str, Any] = {}
        self.model = SessionsModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.since = QDateEdit()
        self.until = QDateEdit()
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.dateChanged.connect(self._apply_filter)
        self.all_dates = QPushButton("All dates")
        self.all_dates.clicked.connect(self._reset_dates)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.reload)
        self.open_button = QPushButton("Open report")
        self.open_button.clicked.connect(self.open_selected)
        self.delete_button = QPushButton("Delete recording…")
        self.delete_button.setToolTip("Delete the selected talk and its recording for good")
        self.delete_button.clicked.connect(lambda: self.delete_selected())
        self.status = QLabel("")
        self.plots = {name: TrendPlot(METRICS[name].title, METRICS[name].unit) for name in MEASURES}
        self.emotion_plot = EmotionTrendPlot()
        self.bests = QLabel()
        self.bests.setWordWrap(True)
        self.bests.setTextFormat(Qt.TextFormat.RichText)
        self._build()
        context.workspace_changed.connect(self.reload)

    def _build(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("From"))
        top.addWidget(self.since)
        top.addWidget(QLabel("to"))
        top.addWidget(self.until)
        top.addWidget(self.all_dates)
        top.addWidget(self.status, 1)
        top.addWidget(self.refresh_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.bests)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.delete_button)
        left_layout.addLayout(buttons)
        charts = QWidget()
        grid = QGridLayout(charts)
        grid.setContentsMargins(0, 0, 0, 0)
        for n, plot in enumerate(self.plots.values()):
            grid.addWidget(plot, n // 2, n % 2)
        grid.addWidget(self.emotion_plot, (len(self.plots) + 1) // 2, 0, 1, 2)
        scroll = QScrollArea()  # the charts scroll in a small window instead of forcing its minimum size
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(charts)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(scroll)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        self._enable()

    # -- loading ----------------------------------------------------------------------------
    @property
    def sessions_dir(self) -> Path:
        return Path(self.context.workspace.sessions_dir)

    def targets(self) -> dict[str, tuple[float, float]]:
        try:
            return dict(self.context.factory().config.live.targets)
        except SpeakFeedError as exc:  # a broken models.yaml: the bands fall back to the defaults
            log.warning("%s", exc)
            return dict(DEFAULT_TARGETS)

    def keys(self) -> Any:
        """Where the key of encrypted sessions is (privacy.key_file, else the OS keyring)."""
        from speakfeed_gui.core.storage.crypto import KeySource

        try:
            return KeySource(self.context.factory().config.privacy.key_file)
        except SpeakFeedError:
            return KeySource()

    def showEvent(self, event: Any) -> None:  # new talks appear when the tab is shown (the cache keeps it cheap)
        super().showEvent(event)
        if not (self.worker is not None and self.worker.running):
            self.reload()

    def reload(self) -> Worker:
        """Re-read the summaries in a worker (only changed files are read)."""
        if self.worker is not None and self.worker.running:
            self.worker.cancel()
        folder = self.sessions_dir
        began = time.perf_counter()
        self.status.setText("Loading sessions…")
        keys = self.keys()
        worker = Worker(lambda progress, cancel: HistoryIndex(folder, keys).load(progress, cancel), name="history",
                        parent=self)
        worker.finished.connect(lambda result, w=worker: self._on_loaded(w, result, began))
        worker.failed.connect(lambda exc: (self.status.setText("Could not read the sessions"),
                                           report_error(exc, title="History")))
        self.worker = worker
        return worker.start()

    def _on_loaded(self, worker: Worker, summaries: list[SessionSummary], began: float) -> None:
        if worker is not self.worker:
            return  # an older load finished after a newer one started
        self.load_ms = (time.perf_counter() - began) * 1000.0
        self.summaries = summaries
        days = [s.day for s in summaries if s.day is not None]
        for edit in (self.since, self.until):
            edit.blockSignals(True)
        if days:
            self.since.setDate(QDate(min(days)))
            self.until.setDate(QDate(max(days)))
        for edit in (self.since, self.until):
            edit.blockSignals(False)
        self._apply_filter()
        self.loaded.emit(len(summaries))

    # -- filter and charts ---------------------------------------------------------------------
    def date_range(self) -> tuple[date | None, date | None]:
        if not self.summaries:
            return None, None
        return self.since.date().toPython(), self.until.date().toPython()

    def set_date_range(self, since: date, until: date) -> None:
        self.since.setDate(QDate(since))
        self.until.setDate(QDate(until))

    def _reset_dates(self) -> None:
        days = [s.day for s in self.summaries if s.day is not None]
        if days:
            self.set_date_range(min(days), max(days))

    def _apply_filter(self) -> None:
        since, until = self.date_range()
        self.shown = in_range(self.summaries, since, until) if since else list(self.summaries)
        self.model.set_summaries(self.shown)
        self.table.resizeColumnsToContents()
        data = trend(self.shown, self.targets())
        self.trend_data = data
        stamps = [x for x in (epoch(s.started_at) for s in self.shown) if x is not None]
        x_range = (min(stamps), max(stamps)) if stamps else None
        bests = []
        for name, plot in self.plots.items():
            m = data["measures"][name]
            xs = [epoch(p["started_at"]) for p in m["points"]]
            kept = [(x, p["value"]) for x, p in zip(xs, m["points"]) if x is not None]
            best = m["best"]
            best_point = (epoch(best["started_at"]), best["value"]) if best and epoch(best["started_at"]) else None
            metric = METRICS[name]
            label = f"best {metric.format(best['value'])}" if best else ""
            empty = "no transcript in these talks" if name in TEXT_METRICS else "not measured"
            plot.set_points([x for x, _ in kept], [y for _, y in kept], m["band"], best_point, label, x_range, empty)
            if best:
                bests.append(f"{metric.title}: <b>{metric.format(best['value'])}</b> "
                             f"({str(best['started_at'] or '')[:10]})")
        self.emotion_plot.set_emotions(data["emotions"], self.label_order(), x_range)
        self.bests.setText(("<b>Personal bests</b> · " + " · ".join(bests)) if bests else "")
        total = len(self.summaries)
        self.status.setText(f"{len(self.shown)} of {total} sessions" if total else
                            f"No sessions in {self.sessions_dir} yet: record one in the Live Feedback tab.")
        self._enable()

    def label_order(self) -> list[str]:
        """Labels of the Live tab's model (their colours everywhere else), when it can be told cheaply."""
        try:
            return list(self.context.factory().resolve(self.context.live_model_ref()).labels)
        except Exception:  # noqa: BLE001 - only the colours depend on it
            return []

    def _enable(self) -> None:
        has = bool(self.shown)
        self.open_button.setEnabled(has)
        self.delete_button.setEnabled(has)
        if has and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    # -- actions ----------------------------------------------------------------------------
    def selected(self) -> SessionSummary | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.summaries[self.proxy.mapToSource(rows[0]).row()]

    def select_session(self, session_id: str) -> bool:
        for row in range(self.proxy.rowCount()):
            source = self.proxy.mapToSource(self.proxy.index(row, 0)).row()
            if self.model.summaries[source].id == session_id:
                self.table.selectRow(row)
                return True
        return False

    def open_selected(self) -> None:
        summary = self.selected()
        if summary is not None:
            self.open_requested.emit(summary.path)

    def delete_selected(self, confirm: bool = True) -> bool:
        """Delete the selected session and its recording (after a yes/no question)."""
        summary = self.selected()
        if summary is None:
            return False
        if confirm:
            what = "its recording and its report" if summary.audio_path else "its report"
            answer = QMessageBox.question(
                self, "Delete recording",
                f"Delete the talk of {str(summary.started_at or summary.id)[:16].replace('T', ' ')} — {what} — "
                "for good? This cannot be undone.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            HistoryIndex(self.sessions_dir, self.keys()).delete(summary.path)
        except SpeakFeedError as exc:
            report_error(exc, title="Delete recording")
            return False
        self.summaries = [s for s in self.summaries if s.id != summary.id]
        self._apply_filter()
        return True
