"""Take the README screenshots from the real app on the bundled default.

A fresh workspace is bootstrapped (the demo model, aliased `live`), demo-corpus speech is fed
through the PulseAudio virtual microphone, and the Live tab, its report, the Model Browser and
the Train tab (after a real training run) are grabbed into resources/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python .ci/screenshots.py [OUT_DIR]

(starts the virtual microphone itself unless one is running)
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from speakfeed_gui.core.audio.decode import load_audio  # noqa: E402
from speakfeed_gui.core.settings.workspace import init_workspace  # noqa: E402
from speakfeed_gui.core.training.bootstrap import bootstrap  # noqa: E402
from speakfeed_gui.core.training.demo_corpus import DEMO_CSV  # noqa: E402
from speakfeed_gui.ui.context import AppContext  # noqa: E402
from speakfeed_gui.ui.live_tab import RUNNING  # noqa: E402
from speakfeed_gui.ui.main_window import BROWSER, LIVE, TRAIN, MainWindow  # noqa: E402
from tests.virtual_mic import MicFeeder, VirtualMic  # noqa: E402


def wait(app: QApplication, seconds: float, until=None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (until and until()):
        app.processEvents()
        time.sleep(0.01)


def demo_speech(voice: str, labels: list[str]) -> np.ndarray:
    """One voice's demo clips for the given labels, with short pauses between them."""
    rows = list(csv.DictReader(DEMO_CSV.open()))
    parts = []
    for label in labels:
        row = next(r for r in rows if r["speaker"] == voice and r["label"] == label)
        parts += [load_audio(DEMO_CSV.parent / row["path"]), np.zeros(8000, dtype=np.float32)]
    return np.concatenate(parts)


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["speakfeed"])
    ws = init_workspace(Path(tempfile.mkdtemp()) / "workspace")
    bootstrap(ws)
    mic = VirtualMic.start(Path(tempfile.mkdtemp()))  # reuses a running one
    feeder = MicFeeder(mic.fifo).start()
    window = MainWindow(AppContext(ws))
    window.resize(1400, 900)
    window.show()
    wait(app, 1.0)

    window.tabs.setCurrentIndex(LIVE)
    live = window.live_tab
    live.device_picker.select("pulse")
    live.start()
    wait(app, 90, lambda: live.state == RUNNING)
    feeder.play(demo_speech("en+f2", ["energetic", "calm", "energetic", "anxious", "calm", "energetic"]))
    wait(app, 9)
    wait(app, 8, lambda: live.emotion_label.text() not in ("uncertain", "silence") and live.meter.level_db > -30)
    window.grab().save(str(out / "live.png"))
    wait(app, 6)
    live.stop()
    wait(app, 5, lambda: live.report_dialog is not None and live.report_dialog.isVisible())
    live.report_dialog.resize(1000, 860)
    wait(app, 0.5)
    live.report_dialog.grab().save(str(out / "report.png"))
    live.report_dialog.close()

    window.tabs.setCurrentIndex(BROWSER)
    window.browser_tab.select_key(window.context.registry().resolve("live"))
    wait(app, 1.0)
    window.grab().save(str(out / "browser.png"))

    window.tabs.setCurrentIndex(TRAIN)
    train = window.train_tab
    train.set_dataset(DEMO_CSV)
    wait(app, 30, lambda: train.start_button.isEnabled())
    train.experiment_edit.setText("demo-random-forest")
    finished: list[str] = []
    train.run_finished.connect(finished.append)
    train.start()
    wait(app, 120, lambda: bool(finished))
    wait(app, 0.5)
    window.grab().save(str(out / "train.png"))

    feeder.stop()
    window.close()
    mic.stop()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
