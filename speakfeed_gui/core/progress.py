"""Plain-Python progress reporting and cooperative cancellation.

Long core functions take `progress: ProgressCallback | None` and `cancel: CancelToken | None`.
They know nothing of Qt; the GUI wraps them in a worker that turns calls into signals
(the Orange3 / superqt pattern).
"""

from __future__ import annotations

import threading
from typing import Protocol

from speakfeed_gui.core.errors import Cancelled


class ProgressCallback(Protocol):
    def __call__(self, stage: str, done: int, total: int, message: str = "") -> None: ...


def no_progress(stage: str, done: int, total: int, message: str = "") -> None:
    """A ProgressCallback that ignores every report."""


class CancelToken:
    """Thread-safe flag that a worker checks between steps."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


def check_cancel(cancel: CancelToken | None) -> None:
    """Raise Cancelled if a token was given and is set."""
    if cancel is not None:
        cancel.raise_if_cancelled()
