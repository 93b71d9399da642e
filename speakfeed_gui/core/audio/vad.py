"""Voice activity detection: which 32 ms frames of a 16 kHz window hold speech.

`EnergyVAD` needs nothing but numpy and works on any loud enough signal (also test tones);
`SileroVAD` is the silero-vad network (torch), which ignores music, tones and noise. Both share
`speech_mask(audio, start=None) -> bool per frame`, `frame_seconds`, `speech_fraction(audio)`
and `reset()`. `start` is the window's first sample in a continuous stream (overlapping live
windows): silero then runs only on the frames it has not seen yet, keeping its state.
"""

from __future__ import annotations

import logging
import warnings
from typing import Protocol

import numpy as np

from speakfeed_gui.core.audio import levels
from speakfeed_gui.core.audio.decode import SAMPLE_RATE
from speakfeed_gui.core.errors import ModelLoadError

log = logging.getLogger(__name__)

FRAME = 512  # samples at 16 kHz: silero's frame, reused by the energy VAD so masks line up


class VAD(Protocol):
    frame_seconds: float

    def speech_mask(self, audio: np.ndarray, start: int | None = None) -> np.ndarray: ...

    def speech_fraction(self, audio: np.ndarray) -> float: ...

    def reset(self) -> None: ...


def frame_db(audio: np.ndarray, frame: int = FRAME) -> np.ndarray:
    """RMS level in dBFS of consecutive VAD frames (see core.audio.levels)."""
    return levels.frame_db(audio, frame)


class _MaskFraction:
    frame_seconds = FRAME / SAMPLE_RATE

    def speech_mask(self, audio: np.ndarray, start: int | None = None) -> np.ndarray:
        raise NotImplementedError

    def speech_fraction(self, audio: np.ndarray) -> float:
        mask = self.speech_mask(audio)
        return float(mask.mean()) if mask.size else 0.0


class EnergyVAD(_MaskFraction):
    """Frames louder than an adaptive noise floor by `margin_db`.

    The floor follows the quietest tenth of each analysed window: it drops at once and rises
    by at most `rise_db_per_s` of analysed audio, so a long vowel does not become "noise". The
    threshold is clamped to [`min_db`, `max_db`] dBFS: digital silence never counts as speech
    and a loud voice always does.
    """

    def __init__(
        self,
        margin_db: float = 12.0,
        min_db: float = -50.0,
        max_db: float = -30.0,
        rise_db_per_s: float = 2.0,
    ) -> None:
        self.margin_db = margin_db
        self.min_db = min_db
        self.max_db = max_db
        self.rise_db_per_s = rise_db_per_s
        self.noise_floor_db: float | None = None

    def reset(self) -> None:
        self.noise_floor_db = None

    @property
    def threshold_db(self) -> float:
        floor = self.noise_floor_db if self.noise_floor_db is not None else self.min_db - self.margin_db
        return float(np.clip(floor + self.margin_db, self.min_db, self.max_db))

    def speech_mask(self, audio: np.ndarray, start: int | None = None) -> np.ndarray:
        """`start` is accepted for the VAD interface; the energy VAD needs no stream position."""
        levels = frame_db(audio)
        if levels.size == 0:
            return np.zeros(0, dtype=bool)
        quiet = float(np.percentile(levels, 10))
        if self.noise_floor_db is None or quiet < self.noise_floor_db:
            self.noise_floor_db = quiet
        else:
            seconds = np.asarray(audio).size / SAMPLE_RATE
            self.noise_floor_db = min(quiet, self.noise_floor_db + self.rise_db_per_s * seconds)
        return levels > self.threshold_db


class SileroVAD(_MaskFraction):
    """The silero-vad network on 512-sample frames; speech where its probability > `threshold`.

    Live windows overlap (2 s every 0.5 s), so with a stream position each frame is run once:
    probabilities are kept per frame of the stream and the network's state carries on, as
    silero is meant to stream. That is about a quarter of the work of a whole window.
    """

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self._model = load_silero()
        self._stream = _FrameProbabilities()

    def reset(self) -> None:
        self._stream = _FrameProbabilities()
        self._model.reset_states()

    def speech_probabilities(self, audio: np.ndarray) -> np.ndarray:
        """One probability per frame of `audio` on its own (the network starts fresh)."""
        import torch

        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if audio.size == 0:
            return np.zeros(0)
        with torch.inference_mode():
            probs = self._model.audio_forward(torch.from_numpy(audio), SAMPLE_RATE)
        self._stream = _FrameProbabilities()  # audio_forward reset the network's state
        return probs.numpy()[0]

    def speech_mask(self, audio: np.ndarray, start: int | None = None) -> np.ndarray:
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        if start is None or audio.size < FRAME:
            return self.speech_probabilities(audio) > self.threshold
        return self._streamed(audio, int(start)) > self.threshold

    def _streamed(self, audio: np.ndarray, start: int) -> np.ndarray:
        """Probabilities for the frames of a window at stream sample `start`, new frames only run."""
        import torch

        stream = self._stream
        if not stream.continues(start):
            self._model.reset_states()
            stream.restart(start)
        new = []
        with torch.inference_mode():
            for k in range(stream.next_frame, (start + audio.size) // FRAME):
                chunk = audio[k * FRAME - start : (k + 1) * FRAME - start]
                new.append(float(self._model(torch.from_numpy(chunk), SAMPLE_RATE)))
        stream.extend(new, keep_from=start)
        if stream.probs.size == 0:  # a window too short to hold one whole stream frame
            return self.speech_probabilities(audio)
        return stream.for_window(start, audio.size)


class _FrameProbabilities:
    """Speech probability of stream frames [first, next_frame): frame k holds samples k*FRAME on."""

    def __init__(self) -> None:
        self.first = self.next_frame = 0
        self.probs = np.zeros(0)
        self.window_start: int | None = None

    def continues(self, start: int) -> bool:
        """The window follows the last one without a gap (else the stream starts over)."""
        if self.window_start is None or start < self.window_start:
            return False
        return self.next_frame * FRAME >= start

    def restart(self, start: int) -> None:
        self.first = self.next_frame = -(-start // FRAME)
        self.probs = np.zeros(0)

    def extend(self, new: list[float], keep_from: int) -> None:
        """Append new frames; forget those wholly before sample `keep_from` (no window needs them)."""
        probs = np.concatenate([self.probs, np.asarray(new, dtype=np.float64)])
        self.next_frame += len(new)
        drop = max(0, min(keep_from // FRAME - self.first, probs.size - 1))
        self.probs, self.first = probs[drop:], self.first + drop
        self.window_start = keep_from

    def for_window(self, start: int, size: int) -> np.ndarray:
        """Each of the window's own frames takes the stream frame under its centre (≤ 16 ms off)."""
        centres = start + np.arange(-(-size // FRAME)) * FRAME + FRAME // 2
        frames = np.clip(centres // FRAME, self.first, self.next_frame - 1)
        return self.probs[frames - self.first]


def load_silero():
    """Load the network from the wheel (offline), keeping this process's torch thread count.

    Importing silero_vad sets torch to one thread for the whole process, which would slow
    training and torch models elsewhere in the app; the previous count is restored.
    """
    try:
        import torch
    except ImportError:
        raise ModelLoadError("live.vad: silero needs torch and silero-vad (pip install 'speakfeed[hf]'); use vad: energy") from None
    threads = torch.get_num_threads()
    try:
        from silero_vad import load_silero_vad
    except ImportError:
        raise ModelLoadError("live.vad: silero needs the silero-vad package (pip install 'speakfeed[hf]'); use vad: energy") from None
    finally:
        torch.set_num_threads(threads)
    with warnings.catch_warnings():  # its loader uses deprecated importlib/jit calls; nothing for users to fix
        warnings.simplefilter("ignore", DeprecationWarning)
        return load_silero_vad()


def silero_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("silero_vad") is not None and importlib.util.find_spec("torch") is not None


def make_vad(kind: str = "auto") -> VAD:
    """`auto`: silero when installed, else the energy VAD; `silero` / `energy` explicitly."""
    if kind == "energy":
        return EnergyVAD()
    if kind == "silero":
        return SileroVAD()
    if kind == "auto":
        if silero_available():
            try:
                return SileroVAD()
            except Exception as exc:  # a broken torch install must not stop live feedback
                log.warning("silero VAD unavailable (%s); using the energy VAD", exc)
        return EnergyVAD()
    raise ValueError(f"unknown VAD kind {kind!r}; expected auto, silero or energy")
