"""Render the Model Browser and Train tabs and check the pixels a user would see.

The PNGs go to $SPEAKFEED_SCREENS_DIR when set (to look at them), else to the test's tmp folder.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage

from speakfeed_gui.ui.main_window import BROWSER, TRAIN, MainWindow


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), dtype=np.uint8, count=stride * height).reshape(height, stride)
    return raw[:, : width * 3].reshape(height, width, 3).copy()


def _dark_blue_share(widget) -> float:
    pixels = _pixels(widget.grab().toImage()).astype(int)
    r, b = pixels[..., 0], pixels[..., 2]
    return float(np.mean((b > 80) & (r < 60) & (b - r > 50)))


def test_screenshots_of_browser_and_train_tabs(qtbot, make_context, trained_workspace, dataset_csv, tmp_path):
    out = Path(os.environ.get("SPEAKFEED_SCREENS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    workspace, model_id = trained_workspace
    window = MainWindow(make_context(workspace))
    qtbot.addWidget(window)
    window.resize(1400, 880)
    window.show()
    qtbot.waitExposed(window)

    window.tabs.setCurrentIndex(BROWSER)
    window.browser_tab.select_key(model_id)
    qtbot.wait(100)
    browser_png = out / "model_browser.png"
    assert window.grab().save(str(browser_png))
    confusion = window.browser_tab.details.metrics.confusion
    assert confusion.cell_texts(), "the confusion matrix shows counts"
    assert _dark_blue_share(confusion) > 0.01, "well-recalled classes are drawn dark blue"
    blank = MainWindow(make_context(workspace))
    qtbot.addWidget(blank)
    assert _dark_blue_share(blank.browser_tab.details.metrics.confusion) < 0.001  # nothing selected: no heat map

    window.tabs.setCurrentIndex(TRAIN)
    tab = window.train_tab
    with qtbot.waitSignal(tab.dataset_checked, timeout=20_000):
        tab.set_dataset(dataset_csv)
    tab.experiment_edit.setText("screenshot-run")
    with qtbot.waitSignal(tab.run_finished, timeout=120_000):
        qtbot.mouseClick(tab.start_button, qtbot_button())
    qtbot.wait(100)
    train_png = out / "train_tab.png"
    assert window.grab().save(str(train_png))
    assert _dark_blue_share(tab.metrics.confusion) > 0.01
    assert QImage(str(browser_png)).width() == window.width()


def qtbot_button():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton
