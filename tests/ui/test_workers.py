"""The QThread worker: results, progress, errors and cancellation arrive as GUI-thread signals."""

from __future__ import annotations

import threading
import time

import pytest

from speakfeed_gui.core.errors import DatasetError
from speakfeed_gui.ui.error_dialog import error_bus
from speakfeed_gui.ui.workers import Worker


def test_result_and_progress_arrive_on_the_gui_thread(qtbot):
    seen: list[tuple] = []
    threads: set[str] = set()

    def work(progress, cancel):
        assert threading.current_thread() is not threading.main_thread()
        for n in range(3):
            progress("step", n + 1, 3, f"item {n}")
        return {"answer": 42}

    worker = Worker(work, name="sum")
    worker.progress.connect(lambda *args: (seen.append(args), threads.add(threading.current_thread().name)))
    results: list = []
    worker.finished.connect(results.append)
    with qtbot.waitSignals([worker.finished, worker.done], order="strict", timeout=5000):
        worker.start()
    assert results == [{"answer": 42}]
    assert seen == [("step", 1, 3, "item 0"), ("step", 2, 3, "item 1"), ("step", 3, 3, "item 2")]
    assert threads == {threading.main_thread().name}
    assert not worker.running and worker not in Worker.active()


def test_failure_carries_the_exception_object(qtbot):
    def work(progress, cancel):
        raise DatasetError("data.csv: column 'label' missing")

    worker = Worker(work, name="load")
    with qtbot.waitSignal(worker.failed, timeout=5000) as blocker:
        worker.start()
    exc = blocker.args[0]
    assert isinstance(exc, DatasetError) and "column 'label'" in str(exc)


def test_cancel_stops_a_cooperative_function(qtbot):
    started = threading.Event()

    def work(progress, cancel):
        started.set()
        while True:
            cancel.raise_if_cancelled()
            time.sleep(0.01)

    worker = Worker(work, name="loop")
    finished = []
    worker.finished.connect(finished.append)
    worker.start()
    assert started.wait(5)
    with qtbot.waitSignals([worker.cancelled, worker.done], order="strict", timeout=5000):
        worker.cancel()
    assert finished == [] and not worker.running


def test_unhandled_worker_error_reaches_the_error_dialog(qtbot):
    def work(progress, cancel):
        raise ZeroDivisionError("boom in the worker")

    worker = Worker(work, name="careless task")
    with qtbot.waitSignal(error_bus().shown, timeout=5000) as blocker:
        worker.start()
    message, details = blocker.args
    assert message == "ZeroDivisionError: boom in the worker"
    assert "Traceback" in details and "boom in the worker" in details
    box = error_bus().open_dialogs()[-1]
    assert box.text() == message and box.detailedText() == details
    assert box.windowTitle() == "careless task failed"


def test_a_worker_runs_only_once(qtbot):
    worker = Worker(lambda progress, cancel: 1, name="once")
    with qtbot.waitSignal(worker.done, timeout=5000):
        worker.start()
    with pytest.raises(RuntimeError):
        worker.start()
