"""PySide6 desktop app: main window, tabs and Qt adapters over the core (thin: every action calls the core)."""
