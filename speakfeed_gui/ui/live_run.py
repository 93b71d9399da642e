"""The Live Feedback tab's way into the core live runner: the chosen device, and messages a user can act on.

Everything a session is made of (model, voice detector, speech recogniser, warm-up, torch threads,
session file, transcription) is built by `core/live/runner.py`, as for `speakfeed live`; this
module only opens the picked microphone and words the failures for the tab's banner.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from speakfeed_gui.core.audio.capture import AudioCapture, InputDevice
from speakfeed_gui.core.errors import SessionError, SpeakFeedError
from speakfeed_gui.core.live.runner import LiveRunner, Prepared

__all__ = ["LiveRunner", "open_run"]


def open_run(prepared: Prepared, device: InputDevice | None, devices: list[InputDevice], config: Any,
             sessions_dir: Path, *, record_audio: bool) -> LiveRunner:
    """Open the microphone, then start the runner; a SpeakFeedError says what to check."""
    names = [d.name for d in devices]
    try:
        if device is None:
            raise SpeakFeedError("no microphone selected; connect one and press Refresh")
        capture = AudioCapture(device.name if names.count(device.name) == 1 else device.index)
        capture.start()
    except SpeakFeedError as exc:
        raise SpeakFeedError(f"Cannot listen to the microphone: {exc}. Check it and press Refresh.") from exc
    try:
        return LiveRunner.start(prepared, config, sessions_dir, capture=capture, record_audio=record_audio)
    except SessionError as exc:
        raise SpeakFeedError(f"Cannot save the session: {exc}") from exc
