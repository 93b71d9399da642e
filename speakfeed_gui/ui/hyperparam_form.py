"""Hyperparameter editor generated from `core.estimators.param_specs` (no sklearn import).

One editor per ParamSpec kind: int -> QSpinBox, float -> QDoubleSpinBox (more decimals for
log-scaled ranges), bool -> QCheckBox, choice -> QComboBox ("None" for None), int_or_none ->
a "None" checkbox next to a QSpinBox. Text typed into a spin box that is not a valid number in
range is flagged in place; `validate()` also runs the core's schema on each field alone.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from speakfeed_gui.core.training.estimators import ParamSpec, check_hyperparameter, param_specs
from speakfeed_gui.ui.validation import check_field, mark_invalid

_INT_LIMIT = 2**31 - 1


class FloatSpinBox(QDoubleSpinBox):
    """A double spin box that shows and accepts any float notation (0.001, 1e-3) within range.

    Log-scaled parameters span 1e-7 to 1e4; fixed decimals would show 1.0000000 or round 1e-7 to 0.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        try:
            value = float(text)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        inside = self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if inside else QValidator.State.Intermediate), text, pos

    def fixup(self, text: str) -> str:
        return self.textFromValue(self.value())


class _Editor:
    """A widget for one ParamSpec with typed get/set and an in-place problem check."""

    def __init__(self, spec: ParamSpec, on_change: Callable[[], None]) -> None:
        self.spec = spec
        self.spin: QAbstractSpinBox | None = None
        self.none_box: QCheckBox | None = None
        self.widget = self._build(on_change)
        self.widget.setToolTip(spec.help)

    def _build(self, on_change: Callable[[], None]) -> QWidget:
        spec = self.spec
        if spec.kind == "bool":
            box = QCheckBox()
            box.toggled.connect(on_change)
            return box
        if spec.kind == "choice":
            combo = QComboBox()
            combo.addItems(["None" if c is None else str(c) for c in spec.choices])
            combo.currentIndexChanged.connect(on_change)
            return combo
        if spec.kind == "float":
            spin: QAbstractSpinBox = FloatSpinBox()
            spin.setRange(spec.low if spec.low is not None else -1e12, spec.high if spec.high is not None else 1e12)
            spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
            spin.valueChanged.connect(on_change)
        else:
            spin = QSpinBox()
            spin.setRange(int(spec.low) if spec.low is not None else -_INT_LIMIT,
                          int(min(spec.high, _INT_LIMIT)) if spec.high is not None else _INT_LIMIT)
            spin.valueChanged.connect(on_change)
        spin.setKeyboardTracking(True)
        spin.lineEdit().textChanged.connect(on_change)
        spin.setMinimumWidth(110)
        self.spin = spin
        if spec.kind != "int_or_none":
            return spin
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        self.none_box = QCheckBox("None")
        self.none_box.setToolTip(f"no limit ({spec.name}=None)")
        self.none_box.toggled.connect(lambda checked: spin.setEnabled(not checked))
        self.none_box.toggled.connect(on_change)
        row.addWidget(spin)
        row.addWidget(self.none_box)
        row.addStretch(1)
        return holder

    def value(self) -> Any:
        spec = self.spec
        if spec.kind == "bool":
            return self.widget.isChecked()
        if spec.kind == "choice":
            return spec.choices[self.widget.currentIndex()]
        if self.none_box is not None and self.none_box.isChecked():
            return None
        return self.spin.value()

    def set_value(self, value: Any) -> None:
        spec = self.spec
        if spec.kind == "bool":
            self.widget.setChecked(bool(value))
        elif spec.kind == "choice":
            if value in spec.choices:
                self.widget.setCurrentIndex(spec.choices.index(value))
        elif value is None and self.none_box is not None:
            self.none_box.setChecked(True)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if self.none_box is not None:
                self.none_box.setChecked(False)
            self.spin.setValue(value)

    def problem(self) -> str:
        """Why the typed text is not a usable value ('' when it is)."""
        if self.spin is None or (self.none_box is not None and self.none_box.isChecked()):
            return ""
        if self.spin.hasAcceptableInput():
            return ""
        what = "a whole number" if self.spec.kind != "float" else "a number"
        return f"{self.spec.name}: enter {what} from {self.spec.low:g} to {self.spec.high:g}"

    def target(self) -> QWidget:
        """The widget a problem is shown on."""
        return self.spin if self.spin is not None else self.widget

    def mark(self, message: str) -> None:
        mark_invalid(self.target(), message, tooltip=self.spec.help)


class HyperparamForm(QWidget):
    """Editors for one model type; `changed` fires on every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_type = ""
        self.editors: dict[str, _Editor] = {}
        self._layout = QFormLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def set_model_type(self, model_type: str, values: Mapping[str, Any] | None = None) -> None:
        """Rebuild the editors for `model_type`, starting from defaults overlaid with `values`."""
        while self._layout.rowCount():
            self._layout.removeRow(0)
        self.model_type = model_type
        self.editors = {}
        for spec in param_specs(model_type):
            editor = _Editor(spec, self._emit_changed)
            editor.set_value(spec.default)
            if values and spec.name in values:
                editor.set_value(values[spec.name])
            label = QLabel(spec.name.replace("_", " "))
            label.setToolTip(spec.help)
            self._layout.addRow(label, editor.widget)
            self.editors[spec.name] = editor
        self.changed.emit()

    def _emit_changed(self, *_args: Any) -> None:
        self.changed.emit()

    def values(self) -> dict[str, Any]:
        return {name: editor.value() for name, editor in self.editors.items()}

    def set_values(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            if name in self.editors:
                self.editors[name].set_value(value)

    def validate(self) -> str:
        """'' if every value is usable, else the first problem (each bad field is flagged).

        Each field is checked alone by the core's schema (`check_hyperparameter`): no field's
        message depends on values invented for the others.
        """
        first = ""
        for name, editor in self.editors.items():
            problem = editor.problem()
            if problem or not self.model_type:
                editor.mark(problem)
            else:
                problem = check_field(editor.target(), lambda n=name, e=editor: check_hyperparameter(
                    self.model_type, n, e.value()), tooltip=editor.spec.help)
            first = first or problem
        return first
