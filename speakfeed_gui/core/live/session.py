"""Session files: every analysed window of a live (or file) session, kept safe on disk.

`pipeline_results/pipeline_results_<YYYYmmdd_HHMMSS>.json` is written atomically when the
session starts (status `recording`, no windows yet) and again, complete, when it is closed.
In between, windows are appended as JSON lines to `<same name>.jsonl`, fsynced every
`flush_seconds`: a long talk costs neither memory nor a growing rewrite, and a crash or a lost
device leaves the header plus every flushed window, which `load_session` joins again. The
optional recording is a 16-bit WAV next to it, written incrementally.

With a `cipher` (`privacy.encrypt_recordings`, storage/crypto.py) the header and final .json are
each one AES-GCM record, every journal line is its own record appended and fsynced as before (a
crash loses at most the torn last one), and the recording is `<name>.wav.enc`: a format record,
then one record of 16-bit PCM per flush. `load_session` and `load_recording` decrypt them with the
key from a `KeySource`; without the key they raise one SessionError line saying so.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from speakfeed_gui.core.errors import SessionError
from speakfeed_gui.core.settings.config import PrivacySettings
from speakfeed_gui.core.storage.atomic import atomic_write_bytes, os_reason
from speakfeed_gui.core.storage.crypto import MAGIC, Cipher, DecryptionError, KeySource

__all__ = ["SessionError", "SessionRecorder", "load_session", "list_sessions", "load_recording", "recorder_cipher"]

log = logging.getLogger(__name__)

FORMAT = "speakfeed-session"
FORMAT_VERSION = 1
PREFIX = "pipeline_results_"
JOURNAL_SUFFIX = ".jsonl"
ENCRYPTED_AUDIO_SUFFIX = ".wav.enc"
STATUSES = ("recording", "completed", "device_lost", "error")
_REASON_STATUS = {"stopped": "completed", "completed": "completed", "device_lost": "device_lost", "error": "error"}


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="milliseconds")


def recorder_cipher(privacy: PrivacySettings) -> Cipher | None:
    """The cipher for new sessions when `privacy.encrypt_recordings` is on (the key is made on first use)."""
    return KeySource(privacy.key_file).cipher(create=True) if privacy.encrypt_recordings else None


def _append(fd: int, data: bytes, size: int, path: Path) -> bool:
    """Write all of `data` at the end and fsync; on failure cut the file back to `size` (no half record)."""
    view = memoryview(data)
    try:
        written = 0
        while written < len(view):
            written += os.write(fd, view[written:])
        os.fsync(fd)
    except OSError as exc:  # a full disk must not kill the live session; the next flush retries
        log.error("cannot append to session file %s: %s", path, exc)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, size)
        return False
    return True


class _EncryptedRecording:
    """The recording as sealed records: a format record, then the 16-bit PCM written since the last flush."""

    def __init__(self, path: Path, cipher: Cipher, sample_rate: int) -> None:
        self.path, self.cipher = path, cipher
        try:
            self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o666)
        except OSError as exc:
            raise SessionError(f"{path}: cannot create the recording ({os_reason(exc)})") from None
        fmt = json.dumps({"sample_rate": sample_rate, "channels": 1, "subtype": "PCM_16"}).encode()
        head = cipher.header() + cipher.seal(fmt, 0)
        if not _append(self._fd, head, 0, path):
            os.close(self._fd)
            raise SessionError(f"{path}: cannot create the recording")
        self._size, self._index = len(head), 1
        self._pending: list[bytes] = []

    def write(self, samples: np.ndarray) -> None:
        self._pending.append((np.round(samples * 32767.0)).astype("<i2").tobytes())

    def flush(self) -> None:
        if not self._pending:
            return
        record = self.cipher.seal(b"".join(self._pending), self._index)
        if _append(self._fd, record, self._size, self.path):
            self._size, self._index = self._size + len(record), self._index + 1
            self._pending.clear()

    def close(self) -> None:
        self.flush()
        os.close(self._fd)


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
        cipher: Cipher | None = None,
    ) -> None:
        self.dir = Path(sessions_dir)
        self.cipher = cipher
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SessionError(f"{self.dir}: cannot create the sessions folder ({exc.strerror or exc})") from None
        self.path = self._free_path(datetime.now().strftime("%Y%m%d_%H%M%S"))
        self.journal_path = self.path.with_suffix(JOURNAL_SUFFIX)
        self.add_timestamps = add_timestamps
        self.record_audio = record_audio
        self.sample_rate = int(sample_rate)
        self.flush_seconds = flush_seconds
        audio_suffix = ENCRYPTED_AUDIO_SUFFIX if cipher else ".wav"
        self.audio_path = self.path.with_suffix(audio_suffix) if record_audio else None
        self._wav: Any = None
        self._lock = threading.Lock()
        self._last_flush = time.monotonic()
        self._pending: list[str] = []  # window lines not yet in the journal
        self._journal_size = 0  # bytes of whole lines (records) in the journal
        self._journal_records = 0
        self.window_count = 0
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
            "windows_file": self.journal_path.name,
            "windows": [],
        }
        try:
            self._journal = os.open(self.journal_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o666)
        except OSError as exc:
            raise SessionError(f"{self.journal_path}: cannot create the session file ({exc.strerror or exc})") from None
        if cipher is not None:
            if not _append(self._journal, cipher.header(), 0, self.journal_path):
                os.close(self._journal)
                raise SessionError(f"{self.journal_path}: cannot create the session file")
            self._journal_size = len(cipher.header())
        if record_audio and cipher is not None:
            self._wav = _EncryptedRecording(self.audio_path, cipher, self.sample_rate)
        elif record_audio:
            import soundfile as sf

            self._wav = sf.SoundFile(str(self.audio_path), "w", samplerate=self.sample_rate, channels=1, subtype="PCM_16")
        self._write(self.document)

    def _free_path(self, stamp: str) -> Path:
        path = self.dir / f"{PREFIX}{stamp}.json"
        n = 2
        while any(path.with_suffix(s).exists() for s in (".json", ".wav", ENCRYPTED_AUDIO_SUFFIX, JOURNAL_SUFFIX)):
            path = self.dir / f"{PREFIX}{stamp}_{n}.json"
            n += 1
        return path

    def append(self, result: Any) -> None:
        """Add one window; it reaches the disk when `flush_seconds` passed since the last flush."""
        data = result.to_dict() if hasattr(result, "to_dict") else dict(result)
        if self.add_timestamps:
            data.setdefault("timestamp", _now())
        with self._lock:
            if self.closed:
                log.debug("window after close ignored (t=%s)", data.get("t_start"))
                return
            self._pending.append(json.dumps(data, ensure_ascii=False))
            self.window_count += 1
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
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        if self.cipher is None:
            data = ("\n".join(self._pending) + "\n").encode("utf-8")
        else:  # one record per window: a crash tears at most the last one
            data = b"".join(self.cipher.seal(line.encode("utf-8"), self._journal_records + n)
                            for n, line in enumerate(self._pending))
        if not _append(self._journal, data, self._journal_size, self.journal_path):  # no half line, none twice
            return
        self._journal_size += len(data)
        self._journal_records += len(self._pending)
        self._pending.clear()

    def _write(self, document: Mapping[str, Any]) -> bool:
        try:
            data = (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
            atomic_write_bytes(self.path, self.cipher.encrypt_whole(data) if self.cipher else data)
        except (OSError, ValueError, TypeError) as exc:
            log.error("cannot write session file %s: %s", self.path, exc)
            return False
        return True

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
            self._flush()
            if self._wav is not None:
                self._wav.close()
                self._wav = None
            os.close(self._journal)
            keys = KeySource.of(self.cipher) if self.cipher else None
            doc["windows"] = _read_journal(self.journal_path, keys) + [json.loads(line) for line in self._pending]
            doc.pop("windows_file")
            if self._write(doc):  # the complete file is safe: the journal has served
                self.journal_path.unlink(missing_ok=True)
            else:
                doc["windows_file"] = self.journal_path.name
        log.info("session %s closed: %s", self.path.name, doc["status"])
        return self.path


def _records(path: Path, what: str, keys: KeySource | None) -> tuple[list[bytes], bool, bool] | None:
    """(records, torn, encrypted): an encrypted file's records, or a plain file's bytes as one record.

    None when the file does not exist; `torn` says a last record cut by a crash was left out.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SessionError(f"{path}: cannot read {what} ({os_reason(exc)})") from None
    if not raw.startswith(MAGIC):
        return [raw], False, False
    try:
        return (*(keys or KeySource()).cipher().open_records(raw, str(path)), True)
    except DecryptionError as exc:
        raise SessionError(f"{path}: {what} is encrypted and cannot be read: {exc}") from None


def _read_document(path: Path, keys: KeySource | None) -> dict[str, Any]:
    found = _records(path, "session file", keys)
    if found is None:
        raise SessionError(f"{path}: session file not found")
    records, torn, _ = found
    if torn or len(records) != 1:
        raise SessionError(f"{path}: the encrypted session file is damaged (expected one complete record)")
    try:
        data = json.loads(records[0])
    except (ValueError, RecursionError) as exc:
        raise SessionError(f"{path}: session file is not valid JSON ({str(exc)[:200]})") from None
    if not isinstance(data, dict):
        raise SessionError(f"{path}: session file must be a JSON object, found {type(data).__name__}")
    return data


def load_session(path: str | Path, keys: KeySource | None = None) -> dict[str, Any]:
    """Read and check a session file, decrypting it when encrypted (the key from `keys`, by default the
    keyring); SessionError with one line when it cannot be used."""
    path = Path(path)
    data = _read_document(path, keys)
    if data.get("format") != FORMAT:
        raise SessionError(f"{path}: not a SpeakFeed session file (expected \"format\": \"{FORMAT}\")")
    if data.get("status") not in STATUSES:
        raise SessionError(f"{path}: status: expected one of {', '.join(STATUSES)}, got {data.get('status')!r}")
    windows = data.get("windows")
    if not isinstance(windows, list):
        raise SessionError(f"{path}: windows: expected a list of window results, got {type(windows).__name__}")
    journal = data.pop("windows_file", None)
    unfinished = isinstance(journal, str) and bool(journal)  # still recording, or the app stopped before closing
    if unfinished:
        windows += _read_journal(path.parent / Path(journal).name, keys)
    for i, window in enumerate(windows):
        ok = isinstance(window, dict) and all(isinstance(window.get(k), (int, float)) for k in ("t_start", "t_end"))
        if not ok:
            raise SessionError(f"{path}: windows[{i}]: expected an object with numeric t_start and t_end")
    if unfinished:  # the header's duration was written at the start
        header = data.get("duration_seconds")
        data["duration_seconds"] = max([header if isinstance(header, (int, float)) else 0.0,
                                        *(w["t_end"] for w in windows)])
    data["path"] = str(path)
    return data


def _read_journal(path: Path, keys: KeySource | None = None) -> list[dict[str, Any]]:
    """The windows appended so far; a line (record) torn by a crash (the last one) is left out."""
    found = _records(path, "the session's windows", keys)
    if found is None:
        return []
    records, torn, encrypted = found
    if torn:
        log.warning("%s: the last record is incomplete (the app stopped while writing it); left out", path)
    lines: list[bytes] = records if encrypted else records[0].splitlines()
    windows = []
    for number, line in enumerate(lines, 1):
        try:
            windows.append(json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError):
            log.warning("%s: line %d is incomplete (the app stopped while writing it); left out", path, number)
    return windows


def load_recording(path: str | Path, keys: KeySource | None = None) -> tuple[np.ndarray, int]:
    """A session's recording as float32 samples and its sample rate (a .wav, or a .wav.enc decrypted)."""
    path = Path(path)
    found = _records(path, "recording", keys)
    if found is None:
        raise SessionError(f"{path}: recording not found")
    records, torn, encrypted = found
    if not encrypted:
        import soundfile as sf

        try:
            samples, rate = sf.read(str(path), dtype="float32", always_2d=False)
        except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError...
            raise SessionError(f"{path}: not a readable recording ({str(exc).splitlines()[0][:200]})") from None
        return samples, int(rate)
    if torn:
        log.warning("%s: the last chunk is incomplete (the app stopped while writing it); left out", path)
    try:
        rate = int(json.loads(records[0])["sample_rate"])
    except (IndexError, ValueError, KeyError, TypeError):
        raise SessionError(f"{path}: the encrypted recording has no valid format record") from None
    pcm = np.frombuffer(b"".join(records[1:]), dtype="<i2")
    return (pcm.astype(np.float32) / 32768.0), rate


def list_sessions(sessions_dir: str | Path, keys: KeySource | None = None) -> list[dict[str, Any]]:
    """Summaries of the readable sessions in a folder, newest first (unreadable ones logged)."""
    found = []
    keys = keys or KeySource()
    for path in sorted(Path(sessions_dir).glob(f"{PREFIX}*.json"), reverse=True):
        try:
            data = load_session(path, keys)
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
