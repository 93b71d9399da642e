"""Delivery cards: each measure with its value, its target band and an ok / low / high colour.

`METRICS` is the catalogue of delivery measures (core/settings/measures.py): names, units, formats.
`TranscriptLog` (core/live/transcript.py, re-exported here) keeps the transcript without overlaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from speakfeed_gui.core.live.prosody import band_status
from speakfeed_gui.core.live.transcript import TranscriptLog
from speakfeed_gui.core.settings.measures import MEASURES, TEXT_MEASURES, Measure

__all__ = ["CARDS", "METRICS", "TEXT_METRICS", "ProsodyCards", "TranscriptLog"]

STATUS_COLORS = {"ok": "#2e7d32", "low": "#b26a00", "high": "#c62828"}
STATUS_TINTS = {"ok": "#eef7ee", "low": "#fff6e5", "high": "#fdecea"}
NEUTRAL = "#757575"
NEUTRAL_TINT = "#f7f7f7"
_SEVERITY = {None: 0, "ok": 1, "low": 2, "high": 2}


METRICS: dict[str, Measure] = MEASURES  # the catalogue (core/settings/measures.py)
TEXT_METRICS = TEXT_MEASURES


@dataclass(frozen=True)
class CardSpec:
    key: str
    title: str
    rated: tuple[str, ...]
    info: tuple[str, ...] = ()
    text_only: bool = False


CARDS = (
    CardSpec("pitch", "Pitch", ("pitch_variation_semitones",), ("pitch_hz",)),
    CardSpec("loudness", "Loudness", ("loudness_dbfs", "loudness_variation_db")),
    CardSpec("pauses", "Pauses", ("pause_share", "mean_pause_seconds"), ("pause_count", "longest_pause_seconds")),
    CardSpec("rate", "Speaking rate", ("speaking_rate_sps",)),
    CardSpec("wpm", "Pace (transcript)", ("words_per_minute",), text_only=True),
    CardSpec("fillers", "Filler words", ("filler_per_minute",), text_only=True),
)


def worst(statuses: Iterable[str | None]) -> str | None:
    """The status a card is tinted with: any low/high beats ok, ok beats unknown."""
    return max(statuses, key=lambda s: _SEVERITY.get(s, 0), default=None)


def restyle(widget: QWidget, sheet: str) -> None:
    """Set a style sheet only when it changes: Qt re-polishes the widget and its children at every call."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


def _line(left: Sequence[QWidget], right: Sequence[QWidget]) -> QHBoxLayout:
    """Widgets on the left, a stretch, widgets on the right."""
    line = QHBoxLayout()
    line.setContentsMargins(0, 0, 0, 0)
    line.setSpacing(6)
    for widget in left:
        line.addWidget(widget)
    line.addStretch(1)
    for widget in right:
        line.addWidget(widget)
    return line


class _MetricRow(QWidget):
    """One measure inside a card: value, status chip, target band."""

    def __init__(self, key: str, rated: bool) -> None:
        super().__init__()
        self.key, self.metric, self.rated = key, METRICS[key], rated
        self.value = QLabel("–")
        self.chip = QLabel()
        self.target = QLabel()
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * (1.35 if rated else 1.0))
        font.setBold(rated)
        self.value.setFont(font)
        self.chip.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.target.setStyleSheet(f"color: {NEUTRAL};")
        caption = QLabel(self.metric.short)
        caption.setToolTip(self.metric.title)
        caption.setStyleSheet(f"color: {NEUTRAL};")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(_line([caption], [self.value, self.chip]))
        if rated:
            layout.addWidget(self.target)
        self.chip.setVisible(False)

    def show_value(self, value: Any, band: tuple[float, float] | None, status: str | None) -> None:
        self.value.setText(self.metric.format(value))
        self.target.setText(self.metric.format_band(band))
        self.chip.setVisible(self.rated and status is not None)
        if status is not None:
            self.chip.setText(f" {status} ")
            restyle(self.chip, f"background: {STATUS_COLORS[status]}; color: white; border-radius: 3px; "
                               "font-weight: bold;")


class ProsodyCard(QFrame):
    def __init__(self, spec: CardSpec) -> None:
        super().__init__()
        self.spec = spec
        self.status: str | None = None
        self.setObjectName("prosodyCard")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Maximum)
        title = QLabel(spec.title)
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.flag = QLabel()
        self.flag.setStyleSheet(f"color: {STATUS_COLORS['low']}; font-weight: bold;")
        self.flag.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(3)
        layout.addLayout(_line([title], [self.flag]))
        self.rows = {key: _MetricRow(key, True) for key in spec.rated}
        self.rows.update({key: _MetricRow(key, False) for key in spec.info})
        for row in self.rows.values():
            layout.addWidget(row)
        self._tint(None)

    def _tint(self, status: str | None) -> None:
        border = STATUS_COLORS.get(status or "", "#cccccc")
        tint = STATUS_TINTS.get(status or "", NEUTRAL_TINT)
        restyle(self, f"QFrame#prosodyCard {{ background: {tint}; border: 2px solid {border}; border-radius: 6px; }}")

    def show_values(self, values: Mapping[str, Any], targets: Mapping[str, tuple[float, float]],
                    statuses: Mapping[str, str | None]) -> None:
        for key, row in self.rows.items():
            row.show_value(values.get(key), targets.get(key), statuses.get(key) if row.rated else None)
        self.status = worst(statuses.get(key) for key in self.spec.rated)
        self._tint(self.status)
        monotone = self.spec.key == "pitch" and statuses.get("pitch_variation_semitones") == "low"
        self.flag.setText("monotone" if monotone else "")
        self.flag.setVisible(monotone)


class ProsodyCards(QWidget):
    """All cards in a row; the transcript cards only for text models."""

    def __init__(self, targets: Mapping[str, tuple[float, float]] | None = None, parent: QWidget | None = None,
                 columns: int = 6) -> None:
        super().__init__(parent)
        self.targets: dict[str, tuple[float, float]] = dict(targets or {})
        self.cards = {spec.key: ProsodyCard(spec) for spec in CARDS}
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        for i, card in enumerate(self.cards.values()):
            layout.addWidget(card, i // columns, i % columns, Qt.AlignmentFlag.AlignTop)
        self.statuses: dict[str, str | None] = {}
        self.values: dict[str, Any] = {}
        self.set_text_mode(False)

    def set_targets(self, targets: Mapping[str, tuple[float, float]]) -> None:
        self.targets = dict(targets)

    def set_text_mode(self, on: bool) -> None:
        for card in self.cards.values():
            card.setVisible(on or not card.spec.text_only)

    def clear_values(self) -> None:
        self.update_values({})

    def update_values(self, values: Mapping[str, Any]) -> dict[str, str | None]:
        """Show the values, rate them against the targets; returns metric -> status."""
        self.values = dict(values)
        rated = {key: values.get(key) for spec in CARDS for key in spec.rated}
        self.statuses = band_status(rated, self.targets)
        for card in self.cards.values():
            card.show_values(values, self.targets, self.statuses)
        return self.statuses
