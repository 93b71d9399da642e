"""The GUI imports the live modules at start-up: they must not pull in heavy libraries or Qt."""

from __future__ import annotations

import subprocess
import sys

MODULES = ["audio.ringbuffer", "audio.capture", "audio.vad", "live.prosody", "live.analyzer", "live.session", "live.report"]
HEAVY = ["sounddevice", "librosa", "torch", "silero_vad", "scipy", "soundfile", "soxr", "PySide6", "pyqtgraph"]


def test_live_modules_import_light():
    code = (
        "import sys\n"
        + "".join(f"import speakfeed_gui.core.{m}\n" for m in MODULES)
        + "import speakfeed_gui.cli.live_cmd\n"
        + f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == ""
