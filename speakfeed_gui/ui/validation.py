"""Flag an invalid form field in place: red border plus the reason as its tooltip."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractSpinBox, QWidget

_INVALID_STYLE = "border: 1px solid #c62828; border-radius: 2px;"
_INVALID_FIELD = "background-color: #fde7e7; border: 1px solid #c62828;"


def mark_invalid(widget: QWidget, message: str, *, tooltip: str = "") -> None:
    """Show `message` on the widget (empty message: valid again, `tooltip` restored).

    A spin box gets a tinted, bordered text field: a style sheet on the spin box itself would
    replace its native arrows.
    """
    widget.setProperty("invalid", bool(message))
    if isinstance(widget, QAbstractSpinBox):
        widget.lineEdit().setStyleSheet(f"QLineEdit {{ {_INVALID_FIELD} }}" if message else "")
    else:
        widget.setStyleSheet(f"{type(widget).__name__} {{ {_INVALID_STYLE} }}" if message else "")
    widget.setToolTip(message or tooltip)


def is_marked_invalid(widget: QWidget) -> bool:
    return bool(widget.property("invalid"))
