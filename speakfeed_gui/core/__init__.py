"""Qt-free core of SpeakFeed: config, models, features, training, registry, live analysis.

Nothing under this package may import PySide6 or pyqtgraph (tests/test_core_is_qt_free.py checks it).
"""
