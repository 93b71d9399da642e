"""Prosody on synthetic signals with known answers (friture's pitch-tracker test style)."""

from __future__ import annotations

import numpy as np
import pytest

from speakfeed_gui.core.audio.vad import FRAME, EnergyVAD
from speakfeed_gui.core.live import prosody as P
from speakfeed_gui.core.settings.config import DEFAULT_TARGETS
from tests.live.conftest import SR, harmonic, silence, syllables

FRAME_S = FRAME / SR


def semitones(a: float, b: float) -> float:
    return abs(12 * np.log2(a / b))


@pytest.mark.parametrize("f0", [110.0, 200.0, 320.0])
def test_pitch_of_a_known_tone_within_a_semitone(f0):
    track = P.pitch_track(harmonic(f0, 1.0), SR)
    assert track.voiced.mean() > 0.9
    assert semitones(np.nanmedian(track.f0), f0) < 1.0


def test_pitch_at_another_sample_rate():
    track = P.pitch_track(harmonic(180.0, 1.0, sr=44100), 44100)
    assert semitones(np.nanmedian(track.f0), 180.0) < 1.0


def test_noise_and_silence_are_unvoiced():
    noise = (0.05 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32)
    assert P.pitch_track(noise, SR).voiced.mean() < 0.1
    assert not P.pitch_track(silence(1.0), SR).voiced.any()
    assert P.pitch_variation_semitones(P.pitch_track(silence(1.0), SR).f0) is None


def test_flat_tone_has_no_pitch_variation_but_a_glide_has():
    flat = P.pitch_variation_semitones(P.pitch_track(harmonic(200.0, 2.0), SR).f0)
    glide = P.pitch_variation_semitones(P.pitch_track(harmonic(np.geomspace(150, 300, 2 * SR), 2.0), SR).f0)
    assert flat < 0.2
    # an even glide over one octave: std of a uniform 12-semitone spread = 12 / sqrt(12)
    assert glide == pytest.approx(12 / np.sqrt(12), abs=0.4)


def test_louder_passage_is_louder_by_the_gain():
    quiet, loud = harmonic(200.0, 1.0, amp=0.05), harmonic(200.0, 1.0, amp=0.2)
    audio = np.concatenate([quiet, loud])
    mask = np.zeros(-(-audio.size // FRAME), dtype=bool)
    half = mask.size // 2
    mask[:half] = True
    db_quiet = P.loudness_dbfs(audio, mask)
    mask[:] = False
    mask[half + 1 :] = True
    db_loud = P.loudness_dbfs(audio, mask)
    assert db_loud - db_quiet == pytest.approx(20 * np.log10(4), abs=0.3)
    assert P.loudness_dbfs(quiet) == pytest.approx(db_quiet, abs=0.3)


def test_loudness_variation_of_steady_versus_alternating_level():
    steady = harmonic(200.0, 2.0, amp=0.1)
    step = np.concatenate([harmonic(200.0, 1.0, amp=0.05), harmonic(200.0, 1.0, amp=0.2)])
    everywhere = np.ones(-(-steady.size // FRAME), dtype=bool)
    assert P.loudness_variation_db(steady, everywhere) < 0.5
    # two equal halves 12 dB apart: standard deviation 6 dB
    assert P.loudness_variation_db(step, everywhere) == pytest.approx(6.0, abs=0.5)


def test_pauses_counted_on_a_mask_with_known_gaps():
    frames = lambda seconds: int(round(seconds / FRAME_S))
    mask = np.concatenate(
        [np.zeros(frames(0.5)), np.ones(frames(1.0)), np.zeros(frames(0.48)), np.ones(frames(1.0)),
         np.zeros(frames(0.1)), np.ones(frames(0.5)), np.zeros(frames(0.8)), np.ones(frames(0.5)), np.zeros(frames(1.0))]
    ).astype(bool)
    stats = P.pauses(mask, FRAME_S, min_pause=0.25)
    assert stats.count == 2  # the 0.1 s dip is too short; leading/trailing silence is no pause
    assert stats.mean_seconds == pytest.approx((0.48 + 0.8) / 2, abs=FRAME_S)
    assert stats.share == pytest.approx((0.48 + 0.8) / (1 + 0.48 + 1 + 0.1 + 0.5 + 0.8 + 0.5), abs=0.02)
    assert stats.longest_seconds == pytest.approx(0.8, abs=FRAME_S)
    assert stats.speaking_seconds == pytest.approx(1 + 1 + 0.1 + 0.5 + 0.5, abs=0.05)  # the span less its pauses
    assert P.pauses(np.zeros(10, dtype=bool), FRAME_S) == P.PauseStats(0, None, None)


def test_one_dbfs_for_meter_vad_and_features():
    from speakfeed_gui.core.audio.levels import SILENCE_DBFS, dbfs, frame_db, power_db

    full = np.sin(2 * np.pi * 200 * np.arange(SR) / SR).astype(np.float32)
    assert dbfs(full) == pytest.approx(-3.01, abs=0.01)  # a full-scale sine
    assert dbfs(0.1 * full) == pytest.approx(-23.01, abs=0.01)
    assert dbfs(np.zeros(100)) == dbfs(np.zeros(0)) == SILENCE_DBFS
    assert frame_db(full, FRAME) == pytest.approx(np.full(-(-SR // FRAME), -3.01), abs=0.25)  # 32 ms frames, the last partial
    assert power_db(0.0) == SILENCE_DBFS and power_db(np.array([1.0, 0.01])).tolist() == [0.0, -20.0]


def test_pauses_found_through_the_energy_vad():
    audio = np.concatenate([harmonic(200, 1.0), silence(0.6), harmonic(200, 1.0), silence(0.4), harmonic(200, 1.0)])
    stats = P.pauses(EnergyVAD().speech_mask(audio), FRAME_S)
    assert stats.count == 2
    assert stats.mean_seconds == pytest.approx(0.5, abs=0.07)


@pytest.mark.parametrize("rate", [3.0, 4.0, 6.0])
def test_syllable_nuclei_of_amplitude_modulated_voice(rate):
    """One nucleus per synthetic syllable; the rate is that count through the real-speech calibration."""
    audio = syllables(180.0, 3.0, rate_hz=rate)
    mask = EnergyVAD().speech_mask(audio)
    nuclei = P.syllable_nuclei(audio, SR, mask)
    assert nuclei.size / 3.0 == pytest.approx(rate, rel=0.12)
    speaking = P.fill_short_gaps(mask, FRAME_S).sum() * FRAME_S
    assert P.speaking_rate_sps(audio, SR, mask) == pytest.approx(P.calibrated_rate(nuclei.size, speaking))


def test_speaking_rate_needs_voice():
    noise = (0.1 * np.random.default_rng(2).standard_normal(3 * SR)).astype(np.float32)
    t = np.arange(noise.size) / SR
    bursts = (noise * (0.5 - 0.5 * np.cos(2 * np.pi * 4 * t))).astype(np.float32)
    assert P.speaking_rate_sps(bursts, SR, np.ones(bursts.size // FRAME, dtype=bool)) == 0.0
    assert P.speaking_rate_sps(silence(1.0), SR, np.zeros(32, dtype=bool)) is None


def test_measure_prosody_and_band_status():
    audio = np.concatenate([syllables(150.0, 1.0, amp=0.3), silence(0.5), syllables(150.0, 1.0, amp=0.3)])
    mask = EnergyVAD().speech_mask(audio)
    metrics = P.measure_prosody(audio, SR, mask, FRAME_S)
    assert semitones(metrics.pitch_hz, 150.0) < 1.0
    assert metrics.pause_count == 1
    status = P.band_status(metrics, DEFAULT_TARGETS)
    assert status["pitch_variation_semitones"] == "low"  # a monotone voice
    assert status["speaking_rate_sps"] == "ok"
    assert "words_per_minute" not in status  # transcript measures only when present
    assert P.band_status({"loudness_dbfs": -50.0, "pause_share": None}, DEFAULT_TARGETS) == {
        "loudness_dbfs": "low",
        "pause_share": None,
    }
    assert P.ProsodyMetrics.from_dict(metrics.to_dict()) == metrics


def test_measure_prosody_of_silence_is_undefined_not_nan():
    metrics = P.measure_prosody(silence(1.0), SR, np.zeros(32, dtype=bool), FRAME_S)
    assert metrics.pitch_hz is None and metrics.speaking_rate_sps is None and metrics.pause_share is None
    assert metrics.loudness_dbfs == -100.0


def test_speaking_rate_over_sliding_windows_has_no_edge_bias():
    """Windows cut syllables at both ends; over many window phases the mean stays near the true rate."""
    audio = syllables(180.0, 6.0, rate_hz=4.0, amp=0.2)
    rates = []
    for start in np.arange(0.0, 3.9, 0.13):
        window = audio[int(start * SR) : int(start * SR) + 2 * SR]
        rates.append(P.syllable_nuclei(window, SR, EnergyVAD().speech_mask(window)).size / 2.0)
    assert np.mean(rates) == pytest.approx(4.0, rel=0.06)
    assert min(rates) >= 3.4 and max(rates) <= 4.6


# -- real speech: EmoDB's hand-marked syllables and Praat's pitch ---------------------------------


@pytest.fixture(scope="module")
def emodb_rates():
    """(speaker, hand-counted rate, our rate) of every hand-marked EmoDB utterance, silero VAD masks."""
    from speakfeed_gui.core.audio.vad import SileroVAD
    from speakfeed_gui.core.live.preparation import limit_torch_threads
    from tests.emodb import utterances

    vad = SileroVAD()
    previous = limit_torch_threads(1)  # as a live session runs silero; several threads crawl on a busy CPU
    try:
        rows = []
        for u in utterances():
            audio = u.audio()
            rate = P.speaking_rate_sps(audio, SR, vad.speech_mask(audio), frame_seconds=FRAME_S)
            rows.append((u.speaker, u.rate, np.nan if rate is None else rate))
    finally:
        limit_torch_threads(previous)
    return rows


@pytest.mark.slow
def test_speaking_rate_matches_hand_counted_syllables_of_real_speech(emodb_rates):
    """Issue 16's goal on 386 real utterances: bias within 10 %, MAE <= 0.8 syll/s, r >= 0.6 (measured
    5.97 against 5.99 syll/s, MAE 0.77, r 0.69, worst speaker -8 %; the seed's estimator gave 3.7, r 0.48)."""
    speakers = np.array([r[0] for r in emodb_rates])
    truth, ours = (np.array([r[i] for r in emodb_rates]) for i in (1, 2))
    assert len(truth) == 386 and np.isfinite(ours).all()
    assert abs(ours.mean() / truth.mean() - 1) <= 0.05
    assert np.abs(ours - truth).mean() <= 0.8
    assert np.corrcoef(ours, truth)[0, 1] >= 0.65
    for speaker in np.unique(speakers):  # no speaker is served much worse than the others
        mine = speakers == speaker
        assert abs(ours[mine].mean() / truth[mine].mean() - 1) <= 0.12, speaker


@pytest.mark.slow
def test_calibration_holds_for_speakers_it_was_not_fitted_on(emodb_rates):
    """The rate line refitted leaving each speaker out predicts that speaker within 10 % on average."""
    speakers = np.array([r[0] for r in emodb_rates])
    truth, ours = (np.array([r[i] for r in emodb_rates]) for i in (1, 2))
    nuclei_rate = (ours - P.RATE_OFFSET) / P.RATE_SLOPE
    errors = []
    for speaker in np.unique(speakers):
        out = speakers == speaker
        slope, offset = np.polyfit(nuclei_rate[~out], truth[~out], 1)
        predicted = offset + slope * nuclei_rate[out]
        assert abs(predicted.mean() / truth[out].mean() - 1) <= 0.10, speaker
        errors.append(np.abs(predicted - truth[out]))
    assert np.concatenate(errors).mean() <= 0.85


@pytest.mark.slow
def test_pitch_agrees_with_praat_on_real_speech():
    """The one tracker against Praat's autocorrelation pitch (parselmouth) on 70 EmoDB clips of all speakers."""
    parselmouth = pytest.importorskip("parselmouth")
    from tests.emodb import utterances

    ours, praat, our_spread, praat_spread = [], [], [], []
    for u in utterances()[::5][:70]:
        audio = u.audio()
        f0 = P.pitch_track(audio, SR).f0
        reference = parselmouth.Sound(audio.astype(np.float64), SR).to_pitch(pitch_floor=50.0, pitch_ceiling=500.0)
        theirs = reference.selected_array["frequency"]
        if np.isfinite(f0).sum() < 20 or (theirs > 0).sum() < 20:
            continue
        ours.append(np.nanmedian(f0))
        praat.append(np.median(theirs[theirs > 0]))
        our_spread.append(P.pitch_variation_semitones(f0))
        praat_spread.append(P.pitch_variation_semitones(np.where(theirs > 0, theirs, np.nan)))
    ours, praat = np.array(ours), np.array(praat)
    assert len(ours) >= 60
    assert np.corrcoef(ours, praat)[0, 1] >= 0.95  # all 386 clips: 0.99
    assert np.median(np.abs(12 * np.log2(ours / praat))) <= 0.5  # semitones; all clips: 0.17
    assert np.corrcoef(our_spread, praat_spread)[0, 1] >= 0.8  # all clips: 0.90
