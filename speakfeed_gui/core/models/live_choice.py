"""Which model live feedback uses when none is named: one rule for the Live tab and the CLI.

A configured model the user picked (the GUI keeps that choice in its settings), else the registry's
`live` alias (the first-run default, or a coach's pick in the Model Browser), else models.yaml's
`default_model`.
"""

from __future__ import annotations

from typing import Collection, Mapping

LIVE_ALIAS = "live"


def live_model_ref(default_model: str, aliases: Mapping[str, str], configured: Collection[str] = (),
                   choice: str = "") -> str:
    """The reference (configured name or registry id) live feedback uses."""
    if choice and choice in configured:
        return choice
    return aliases.get(LIVE_ALIAS) or default_model
