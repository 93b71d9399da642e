"""The core package must import no Qt: every core module is imported in a fresh interpreter."""

import pkgutil
import subprocess
import sys

import speakfeed_gui.core as core


def _core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(core.__path__, prefix="speakfeed_gui.core."))


def test_core_has_modules():
    names = _core_modules()
    assert "speakfeed_gui.core.models.factory" in names and "speakfeed_gui.core.models.dummy" in names


def test_importing_every_core_module_loads_no_qt():
    code = (
        "import importlib, sys\n"
        f"for name in {_core_modules()!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6', 'PyQt5', 'PyQt6'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_listing_models_imports_no_heavy_library(tmp_path):
    code = (
        "import sys\n"
        "from speakfeed_gui.core.settings.workspace import init_workspace\n"
        "from speakfeed_gui.core.models.factory import ModelFactory\n"
        f"f = ModelFactory(workspace=init_workspace({str(tmp_path)!r}))\n"
        "[f.get_model_info(n) for n in f.list_available_models()]\n"
        "print(','.join(m for m in ('torch', 'transformers', 'sklearn', 'librosa') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
