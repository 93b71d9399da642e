"""Input-device combo box with a Refresh button (PortAudio is re-scanned only on Refresh).

Items read "name (host API)", the system default marked; the chosen device is remembered by name,
since PortAudio indices change when devices come and go.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QSizePolicy, QWidget

from speakfeed_gui.core.audio.capture import InputDevice, list_input_devices
from speakfeed_gui.core.errors import SpeakFeedError

log = logging.getLogger(__name__)


class DevicePicker(QWidget):
    device_changed = Signal(str)  # device name ("" when none)
    scan_failed = Signal(str)  # why no device could be listed (PortAudio missing...)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setMinimumContentsLength(18)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setToolTip("Microphone to listen to")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Look for microphones again (after plugging one in)")
        self.refresh_button.clicked.connect(lambda: self.refresh())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.refresh_button)
        self.devices: list[InputDevice] = []
        self.problem = ""
        self.combo.currentIndexChanged.connect(lambda _i: self.device_changed.emit(self.current_name()))

    def refresh(self, preferred: str | None = None, *, rescan: bool = True) -> list[InputDevice]:
        """List the input devices again; keeps the current choice (or `preferred`) when still there."""
        wanted = preferred if preferred is not None else self.current_name()
        try:
            devices = list_input_devices(refresh=rescan)
        except SpeakFeedError as exc:
            self.problem = str(exc)
            log.warning("%s", exc)
            self.scan_failed.emit(self.problem)
            devices = []
        except Exception as exc:  # noqa: BLE001 - a broken sound stack must not take the tab down
            self.problem = f"cannot list audio devices: {exc.__class__.__name__}: {exc}"
            log.exception("listing audio devices failed")
            self.scan_failed.emit(self.problem)
            devices = []
        else:
            self.problem = "" if devices else "no audio input device found"
        self.set_devices(devices, wanted)
        return devices

    def set_devices(self, devices: list[InputDevice], preferred: str = "") -> None:
        """Fill the combo; selects `preferred` by name, else the system default, else the first."""
        self.devices = list(devices)
        self.combo.blockSignals(True)
        self.combo.clear()
        for device in self.devices:
            text = device.label + ("  — default" if device.is_default else "")
            self.combo.addItem(text, device.name)
        names = [d.name for d in self.devices]
        if preferred in names:
            index = names.index(preferred)
        else:
            index = next((i for i, d in enumerate(self.devices) if d.is_default), 0 if self.devices else -1)
        self.combo.setCurrentIndex(index)
        self.combo.setEnabled(bool(self.devices))
        if not self.devices:
            self.combo.setPlaceholderText("no input device")
        self.combo.blockSignals(False)
        self.device_changed.emit(self.current_name())

    def current_device(self) -> InputDevice | None:
        index = self.combo.currentIndex()
        return self.devices[index] if 0 <= index < len(self.devices) else None

    def current_name(self) -> str:
        device = self.current_device()
        return device.name if device else ""

    def select(self, name: str) -> bool:
        index = self.combo.findData(name)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        return index >= 0

    def set_locked(self, locked: bool) -> None:
        """Locked while capturing: re-scanning PortAudio would invalidate the open stream."""
        self.combo.setEnabled(not locked and bool(self.devices))
        self.refresh_button.setEnabled(not locked)
