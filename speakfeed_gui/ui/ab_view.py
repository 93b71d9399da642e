"""A/B on one recording: two models' emotion timelines over the same audio, disagreements shaded.

The recording is a session's WAV or any audio file. Loading the models and running the analysis
(core `ab_compare`, i.e. `analyze_array` once per model) happens in a Worker; the plot shows
model A in solid lines and model B dashed, one colour per label, with the stretches where their
labels differ shaded red.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from speakfeed_gui.ui.error_dialog import report_error
from speakfeed_gui.ui.plot_style import AXIS_TEXT, label_colors, style_plot
from speakfeed_gui.ui.workers import Worker

log = logging.getLogger(__name__)
DISAGREE_BRUSH = QColor(211, 47, 47, 45)
AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.wav.enc);;All files (*)"


def _ab_work(factory: Any, refs: Sequence[str], path: Path) -> Any:
    def work(progress: Any, cancel: Any) -> Any:
        from speakfeed_gui.core.audio.decode import SAMPLE_RATE, load_audio, resample
        from speakfeed_gui.core.live.ab import ab_compare
        from speakfeed_gui.core.live.session import ENCRYPTED_AUDIO_SUFFIX, load_recording

        progress("loading", 0, 1, path.name)
        if path.name.endswith(ENCRYPTED_AUDIO_SUFFIX):  # a session's encrypted recording
            samples, rate = load_recording(path)
            audio = resample(samples if samples.ndim == 1 else samples.mean(axis=1), rate, SAMPLE_RATE)
        else:
            audio = load_audio(path)
        models = []
        for ref in refs:
            progress("loading", 0, 1, f"model {ref[:8]}")
            models.append(factory.resolve(ref).load())
        return ab_compare(audio, SAMPLE_RATE, models, factory.config.live, progress=progress, cancel=cancel)

    return work


class ABView(QWidget):
    """Pick a recording, run both models, see where they disagree."""

    analysed = Signal(object)  # the ABResult

    def __init__(self, context: Any, refs: Sequence[str], names: Sequence[str] = (), *,
                 recordings_dir: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.refs = list(refs[:2])
        self.names = list(names[:2]) or [r[:8] for r in self.refs]
        self.recordings_dir = Path(recordings_dir) if recordings_dir else None
        self.path: Path | None = None
        self.result: Any = None
        self.worker: Worker | None = None
        self.title = QLabel(f"<b>A</b> {self.names[0]} (solid) &nbsp; vs &nbsp; <b>B</b> {self.names[1]} (dashed)")
        self.file_label = QLabel("No recording chosen")
        self.choose_button = QPushButton("Recording…")
        self.choose_button.clicked.connect(self.choose)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        self.plot_widget = pg.PlotWidget(background="w")
        self.plot = self.plot_widget.getPlotItem()
        style_plot(self.plot, "probability")
        self.plot.setYRange(0.0, 1.0, padding=0.02)
        self.legend = self.plot.addLegend(offset=(6, 4), colCount=5, labelTextColor=AXIS_TEXT,
                                          brush=pg.mkBrush(255, 255, 255, 200))
        self.curves: dict[tuple[int, str], pg.PlotDataItem] = {}
        self.regions: list[pg.LinearRegionItem] = []
        row = QHBoxLayout()
        row.addWidget(self.choose_button)
        row.addWidget(self.file_label, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(row)
        layout.addWidget(self.plot_widget, 1)
        layout.addWidget(self.summary)

    def choose(self) -> None:
        start = str(self.recordings_dir or Path.home())
        chosen, _ = QFileDialog.getOpenFileName(self, "Recording for the A/B comparison", start, AUDIO_FILTER)
        if chosen:
            self.run(chosen)

    def run(self, path: str | Path) -> Worker:
        """Analyse `path` with both models in a worker; `analysed` carries the result."""
        self.path = Path(path)
        self.file_label.setText(str(self.path))
        self.summary.setText("Analysing with both models…")
        self.choose_button.setEnabled(False)
        worker = Worker(_ab_work(self.context.factory(), self.refs, self.path), name="A/B comparison", parent=self)
        worker.progress.connect(lambda _stage, _done, _total, message: self.summary.setText(f"Analysing… {message}"))
        worker.finished.connect(self._show)
        worker.failed.connect(self._failed)
        worker.done.connect(lambda: self.choose_button.setEnabled(True))
        self.worker = worker
        return worker.start()

    def _failed(self, exc: Any) -> None:
        self.summary.setText(f"Could not compare on this recording: {exc}")
        report_error(exc, title="A/B comparison")

    def _show(self, result: Any) -> None:
        self.result = result
        for item in [*self.curves.values(), *self.regions]:
            self.plot.removeItem(item)
        self.legend.clear()
        self.curves, self.regions = {}, []
        colors = label_colors(result.labels)
        for n, series in enumerate(result.smoothed[:2]):
            style = Qt.PenStyle.SolidLine if n == 0 else Qt.PenStyle.DashLine
            for label in result.labels:
                ys = [float((p or {}).get(label, float("nan"))) if p else float("nan") for p in series]
                name = f"{label.replace('_', ' ')} ({'AB'[n]})"
                curve = self.plot.plot(result.times, ys, pen=pg.mkPen(colors[label], width=2, style=style),
                                       name=name, connect="finite")
                self.curves[(n, label)] = curve
        for start, end in result.disagreements:
            region = pg.LinearRegionItem(values=(start, end), movable=False, brush=pg.mkBrush(DISAGREE_BRUSH),
                                         pen=pg.mkPen(None))
            region.setZValue(-10)
            self.plot.addItem(region)
            self.regions.append(region)
        self.plot.setXRange(0.0, max(result.times or [1.0]), padding=0.01)
        if result.agreement is None:
            self.summary.setText("No window was classified by both models (no speech heard).")
        else:
            seconds = sum(end - start for start, end in result.disagreements)
            self.summary.setText(
                f"The models agree on <b>{result.agreement:.0%}</b> of the windows both classified; "
                f"{len(result.disagreements)} stretch(es) of disagreement ({seconds:.1f} s), shaded red.")
        self.analysed.emit(result)


class ABDialog(QDialog):
    def __init__(self, view: ABView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.setWindowTitle("A/B on one recording")
        layout = QVBoxLayout(self)
        layout.addWidget(view)
        self.resize(1000, 560)
