"""Sessions for the history, moments and playback tests, written by the real SessionRecorder."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from speakfeed_gui.core.live import session as session_module
from speakfeed_gui.core.live.session import SessionRecorder

LABELS = ["calm", "anxious", "energetic"]
MODEL_INFO = {"name": "dummy", "version": "1.0", "labels": LABELS}


@contextlib.contextmanager
def clock(started_at: str | None) -> Iterator[None]:
    """The recorder's timestamps read `started_at` (a session recorded on another day)."""
    if started_at is None:
        yield
        return
    original = session_module._now
    session_module._now = lambda: started_at
    try:
        yield
    finally:
        session_module._now = original


def window(t: float, label: str | None = "calm", hop: float = 0.5, **prosody) -> dict:
    """One analysed window of `hop` seconds; label None is silence."""
    speech = label is not None
    probs = {name: (0.8 if name == label else 0.1) for name in LABELS} if speech else None
    return {
        "t_start": t, "t_end": t + hop, "is_speech": speech, "speech_fraction": 0.9 if speech else 0.0,
        "level_dbfs": -20.0 if speech else -80.0, "label": label or "silence", "confidence": 0.8 if speech else 0.0,
        "prediction": {"label": label, "probabilities": probs} if speech else None,
        "smoothed": probs, "prosody": prosody if speech else {}, "transcript": None,
    }


def record(folder: Path, windows: Sequence[dict], *, started_at: str | None = None,
           audio: np.ndarray | None = None, cipher=None) -> Path:
    """A closed session of `windows` (and a 16 kHz recording when `audio` is given); its path."""
    with clock(started_at):
        recorder = SessionRecorder(folder, model_info=MODEL_INFO, settings={"hop_seconds": 0.5},
                                   record_audio=audio is not None, flush_seconds=0.0, cipher=cipher)
        if audio is not None:
            recorder.write_audio(audio)
        for w in windows:
            recorder.append(w)
        return recorder.close()


def steady(seconds: float, *, rate: float, pause: float, pitch: float, loud: float, label: str = "calm") -> list[dict]:
    """Windows every 0.5 s with the same delivery measures."""
    return [window(0.5 * i, label, speaking_rate_sps=rate, pause_share=pause, pitch_variation_semitones=pitch,
                   loudness_dbfs=loud) for i in range(int(seconds / 0.5))]


DATA = Path(__file__).resolve().parents[1] / "data" / "emodb"
BUNDLED = Path(__file__).resolve().parents[2] / "resources" / "emodb"


def emodb_clip(name: str) -> Path:
    """A real EmoDB clip: from the bundled resources/emodb when present, else the copy in tests/data."""
    for root in (BUNDLED, DATA):
        path = root / "wav" / f"{name}.flac"
        if path.is_file():
            return path
    raise FileNotFoundError(name)


def real_talk(gap_seconds: float = 4.0) -> np.ndarray:
    """Three real EmoDB utterances (2 s each), a long silence after the second: 16 kHz float32."""
    from speakfeed_gui.core.audio.decode import load_audio

    clips = [load_audio(emodb_clip(n)) for n in ("08a01Fd", "08a01Ab", "08a01Na")]
    gap = np.zeros(int(16000 * gap_seconds), dtype=np.float32)
    short = np.zeros(8000, dtype=np.float32)
    return np.concatenate([short, clips[0], clips[1], gap, clips[2], short])
