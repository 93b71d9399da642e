"""How long the History tab's index takes with hundreds of sessions: first build, then cached loads.

    .venv/bin/python bench/history_index.py [N_SESSIONS] [MINUTES_EACH]

Sessions are written by the real SessionRecorder (windows every 0.5 s, prosody and a 5-label
distribution each), into a temporary folder.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from speakfeed_gui.core.live.history import HistoryIndex  # noqa: E402
from speakfeed_gui.core.live.session import SessionRecorder  # noqa: E402

LABELS = ("calm", "anxious", "frustrated", "energetic", "burned_out")


def window(t: float, n: int) -> dict:
    label = LABELS[(n + int(t)) % 5]
    probs = {name: (0.6 if name == label else 0.1) for name in LABELS}
    return {"t_start": t, "t_end": t + 2.0, "is_speech": True, "speech_fraction": 0.9, "level_dbfs": -20.0,
            "label": label, "confidence": 0.6, "prediction": {"label": label, "probabilities": probs},
            "smoothed": probs, "transcript": None,
            "prosody": {"pitch_hz": 180.0, "pitch_variation_semitones": 3.0 + n % 4, "loudness_dbfs": -22.0,
                        "loudness_variation_db": 6.0, "pause_count": 1, "mean_pause_seconds": 0.4,
                        "pause_share": 0.1 + (n % 5) / 50, "speaking_rate_sps": 3.5 + (n % 7) / 5}}


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    minutes = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
    with tempfile.TemporaryDirectory() as tmp:
        return run(Path(tmp) / "pipeline_results", count, minutes)


def run(folder: Path, count: int, minutes: float) -> int:
    began = time.perf_counter()
    for n in range(count):
        recorder = SessionRecorder(folder, model_info={"name": "bench", "labels": list(LABELS)}, settings={},
                                   flush_seconds=1e9)
        for i in range(int(minutes * 120)):
            recorder.append(window(0.5 * i, n))
        recorder.close()
    size = sum(p.stat().st_size for p in folder.glob("*.json")) / 1e6
    print(f"wrote {count} sessions of {minutes:g} min ({size:.0f} MB) in {time.perf_counter() - began:.1f} s")
    for attempt in ("first build", "cached", "cached, one new session"):
        if attempt.endswith("new session"):
            recorder = SessionRecorder(folder, model_info={"name": "bench"}, settings={})
            recorder.append(window(0.0, 0))
            recorder.close()
        index = HistoryIndex(folder)
        began = time.perf_counter()
        summaries = index.load()
        print(f"{attempt}: {len(summaries)} sessions in {1000 * (time.perf_counter() - began):.0f} ms "
              f"({index.reread} read from their files)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
