"""Steps around a live session that any front end runs: preparing the analysis, torch threads, card values."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from speakfeed_gui.core.progress import check_cancel


@dataclass
class Prepared:
    """What the loading worker hands to the GUI thread."""

    model: Any
    vad: Any
    transcriber: Any


def warm_window(seconds: float, rate: int = 16000) -> np.ndarray:
    """A voiced, syllable-shaped test window: every stage of the analysis runs on it once."""
    t = np.arange(int(seconds * rate)) / rate
    voice = sum(np.sin(2 * np.pi * k * 150.0 * t) / k for k in range(1, 8))
    envelope = (0.5 - 0.5 * np.cos(2 * np.pi * 4.0 * t)) ** 1.5
    return (0.2 * voice * envelope).astype(np.float32)


def prepare_analysis(model: Any, live: Any, workspace: Any) -> Any:
    """Work function: load the model, voice detector and speech recogniser, then analyse a test window.

    The recogniser (default: the bundled Whisper tiny.en) runs beside any model unless
    `live.transcribe` is false; a text model always needs one. The test window makes first-use
    costs (numba, TorchScript profiling runs, scipy imports) happen here rather than on the first
    real window, which would otherwise lag seconds behind the speaker.
    """

    def work(progress: Any, cancel: Any) -> Prepared:
        from speakfeed_gui.core.audio.vad import make_vad
        from speakfeed_gui.core.live.prosody import measure_prosody
        from speakfeed_gui.core.models.asr import WhisperRecognizer, make_transcriber

        progress("loading the model", 0, 4, model.name)
        model.load()
        check_cancel(cancel)
        progress("loading the voice detector", 1, 4, live.vad)
        vad = make_vad(live.vad)
        check_cancel(cancel)
        transcriber = make_transcriber(live, workspace, needed=model.input_kind == "text")
        if transcriber is not None:
            progress("loading the speech recogniser", 2, 4, str(getattr(transcriber, "model_name", live.asr_model)))
            if callable(getattr(transcriber, "load", None)):
                transcriber.load()
        progress("warming up the analysis", 3, 4)
        window = warm_window(live.window_seconds)
        for _ in range(3):  # TorchScript (silero) optimises over its first calls
            check_cancel(cancel)
            vad.speech_mask(window)
        speech = np.ones(-(-window.size // 512), dtype=bool)  # the VAD may call a test tone "no speech"
        measure_prosody(window, 16000, speech, vad.frame_seconds)
        if model.input_kind != "text":
            model.predict(window)
        elif transcriber is not None and not isinstance(transcriber, WhisperRecognizer):
            transcriber(window)  # Whisper needs no warm-up, and on a tone it may decode for seconds
        if callable(getattr(vad, "reset", None)):
            vad.reset()  # the energy VAD's noise floor must come from the microphone, not the test window
        progress("ready", 4, 4)
        return Prepared(model, vad, transcriber)

    return work


def limit_torch_threads(count: int | None) -> int | None:
    """Set torch's intra-op threads (when torch is loaded); returns the previous count.

    A live session runs torch single-threaded, as silero-vad recommends: with several threads
    each small per-window op waits for all of them, and on a busy CPU a window then took
    seconds instead of ~10 ms (measured on 2 cores under load).
    """
    torch = sys.modules.get("torch")
    if torch is None or count is None:
        return None
    previous = int(torch.get_num_threads())
    torch.set_num_threads(count)
    return previous


def recent_medians(results: Iterable[Any], since: float) -> dict[str, float | None]:
    """Median of each prosody measure over the speech windows that end after `since`."""
    rows = [r.prosody.to_dict() for r in results if r.t_end >= since]
    medians: dict[str, float | None] = {}
    for key in rows[0] if rows else ():
        values = [float(row[key]) for row in rows if isinstance(row.get(key), (int, float))]
        medians[key] = float(np.median(values)) if values else None
    return medians
