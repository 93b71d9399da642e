"""Take the README screenshots of the History tab, a report with moments and a model comparison.

A fresh workspace gets the demo model (bootstrap) and a random forest trained on the same demo
corpus; twelve talks made of demo-corpus speech (one voice and mood mix per talk, quicker and
calmer ones, with pauses) are analysed by the demo model offline and saved by the real
SessionRecorder on twelve different days, the last one recorded. Then the History tab, that last
talk's report (its moments listed and shaded) and the comparison of the two models are grabbed.

    QT_QPA_PLATFORM=offscreen .venv/bin/python .ci/screenshots_history.py [OUT_DIR]
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtWidgets import QApplication  # noqa: E402

from speakfeed_gui.core.audio.decode import load_audio  # noqa: E402
from speakfeed_gui.core.audio.vad import EnergyVAD  # noqa: E402
from speakfeed_gui.core.live import session as session_module  # noqa: E402
from speakfeed_gui.core.live.analyzer import analyze_array  # noqa: E402
from speakfeed_gui.core.models.factory import ModelFactory  # noqa: E402
from speakfeed_gui.core.settings.workspace import init_workspace  # noqa: E402
from speakfeed_gui.core.training.bootstrap import bootstrap  # noqa: E402
from speakfeed_gui.core.training.demo_corpus import DEMO_CSV  # noqa: E402
from speakfeed_gui.core.training.trainer import run_training_experiment  # noqa: E402
from speakfeed_gui.ui.compare_dialog import CompareDialog  # noqa: E402
from speakfeed_gui.ui.context import AppContext  # noqa: E402
from speakfeed_gui.ui.main_window import MainWindow  # noqa: E402

# (voice, moods of its clips in order, gap seconds): early talks hurried and tense, later ones calmer
TALKS = [
    ("en+m1", ["anxious", "energetic", "anxious", "frustrated", "anxious", "energetic"], 0.2),
    ("en+f2", ["anxious", "anxious", "energetic", "frustrated", "energetic", "anxious"], 0.3),
    ("en+m1", ["energetic", "anxious", "calm", "energetic", "anxious", "calm"], 0.4),
    ("en+f3", ["frustrated", "energetic", "calm", "anxious", "calm", "energetic"], 0.4),
    ("en+m1", ["calm", "energetic", "anxious", "calm", "energetic", "calm"], 0.5),
    ("en+f2", ["calm", "anxious", "calm", "energetic", "calm", "burned_out"], 0.5),
    ("en+m1", ["burned_out", "calm", "burned_out", "calm", "burned_out", "calm"], 0.8),
    ("en+f3", ["calm", "energetic", "calm", "calm", "energetic", "calm"], 0.6),
    ("en+m1", ["calm", "calm", "energetic", "calm", "anxious", "calm"], 0.6),
    ("en+f2", ["energetic", "calm", "calm", "energetic", "calm", "calm"], 0.7),
    ("en+m1", ["calm", "energetic", "calm", "calm", "energetic", "calm"], 0.6),
    ("en+m1", ["energetic", "anxious", "energetic", "calm", "burned_out", "burned_out", "calm", "energetic"], 0.5),
]


def wait(app: QApplication, seconds: float, until=None) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end and not (until and until()):
        app.processEvents()
        time.sleep(0.01)


def talk_audio(rows: list[dict], voice: str, moods: list[str], gap: float, rng: random.Random,
               long_pause_after: int | None = None) -> np.ndarray:
    parts = []
    for n, mood in enumerate(moods):
        choices = [r for r in rows if r["speaker"] == voice and r["label"] == mood]
        parts.append(load_audio(DEMO_CSV.parent / rng.choice(choices)["path"]))
        pause = 4.5 if n == long_pause_after else gap
        parts.append(np.zeros(int(16000 * pause), dtype=np.float32))
    return np.concatenate(parts)


def record_talks(ws, model, settings) -> None:
    rows = list(csv.DictReader(DEMO_CSV.open()))
    rng = random.Random(7)
    for n, (voice, moods, gap) in enumerate(TALKS):
        last = n == len(TALKS) - 1
        audio = talk_audio(rows, voice, moods, gap, rng, long_pause_after=3 if last else None)
        stamp = f"2026-11-{2 + 2 * n:02d}T18:{10 + n:02d}:00.000+01:00"
        session_module._now = lambda stamp=stamp: stamp  # the talk's day (the recorder's clock)
        recorder = session_module.SessionRecorder(ws.sessions_dir, model_info=model.get_model_info(),
                                                  settings=asdict(settings), record_audio=last)
        if last:
            recorder.write_audio(audio)
        analyze_array(audio, 16000, model, settings, vad=EnergyVAD(), on_result=recorder.append)
        recorder.close()


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["speakfeed"])
    tmp = tempfile.TemporaryDirectory()  # the workspace goes when the screenshots are taken
    ws = init_workspace(Path(tmp.name) / "workspace")
    demo_id = bootstrap(ws)
    forest_id = run_training_experiment(DEMO_CSV, "random_forest", {"n_estimators": 200, "max_depth": 8},
                                        experiment_name="demo-random-forest", workspace=ws)
    factory = ModelFactory(workspace=ws)
    record_talks(ws, factory.resolve("live").load(), factory.config.live)

    window = MainWindow(AppContext(ws))
    window.resize(1400, 900)
    window.show()
    tab = window.history_tab
    window.tabs.setCurrentWidget(tab)
    wait(app, 30, lambda: len(tab.summaries) == len(TALKS))
    wait(app, 1.0)
    window.grab().save(str(out / "history.png"))

    tab.table.selectRow(0)  # the newest talk, the recorded one
    tab.open_selected()
    live = window.live_tab
    wait(app, 10, lambda: live.report_dialog is not None and live.report_dialog.isVisible())
    dialog = live.report_dialog
    dialog.resize(1000, 900)
    wait(app, 1.0)
    dialog.view.content.grab().save(str(out / "report_moments.png"))
    dialog.close()

    browser = window.browser_tab
    window.tabs.setCurrentWidget(browser)
    browser.select_key(demo_id)
    compare = CompareDialog(window.context, [demo_id, forest_id], window)
    compare.resize(1100, 900)
    compare.only_differences.setChecked(True)
    compare.show()
    wait(app, 1.0)
    compare.grab().save(str(out / "compare.png"))
    compare.close()
    window.close()
    tmp.cleanup()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
