"""Rotating log file in the user's log folder, console output, captured warnings."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is now (test capture and redirection replace it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it
        pass


def log_dir() -> Path:
    """Per-user log folder (SPEAKFEED_LOG_DIR overrides it, e.g. in tests)."""
    override = os.environ.get("SPEAKFEED_LOG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_log_dir("SpeakFeed", appauthor=False))


def setup_logging(console_level: int = logging.WARNING) -> Path | None:
    """Configure the root logger once; returns the log file path (None if it cannot be written)."""
    root = logging.getLogger()
    if getattr(root, "_speakfeed_configured", False):
        return getattr(root, "_speakfeed_logfile", None)
    root.setLevel(logging.DEBUG)
    console = _StderrHandler()
    console.setLevel(console_level)
    console.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(console)
    logfile: Path | None = log_dir() / "speakfeed.log"
    try:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(logfile, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
    except OSError as exc:
        logfile = None
        root.warning("cannot write the log file (%s); logging to the console only", exc)
    logging.captureWarnings(True)
    for noisy in ("numba", "matplotlib", "urllib3", "httpx", "filelock", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._speakfeed_configured = True  # type: ignore[attr-defined]
    root._speakfeed_logfile = logfile  # type: ignore[attr-defined]
    return logfile
