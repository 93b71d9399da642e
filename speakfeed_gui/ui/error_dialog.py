"""Every error reaches the user as a dialog and the log file; the app keeps running.

A `SpeakFeedError` is shown as its one-line message (no traceback noise); anything else as
"Type: message" with the traceback under "Show Details...". `report_error` may be called from any
thread: it goes through a queued signal to the GUI thread. `install_exception_hooks` routes
sys.excepthook and threading.excepthook here, `install_qt_message_handler` routes Qt's own
messages to logging (friture's `main()` does the same). Tests listen to `error_bus().shown`.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QtMsgType, Signal, Slot, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from shiboken6 import isValid

from speakfeed_gui.core.errors import SpeakFeedError

log = logging.getLogger(__name__)
MAX_OPEN_DIALOGS = 4


def format_error(error: BaseException | str) -> tuple[str, str]:
    """(message, details): one line for our own errors, a traceback for unexpected ones."""
    if isinstance(error, str):
        return error, ""
    if isinstance(error, SpeakFeedError):
        return str(error), ""
    text = str(error)
    message = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return message, "".join(traceback.format_exception(type(error), error, error.__traceback__))


class ErrorBus(QObject):
    """GUI-thread sink for errors; `shown(message, details)` fires after each dialog opens."""

    report = Signal(object, str)
    shown = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.parent_widget: QWidget | None = None
        self._open: list[QMessageBox] = []
        self.report.connect(self._show)

    @Slot(object, str)
    def _show(self, error: Any, title: str) -> None:
        message, details = format_error(error)
        if len(self._open) >= MAX_OPEN_DIALOGS:
            log.warning("not showing another error dialog (%d open): %s", len(self._open), message)
            return
        parent = self.parent_widget if self.parent_widget is not None and isValid(self.parent_widget) else None
        parent = parent or QApplication.activeWindow()
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning if not details else QMessageBox.Icon.Critical)
        box.setWindowTitle(title or "SpeakFeed")
        box.setText(message)
        if details:
            box.setInformativeText("The app keeps running. The details are also in the log file.")
            box.setDetailedText(details)
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.finished.connect(lambda _result, b=box: self._open.remove(b) if b in self._open else None)
        self._open.append(box)
        box.open()
        self.shown.emit(message, details)

    def open_dialogs(self) -> list[QMessageBox]:
        return [box for box in self._open if isValid(box)]

    def close_all(self) -> None:
        for box in self.open_dialogs():
            box.done(0)
        self._open.clear()


_bus: ErrorBus | None = None
_bus_lock = threading.Lock()


def error_bus() -> ErrorBus:
    """The process-wide ErrorBus, living in the GUI thread."""
    global _bus
    with _bus_lock:
        if _bus is None:
            _bus = ErrorBus()
            app = QCoreApplication.instance()
            if app is not None and _bus.thread() is not app.thread():
                _bus.moveToThread(app.thread())
        return _bus


def report_error(error: BaseException | str, *, title: str = "SpeakFeed") -> None:
    """Log the error and show it in a dialog (thread-safe)."""
    if isinstance(error, SpeakFeedError) or isinstance(error, str):
        log.warning("%s: %s", title, error)
    else:
        log.error("%s: %s", title, error, exc_info=(type(error), error, error.__traceback__))
    error_bus().report.emit(error, title)


def _excepthook(etype: type[BaseException], value: BaseException, tb: Any) -> None:
    if issubclass(etype, KeyboardInterrupt):
        sys.__excepthook__(etype, value, tb)
        return
    if value.__traceback__ is None:
        value = value.with_traceback(tb)
    report_error(value, title="Unexpected error")


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None or issubclass(args.exc_type, SystemExit):
        return
    name = args.thread.name if args.thread is not None else "a thread"
    report_error(args.exc_value, title=f"Error in {name}")


def install_exception_hooks() -> None:
    """Unhandled exceptions (GUI thread and other threads) show a dialog instead of dying."""
    error_bus()
    sys.excepthook = _excepthook
    threading.excepthook = _thread_excepthook


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}
_QT_NOISE = ("propagateSizeHints",)


def _qt_message(kind: QtMsgType, context: Any, message: str) -> None:
    level = _QT_LEVELS.get(kind, logging.WARNING)
    if level == logging.WARNING and any(noise in message for noise in _QT_NOISE):
        level = logging.DEBUG
    logging.getLogger("qt").log(level, "%s", message)


def install_qt_message_handler() -> None:
    qInstallMessageHandler(_qt_message)
