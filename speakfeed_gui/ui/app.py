"""`speakfeed-gui` / `python main.py`: start the desktop app.

The window is shown before anything heavy is imported; after its first paint the default model
(if needed) and the feature extractor's warm-up run in workers. SPEAKFEED_SMOKE_EXIT=1 makes the
app print, right after the first paint, which heavy libraries are already loaded and exit 0
(the start-up test uses it).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("speakfeed.gui")
HEAVY_MODULES = ("sklearn", "librosa", "torch", "transformers", "scipy")
SMOKE_ENV = "SPEAKFEED_SMOKE_EXIT"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    from speakfeed_gui import __version__

    parser = argparse.ArgumentParser(prog="speakfeed-gui", description="SpeakFeed desktop app.")
    parser.add_argument("--workspace", metavar="FOLDER",
                        help="folder holding config/ and models/ (default: $SPEAKFEED_WORKSPACE, the last one opened, "
                             "or the project)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages to the console")
    parser.add_argument("--version", action="version", version=f"speakfeed-gui {__version__}")
    return parser.parse_args(argv)


def _choose_workspace(explicit: str | None, settings: object) -> object:
    """--workspace, else $SPEAKFEED_WORKSPACE, else the last workspace opened, else the project."""
    from speakfeed_gui.core.settings.workspace import ENV_VAR, resolve_workspace

    if not explicit and not os.environ.get(ENV_VAR):
        last = settings.value("workspace/last")  # type: ignore[attr-defined]
        if last and Path(str(last)).is_dir():
            explicit = str(last)
    return resolve_workspace(explicit)


def heavy_modules_loaded() -> list[str]:
    return [name for name in HEAVY_MODULES if name in sys.modules]


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from speakfeed_gui.core.logging_setup import setup_logging

    setup_logging(console_level=logging.DEBUG if args.verbose else logging.WARNING)
    from PySide6.QtWidgets import QApplication, QMessageBox

    from speakfeed_gui.core.errors import SpeakFeedError
    from speakfeed_gui.ui.context import APPLICATION, ORGANIZATION, AppContext, app_settings
    from speakfeed_gui.ui.error_dialog import install_exception_hooks, install_qt_message_handler

    install_qt_message_handler()
    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    settings = app_settings()
    smoke = os.environ.get(SMOKE_ENV) == "1"
    try:
        workspace = _choose_workspace(args.workspace, settings)
    except SpeakFeedError as exc:
        log.error("%s", exc)
        if sys.stderr is not None:  # pythonw / gui-scripts on Windows have no stderr
            print(f"speakfeed-gui: error: {exc}", file=sys.stderr)
        if not smoke:
            QMessageBox.critical(None, "SpeakFeed", str(exc))
        return 2
    install_exception_hooks()
    from speakfeed_gui.ui.main_window import MainWindow

    context = AppContext(workspace, settings)
    window = MainWindow(context)
    if smoke:
        def report() -> None:
            print(json.dumps({"visible": window.isVisible(), "heavy_modules": heavy_modules_loaded()}), flush=True)
            app.exit(0)

        window.first_painted.connect(report)
    else:
        window.first_painted.connect(window.start_background_tasks)
    window.show()
    log.info("SpeakFeed started with workspace %s", workspace.root)  # type: ignore[attr-defined]
    code = app.exec()
    if window.isVisible():
        window.close()
    return int(code)
