"""Library versions recorded beside a model, and the warnings when they differ at load time.
"""

from __future__ import annotations

import logging
import platform
from typing import Any

log = logging.getLogger(__name__)


def runtime_versions() -> dict[str, str]:
    """Versions that decide whether a saved model loads identically; record them in metadata['versions']."""
    import numpy
    import sklearn

    return {"python": platform.python_version(), "numpy": numpy.__version__, "sklearn": sklearn.__version__}


def _recorded_versions(metadata: dict[str, Any]) -> dict[str, str]:
    """metadata['versions'] as written from runtime_versions(), else top-level `<name>_version` keys."""
    nested = metadata.get("versions")
    nested = nested if isinstance(nested, dict) else {}
    out = {}
    for name in ("python", "numpy", "sklearn"):
        value = nested.get(name) or metadata.get(f"{name}_version")
        if value:
            out[name] = str(value)
    return out


def check_versions(metadata: dict[str, Any]) -> list[str]:
    """One warning line per library whose recorded version differs from the running one.

    Python is compared by major.minor; numpy and scikit-learn by full version.
    """
    running = runtime_versions()
    labels = {"python": "Python", "numpy": "numpy", "sklearn": "scikit-learn"}
    warnings_out = []
    for name, recorded in _recorded_versions(metadata).items():
        now = running[name]
        same = recorded.split(".")[:2] == now.split(".")[:2] if name == "python" else recorded == now
        if not same:
            warnings_out.append(
                f"model was trained with {labels[name]} {recorded}, running {now}; "
                "predictions may differ (retrain to be sure)"
            )
    return warnings_out
