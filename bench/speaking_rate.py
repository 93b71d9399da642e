"""Figure 8: speaking rate against hand-counted syllables of real speech, beside Praat's de Jong & Wempe count.

EmoDB's hand-made syllable marks (386 utterances, 7 speakers) give the truth: syllables over the span
from the first onset to the last end. Ours: `speaking_rate_sps` with the silero VAD mask, as a live
window runs it. Peer: de Jong & Wempe's (2009) Praat script rebuilt on parselmouth (Praat's own
intensity and autocorrelation pitch; -25 dB silence threshold, 2 dB minimum dip, 0.3 s minimum pause),
syllables over phonation time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bench.common import Figure, verdict
from bench.context import BenchContext, say

KEY = "speaking-rate"
TITLE = "8. Speaking rate against hand-counted syllables (real speech)"
GOALS = {"bias": 0.10, "mae": 0.8, "r": 0.6}


def de_jong_wempe(audio: np.ndarray, sr: int, silence_db: float = -25.0, min_dip: float = 2.0,
                  min_pause: float = 0.3) -> float | None:
    """Syllables per second of phonation time, the Praat script's rules on parselmouth's objects."""
    import parselmouth
    from parselmouth.praat import call

    sound = parselmouth.Sound(np.asarray(audio, dtype=np.float64), sampling_frequency=sr)
    intensity = sound.to_intensity(minimum_pitch=50.0)
    values, times = intensity.values[0], intensity.xs()
    threshold = max(float(np.quantile(values, 0.99)) + silence_db, float(values.min()))
    peaks = [i for i in range(1, len(values) - 1)
             if values[i] > values[i - 1] and values[i] >= values[i + 1] and values[i] > threshold]
    kept = [a for a, b in zip(peaks, peaks[1:] + [len(values)]) if values[a] - values[a:b].min() > min_dip]
    pitch = sound.to_pitch_ac(time_step=0.02, pitch_floor=30.0, max_number_of_candidates=4, very_accurate=False,
                              silence_threshold=0.03, voicing_threshold=0.25, octave_cost=0.01,
                              octave_jump_cost=0.35, voiced_unvoiced_cost=0.25, pitch_ceiling=450.0)
    nuclei = sum(1 for i in kept if np.isfinite(pitch.get_value_at_time(times[i])))
    grid = call(sound, "To TextGrid (silences)", 50, 0, silence_db, min_pause, 0.1, "silent", "sounding")
    phonation = sum(call(grid, "Get end time of interval", 1, k) - call(grid, "Get start time of interval", 1, k)
                    for k in range(1, int(call(grid, "Get number of intervals", 1)) + 1)
                    if call(grid, "Get label of interval", 1, k) == "sounding")
    return nuclei / phonation if phonation > 0 else None


def _scores(truth: np.ndarray, rate: np.ndarray, speakers: np.ndarray) -> dict[str, Any]:
    per_speaker = [rate[speakers == s].mean() / truth[speakers == s].mean() - 1 for s in np.unique(speakers)]
    return {"mean": rate.mean(), "bias": rate.mean() / truth.mean() - 1, "mae": np.abs(rate - truth).mean(),
            "r": float(np.corrcoef(rate, truth)[0, 1]), "worst_speaker": max(per_speaker, key=abs)}


def _leave_one_speaker_out(truth: np.ndarray, rate: np.ndarray, speakers: np.ndarray) -> tuple[float, float]:
    """MAE and the worst speaker's mean bias when the rate line is refitted without that speaker."""
    from speakfeed_gui.core.live.prosody import RATE_OFFSET, RATE_SLOPE

    nuclei_rate = (rate - RATE_OFFSET) / RATE_SLOPE
    errors, biases = [], []
    for speaker in np.unique(speakers):
        out = speakers == speaker
        slope, offset = np.polyfit(nuclei_rate[~out], truth[~out], 1)
        predicted = offset + slope * nuclei_rate[out]
        errors.append(np.abs(predicted - truth[out]))
        biases.append(predicted.mean() / truth[out].mean() - 1)
    return float(np.concatenate(errors).mean()), float(max(biases, key=abs))


def run(ctx: BenchContext) -> Figure:
    from speakfeed_gui.core.audio.vad import SileroVAD, silero_available
    from speakfeed_gui.core.live.preparation import limit_torch_threads
    from speakfeed_gui.core.live.prosody import speaking_rate_sps
    from tests.emodb import find_root, utterances

    figure = Figure(KEY, TITLE, method=__doc__.split("\n\n", 1)[1].replace("\n", " ").strip())
    root = find_root()
    if root is None or not silero_available():
        figure.notes.append("not measured: EmoDB (resources/emodb or ../shared) or silero-vad is missing")
        return figure
    clips = utterances(root)
    clips = clips[:: max(1, len(clips) // ctx.pick(len(clips), 24))]
    vad = SileroVAD()
    previous = limit_torch_threads(1)
    try:
        rows = []
        for u in clips:
            audio = u.audio()
            ours = speaking_rate_sps(audio, 16000, vad.speech_mask(audio), frame_seconds=vad.frame_seconds)
            rows.append((u.speaker, u.rate, np.nan if ours is None else ours, _peer(audio)))
    finally:
        limit_torch_threads(previous)
    speakers = np.array([r[0] for r in rows])
    truth, ours, peer = (np.array([r[i] for r in rows], dtype=float) for i in (1, 2, 3))
    mine = _scores(truth, ours, speakers)
    say(f"{KEY}: {len(rows)} utterances, truth {truth.mean():.2f}, ours {mine['mean']:.2f} r {mine['r']:.2f}")
    theirs = _scores(truth, peer, speakers) if np.isfinite(peer).all() else None
    figure.add(f"mean rate over {len(rows)} utterances (hand count {truth.mean():.2f} syll/s)",
               f"{mine['mean']:.2f} syll/s ({mine['bias']:+.1%})", f"bias within ±{GOALS['bias']:.0%}",
               verdict(abs(mine["bias"]) <= GOALS["bias"]),
               peer=f"{theirs['mean']:.2f} ({theirs['bias']:+.1%})" if theirs else "parselmouth not installed")
    figure.add("mean absolute error", f"{mine['mae']:.2f} syll/s", f"≤ {GOALS['mae']:g}", verdict(mine["mae"] <= GOALS["mae"]),
               peer=f"{theirs['mae']:.2f}" if theirs else "")
    figure.add("correlation with the hand count (r)", f"{mine['r']:.2f}", f"≥ {GOALS['r']:g}", verdict(mine["r"] >= GOALS["r"]),
               peer=f"{theirs['r']:.2f}" if theirs else "")
    figure.add("worst speaker's mean bias", f"{mine['worst_speaker']:+.1%}",
               peer=f"{theirs['worst_speaker']:+.1%}" if theirs else "")
    if len(np.unique(speakers)) > 2:
        mae, worst = _leave_one_speaker_out(truth, ours, speakers)
        figure.add("calibration refitted leaving each speaker out: MAE, worst speaker's bias",
                   f"{mae:.2f} syll/s, {worst:+.1%}", f"bias within ±{GOALS['bias']:.0%}", verdict(abs(worst) <= GOALS["bias"]))
    return figure


def _peer(audio: np.ndarray) -> float:
    try:
        rate = de_jong_wempe(audio, 16000)
    except ImportError:
        return float("nan")
    return float("nan") if rate is None else rate
