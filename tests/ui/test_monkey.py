"""Random-action ("monkey") test of the whole window, for the Reliability issue.

Seeded random user actions across the three tabs — switching tabs, live sessions on the virtual
microphone with speech fed in, training runs started and cancelled on tiny datasets (picked,
typed or dropped), Model Browser selection, sorting, filtering, aliases, edits and deletions,
dialogs opened and closed, F5 and a second workspace — with the app's own exception hooks
installed. It ends by quitting in the middle of a live session and a training run. The test fails on any exception that reached sys.excepthook,
threading.excepthook or the error dialog, on a Qt critical message, on an app log record at ERROR,
and if at the end a click does not work or a worker is still running. The failure message lists
the seed and the last actions; SPEAKFEED_MONKEY_SEED / _ACTIONS / _SECONDS replay or lengthen a run.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QtMsgType, QUrl, qCritical, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QPushButton

from speakfeed_gui.core.live.session import load_session
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.workspace import init_workspace
from speakfeed_gui.ui import error_dialog
from speakfeed_gui.ui.context import LIVE_ALIAS
from speakfeed_gui.ui.error_dialog import error_bus, install_exception_hooks
from speakfeed_gui.ui.live_tab import IDLE, RUNNING
from speakfeed_gui.ui.main_window import BROWSER, LIVE, TRAIN, MainWindow
from speakfeed_gui.ui.registry_table import ALIASES, COLUMNS
from speakfeed_gui.ui.workers import Worker
from tests.synth import make_dataset, speechlike
from tests.ui.conftest import drag_and_drop, none_refs_lost, open_main_window
from tests.ui.test_live_tab import configure
from tests.virtual_mic import mic_feeder, virtual_mic  # noqa: F401  (fixtures)

SEED = int(os.environ.get("SPEAKFEED_MONKEY_SEED", "4242"))
MAX_ACTIONS = int(os.environ.get("SPEAKFEED_MONKEY_ACTIONS", "300"))
MAX_SECONDS = float(os.environ.get("SPEAKFEED_MONKEY_SECONDS", "45"))
LEFT = Qt.MouseButton.LeftButton
CTRL = Qt.KeyboardModifier.ControlModifier
SEARCHES = ("", "baseline", "dummy", "monkey", "logistic", "zzz-nothing", "test", "e")


class Watch:
    """Everything that must not happen: collected while the monkey runs, checked after each action."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.qt_messages: Counter = Counter()

    def on_dialog(self, message: str, details: str) -> None:
        self.problems.append(f"error dialog: {message}\n{details}")

    def on_qt_message(self, kind: QtMsgType, message: str) -> None:
        self.qt_messages[f"{kind.name}: {message[:120]}"] += 1
        if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            self.problems.append(f"Qt {kind.name}: {message}")


class _ErrorRecords(logging.Handler):
    def __init__(self, watch: Watch) -> None:
        super().__init__(logging.ERROR)
        self.watch = watch

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(("speakfeed_gui", "qt")):
            self.watch.problems.append(f"log {record.levelname} {record.name}: {self.format(record)}")


@pytest.fixture
def watch(monkeypatch: pytest.MonkeyPatch):
    """The app's exception hooks (as app.main installs them) plus recorders of dialogs, Qt and log errors."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    install_exception_hooks()
    found = Watch()
    error_bus().shown.connect(found.on_dialog)
    previous: list = []

    def on_qt(kind: QtMsgType, context, message: str) -> None:
        found.on_qt_message(kind, message)
        if previous and previous[0] is not None:
            previous[0](kind, context, message)  # pytest-qt still captures it for the report

    previous.append(qInstallMessageHandler(on_qt))
    records = _ErrorRecords(found)
    logging.getLogger().addHandler(records)
    yield found
    logging.getLogger().removeHandler(records)
    qInstallMessageHandler(previous[0])
    error_bus().shown.disconnect(found.on_dialog)


class Monkey:
    """Weighted random user actions on a MainWindow; each returns what it did (for the failure log)."""

    def __init__(self, qtbot, window: MainWindow, rng: random.Random, datasets: list[Path], feeder,
                 workspaces: list[Path]) -> None:
        self.qtbot, self.window, self.rng, self.datasets, self.feeder = qtbot, window, rng, datasets, feeder
        self.workspaces = workspaces
        self.live, self.browser, self.train = window.live_tab, window.browser_tab, window.train_tab
        self.done: list[str] = []
        self.seen: Counter = Counter()
        self.live.session_started.connect(lambda _p: self.seen.update(["live session started"]))
        self.live.session_finished.connect(lambda _p: self.seen.update(["live session saved"]))
        self.train.run_finished.connect(lambda _m: self.seen.update(["training finished"]))
        self.train.run_cancelled.connect(lambda: self.seen.update(["training cancelled"]))
        self.actions: list[tuple[Callable[[], str], int]] = [
            (self.switch_tab, 10), (self.live_toggle, 9), (self.speak, 5), (self.live_pick_model, 4),
            (self.live_refresh_devices, 3), (self.live_record_box, 2), (self.live_sessions, 3),
            (self.close_windows, 3), (self.train_dataset, 4), (self.train_model_type, 4), (self.train_start, 7),
            (self.train_cancel, 4), (self.train_experiment, 2), (self.browser_select, 8), (self.browser_sort, 4),
            (self.browser_filter, 5), (self.browser_use_for_live, 4), (self.browser_edit, 3),
            (self.browser_delete, 3), (self.browser_verify, 2), (self.refresh_key, 2), (self.idle, 3),
            (self.train_drop, 2), (self.switch_workspace, 1),
        ]

    def step(self) -> str:
        action = self.rng.choices([a for a, _w in self.actions], [w for _a, w in self.actions])[0]
        what = action()
        self.done.append(what)
        self.seen[action.__name__] += 1
        self.qtbot.wait(self.rng.randint(0, 120))
        return what

    # -- helpers ---------------------------------------------------------------------------
    def click(self, widget, pos: QPoint | None = None) -> bool:
        if not widget.isEnabled() or not widget.isVisible():
            return False
        self.qtbot.mouseClick(widget, LEFT, pos=pos) if pos is not None else self.qtbot.mouseClick(widget, LEFT)
        return True

    def press(self, tab: int, button, what: str) -> str:
        """Go to the tab and click the button (if the user could)."""
        self.go(tab)
        return f"{what}: clicked={self.click(button)}"

    def go(self, index: int) -> None:
        if self.window.tabs.currentIndex() != index:
            bar = self.window.tabs.tabBar()
            self.qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(index).center())

    # -- actions ----------------------------------------------------------------------------
    def switch_tab(self) -> str:
        index = self.rng.randrange(3)
        if self.rng.random() < 0.5:
            self.qtbot.keyClick(self.window, Qt.Key(Qt.Key.Key_1.value + index), CTRL)
            return f"Ctrl+{index + 1}"
        self.go(index)
        return f"tab {index}"

    def live_toggle(self) -> str:
        self.go(LIVE)
        if self.live.state == IDLE and self.live.device_picker.current_name() not in ("pulse", "default"):
            self.live.device_picker.select("pulse")
        state, text = self.live.state, self.live.start_button.text()
        clicked = self.click(self.live.start_button)
        if clicked and self.rng.random() < 0.15:  # an impatient double click: Start then Cancel at once
            self.click(self.live.start_button)
            return f"live {text} twice in {state}"
        return f"live {text} in {state}: clicked={clicked}"

    def speak(self) -> str:
        seconds = self.rng.uniform(0.5, 2.0)
        self.feeder.play(speechlike(self.rng.uniform(100, 260), seconds, amp=self.rng.uniform(0.1, 0.5),
                                    seed=self.rng.randrange(1000)))
        return f"speak {seconds:.1f} s"

    def live_pick_model(self) -> str:
        self.go(LIVE)
        combo = self.live.model_combo
        if not combo.isEnabled() or combo.count() == 0:
            return "live model: locked"
        index = combo.findData("config:dummy") if self.rng.random() < 0.5 else self.rng.randrange(combo.count())
        combo.setCurrentIndex(index)
        combo.activated.emit(index)  # what a user's pick emits
        return f"live model {combo.itemData(index)}"

    def live_refresh_devices(self) -> str:
        self.go(LIVE)
        clicked = self.click(self.live.device_picker.refresh_button)
        if clicked and self.rng.random() < 0.8:
            self.live.device_picker.select("pulse")
        return f"refresh devices: clicked={clicked} -> {self.live.device_picker.current_name()!r}"

    def live_record_box(self) -> str:
        return self.press(LIVE, self.live.record_box, "record box")

    def live_sessions(self) -> str:
        self.go(LIVE)
        if not self.click(self.live.sessions_button):
            return "sessions: disabled"
        dialog = self.live.sessions_dialog
        opened = self.rng.random() < 0.6 and self.click(dialog.open_button)
        if self.rng.random() < 0.5:
            dialog.close()
        return f"sessions dialog ({len(dialog.sessions)} sessions), open report={opened}"

    def close_windows(self) -> str:
        closed = []
        for name in ("report_dialog", "sessions_dialog"):
            dialog = getattr(self.live, name)
            if dialog is not None and dialog.isVisible():
                dialog.close()
                closed.append(name)
        return f"close {closed}"

    def train_dataset(self) -> str:
        self.go(TRAIN)
        if not self.train.form.isEnabled():
            return "dataset: form locked"
        choice = self.rng.choice(self.datasets + [self.datasets[0].parent / "missing.csv"])
        if self.rng.random() < 0.5:
            self.train.set_dataset(choice)
        else:  # typed, then Enter
            edit = self.train.dataset_edit
            edit.selectAll()
            self.qtbot.keyClicks(edit, str(choice))
            self.qtbot.keyClick(edit, Qt.Key.Key_Return)
        return f"dataset {choice.name}"

    def train_drop(self) -> str:
        self.go(TRAIN)
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(self.rng.choice(self.datasets)))])
        enter, drop = drag_and_drop(mime, 20, 20)
        QApplication.sendEvent(self.train, enter)
        if not enter.isAccepted():
            return "drop: refused"
        QApplication.sendEvent(self.train, drop)
        return f"drop {Path(mime.urls()[0].toLocalFile()).name}"

    def train_model_type(self) -> str:
        self.go(TRAIN)
        combo = self.train.model_combo
        if not combo.isEnabled() or not self.train.form.isEnabled():
            return "model type: locked"
        combo.setCurrentIndex(self.rng.randrange(combo.count()))
        editor = self.train.hyper_form.editors.get("n_estimators")
        if editor is not None:
            editor.spin.setValue(self.rng.choice((20, 60, 200, 1500)))  # 1500 trees: a run long enough to cancel
        return f"model type {self.train.model_type()}"

    def train_start(self) -> str:
        return self.press(TRAIN, self.train.start_button, f"train start ({self.train.message_label.text()!r})")

    def train_cancel(self) -> str:
        return self.press(TRAIN, self.train.cancel_button, "train cancel")

    def train_experiment(self) -> str:
        self.go(TRAIN)
        name = self.rng.choice(("monkey", "monkey-2", "bad name!", ""))
        if self.train.form.isEnabled():
            self.train.experiment_edit.setText(name)
        return f"experiment {name!r}"

    def browser_select(self) -> str:
        self.go(BROWSER)
        view = self.browser.view
        rows = self.browser.proxy.rowCount()
        if rows == 0:
            return "select: no rows"
        index = self.browser.proxy.index(self.rng.randrange(rows), self.rng.randrange(len(COLUMNS)))
        view.scrollTo(index)
        self.qtbot.mouseClick(view.viewport(), LEFT, pos=view.visualRect(index).center())
        return f"select row {index.row()} -> {self.browser.selected_key()[:8]!r}"

    def browser_sort(self) -> str:
        self.go(BROWSER)
        header = self.browser.view.horizontalHeader()
        column = self.rng.randrange(len(COLUMNS))
        x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
        if not 0 <= x < header.width():
            self.browser.view.sortByColumn(column, Qt.SortOrder(self.rng.randrange(2)))
            return f"sort column {column} (off screen)"
        self.qtbot.mouseClick(header.viewport(), LEFT, pos=QPoint(x, header.height() // 2))
        return f"sort by clicking column {column}"

    def browser_filter(self) -> str:
        self.go(BROWSER)
        text = self.rng.choice(SEARCHES)
        self.browser.search.clear()
        self.qtbot.keyClicks(self.browser.search, text)
        return f"search {text!r}: {self.browser.count_label.text()}"

    def _on_a_row(self, action, what: str) -> str:
        """Select a random row, then trigger a toolbar action if it is enabled for that row."""
        self.browser_select()
        enabled = action.isEnabled()
        if enabled:
            action.trigger()
        return f"{what} {self.browser.selected_key()[:12]!r}: {enabled}"

    def browser_use_for_live(self) -> str:
        return self._on_a_row(self.browser.act_live, "use for live")

    def browser_edit(self) -> str:
        self.browser_select()
        if not self.browser.act_edit.isEnabled():
            return "edit: not a trained model"
        self.browser.act_edit.trigger()
        dialog = self.browser.edit_dialog
        self.qtbot.waitUntil(dialog.isVisible, timeout=2000)
        if self.rng.random() < 0.5:
            dialog.description.setPlainText(f"monkey {self.rng.randrange(1000)}")
            dialog.tags.setText("monkey, test")
            dialog.accept()
            return "edit: saved"
        dialog.reject()
        return "edit: cancelled"

    def browser_delete(self) -> str:
        self.browser_select()
        row = self.browser.selected_row()
        if row is None or not self.browser.act_delete.isEnabled():
            return "delete: not a trained model"
        self.browser.act_delete.trigger()
        box = self.browser.confirm_box
        self.qtbot.waitUntil(box.isVisible, timeout=2000)
        answer = QMessageBox.StandardButton.No
        mine = str(row.entry.get("experiment_name", "")).startswith("monkey")
        if mine and LIVE_ALIAS not in row.cells[ALIASES].split(", ") and self.rng.random() < 0.5:
            answer = QMessageBox.StandardButton.Yes  # only models the monkey trained and Live does not use
        self.qtbot.mouseClick(box.button(answer), LEFT)
        return f"delete {row.key[:8]}: {answer.name}"

    def browser_verify(self) -> str:
        return self._on_a_row(self.browser.act_verify, "verify")

    def switch_workspace(self) -> str:
        current = self.window.context.workspace.root
        other = next(root for root in self.workspaces if root != current)
        self.window.switch_workspace(other)  # what File > Open workspace… does with the chosen folder
        return f"workspace {other.name}"

    def refresh_key(self) -> str:
        self.qtbot.keyClick(self.window, Qt.Key.Key_F5)
        return "F5"

    def idle(self) -> str:
        ms = self.rng.randint(100, 600)
        self.qtbot.wait(ms)
        return f"idle {ms} ms"


@pytest.mark.slow
@pytest.mark.mic
@pytest.mark.qt_no_exception_capture  # the app's own hooks are installed: they must show every exception
def test_random_actions_across_the_tabs_leave_the_app_working(qtbot, make_context, trained_template, dataset_csv,
                                                              tmp_path, virtual_mic, mic_feeder, watch):
    if none_refs_lost() > 500:  # thousands of actions would abort the whole test run, not fail this test
        pytest.fail("the Qt binding drops references to None (see test_qt_binding.py); not running the monkey")
    template, model_id = trained_template
    workspaces = []
    for name in ("first", "second"):  # two workspaces with a trained model as their `live` model
        shutil.copytree(template, tmp_path / name, ignore=shutil.ignore_patterns(".cache"))
        workspace = init_workspace(tmp_path / name)
        configure(workspace)  # short windows, energy VAD
        ModelRegistry(workspace.registry_path).set_alias(LIVE_ALIAS, model_id)
        workspaces.append(workspace.root)
    context = make_context(init_workspace(workspaces[0]))
    context.set_live_choice("dummy", configured=True)
    window = open_main_window(qtbot, context)
    folders = make_dataset(tmp_path / "folders", "folders", speakers=3, clips_per_speaker_label=2, seconds=0.4)
    rng = random.Random(SEED)
    monkey = Monkey(qtbot, window, rng, [dataset_csv, folders], mic_feeder, workspaces)

    def failure(what: str) -> str:
        return f"{what}\nseed {SEED}; last actions:\n  " + "\n  ".join(monkey.done[-25:])

    began = time.monotonic()
    try:
        while len(monkey.done) < MAX_ACTIONS and time.monotonic() - began < MAX_SECONDS:
            monkey.step()
            assert not watch.problems, failure("\n".join(watch.problems))
    finally:
        if QApplication.activeModalWidget() is not None:
            QApplication.activeModalWidget().close()

    # wind down as a user would: stop the session, cancel the training, close the windows
    live, train = window.live_tab, window.train_tab
    if live.state != IDLE:
        live.stop()
    train.cancel()
    qtbot.waitUntil(lambda: live.state == IDLE and not train.running(), timeout=30_000)
    qtbot.waitUntil(lambda: not Worker.active(), timeout=60_000)
    assert not watch.problems, failure("\n".join(watch.problems))
    for dialog in (live.report_dialog, live.sessions_dialog):
        if dialog is not None:
            dialog.close()

    def no_window_kept() -> None:  # closed report and session windows are deleted, not hidden
        assert not window.findChildren(QDialog), Counter(type(d).__name__ for d in window.findChildren(QDialog))

    qtbot.waitUntil(no_window_kept, timeout=5000)

    # still responsive: a click on the tab bar switches the tab, typing filters the table
    bar = window.tabs.tabBar()
    target = TRAIN if window.tabs.currentIndex() != TRAIN else BROWSER
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(target).center())
    assert window.tabs.currentIndex() == target, failure("a click on the tab bar did nothing")
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(BROWSER).center())
    window.browser_tab.search.clear()
    qtbot.keyClicks(window.browser_tab.search, "zzz-nothing")
    assert window.browser_tab.proxy.rowCount() == 0, failure("typing in the search did not filter")
    assert not Worker.active() and not error_dialog.error_bus().open_dialogs()
    # the run did what it is for (each is very likely with this seed and these weights)
    seen = monkey.seen
    assert seen["live session started"] >= 1 and seen["live session saved"] >= 1, failure(str(seen))
    assert seen["training finished"] + seen["training cancelled"] >= 1, failure(str(seen))
    assert seen["browser_select"] >= 5, failure(str(seen))

    # quitting in the middle of a session and a training run stops both cleanly
    context.set_live_choice("dummy", configured=True)
    live.device_picker.select("pulse")
    live.start()
    qtbot.waitUntil(lambda: live.state == RUNNING or bool(live.banner_text()), timeout=30_000)
    assert live.state == RUNNING, failure(live.banner_text())
    train.experiment_edit.setText("monkey-final")
    with qtbot.waitSignal(train.dataset_checked, timeout=20_000):
        train.set_dataset(dataset_csv)
    assert train.start() is not None, failure(train.message_label.text())
    window.close()  # stops the session and waits for every worker's thread
    assert live.state == IDLE and not Worker.active()
    qtbot.waitUntil(lambda: not train.running(), timeout=5000)  # its queued "cancelled" arrives
    assert load_session(live.last_session_path)["status"] == "completed"
    assert not watch.problems, failure("\n".join(watch.problems))
    print(f"monkey: seed {SEED}, {len(monkey.done)} actions in {time.monotonic() - began:.1f} s; {dict(seen)}; "
          f"Qt messages: {dict(watch.qt_messages)}")


@pytest.mark.qt_no_exception_capture
def test_the_watch_sees_exceptions_qt_criticals_and_logged_errors(qtbot, watch):
    """The monkey's check can fail: an exception in a slot, a Qt critical and an error log all count."""

    def broken() -> None:
        raise RuntimeError("boom in a slot")

    button = QPushButton("break")
    qtbot.addWidget(button)
    button.clicked.connect(broken)
    qtbot.mouseClick(button, LEFT)
    qtbot.waitUntil(lambda: any(p.startswith("error dialog: RuntimeError: boom in a slot") for p in watch.problems),
                    timeout=2000)
    watch.problems.clear()
    qCritical("a critical Qt message")
    logging.getLogger("speakfeed_gui.ui.test").error("an error record")
    logging.getLogger("elsewhere").error("not the app's")
    assert watch.problems == ["Qt QtCriticalMsg: a critical Qt message", "log ERROR speakfeed_gui.ui.test: an error record"]
