"""Words per minute and filler counts from timed transcript segments: known answers."""

from __future__ import annotations

import pytest

from speakfeed_gui.core.live.transcript import count_fillers, transcript_metrics
from speakfeed_gui.core.settings.config import DEFAULT_TARGETS, LiveSettings

FILLERS = LiveSettings().filler_words  # um, uh, like, you know


def test_150_words_in_60_seconds_is_150_wpm():
    text = " ".join(["word"] * 150)
    metrics = transcript_metrics([(0.0, 60.0, text)], FILLERS)
    assert metrics["word_count"] == 150
    assert metrics["words_per_minute"] == pytest.approx(150.0)
    assert metrics["filler_count"] == 0
    assert metrics["filler_per_minute"] == 0.0


def test_pace_spans_from_first_start_to_last_end():
    segments = [(10.0, 20.0, " ".join(["a"] * 40)), (25.0, 40.0, " ".join(["b"] * 35))]
    metrics = transcript_metrics(segments, FILLERS)
    assert metrics["speech_seconds"] == pytest.approx(30.0)
    assert metrics["words_per_minute"] == pytest.approx(150.0)


def test_fillers_counted_as_whole_words_and_phrases():
    segments = [
        (0.0, 15.0, "Um, so I think, you know, it is LIKE really good"),
        (15.0, 30.0, "uh you  know the umbrella is likely unlike yours, you knowing that, Um"),
    ]
    metrics = transcript_metrics(segments, FILLERS)
    # um, you know, like | uh, you know, um  (not umbrella, likely, unlike, knowing)
    assert metrics["filler_count"] == 6
    assert metrics["filler_per_minute"] == pytest.approx(12.0)


def test_phrase_wins_over_the_word_inside_it():
    assert count_fillers("I mean, like, you know like", ["like", "you know like", "i mean"]) == 3


def test_multiline_phrase_and_apostrophes():
    assert count_fillers("you\nknow what I'm saying", ["you know", "i'm"]) == 2
    assert count_fillers("umm um-hmm um", ["um"]) == 2  # "umm" is another word; "um-hmm" starts with um


def test_empty_transcript_gives_zero_rates():
    metrics = transcript_metrics([], FILLERS)
    assert metrics == {
        "word_count": 0, "filler_count": 0, "speech_seconds": 0.0, "words_per_minute": 0.0, "filler_per_minute": 0.0
    }
    assert transcript_metrics([(1.0, 3.0, "")], [])["filler_count"] == 0


def test_keys_match_the_config_targets():
    metrics = transcript_metrics([(0.0, 1.0, "hi")], FILLERS)
    assert {"words_per_minute", "filler_per_minute"} <= set(DEFAULT_TARGETS) & set(metrics)
