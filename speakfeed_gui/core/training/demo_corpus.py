"""Generate SpeakFeed's synthetic demo corpus: espeak-ng speech styled by prosody per label.

No real emotional-speech corpus can ship with the app, so the Live tab's first model is trained
on this one. Each label is a speaking *style* built from the directions the vocal-emotion
literature reports (Scherer 2003, "Vocal communication of emotion", Speech Communication 40;
Banse & Scherer 1996, JPSP 70): rate, pitch level, pitch range, loudness and voice quality.
The numbers are ours, chosen so that the styles are audible but overlap, since every clip draws
its own random variation around its label's style (seeded, so the corpus is reproducible).
It is a demo of the pipeline, not emotional speech.
"""

from __future__ import annotations

import csv
import functools
import logging
import re
import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

import numpy as np

from speakfeed_gui.core.audio.decode import SAMPLE_RATE, resample
from speakfeed_gui.core.errors import DatasetError
from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel
from speakfeed_gui.core.settings.workspace import RESOURCES

log = logging.getLogger(__name__)

DEMO_DIR = RESOURCES / "demo_corpus"
CSV_NAME = "demo_corpus.csv"
DEMO_CSV = DEMO_DIR / CSV_NAME
DEFAULT_SEED = 7
# espeak-ng base voice + variant; each voice is one "speaker" of the corpus.
DEFAULT_VOICES = ("en+m1", "en+m3", "en+f2", "en+f4", "en-us+m2", "en+f3")
DEFAULT_SENTENCES_PER = 6

SENTENCES = (
    "Thank you all for coming today.",
    "Let me start with a short overview.",
    "Our results this quarter were mixed.",
    "The next slide shows the timeline.",
    "We tested three different approaches.",
    "This chart compares the two regions.",
    "Here is what we learned last year.",
    "The team finished the first phase.",
    "Please hold your questions until the end.",
    "We will review the budget next.",
    "The survey had four hundred answers.",
    "Most users opened the app every day.",
    "This number grew over six months.",
    "Let me explain how the system works.",
    "We moved the launch to early spring.",
    "The second option costs a bit more.",
    "Our partners joined the project in May.",
    "These figures come from the annual report.",
    "I will now hand over to my colleague.",
    "The pilot ran in two cities.",
    "We need a decision by Friday.",
    "The data covers the last three years.",
    "Training took place in the main office.",
    "Here are the key points to remember.",
    "The new process saves about an hour.",
    "We plan to publish the results soon.",
    "Each team reported its own progress.",
    "The final step is a short review.",
    "That brings me to my last slide.",
    "Thank you for your attention.",
)


@dataclass(frozen=True)
class Style:
    """How one label is spoken: espeak-ng settings first, then post-processing of the waveform."""

    speed_wpm: int  # espeak-ng -s (its default is 175)
    pitch: int  # espeak-ng -p, 0-99 (default 50); moves the voice's whole pitch band
    pitch_range: int  # SSML <prosody range="N%">; 100 = the voice's own intonation range
    word_gap: int  # espeak-ng -g: extra pause between words, in 10 ms units
    emphasis: int  # words wrapped in SSML <emphasis> (sharp accents)
    level_dbfs: float  # RMS level of the finished clip
    lowpass_hz: float = 0.0  # 0 = off; a dull, low-effort voice loses high-frequency energy
    tremolo_hz: float = 0.0  # amplitude tremor rate
    tremolo_depth: float = 0.0  # 0-1
    breath: float = 0.0  # high-passed noise following the speech envelope (breathiness)
    drive: float = 0.0  # tanh saturation: flatter dynamics, harder attacks, brighter spectrum
    basis: str = ""  # the literature direction the style follows


STYLE_TABLE: dict[str, Style] = {
    "calm": Style(
        165, 45, 90, 1, 0, -24.0,
        basis="contentment/relaxation: moderate rate, pitch, range and loudness; steady voice",
    ),
    "anxious": Style(
        215, 72, 70, 0, 0, -25.0, tremolo_hz=6.5, tremolo_depth=0.35, breath=0.25,
        basis="anxiety/fear: higher pitch, faster rate, tense and less steady (tremor), breathy, not loud",
    ),
    "frustrated": Style(
        190, 38, 150, 1, 2, -16.0, drive=4.0,
        basis="irritation/cold anger: loud, sharp accents and attacks, more high-frequency energy, lower-mid pitch",
    ),
    "energetic": Style(
        205, 66, 190, 0, 1, -17.0,
        basis="joy/elation: faster, higher pitch, wider pitch range, louder",
    ),
    "burned_out": Style(
        125, 28, 35, 4, 0, -32.0, lowpass_hz=2200.0,
        basis="sadness/boredom: slower with longer pauses, lower and flatter pitch, quieter, dull (less high-frequency energy)",
    ),
}

# Per-clip random variation around the style (uniform within +/-): so classes overlap.
JITTER = {
    "speed_fraction": 0.15,
    "pitch_steps": 12,
    "range_fraction": 0.3,
    "level_db": 6.0,
    "effect_scale": (0.5, 1.5),
}
# Sample resolution kept in the 16-bit FLAC files (about 72 dB of dynamic range, plenty for a demo).
STORED_BITS = 12


def _slug(voice: str) -> str:
    return voice.replace("+", "-").replace("/", "-")


def _clip_rng(seed: int, *parts: str) -> np.random.Generator:
    """A generator per clip, so a subset of voices reproduces the same clips as the full corpus."""
    return np.random.default_rng([seed, *(zlib.crc32(p.encode()) for p in parts)])


def _ssml(sentence: str, style: Style, pitch_range: int, rng: np.random.Generator) -> str:
    words = sentence.split()
    candidates = [i for i, w in enumerate(words) if len(w.strip(".,")) >= 4]
    chosen = set(rng.choice(candidates, size=min(style.emphasis, len(candidates)), replace=False).tolist())
    body = " ".join(
        f"<emphasis>{escape(w)}</emphasis>" if i in chosen else escape(w) for i, w in enumerate(words)
    )
    return f'<speak><prosody range="{pitch_range}%">{body}</prosody></speak>'


@functools.lru_cache(maxsize=1)
def _espeak_names() -> tuple[frozenset[str], frozenset[str]]:
    """(language and voice names, variant names) this espeak-ng knows, lower-case.

    espeak-ng silently falls back to a default for an unknown variant (`en+nosuch`) or a name
    that starts like a language (`no-such` speaks Norwegian), which would merge two "speakers".
    """
    names: set[str] = set()
    variants: set[str] = set()
    for arg, into in (("--voices", names), ("--voices=variant", variants)):
        listing = subprocess.run(["espeak-ng", arg], capture_output=True, text=True, timeout=60).stdout
        for line in listing.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 5:
                continue
            into.update(f.rsplit("/", 1)[-1].lower() for f in fields if "/" in f and f != fields[2])
            if into is names:
                into.update(n.lower() for n in [fields[1], fields[3], *re.findall(r"\((\S+) \d+\)", line)])
    return frozenset(names), frozenset(variants)


def _check_voice(voice: str) -> None:
    names, variants = _espeak_names()
    base, _, variant = voice.partition("+")
    if base.lower() not in names or (variant and variant.lower() not in variants):
        raise DatasetError(
            f"espeak-ng voice {voice!r}: unknown; use a language from `espeak-ng --voices` with an optional "
            "+variant from `espeak-ng --voices=variant`, e.g. en+f2"
        )


def _espeak(ssml: str, voice: str, speed: int, pitch: int, gap: int, wav: Path) -> np.ndarray:
    """Run espeak-ng once; return the samples at 16 kHz."""
    import soundfile as sf

    cmd = ["espeak-ng", "-m", "-z", "-v", voice, "-s", str(speed), "-p", str(pitch), "-g", str(gap), "-w", str(wav), ssml]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except FileNotFoundError:
        raise DatasetError("espeak-ng: program not found; install it (e.g. apt-get install espeak-ng) to generate the demo corpus") from None
    if done.returncode != 0 or not wav.is_file():
        raise DatasetError(f"espeak-ng voice {voice!r}: synthesis failed ({done.stderr.strip() or done.returncode}); "
                           "use a voice listed by `espeak-ng --voices=en`, e.g. en+f2")
    audio, rate = sf.read(str(wav), dtype="float32")
    if audio.size == 0:
        raise DatasetError(f"espeak-ng voice {voice!r}: produced no audio")
    return resample(audio, rate, SAMPLE_RATE)


def _butter(audio: np.ndarray, hz: float, kind: str) -> np.ndarray:
    from scipy.signal import butter, sosfilt

    return sosfilt(butter(4, hz, btype=kind, fs=SAMPLE_RATE, output="sos"), audio).astype(np.float32)


def _trim(audio: np.ndarray, pad: float = 0.08) -> np.ndarray:
    """Cut leading/trailing near-silence, keeping a short pad."""
    loud = np.flatnonzero(np.abs(audio) > 1e-3)
    if loud.size == 0:
        return audio
    n = int(pad * SAMPLE_RATE)
    return audio[max(loud[0] - n, 0) : loud[-1] + n]


def _apply_style(audio: np.ndarray, style: Style, level_dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """Voice-quality post-processing and level; all randomness comes from `rng`.

    Each effect's strength varies per clip (x0.5 to x1.5, cut-off x0.8 to x1.5), like the
    espeak-ng settings, so that no single effect identifies a label on its own.
    """
    y = _trim(audio.astype(np.float32))
    strength = rng.uniform(*JITTER["effect_scale"])
    if style.lowpass_hz:
        y = _butter(y, style.lowpass_hz * rng.uniform(0.8, 1.5), "lowpass")
    if style.drive:
        drive = style.drive * strength
        y = np.tanh(drive * y / (np.max(np.abs(y)) + 1e-9)) / np.tanh(drive)
    t = np.arange(y.size, dtype=np.float32) / SAMPLE_RATE
    if style.tremolo_depth:
        rate = style.tremolo_hz * rng.uniform(0.85, 1.15)
        lfo = 0.5 + 0.5 * np.sin(2 * np.pi * rate * t + rng.uniform(0, 2 * np.pi))
        y = y * (1.0 - min(style.tremolo_depth * strength, 0.9) * lfo).astype(np.float32)
    if style.breath:
        win = int(0.02 * SAMPLE_RATE)
        envelope = np.convolve(np.abs(y), np.ones(win, dtype=np.float32) / win, mode="same")
        noise = _butter(rng.standard_normal(y.size).astype(np.float32), 1500.0, "highpass")
        y = y + style.breath * strength * 2.0 * envelope * noise
    active = y[np.abs(y) > 1e-3]
    rms = float(np.sqrt(np.mean(np.square(active)))) if active.size else 1.0
    y = y * (10 ** (level_dbfs / 20) / max(rms, 1e-9))
    peak = float(np.max(np.abs(y)))
    if peak > 0.98:  # keep the waveform legal; loud styles stay the loudest
        y = y * (0.98 / peak)
    step = 2.0 ** (1 - STORED_BITS)  # coarser samples leave FLAC "wasted bits": a smaller corpus
    return (np.round(y / step) * step).astype(np.float32)


def _render_clip(sentence: str, voice: str, label: str, seed: int, tmp: Path) -> np.ndarray:
    style = STYLE_TABLE[label]
    rng = _clip_rng(seed, voice, label, sentence)
    speed = int(np.clip(round(style.speed_wpm * (1 + rng.uniform(-1, 1) * JITTER["speed_fraction"])), 80, 450))
    pitch = int(np.clip(style.pitch + rng.integers(-JITTER["pitch_steps"], JITTER["pitch_steps"] + 1), 0, 99))
    prange = int(max(10, round(style.pitch_range * (1 + rng.uniform(-1, 1) * JITTER["range_fraction"]))))
    gap = max(0, style.word_gap + int(rng.integers(-1, 2)))
    level = style.level_dbfs + rng.uniform(-1, 1) * JITTER["level_db"]
    audio = _espeak(_ssml(sentence, style, prange, rng), voice, speed, pitch, gap, tmp / "clip.wav")
    return _apply_style(audio, style, level, rng)


def _pick_sentences(seed: int, voice: str, count: int) -> list[str]:
    """Each voice speaks its own subset of sentences, every one of them in every style."""
    if not 1 <= count <= len(SENTENCES):
        raise DatasetError(f"sentences_per: {count} is out of range; expected 1 to {len(SENTENCES)}")
    order = _clip_rng(seed, voice, "sentences").permutation(len(SENTENCES))
    return [SENTENCES[i] for i in order[:count]]


def generate_demo_corpus(
    out_dir: str | Path,
    *,
    seed: int = DEFAULT_SEED,
    voices: Sequence[str] = DEFAULT_VOICES,
    sentences_per: int = DEFAULT_SENTENCES_PER,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Write 16 kHz mono FLAC clips and `demo_corpus.csv` (path,label,speaker); return the CSV path.

    Same seed, voices and sentence count give byte-identical files. Clip paths in the CSV are
    relative to the CSV's folder. The CSV is written last, so a cancelled run leaves no CSV.
    """
    import soundfile as sf

    if not voices or len(set(voices)) != len(voices):
        raise DatasetError(f"voices: {list(voices)!r}; expected a non-empty list of distinct espeak-ng voices")
    if shutil.which("espeak-ng") is None:
        raise DatasetError("espeak-ng: program not found; install it (e.g. apt-get install espeak-ng) to generate the demo corpus")
    for voice in voices:
        _check_voice(voice)
    out = Path(out_dir).expanduser()
    plan = [(v, s, label) for v in voices for s in _pick_sentences(seed, v, sentences_per) for label in STYLE_TABLE]
    rows: list[tuple[str, str, str]] = []
    counters: dict[tuple[str, str], int] = {}
    with tempfile.TemporaryDirectory(prefix="speakfeed-demo-") as tmp:
        for n, (voice, sentence, label) in enumerate(plan):
            check_cancel(cancel)
            index = counters[(voice, label)] = counters.get((voice, label), 0) + 1
            rel = f"clips/{_slug(voice)}/{label}_{index:02d}.flac"
            if progress:
                progress("demo-data", n, len(plan), rel)
            audio = _render_clip(sentence, voice, label, seed, Path(tmp))
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            sf.write(str(out / rel), audio, SAMPLE_RATE, format="FLAC", subtype="PCM_16", compression_level=1.0)
            rows.append((rel, label, voice))
    csv_path = out / CSV_NAME
    partial = csv_path.with_suffix(".csv.part")
    with partial.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(("path", "label", "speaker"))
        writer.writerows(rows)
    partial.replace(csv_path)
    if progress:
        progress("demo-data", len(plan), len(plan), "done")
    log.info("demo corpus: %d clips in %s (seed %d)", len(rows), out, seed)
    return csv_path


def style_table_markdown() -> str:
    """STYLE_TABLE as a Markdown table (quoted in resources/demo_corpus/README.md)."""
    head = "| label | speed wpm (-s) | pitch (-p) | pitch range % | word gap (-g) | emphasised words | level dBFS | voice quality |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for label, st in STYLE_TABLE.items():
        quality = [f"low-pass {st.lowpass_hz:g} Hz" if st.lowpass_hz else "",
                   f"tremolo {st.tremolo_hz:g} Hz depth {st.tremolo_depth:g}" if st.tremolo_depth else "",
                   f"breath noise {st.breath:g}" if st.breath else "",
                   f"saturation drive {st.drive:g}" if st.drive else ""]
        cells = (label, st.speed_wpm, st.pitch, st.pitch_range, st.word_gap, st.emphasis, f"{st.level_dbfs:g}",
                 ", ".join(q for q in quality if q) or "unchanged")
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)
