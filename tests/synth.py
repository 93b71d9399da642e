"""Synthetic audio and datasets for tests (shared by every test package).

All generators are deterministic for a given seed and return float32 mono arrays in [-1, 1].
`make_dataset` writes a small corpus whose labels differ audibly (pitch, loudness, syllable rate)
with per-speaker and per-clip variation, so a classifier on a speaker-independent split does
clearly better than chance without the task being trivial.
"""

from __future__ import annotations

import csv
import subprocess
from pathlib import Path
from typing import Sequence

import numpy as np
import soundfile as sf

SR = 16_000
DEFAULT_LABELS = ("calm", "energetic", "burned_out")
RAVDESS_CODES = {
    "neutral": "01",
    "calm": "02",
    "happy": "03",
    "sad": "04",
    "angry": "05",
    "fearful": "06",
    "disgust": "07",
    "surprised": "08",
}
# (f0 Hz, peak amplitude, syllables per second) per label index; ordered so the default labels
# read naturally: calm = mid pitch, moderate level, steady pace; energetic = high, loud, fast;
# burned_out = low, quiet, slow.
PROFILES = (
    (150.0, 0.20, 3.5),
    (235.0, 0.55, 5.5),
    (100.0, 0.06, 2.2),
    (190.0, 0.35, 4.6),
    (125.0, 0.12, 2.9),
    (280.0, 0.30, 3.2),
    (85.0, 0.40, 5.0),
    (210.0, 0.09, 2.5),
)
_SUBTYPES = {".wav": "PCM_16", ".flac": "PCM_16", ".ogg": "VORBIS"}


def _time(seconds: float, sr: int) -> np.ndarray:
    return np.arange(int(round(seconds * sr))) / sr


def tone(freq: float, seconds: float, sr: int = SR, amp: float = 0.3, vibrato: float = 0.0) -> np.ndarray:
    """Sine at `freq` Hz; `vibrato` is the depth in semitones of a 5 Hz frequency modulation."""
    t = _time(seconds, sr)
    inst = freq * 2.0 ** (vibrato * np.sin(2 * np.pi * 5.0 * t) / 12.0)
    phase = 2 * np.pi * np.cumsum(inst) / sr
    return (amp * np.sin(phase)).astype(np.float32)


def noise(seconds: float, sr: int = SR, amp: float = 0.1, seed: int = 0) -> np.ndarray:
    """Uniform white noise with peak `amp`."""
    return np.random.default_rng(seed).uniform(-amp, amp, int(round(seconds * sr))).astype(np.float32)


def silence(seconds: float, sr: int = SR) -> np.ndarray:
    return np.zeros(int(round(seconds * sr)), dtype=np.float32)


def speechlike(
    f0: float, seconds: float, sr: int = SR, amp: float = 0.3, rate_hz: float = 4.0, seed: int = 0
) -> np.ndarray:
    """Voiced harmonic source with intonation, jitter and a syllable-rate on/off envelope.

    Syllables are Hann bumps about 60 % of a syllable period long, with +-20 % timing jitter and
    silent gaps between them; the pitch drifts +-1.5 semitones and jitters by ~0.3 semitone.
    """
    rng = np.random.default_rng(seed)
    t = _time(seconds, sr)
    n = t.size
    drift = 1.5 * np.sin(2 * np.pi * 0.6 * t + rng.uniform(0, 2 * np.pi))
    jitter = np.convolve(rng.standard_normal(n), np.ones(400) / 20.0, mode="same") * 0.3
    inst = f0 * 2.0 ** ((drift + jitter) / 12.0)
    phase = 2 * np.pi * np.cumsum(inst) / sr
    harmonics = [k for k in range(1, 16) if k * f0 * 1.2 < sr / 2]
    source = sum(np.sin(k * phase) / k for k in harmonics)
    envelope = np.zeros(n)
    start = rng.uniform(0.0, 0.3) / rate_hz
    while start < seconds:
        length = int(sr * 0.6 / rate_hz * rng.uniform(0.8, 1.2))
        i = int(start * sr)
        bump = np.hanning(length)[: max(0, n - i)]
        envelope[i : i + bump.size] = np.maximum(envelope[i : i + bump.size], bump)
        start += rng.uniform(0.8, 1.2) / rate_hz
    signal = source * envelope + 0.002 * rng.standard_normal(n)
    peak = np.max(np.abs(signal)) or 1.0
    return (amp * signal / peak).astype(np.float32)


def write_audio(path: str | Path, audio: np.ndarray, sr: int = SR) -> Path:
    """Write wav/flac (16-bit) or ogg (Vorbis) by suffix; `audio` may be (frames, channels)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), np.asarray(audio, dtype=np.float32), sr, subtype=_SUBTYPES.get(path.suffix.lower()))
    return path


write_wav = write_audio


def _clip_audio(
    profile: tuple[float, float, float],
    offset: tuple[float, float, float],
    seconds: float,
    sr: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """One clip of a label profile, shifted by the speaker's offsets and a little per-clip randomness."""
    f0, amp, rate = profile
    f0 *= 2.0 ** ((offset[0] + rng.uniform(-0.7, 0.7)) / 12.0)
    amp = min(0.95, amp * offset[1] * rng.uniform(0.9, 1.1))
    rate *= offset[2] * rng.uniform(0.92, 1.08)
    return speechlike(f0, seconds, sr, amp=amp, rate_hz=rate, seed=int(rng.integers(1 << 31)))


def ravdess_codes(labels: Sequence[str]) -> dict[str, str]:
    """RAVDESS emotion code per label: its own code for RAVDESS names, else the next unused one."""
    spare = iter(code for code in sorted(RAVDESS_CODES.values()) if code not in {RAVDESS_CODES.get(x) for x in labels})
    return {label: RAVDESS_CODES[label] if label in RAVDESS_CODES else next(spare) for label in labels}


def make_dataset(
    root: str | Path,
    layout: str,
    *,
    labels: Sequence[str] = DEFAULT_LABELS,
    speakers: int = 4,
    clips_per_speaker_label: int = 3,
    seconds: float = 1.0,
    sr: int = SR,
    fmt: str = "wav",
    seed: int = 0,
) -> Path:
    """Write a synthetic corpus in layout "csv", "folders" or "ravdess"; return what load_dataset takes.

    csv: `<root>/dataset.csv` with path,label,speaker (returned) and clips under `<root>/audio/`;
    folders: `<root>/<label>/spk<S>_<n>.<fmt>` (speakers not recoverable from names);
    ravdess: `<root>/Actor_NN/03-01-EE-01-NN-01-NN.<fmt>`, where labels that are not RAVDESS
    emotion names get unused emotion codes (see `ravdess_codes`), so they load under those names.
    """
    root = Path(root)
    labels = tuple(labels)
    if layout not in ("csv", "folders", "ravdess"):
        raise ValueError(f"layout must be csv, folders or ravdess, not {layout!r}")
    if len(labels) > len(PROFILES):
        raise ValueError(f"at most {len(PROFILES)} labels")
    codes = ravdess_codes(labels) if layout == "ravdess" else {}
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(1, speakers + 1):
        offset = (rng.uniform(-1.5, 1.5), rng.uniform(0.8, 1.25), rng.uniform(0.9, 1.1))
        for label, profile in zip(labels, PROFILES):
            for k in range(1, clips_per_speaker_label + 1):
                if layout == "csv":
                    rel = Path("audio") / f"spk{s}_{label}_{k}.{fmt}"
                elif layout == "folders":
                    rel = Path(label) / f"spk{s}_{k}.{fmt}"
                else:
                    rel = Path(f"Actor_{s:02d}") / f"03-01-{codes[label]}-01-{k:02d}-01-{s:02d}.{fmt}"
                write_audio(root / rel, _clip_audio(profile, offset, seconds, sr, rng), sr)
                rows.append((rel.as_posix(), label, f"spk{s}"))
    if layout != "csv":
        return root
    table = root / "dataset.csv"
    with table.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "label", "speaker"])
        writer.writerows(rows)
    return table


def espeak(
    text: str, path: str | Path, *, voice: str = "en", speed: int = 160, pitch: int = 50, amplitude: int = 100
) -> Path:
    """Speak `text` into a WAV (22,050 Hz PCM_16) with the espeak-ng command line."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-a", str(amplitude), "-w", str(path), text]
    subprocess.run(cmd, check=True, capture_output=True)
    return path
