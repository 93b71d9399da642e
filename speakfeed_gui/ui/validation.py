"""Flag an invalid form field in place: red border plus the reason as its tooltip."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QAbstractSpinBox, QWidget

from speakfeed_gui.core.errors import SpeakFeedError

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


def check_field(widget: QWidget, check: Callable[[], object], *, tooltip: str = "") -> str:
    """Run the core's check of this one field's value; flag or clear the widget; return the problem ('' if none)."""
    try:
        check()
    except SpeakFeedError as exc:
        mark_invalid(widget, str(exc), tooltip=tooltip)
        return str(exc)
    mark_invalid(widget, "", tooltip=tooltip)
    return ""
