"""The Live Feedback tab's top row: model and microphone pickers, Record, Start/Stop, Sessions…, clock.

The model picker lists the configured models, then the newest trained ones, and follows the
app-wide live choice (AppContext); picking one sets that choice. Everything but Start/Stop and
Sessions… is locked while a session is loading or running.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.ui.context import AppContext
from speakfeed_gui.ui.device_picker import DevicePicker

log = logging.getLogger(__name__)
MAX_TRAINED_IN_PICKER = 200
RECORD_KEY = "live/record"


class LiveControls(QWidget):
    problem = Signal(str)  # a model that cannot be chosen, for the tab's banner

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.model_combo = QComboBox()
        self.model_combo.setMinimumContentsLength(22)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setToolTip("Model to listen with (the newest trained models; more in the Model Browser)")
        self.model_combo.activated.connect(self._on_model_chosen)
        self.device_picker = DevicePicker()
        self.record_box = QCheckBox("Record audio")
        self.record_box.setToolTip("Also save the audio as a WAV next to the session file")
        self.record_box.setChecked(bool(context.setting(RECORD_KEY, False)))
        self.record_box.toggled.connect(lambda on: self.context.set_setting(RECORD_KEY, bool(on)))
        self.start_button = QPushButton("Start")
        self.start_button.setMinimumWidth(90)
        self.sessions_button = QPushButton("Sessions…")
        self.elapsed_label = QLabel("0:00")
        self.elapsed_label.setToolTip("Time since Start (audio captured)")
        # wide enough for 100 minutes, so the row is not laid out again when the clock gains a digit
        self.elapsed_label.setMinimumWidth(self.elapsed_label.fontMetrics().horizontalAdvance("000:00"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Model"))
        layout.addWidget(self.model_combo, 2)
        layout.addWidget(QLabel("Microphone"))
        layout.addWidget(self.device_picker, 3)
        layout.addWidget(self.record_box)
        layout.addWidget(self.start_button)
        layout.addWidget(self.sessions_button)
        layout.addWidget(self.elapsed_label)
        self.fill_models()
        context.live_model_changed.connect(self.select_model)
        context.registry_changed.connect(self.fill_models)

    def fill_models(self) -> None:
        """Configured models, then the newest trained ones; item data is "config:<name>" or "trained:<id>"."""
        combo = self.model_combo
        combo.blockSignals(True)
        combo.clear()
        for name, spec in self.context.configured_models().items():
            combo.addItem(f"{name} (configured, {spec.type})", f"config:{name}")
        try:
            entries = self.context.entries()[:MAX_TRAINED_IN_PICKER]
        except SpeakFeedError as exc:
            log.warning("%s", exc)
            entries = []
        for entry in entries:
            name = entry.get("model_name") or entry.get("experiment_name") or "model"
            aliases = f" [{', '.join(entry['aliases'])}]" if entry.get("aliases") else ""
            combo.addItem(f"{name} · {entry['id'][:8]}{aliases}", f"trained:{entry['id']}")
        combo.blockSignals(False)
        self.select_model()

    def select_model(self, _ref: str = "") -> None:
        """Show the context's live choice (adding it when it is older than the listed ones)."""
        ref = self.context.live_model_ref()
        for index in range(self.model_combo.count()):
            if str(self.model_combo.itemData(index)).split(":", 1)[1] == ref:
                self.model_combo.setCurrentIndex(index)
                return
        if ref:  # a trained model older than the newest MAX_TRAINED_IN_PICKER
            self.model_combo.addItem(f"{ref[:8]} (live choice)", f"trained:{ref}")
            self.model_combo.setCurrentIndex(self.model_combo.count() - 1)

    def _on_model_chosen(self, index: int) -> None:
        kind, ref = str(self.model_combo.itemData(index)).split(":", 1)
        try:
            self.context.set_live_choice(ref, configured=kind == "config")
        except SpeakFeedError as exc:
            self.problem.emit(f"Cannot choose this model: {exc}")

    def set_locked(self, locked: bool) -> None:
        """Locked while a session loads or runs: its model, device and recording are fixed."""
        self.model_combo.setEnabled(not locked)
        self.device_picker.set_locked(locked)
        self.record_box.setEnabled(not locked)
