"""Measures from words (words per minute, fillers, repeats) and speech segments: known answers."""

from __future__ import annotations

import numpy as np
import pytest

from speakfeed_gui.core.live.transcript import (
    SpeechSegmenter,
    TranscriptSegment,
    count_fillers,
    filler_counts,
    repeats,
    session_transcript,
    transcribe_segments,
    transcript_metrics,
    word_metrics,
)
from speakfeed_gui.core.models.asr import Word
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
    assert count_fillers("umm um-hmm um", ["um"]) == 3  # "umm" is um drawn out; "um-hmm" starts with um
    assert count_fillers("Ummm, uhh... like, likely", ["um", "uh", "like"]) == 3


def test_empty_transcript_gives_zero_rates():
    metrics = transcript_metrics([], FILLERS)
    assert metrics == {
        "word_count": 0, "filler_count": 0, "speech_seconds": 0.0, "words_per_minute": 0.0, "filler_per_minute": 0.0
    }
    assert transcript_metrics([(1.0, 3.0, "")], [])["filler_count"] == 0


def test_keys_match_the_config_targets():
    metrics = transcript_metrics([(0.0, 1.0, "hi")], FILLERS)
    assert {"words_per_minute", "filler_per_minute"} <= set(DEFAULT_TARGETS) & set(metrics)


def test_pace_uses_word_times_when_there_are_some():
    words = [Word(1.0 + 0.5 * i, 1.3 + 0.5 * i, f"w{i}") for i in range(10)]  # 1.0 s to 5.8 s
    segment = TranscriptSegment(0.0, 8.0, " ".join(w.text for w in words), words)
    metrics = transcript_metrics([segment], FILLERS)
    assert metrics["speech_seconds"] == pytest.approx(4.8)  # first word to last, not the 8 s segment
    assert metrics["words_per_minute"] == pytest.approx(125.0)


def test_filler_counts_name_each_filler_and_its_drawn_out_spellings():
    text = "So umm, I, uh, think um you know, like, it's uhh fine. Um."
    assert filler_counts(text, list(FILLERS)) == {"um": 3, "uh": 2, "you know": 1, "like": 1}
    assert filler_counts(text, []) == {}


def test_repeats_find_stutters_and_phrases_said_often():
    found = repeats("I I think, I think the the plan works. You know the plan. It is, you know, the plan. So the plan.")
    assert found["immediate"] == {"i": 1, "i think": 1, "the": 1}
    assert found["immediate_count"] == 3
    assert found["phrases"] == {"the plan": 4}  # 4 times; "you know" twice is not reported
    assert repeats("") == {"immediate": {}, "immediate_count": 0, "phrases": {}}


def test_word_metrics_of_a_talk():
    segments = [TranscriptSegment(0.0, 30.0, "um so " + "word " * 58), {"start": 30.0, "end": 60.0,
                                                                        "text": "uh " + "word " * 59, "words": []}]
    metrics = word_metrics(segments, list(FILLERS))
    assert metrics["word_count"] == 120 and metrics["words_per_minute"] == 120.0
    assert metrics["fillers"] == {"um": 1, "uh": 1} and metrics["filler_per_minute"] == 2.0


def test_segmenter_closes_on_a_window_without_speech_and_at_the_length_cap():
    seg = SpeechSegmenter(max_seconds=5.0, min_seconds=0.3)
    windows = [(t / 2, t / 2 + 2.0, 2 <= t < 8) for t in range(20)]  # speech windows start 1.0 .. 3.5 s
    closed = [span for w in windows for span in seg.feed(*w)]
    assert closed == [(1.0, 5.5)]  # from the first speech window's start to the last one's end
    assert seg.flush() == []
    seg = SpeechSegmenter(max_seconds=5.0)
    long = [span for t in range(30) for span in seg.feed(t / 2, t / 2 + 2.0, True)]
    assert long == [(0.0, 5.0), (5.0, 10.0), (10.0, 15.0)]  # the cap cuts, the pieces do not overlap
    assert seg.flush() == [(15.0, 16.5)]
    assert SpeechSegmenter().flush() == []


def test_transcribe_segments_places_words_on_the_session_clock():
    def recogniser(audio):
        return "hello there" if audio.size else ""

    audio = np.zeros(16_000 * 10, np.float32)
    segments = transcribe_segments(recogniser, audio, [(2.0, 4.0), (6.0, 6.0)])
    assert [(s.start, s.end, s.text) for s in segments] == [(2.0, 4.0, "hello there")]  # the empty one is left out
    assert [(w.start, w.end) for w in segments[0].words] == [(2.0, 3.0), (3.0, 4.0)]


def test_session_transcript_prefers_segments_and_falls_back_to_text_model_windows():
    saved = {"transcript": [TranscriptSegment(1.0, 2.0, "hi", [Word(1.1, 1.4, "hi")]).to_dict()], "windows": []}
    [segment] = session_transcript(saved)
    assert segment.text == "hi" and segment.words == [Word(1.1, 1.4, "hi")]
    older = {"windows": [{"t_start": 0.0, "t_end": 2.0, "transcript": "one two"},
                         {"t_start": 0.5, "t_end": 2.5, "transcript": "two three"},
                         {"t_start": 2.0, "t_end": 4.0, "transcript": ""}]}
    assert [(s.start, s.text) for s in session_transcript(older)] == [(0.0, "one two")]
    assert session_transcript({"windows": []}) == []
