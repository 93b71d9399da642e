"""Decode audio files to the one format the analysis uses: mono float32 at 16 kHz."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from speakfeed_gui.core.errors import AudioError, first_line

SAMPLE_RATE = 16_000
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".mp3")


def is_audio_path(value: object) -> bool:
    """True for a Path, or a str naming an existing file with an audio suffix."""
    if isinstance(value, Path):
        return True
    return isinstance(value, str) and value.lower().endswith(AUDIO_SUFFIXES) and Path(value).is_file()


def to_mono(audio: np.ndarray) -> np.ndarray:
    """Average channels: soundfile gives (frames, channels)."""
    audio = np.asarray(audio, dtype=np.float32)
    return audio.mean(axis=1, dtype=np.float32) if audio.ndim == 2 else audio


def resample(audio: np.ndarray, rate_in: int, rate_out: int = SAMPLE_RATE) -> np.ndarray:
    """Band-limited resampling (soxr, the resampler librosa uses by default)."""
    audio = np.asarray(audio, dtype=np.float32)
    if rate_in == rate_out or audio.size == 0:
        return audio
    import soxr

    return soxr.resample(audio, rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)


def sanitize(audio: np.ndarray, where: str) -> np.ndarray:
    """Refuse NaN/inf samples and clip to [-1, 1]."""
    if not np.all(np.isfinite(audio)):
        raise AudioError(f"{where}: contains NaN or infinite samples; re-export the audio as PCM")
    return np.clip(audio, -1.0, 1.0, out=audio)


def load_audio(path: str | Path, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read any format soundfile knows, mix to mono and resample to `rate`."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found")
    try:
        data, file_rate = sf.read(str(path), dtype="float32", always_2d=False)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError, TypeError...
        raise AudioError(f"{path}: not a readable audio file (wav, flac, ogg): {first_line(exc)}") from None
    if not 1_000 <= file_rate <= 384_000:
        raise AudioError(f"{path}: sample rate {file_rate} Hz is out of range (1000 to 384000 Hz)")
    mono = sanitize(to_mono(data), str(path))
    return resample(mono, int(file_rate), rate)


def as_audio(value: object, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Accept a file path or a 1-D/2-D sample array already at `rate`."""
    if isinstance(value, (str, Path)):
        return load_audio(value, rate)
    if isinstance(value, np.ndarray):
        if value.size == 0:
            raise AudioError("audio buffer is empty")
        return sanitize(to_mono(value).copy(), "audio buffer")
    raise AudioError(f"expected an audio file path or a numpy array, got {type(value).__name__}")


def write_wav(path: str | Path, audio: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write 16-bit PCM WAV."""
    import soundfile as sf

    sf.write(str(path), np.asarray(audio, dtype=np.float32), rate, subtype="PCM_16")
