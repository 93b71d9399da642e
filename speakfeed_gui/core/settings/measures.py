"""The one catalogue of delivery measures: name, unit, format, target band, advice and the band's source.

The config defaults (`DEFAULT_TARGETS`), the live prosody cards and the session report all read
this table, so a measure is named, rated and explained the same way everywhere. It sits in the
settings layer (imports nothing of the app) because the config loader validates `live.targets`
against it. README.md ("Delivery measures") says where each band comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measure:
    key: str
    title: str  # in the report's table
    short: str  # inside its card, under the card's title
    unit: str
    fmt: str  # format spec for the value, e.g. ".1f" or ".0%"
    band: tuple[float, float] | None = None  # default target band; None: shown, not rated
    advice_low: str = ""  # {v} is the value
    advice_high: str = ""
    source: str = ""  # where the band comes from
    text: bool = False  # needs a transcript

    def format(self, value: Any) -> str:
        if value is None:
            return "–"
        text = format(float(value), self.fmt)
        return text if self.fmt.endswith("%") or not self.unit else f"{text} {self.unit}"

    def format_band(self, band: tuple[float, float] | None) -> str:
        if band is None:
            return ""
        low, high = band
        if self.fmt.endswith("%"):
            return f"target {low:{self.fmt}} to {high:{self.fmt}}"
        return f"target {low:{self.fmt}} to {high:{self.fmt}} {self.unit}".rstrip()

    def advice(self, status: str | None) -> str:
        return {"low": self.advice_low, "high": self.advice_high}.get(status or "", "")


_SPEAKER_COACH = "PowerPoint Speaker Coach's pace band (100-165 words per minute)"

CATALOGUE: tuple[Measure, ...] = (
    Measure("pitch_hz", "Median pitch", "median", "Hz", ".0f"),
    Measure("pitch_variation_semitones", "Pitch variation", "variation", "st", ".1f", (2.0, 8.0),
            "Your pitch varied little ({v:.1f} semitones): add emphasis to key words",
            "Your pitch jumped a lot ({v:.1f} semitones): save big changes for key words",
            "house choice: below about 2 semitones of standard deviation speech is heard as monotone"),
    Measure("loudness_dbfs", "Loudness", "level", "dBFS", ".0f", (-35.0, -12.0),
            "You were quiet ({v:.0f} dBFS): speak up or move closer to the microphone",
            "You were very loud ({v:.0f} dBFS): step back from the microphone",
            "house choice for a desk or headset microphone at normal gain (depends on the microphone)"),
    Measure("loudness_variation_db", "Loudness variation", "variation", "dB", ".1f", (3.0, 12.0),
            "Your volume stayed flat ({v:.1f} dB): get louder or softer to mark important points",
            "Your volume swung a lot ({v:.1f} dB): keep a steadier level",
            "house choice"),
    Measure("pause_count", "Pauses", "count", "", ".0f"),
    Measure("pause_share", "Pause share", "share", "", ".0%", (0.05, 0.35),
            "You rarely paused ({v:.0%} of speaking time): pause after key points to let them land",
            "You paused often ({v:.0%} of speaking time)",
            "house choice: read speech spends roughly a fifth of its time in pauses, spontaneous speech more"),
    Measure("mean_pause_seconds", "Mean pause", "mean", "s", ".2f", (0.3, 1.5),
            "Your pauses were very short ({v:.2f} s): let them breathe",
            "Your pauses were long ({v:.1f} s on average)",
            "house choice; a pause is a silence of at least 0.25 s (core/audio/pauses.py)"),
    Measure("longest_pause_seconds", "Longest pause", "longest", "s", ".1f"),
    Measure("speaking_rate_sps", "Speaking rate", "rate", "syll/s", ".1f", (3.5, 6.0),
            "You spoke slowly ({v:.1f} syllables/s): pick up the pace a little",
            "You spoke fast ({v:.1f} syllables/s): slow down",
            "syllables per second of speaking time (pauses left out): conversational rates are about 4-6 "
            "syll/s; the low edge is " + _SPEAKER_COACH + "'s 100 wpm at about 1.5 syllables per English "
            "word with a quarter of the time in pauses"),
    Measure("words_per_minute", "Words per minute", "pace", "wpm", ".0f", (100.0, 165.0),
            "You spoke slowly ({v:.0f} words per minute)",
            "You spoke fast ({v:.0f} words per minute): slow down",
            _SPEAKER_COACH, text=True),
    Measure("filler_per_minute", "Fillers per minute", "rate", "/min", ".1f", (0.0, 3.0),
            "", "You used filler words often ({v:.1f} per minute)", "house choice", text=True),
)

MEASURES: dict[str, Measure] = {m.key: m for m in CATALOGUE}
DEFAULT_TARGETS: dict[str, tuple[float, float]] = {m.key: m.band for m in CATALOGUE if m.band is not None}
TEXT_MEASURES: tuple[str, ...] = tuple(m.key for m in CATALOGUE if m.text)
