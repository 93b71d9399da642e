"""The Qt binding itself must be sound enough for a long-running GUI.

Found by the monkey test (test_monkey.py): with PySide6 6.12.0's abi3 wheel on Python 3.11 every
call of a Qt method that returns nothing drops a reference to None that it never took. After
some thousands of such calls None's reference count reaches zero and the process aborts with
"Fatal Python error: none_dealloc: deallocating None" — mid-session or at exit. Python 3.12+
(immortal None) and PySide6 6.11.x are not affected.
"""

from __future__ import annotations

import sys

from PySide6 import __version__ as PYSIDE_VERSION

from tests.ui.conftest import none_refs_lost

CALLS = 2000


def test_void_qt_calls_keep_none_alive(qapp):
    lost = none_refs_lost(CALLS)
    assert lost < CALLS // 4, (
        f"PySide6 {PYSIDE_VERSION} on Python {sys.version.split()[0]} lost {lost} references to None in {CALLS} "
        "void Qt calls: a long session will abort with 'deallocating None'; use another PySide6 release")
