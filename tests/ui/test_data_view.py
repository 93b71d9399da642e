"""The Train tab's data view on real EmoDB clips: counts per label and speaker, durations, PCA by label."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt

from speakfeed_gui.core.training.explore import explore_dataset, overview_text
from speakfeed_gui.ui.train_tab import TrainTab

EMODB = Path(__file__).resolve().parents[1] / "data" / "emodb" / "dataset.csv"


def test_explore_counts_durations_and_projection(workspace):
    overview = explore_dataset(EMODB, workspace=workspace)
    assert overview.labels == ["anger", "neutral", "sadness"]
    assert overview.speakers == ["spk08", "spk10", "spk11", "spk13"]
    assert overview.counts == [[3, 3, 3, 3]] * 3
    assert len(overview.durations) == 36 and np.allclose(overview.durations, 2.0, atol=0.01)  # EmoDB clips: 2 s
    assert overview.projection.shape == (36, 2) and 0 < sum(overview.explained) < 1
    assert "anger    3      3      3      3      12" in overview_text(overview)


def test_data_button_shows_the_window(qtbot, context):
    tab = TrainTab(context)
    qtbot.addWidget(tab)
    assert not tab.data_button.isEnabled()  # nothing checked yet
    with qtbot.waitSignal(tab.dataset_checked, timeout=20_000):
        tab.set_dataset(EMODB)
    qtbot.waitUntil(tab.data_button.isEnabled, timeout=5_000)
    with qtbot.waitSignal(tab.data_shown, timeout=60_000):
        qtbot.mouseClick(tab.data_button, Qt.MouseButton.LeftButton)
    view = tab.data_dialog.view
    assert tab.data_dialog.isVisible()
    assert view.counts.rowCount() == 3 and view.counts.item(0, 4).text() == "12"
    assert view.points == {"anger": 12, "neutral": 12, "sadness": 12}
    assert int(view.histogram[0].sum()) == 36
    assert "36 clips" in view.title.text()
    image = view.projection.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 3) for y in range(0, image.height(), 3)}
    assert len(colours) > 4  # points in several label colours, not a blank plot
