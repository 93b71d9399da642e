"""Session files: every analysed window of a live (or file) session, kept safe on disk.

`pipeline_results/pipeline_results_<YYYYmmdd_HHMMSS>.json` is rewritten atomically (temp file,
fsync, os.replace) when the session starts, every `flush_seconds` while results come in, and
when it is closed, so a crash or a lost device leaves the session so far, never half a file.
The optional recording is a 16-bit WAV next to it, written incrementally.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from speakfeed_gui.core.errors import SessionError
from speakfeed_gui.core.storage import atomic_write_json, read_json

__all__ = ["SessionError", "SessionRecorder", "load_session", "list_sessions"]

log = logging.getLogger(__name__)

FORMAT = "speakfeed-session"
FORMAT_VERSION = 1
PREFIX = "pipeline_results_"
STATUSES = ("recording", "completed", "device_lost", "error")
_REASON_STATUS = {"stopped": "completed", "completed": "completed", "device_lost": "device_lost", "error": "error"}


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


class SessionRecorder:
    """Collects window results (WindowResult or dicts) into one session file."""

    def __init__(
        self,
        sessions_dir: str | Path,
        *,
        model_info: Mapping[str, Any],
        settings: Mapping[str, Any],
        add_timestamps: bool = True,
        record_audio: bool = False,
        sample_rate: int = 16000,
        flush_seconds: float = 5.0,
        source: str | None = None,
    ) -> None:
        self.dir = Path(sessions_dir)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SessionError(f"{self.dir}: cannot create the sessions folder ({exc.strerror or exc})") from None
        self.path = self._free_path(datetime.now().strftime("%Y%m%d_%H%M%S"))
        self.add_timestamps = add_timestamps
        self.record_audio = record_audio
        self.sample_rate = int(sample_rate)
        self.flush_seconds = flush_seconds
        self.audio_path = self.path.with_suffix(".wav") if record_audio else None
        self._wav: Any = None
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self.closed = False
        self.document: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "status": "recording",
            "message": None,
            "model": dict(model_info),
            "settings": json.loads(json.dumps(dict(settings), default=list)),
            "source": source,
            "started_at": _now(),
            "ended_at": None,
            "duration_seconds": 0.0,
            "sample_rate": self.sample_rate,
            "audio_file": self.audio_path.name if self.audio_path else None,
            "skipped_windows": 0,
            "windows": [],
        }
        if record_audio:
            import soundfile as sf

            self._wav = sf.SoundFile(str(self.audio_path), "w", samplerate=self.sample_rate, channels=1, subtype="PCM_16")
        self._write()

    def _free_path(self, stamp: str) -> Path:
        path = self.dir / f"{PREFIX}{stamp}.json"
        n = 2
        while path.exists() or path.with_suffix(".wav").exists():
            path = self.dir / f"{PREFIX}{stamp}_{n}.json"
            n += 1
        return path

    @property
    def windows(self) -> list[dict[str, Any]]:
        return self.document["windows"]

    def append(self, result: Any) -> None:
        """Add one window; the file is rewritten when `flush_seconds` passed since the last write."""
        data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
        if self.add_timestamps:
            data.setdefault("timestamp", _now())
        with self._lock:
            if self.closed:
                log.debug("window after close ignored (t=%s)", data.get("t_start"))
                return
            self.windows.append(data)
            self.document["duration_seconds"] = max(self.document["duration_seconds"], float(data.get("t_end") or 0.0))
            if time.monotonic() - self._last_flush >= self.flush_seconds:
                self._flush()

    def write_audio(self, samples: np.ndarray) -> None:
        """Append raw samples (at `sample_rate`) to the recording."""
        with self._lock:
            if self._wav is not None and not self.closed:
                self._wav.write(np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0))

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._wav is not None:
            self._wav.flush()  # libsndfile rewrites the header, so the partial WAV is playable
        self._write()
        self._last_flush = time.monotonic()

    def _write(self) -> None:
        try:
            atomic_write_json(self.path, self.document)
        except (OSError, ValueError) as exc:  # a full disk must not kill the live session; the next flush retries
            log.error("cannot write session file %s: %s", self.path, exc)

    def close(self, reason: str = "stopped", *, message: str | None = None, skipped_windows: int | None = None) -> Path:
        """Finalise once: status completed / device_lost / error, end time, last write."""
        with self._lock:
            if self.closed:
                return self.path
            self.closed = True
            doc = self.document
            doc["status"] = _REASON_STATUS.get(reason, "error")
            doc["message"] = message
            doc["ended_at"] = _now()
            if skipped_windows is not None:
                doc["skipped_windows"] = int(skipped_windows)
            if self._wav is not None:
                self._wav.close()
                self._wav = None
            self._write()
        log.info("session %s closed: %s", self.path.name, doc["status"])
        return self.path


def load_session(path: str | Path) -> dict[str, Any]:
    """Read and check a session file; SessionError with one line when it cannot be used."""
    path = Path(path)
    data = read_json(path, "session file", error=SessionError)
    if data.get("format") != FORMAT:
        raise SessionError(f"{path}: not a SpeakFeed session file (expected \"format\": \"{FORMAT}\")")
    if data.get("status") not in STATUSES:
        raise SessionError(f"{path}: status: expected one of {', '.join(STATUSES)}, got {data.get('status')!r}")
    windows = data.get("windows")
    if not isinstance(windows, list):
        raise SessionError(f"{path}: windows: expected a list of window results, got {type(windows).__name__}")
    for i, window in enumerate(windows):
        ok = isinstance(window, dict) and all(isinstance(window.get(k), (int, float)) for k in ("t_start", "t_end"))
        if not ok:
            raise SessionError(f"{path}: windows[{i}]: expected an object with numeric t_start and t_end")
    data["path"] = str(path)
    return data


def list_sessions(sessions_dir: str | Path) -> list[dict[str, Any]]:
    """Summaries of the readable sessions in a folder, newest first (unreadable ones logged)."""
    found = []
    for path in sorted(Path(sessions_dir).glob(f"{PREFIX}*.json"), reverse=True):
        try:
            data = load_session(path)
        except SessionError as exc:
            log.warning("skipping %s", exc)
            continue
        found.append(
            {
                "path": str(path),
                "started_at": data.get("started_at"),
                "status": data["status"],
                "duration_seconds": data.get("duration_seconds"),
                "model": (data.get("model") or {}).get("name"),
                "windows": len(data["windows"]),
                "audio_file": data.get("audio_file"),
            }
        )
    return found
