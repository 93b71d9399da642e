"""Run a plain core function off the GUI thread and report back through Qt signals.

The work is any callable `fn(progress, cancel)` from the core: `progress(stage, done, total,
message)` is a core ProgressCallback and `cancel` a core CancelToken (the Orange3/superqt
pattern: the function knows nothing of Qt). Usage from any tab::

    worker = Worker(lambda progress, cancel: check_dataset(load_dataset(p), progress, cancel),
                    name="check dataset")
    worker.progress.connect(self._on_progress)   # (stage, done, total, message)
    worker.finished.connect(self._on_report)     # the function's return value
    worker.failed.connect(self._on_error)        # the exception object (never swallowed)
    worker.cancelled.connect(...)                # fn raised core.errors.Cancelled
    worker.start()
    ...
    worker.cancel()                              # cooperative: sets the CancelToken

Every signal of `Worker` is emitted on the GUI thread, so slots may be plain functions or lambdas
and may touch widgets. Exactly one of finished/failed/cancelled is emitted, followed by `done`.
A worker whose `failed` signal has no receiver sends the error to the app's error dialog, so
errors are never silent. The worker keeps itself alive while running (no need to store it).
Give it the widget that owns the slots as `parent`: if that widget is deleted first, the worker
goes with it and no late signal reaches a deleted widget. `Worker.shutdown_all()` (window close)
cancels every running worker and waits for its thread.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, ClassVar

from PySide6.QtCore import SIGNAL, QObject, QThread, Signal, Slot

from speakfeed_gui.core.errors import Cancelled
from speakfeed_gui.core.progress import CancelToken

log = logging.getLogger(__name__)

WorkFn = Callable[[Callable[..., None], CancelToken], Any]


class _Runner(QObject):
    """Lives in the worker thread; calls fn and emits raw results (queued to the Worker)."""

    progress = Signal(str, int, int, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, fn: WorkFn, token: CancelToken, name: str) -> None:
        super().__init__()
        self._fn = fn
        self._token = token
        self._name = name

    def report(self, stage: str, done: int, total: int, message: str = "") -> None:
        self.progress.emit(str(stage), int(done), int(total), str(message))

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn(self.report, self._token)
        except Cancelled:
            log.info("%s: cancelled", self._name)
            self.cancelled.emit()
        except BaseException as exc:  # noqa: BLE001 - every error is reported, none is silent
            log.debug("%s failed", self._name, exc_info=True)
            self.failed.emit(exc)
        else:
            self.finished.emit(result)
        finally:
            # End the thread's event loop here, not from the GUI thread: wait() at shutdown then
            # works even while the GUI thread is blocked and cannot run the relays.
            QThread.currentThread().quit()


class Worker(QObject):
    """Runs `fn(progress, cancel)` once in its own QThread; see the module docstring."""

    progress = Signal(str, int, int, str)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    done = Signal()

    _alive: ClassVar[set["Worker"]] = set()

    def __init__(self, fn: WorkFn, *, name: str = "task", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self._thread: QThread | None = None
        self._runner = _Runner(fn, self.token, name)
        self._running = False
        self._started = False

    # -- control ----------------------------------------------------------------
    def start(self) -> "Worker":
        if self._started:
            raise RuntimeError(f"worker {self.name!r} can only run once")
        self._started = self._running = True
        Worker._alive.add(self)
        thread = QThread()
        thread.setObjectName(f"speakfeed-{self.name}")
        self._thread = thread
        self._runner.moveToThread(thread)
        # Connections to bound slots of this (GUI-thread) object are queued across threads.
        self._runner.progress.connect(self._relay_progress)
        self._runner.finished.connect(self._relay_finished)
        self._runner.failed.connect(self._relay_failed)
        self._runner.cancelled.connect(self._relay_cancelled)
        thread.started.connect(self._runner.run)
        thread.start()
        return self

    def cancel(self) -> None:
        """Ask the function to stop at its next check (it raises Cancelled)."""
        self.token.cancel()

    @property
    def running(self) -> bool:
        return self._running

    def wait(self, msecs: int = 30_000) -> bool:
        """Block until the thread ends (used at shutdown); True if it ended."""
        return self._thread.wait(msecs) if self._thread is not None else True

    @classmethod
    def active(cls) -> list["Worker"]:
        return [w for w in cls._alive if w._running]

    @classmethod
    def shutdown_all(cls, msecs: int = 10_000) -> None:
        """Cancel every running worker and wait for its thread (window close, test teardown)."""
        for worker in list(cls._alive):
            worker.cancel()
        for worker in list(cls._alive):
            if worker.wait(msecs):
                cls._alive.discard(worker)  # its relays may never run if its parent is gone
            else:
                log.warning("worker %s did not stop within %d ms", worker.name, msecs)

    # -- relays (GUI thread) ---------------------------------------------------------
    @Slot(str, int, int, str)
    def _relay_progress(self, stage: str, done: int, total: int, message: str) -> None:
        if self._running:
            self.progress.emit(stage, done, total, message)

    @Slot(object)
    def _relay_finished(self, result: object) -> None:
        self._end()
        self.finished.emit(result)
        self.done.emit()

    @Slot(object)
    def _relay_failed(self, exc: object) -> None:
        self._end()
        if self.receivers(SIGNAL("failed(PyObject)")) > 0:
            self.failed.emit(exc)
        else:
            from speakfeed_gui.ui.error_dialog import report_error

            report_error(exc, title=f"{self.name} failed")
        self.done.emit()

    @Slot()
    def _relay_cancelled(self) -> None:
        self._end()
        self.cancelled.emit()
        self.done.emit()

    def _end(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait()
            self._thread = None  # a finished QThread holds nothing worth keeping
        Worker._alive.discard(self)


def run_in_worker(fn: WorkFn, *, name: str, on_finished: Callable[[Any], None] | None = None,
                  on_failed: Callable[[Any], None] | None = None, parent: QObject | None = None) -> Worker:
    """Shorthand: create, connect the common slots and start a Worker."""
    worker = Worker(fn, name=name, parent=parent)
    if on_finished is not None:
        worker.finished.connect(on_finished)
    if on_failed is not None:
        worker.failed.connect(on_failed)
    return worker.start()
