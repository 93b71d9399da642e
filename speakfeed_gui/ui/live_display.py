"""What the Live Feedback tab shows of a running session: current emotion, timeline, pitch and level,
delivery cards and the transcript (from the speech recogniser beside the model, or a text model's windows).

Fed by the tab's GUI timer: `add_result` for each analysed window (cheap appends), then one
`show_latest` per tick that redraws. Keeps only what the cards and plots show, so memory stays flat
over a long session: the speech windows of the last CARD_SECONDS, the transcript (without
overlapping windows) of the last TRANSCRIPT_SECONDS and the plots' visible span.
"""

from __future__ import annotations

import collections
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QSplitter, QVBoxLayout, QWidget

from speakfeed_gui.core.live.analyzer import WindowResult
from speakfeed_gui.core.live.preparation import recent_medians
from speakfeed_gui.core.live.transcript import TranscriptLog, TranscriptSegment
from speakfeed_gui.ui.live_plots import EmotionPanel, EmotionTimeline, PitchLevelPlot
from speakfeed_gui.ui.plot_style import label_colors
from speakfeed_gui.ui.prosody_cards import ProsodyCards

CARD_SECONDS = 10.0  # cards show the median of the speech windows of the last 10 s
TRANSCRIPT_SECONDS = 30.0  # words / fillers per minute over the last 30 s of transcript


def clock(seconds: float) -> str:
    """Seconds as m:ss, as the session clock shows them."""
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def model_note(model: Any) -> str:
    """One line under the emotion panel: how to read the confidence, and how far this model is known to hold.

    The figure is the model's stored leave-one-speaker-out result (voices it never heard) when it has one.
    """
    threshold = getattr(getattr(model, "spec", None), "confidence_threshold", 0.0) or 0.0
    text = "The percentage beside the label is the model's probability for it"
    text += f"; below {threshold:.0%} it shows \u201cuncertain\u201d." if threshold else "."
    metadata = getattr(model, "metadata", None)
    if isinstance(metadata, dict):
        from speakfeed_gui.core.training.external_eval import KIND_LOSO, extra_evaluations

        loso = [r for r in extra_evaluations(metadata) if r.get("kind") == KIND_LOSO]
        if loso and isinstance(loso[-1].get("uar"), (int, float)):
            record = loso[-1]
            speakers = (record.get("dataset") or {}).get("n_speakers", "?")
            text += (f" On {speakers} speakers it never heard this model reached UAR {record['uar']:.2f} "
                     f"(chance {1 / max(len(record.get('labels') or [1]), 1):.2f}); on your own voice, another "
                     "language or spontaneous speech its accuracy is not known.")
    return text


class LiveDisplay(QWidget):
    """Emotion panel and plots side by side, the delivery cards and the transcript below."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.results_shown = 0
        self.speech: collections.deque[WindowResult] = collections.deque()
        self.transcript_log = TranscriptLog(keep_seconds=TRANSCRIPT_SECONDS)
        self.card_values: dict[str, Any] = {}  # speech medians last shown
        self.text_mode = False  # words shown: transcript and the words cards
        self.transcribing = False  # words come as speech segments (else from a text model's windows)
        self.filler_words: tuple[str, ...] = ()

        self.panel = EmotionPanel()
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

        self.model_note = QLabel()
        self.model_note.setWordWrap(True)
        self.model_note.setStyleSheet("color: #555555;")
        self.model_note.setMinimumHeight(1)  # room when there is some: never raises the window's minimum height
        self.cards = ProsodyCards()
        self.transcript = QPlainTextEdit()
        self.transcript.setReadOnly(True)
        self.transcript.setMaximumBlockCount(500)
        self.transcript.setPlaceholderText("What the speech recogniser hears appears here.")
        self.transcript.setMaximumHeight(90)
        self.transcript.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(middle, 1)
        layout.addWidget(self.model_note)
        layout.addWidget(self.cards)
        layout.addWidget(self.transcript)

    def reset(self, model: Any, live: Any, transcribing: bool = False) -> None:
        """Start over for a new session of this model with these live settings.

        `transcribing`: a speech recogniser runs beside the model and sends segments (`add_transcript`).
        """
        self.results_shown = 0
        self.speech.clear()
        self.card_values = {}
        self.transcript_log = TranscriptLog(keep_seconds=TRANSCRIPT_SECONDS)
        self.transcribing = transcribing
        self.text_mode = transcribing or model.input_kind == "text"
        self.filler_words = tuple(live.filler_words)
        self.timeline.hop = live.hop_seconds
        self.timeline.set_labels(model.labels)
        self.pitch_level.clear_data(live.hop_seconds)
        self.cards.set_targets(live.targets)
        self.cards.set_text_mode(self.text_mode)
        self.cards.clear_values()
        self.transcript.clear()
        self.transcript.setVisible(self.text_mode)
        self.panel.reset()
        self.model_note.setText(model_note(model))

    def add_result(self, result: WindowResult) -> None:
        """One analysed window: appended to the plots and the card data; drawn by `show_latest`."""
        self.results_shown += 1
        probabilities = result.smoothed if result.prediction is not None else None
        if probabilities and not set(probabilities) <= set(self.timeline.labels):
            self.timeline.set_labels(list(probabilities))  # the model's outputs differ from its declared labels
        self.timeline.append(result.t_end, probabilities)
        self.pitch_level.add_pitch(result.t_end, result.prosody.pitch_hz if result.is_speech else None)
        if result.is_speech:
            self.speech.append(result)
        while self.speech and self.speech[0].t_end < result.t_end - CARD_SECONDS:  # older than the cards show
            self.speech.popleft()
        if self.transcribing:
            return
        if self.transcript_log.add(result.t_start, result.t_end, result.transcript) and result.transcript:
            self.transcript.appendPlainText(f"[{clock(result.t_start)}] {result.transcript}")

    def add_transcript(self, segment: TranscriptSegment) -> None:
        """One transcribed speech segment: it scrolls into the transcript and counts for the words cards."""
        if self.transcript_log.add(segment.start, segment.end, segment.text):
            self.transcript.appendPlainText(f"[{clock(segment.start)}] {segment.text}")
            self._show_cards(segment.end)

    def show_latest(self, latest: WindowResult) -> None:
        """Redraw after a batch of results; the cards follow speech only."""
        self.panel.show_result(latest, label_colors(self.timeline.labels))
        self.timeline.redraw()
        if latest.is_speech:
            self._update_cards(latest.t_end)

    def show_level(self, now: float, level_dbfs: float) -> None:
        """The input level at `now` seconds (every tick, speech or not)."""
        self.panel.meter.set_level(level_dbfs)
        self.pitch_level.add_level(now, level_dbfs)
        self.pitch_level.redraw(now)

    def _update_cards(self, now: float) -> None:
        self.card_values = recent_medians(self.speech, now - CARD_SECONDS)
        self._show_cards(now)

    def _show_cards(self, now: float) -> None:
        """The last speech medians with the words measures of the last TRANSCRIPT_SECONDS before `now`.

        A transcript segment may arrive seconds after its speech (the recogniser is slower on a
        busy machine), so the words cards update on its arrival too, not only with speech windows.
        """
        values: dict[str, Any] = dict(self.card_values)
        if self.text_mode:
            values.update(self.transcript_log.metrics(self.filler_words, since=now - TRANSCRIPT_SECONDS))
        self.cards.update_values(values)
