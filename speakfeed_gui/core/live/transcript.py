"""Delivery metrics from a timed transcript: speaking pace and filler words.

Input is a list of (start_s, end_s, text) segments that do not overlap (for example one per
voiced stretch). Pace is measured over the time the segments span, pauses between them
included, as speaking rate usually is.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

_WORD = re.compile(r"[\w']+")


def filler_pattern(filler_words: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex matching any filler word or phrase as whole words."""
    phrases = sorted({" ".join(w.lower().split()) for w in filler_words if w.strip()}, key=len, reverse=True)
    if not phrases:
        return None
    alternatives = "|".join(r"\s+".join(re.escape(part) for part in phrase.split()) for phrase in phrases)
    return re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w'])", re.IGNORECASE)


def count_fillers(text: str, filler_words: Iterable[str]) -> int:
    """Occurrences of the fillers in `text`; a longer phrase wins over a word inside it."""
    pattern = filler_pattern(filler_words)
    return len(pattern.findall(text)) if pattern else 0


def transcript_metrics(
    texts_with_times: Sequence[tuple[float, float, str]], filler_words: Iterable[str]
) -> dict[str, float]:
    """word_count, filler_count, speech_seconds, words_per_minute and filler_per_minute.

    Rates are 0.0 when the segments span no time.
    """
    pattern = filler_pattern(filler_words)
    words = sum(len(_WORD.findall(text)) for _, _, text in texts_with_times)
    fillers = sum(len(pattern.findall(text)) for _, _, text in texts_with_times) if pattern else 0
    if texts_with_times:
        span = max(end for _, end, _ in texts_with_times) - min(start for start, _, _ in texts_with_times)
    else:
        span = 0.0
    minutes = max(span, 0.0) / 60.0
    return {
        "word_count": words,
        "filler_count": fillers,
        "speech_seconds": max(span, 0.0),
        "words_per_minute": words / minutes if minutes > 0 else 0.0,
        "filler_per_minute": fillers / minutes if minutes > 0 else 0.0,
    }
