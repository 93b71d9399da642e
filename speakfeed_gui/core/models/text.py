"""Text clean-up before a text model (the seed's preprocessing settings)."""

from __future__ import annotations

import re

from speakfeed_gui.core.settings.config import Preprocessing

# A small English stop-word list: enough for sentiment input, no NLTK download needed.
STOP_WORDS = frozenset(
    "a an the and or but if of at by for with about to from in on is are was were be been being "
    "it its this that these those i me my we our you your he him his she her they them their".split()
)
_SPECIAL = re.compile(r"[^\w\s']+")


def preprocess_text(text: str, settings: Preprocessing) -> str:
    """Apply lowercase / special-character / stop-word settings and squeeze whitespace."""
    if settings.lowercase:
        text = text.lower()
    if settings.remove_special_chars:
        text = _SPECIAL.sub(" ", text)
    if settings.remove_stop_words:
        text = " ".join(w for w in text.split() if w.lower() not in STOP_WORDS)
    return " ".join(text.split())
