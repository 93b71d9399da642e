"""Sliding-window analysis: VAD, prosody and the emotion model on each window, with smoothing.

`WindowAnalyzer` is the pure per-window step (also used offline by `analyze_array`);
`LiveAnalyzer` runs it in its own worker thread over a capture's ring buffer, always on the
newest window, so a slow model skips windows instead of stalling capture or the GUI.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from array import array
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from speakfeed_gui.core.audio.decode import SAMPLE_RATE, resample
from speakfeed_gui.core.audio.levels import dbfs
from speakfeed_gui.core.audio.ringbuffer import RingBuffer
from speakfeed_gui.core.audio.vad import VAD, make_vad
from speakfeed_gui.core.live.prosody import (
    PitchTrack,
    ProsodyMetrics,
    fill_short_gaps,
    measure_prosody,
    pitch_track,
    speech_segments,
    syllable_nuclei,
    warm_up,
)
from speakfeed_gui.core.models.prediction import UNCERTAIN, Prediction
from speakfeed_gui.core.settings.config import LiveSettings

log = logging.getLogger(__name__)

SILENCE = "silence"
UNCLASSIFIED = "speech"  # speech heard, but a text model had no transcript to classify
MIN_SPEECH_FRACTION = 0.2  # a window with less speech than this is treated as silence
RESULT_HISTORY = 240  # results LiveAnalyzer keeps in memory (2 min at the default hop); the session file has all


@dataclass
class WindowResult:
    """What one analysed window shows: times are seconds since the session started."""

    t_start: float
    t_end: float
    is_speech: bool
    speech_fraction: float
    level_dbfs: float
    prosody: ProsodyMetrics = field(default_factory=ProsodyMetrics)
    prediction: Prediction | None = None
    smoothed: dict[str, float] | None = None
    label: str = SILENCE
    confidence: float = 0.0
    transcript: str | None = None
    compute_ms: float = 0.0
    # the session timeline: what this window adds to the windows before it (from `new_from` on)
    new_from: float = 0.0
    speech_segments: list[list[float]] = field(default_factory=list)
    nuclei: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["prosody"] = self.prosody.to_dict()
        data["prediction"] = self.prediction.to_dict() if self.prediction else None
        for key in ("t_start", "t_end", "speech_fraction", "level_dbfs", "confidence", "compute_ms", "new_from"):
            data[key] = round(float(data[key]), 4)
        return data


def smooth(previous: Mapping[str, float] | None, current: Mapping[str, float], weight: float) -> dict[str, float]:
    """Exponential smoothing: weight * current + (1 - weight) * previous (previous None: current)."""
    if previous is None:
        return {k: float(v) for k, v in current.items()}
    return {k: weight * float(v) + (1.0 - weight) * float(previous.get(k, 0.0)) for k, v in current.items()}


class WindowAnalyzer:
    """Analyses one window at a time and holds the smoothing state between speech windows."""

    def __init__(
        self,
        model: Any,
        settings: LiveSettings,
        *,
        vad: VAD | None = None,
        transcriber: Callable[[np.ndarray], str] | None = None,
    ) -> None:
        self.model = model
        self.settings = settings
        self.vad = vad if vad is not None else make_vad(settings.vad)
        self.transcriber = transcriber
        self.state: dict[str, float] | None = None
        self._warned_no_transcriber = False
        self._covered: float | None = None  # session time up to which windows were analysed

    def reset(self) -> None:
        self.state = None
        self._covered = None
        self.vad.reset()

    def analyze(self, window: np.ndarray, t_start: float) -> WindowResult:
        """VAD first; only speech windows reach the model. `window` is 16 kHz mono float32."""
        began = time.perf_counter()
        window = np.asarray(window, dtype=np.float32)
        mask = self.vad.speech_mask(window, start=round(t_start * SAMPLE_RATE))
        fraction = float(mask.mean()) if mask.size else 0.0
        result = WindowResult(
            t_start=t_start,
            t_end=t_start + window.size / SAMPLE_RATE,
            is_speech=fraction >= MIN_SPEECH_FRACTION,
            speech_fraction=fraction,
            level_dbfs=dbfs(window),
        )
        track, nuclei = self._timeline(result, window, mask)
        if result.is_speech:
            result.prosody = measure_prosody(window, SAMPLE_RATE, mask, self.vad.frame_seconds, pitch=track,
                                             nuclei=nuclei)
            result.prediction, result.transcript = self._predict(window)
            if result.prediction is None:
                result.label = UNCLASSIFIED
            else:
                self.state = smooth(self.state, result.prediction.probabilities, self.settings.smoothing)
                result.smoothed = dict(self.state)
                result.label, result.confidence = self._decide(self.state)
        result.compute_ms = (time.perf_counter() - began) * 1000.0
        return result

    def _timeline(self, result: WindowResult, window: np.ndarray,
                  mask: np.ndarray) -> tuple[PitchTrack | None, np.ndarray | None]:
        """Speech segments and syllable nuclei of the window's new part; the window's pitch track and
        nuclei when they were needed (the cards reuse them)."""
        since = result.t_start if self._covered is None else min(max(result.t_start, self._covered), result.t_end)
        self._covered = result.t_end
        result.new_from = since
        frame_seconds = self.vad.frame_seconds
        result.speech_segments = speech_segments(mask, frame_seconds, result.t_start, since, result.t_end)
        if not result.speech_segments and not result.is_speech:
            return None, None
        track = pitch_track(window, SAMPLE_RATE)
        talk = fill_short_gaps(mask, frame_seconds)
        nuclei = syllable_nuclei(window, SAMPLE_RATE, talk, frame_seconds=frame_seconds, pitch=track)
        result.nuclei = int(np.count_nonzero(nuclei + result.t_start >= since))
        return track, nuclei

    def _predict(self, window: np.ndarray) -> tuple[Prediction | None, str | None]:
        if self.model.input_kind != "text":
            return self.model.predict(window), None
        if self.transcriber is None:
            if not self._warned_no_transcriber:
                log.warning("model %s takes text but no speech recogniser is set (live.asr_model)", self.model.name)
                self._warned_no_transcriber = True
            return None, None
        text = self.transcriber(window).strip()
        return (self.model.predict(text) if text else None), text

    def _decide(self, probs: Mapping[str, float]) -> tuple[str, float]:
        label = max(probs, key=probs.__getitem__)
        confidence = float(probs[label])
        threshold = float(getattr(getattr(self.model, "spec", None), "confidence_threshold", 0.0))
        return (label if confidence >= threshold else UNCERTAIN), confidence


def window_starts(n_samples: int, window: int, hop: int) -> list[int]:
    """Start sample of each full window; one (shorter) window when the audio is shorter."""
    if n_samples <= window:
        return [0] if n_samples else []
    return list(range(0, n_samples - window + 1, hop))


def analyze_array(
    audio: np.ndarray,
    rate: int,
    model: Any,
    settings: LiveSettings,
    *,
    vad: VAD | None = None,
    transcriber: Callable[[np.ndarray], str] | None = None,
    on_result: Callable[[WindowResult], None] | None = None,
) -> list[WindowResult]:
    """The live windows run offline over a whole recording (for `speakfeed analyze` and tests)."""
    audio = resample(np.asarray(audio, dtype=np.float32), rate, SAMPLE_RATE)
    analyzer = WindowAnalyzer(model, settings, vad=vad, transcriber=transcriber)
    window = int(round(settings.window_seconds * SAMPLE_RATE))
    hop = int(round(settings.hop_seconds * SAMPLE_RATE))
    results = []
    for start in window_starts(audio.size, window, hop):
        result = analyzer.analyze(audio[start : start + window], start / SAMPLE_RATE)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


class LiveAnalyzer:
    """Worker thread: every hop, analyse the newest window of the ring buffer.

    `source` is an AudioCapture (its ring buffer, rate and failures are used) or a bare
    RingBuffer with `samplerate`. Results go to `on_result` (from the worker thread: a GUI must
    queue them to its own thread) and to `session`, which also receives the raw audio when it
    records and is closed by `stop()` or, with status device_lost, when the capture fails.
    `on_error(message)` reports model failures (analysis goes on) and the capture's failure.
    `results` holds the last RESULT_HISTORY windows and `compute_ms` every window's compute time,
    so an hour-long talk does not grow memory.
    """

    def __init__(
        self,
        source: Any,
        model: Any,
        settings: LiveSettings,
        *,
        on_result: Callable[[WindowResult], None] | None = None,
        on_error: Callable[[str], None] | None = None,
        session: Any = None,
        vad: VAD | None = None,
        transcriber: Callable[[np.ndarray], str] | None = None,
        samplerate: int | None = None,
    ) -> None:
        self.capture = None if isinstance(source, RingBuffer) else source
        self.ring: RingBuffer = source if isinstance(source, RingBuffer) else source.ring
        self.rate = int(samplerate or getattr(source, "samplerate", SAMPLE_RATE))
        self.window_analyzer = WindowAnalyzer(model, settings, vad=vad, transcriber=transcriber)
        self.settings = settings
        self.on_result = on_result
        self.on_error = on_error
        self.session = session
        self.window = int(round(settings.window_seconds * self.rate))
        self.hop = max(1, int(round(settings.hop_seconds * self.rate)))
        if self.window > self.ring.capacity:
            raise ValueError(f"window of {self.window} samples does not fit the ring buffer ({self.ring.capacity})")
        self.skipped = 0
        self.errors = 0
        self.stopped_reason: str | None = None
        self._results: deque[WindowResult] = deque(maxlen=RESULT_HISTORY)
        self.compute_ms = array("d")
        self._lock = threading.Lock()
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None
        self._origin = 0  # ring position of session time 0
        self._recorded = 0  # ring position up to which audio went to the session

    @property
    def results(self) -> list[WindowResult]:
        with self._lock:
            return list(self._results)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def origin(self) -> int:
        """Ring-buffer position of session time 0 (set by start())."""
        return self._origin

    def start(self) -> None:
        if self._thread is not None:
            return
        self._origin = self._recorded = self.ring.total_written
        start_session = getattr(self.window_analyzer.model, "start_session", None)
        if callable(start_session):  # a speaker-normalised model learns this voice afresh
            start_session()
        self._thread = threading.Thread(target=self._run, name="speakfeed-live-analyzer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the worker (after its current window) and close the session.

        The session is completed, or device_lost when the capture failed, even if the owner
        stops the analyzer before the worker noticed the failure.
        """
        self._halt.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if not self._thread.is_alive():
                self._record_audio()  # the last samples since the worker's final poll
        failure = getattr(self.capture, "error", None)
        self._finish("device_lost" if failure else "stopped", failure)

    def _run(self) -> None:
        """The worker: never dies silently; an unexpected failure ends the session as error."""
        try:
            self._loop()
        except Exception as exc:
            log.exception("live analysis stopped")
            message = f"live analysis stopped: {exc.__class__.__name__}: {exc}"
            self._report(message)
            self._finish("error", message)

    def _loop(self) -> None:
        warm_up()  # import scipy.fft now, while the speaker has not started, not on the first speech window
        next_end = self._origin + self.window
        poll = min(0.02, self.settings.hop_seconds / 5)
        while not self._halt.wait(poll):
            failure = getattr(self.capture, "error", None)
            if failure:
                self._record_audio()
                self._report(f"audio device lost: {failure}")
                self._finish("device_lost", failure)
                return
            total = self.ring.total_written
            self._record_audio()
            if total < next_end:
                continue
            behind = (total - next_end) // self.hop
            if behind:  # the model is slower than real time: jump to the newest window
                self.skipped += int(behind)
                next_end += int(behind) * self.hop
            self._analyze_at(next_end)
            next_end += self.hop

    def _analyze_at(self, end: int) -> None:
        try:
            window = self.ring.read_range(end - self.window, end)
        except IndexError as exc:  # overwritten while the worker was busy for minutes
            log.warning("window lost: %s", exc)
            self.skipped += 1
            return
        if self.rate != SAMPLE_RATE:
            window = resample(window, self.rate, SAMPLE_RATE)
        t_start = (end - self.window - self._origin) / self.rate
        try:
            result = self.window_analyzer.analyze(window, t_start)
        except Exception as exc:  # a failing model must not end the session
            self.errors += 1
            log.exception("analysis of the window at %.1f s failed", t_start)
            self._report(f"analysis failed at {t_start:.1f} s: {exc.__class__.__name__}: {exc}")
            return
        with self._lock:
            self._results.append(result)
            self.compute_ms.append(result.compute_ms)
        if self.session is not None:
            self.session.append(result)
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:
                log.exception("on_result callback failed")

    def _record_audio(self) -> None:
        if self.session is None or not getattr(self.session, "record_audio", False):
            return
        total = self.ring.total_written
        start = max(self._recorded, total - self.ring.capacity + self.hop)
        if total > start:
            try:
                self.session.write_audio(self.ring.read_range(start, total))
            except IndexError:
                return
            self._recorded = total

    def _report(self, message: str) -> None:
        if self.on_error is not None:
            try:
                self.on_error(message)
            except Exception:
                log.exception("on_error callback failed")

    def _finish(self, reason: str, message: str | None) -> None:
        with self._lock:
            if self.stopped_reason is not None:
                return
            self.stopped_reason = reason
        if self.session is not None:
            self.session.close(reason, message=message, skipped_windows=self.skipped)


def compute_stats(compute_ms: Iterable[float]) -> dict[str, float]:
    """Median and maximum compute time per window (ms), for logs and benchmarks."""
    times = [t for t in compute_ms if math.isfinite(t)]
    if not times:
        return {"median_ms": 0.0, "max_ms": 0.0}
    return {"median_ms": float(np.median(times)), "max_ms": float(max(times))}
