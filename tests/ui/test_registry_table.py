"""The registry table tells its views what changed instead of resetting on every registry change."""

from __future__ import annotations

from PySide6.QtCore import QPersistentModelIndex, Qt

from speakfeed_gui.ui.registry_table import ACCURACY, NAME, RegistryTableModel, trained_row


def _rows(n: int, **acc) -> list:
    return [trained_row({"id": f"id{i:04d}", "model_name": f"m{i}", "accuracy": acc.get(f"id{i:04d}", i / 100),
                         "created_at": f"2026-01-01T00:{i:02d}"}) for i in range(n)]


def _recorder(model: RegistryTableModel) -> list[str]:
    seen: list[str] = []
    model.modelReset.connect(lambda: seen.append("reset"))
    model.rowsInserted.connect(lambda _p, first, last: seen.append(f"insert {first}-{last}"))
    model.rowsRemoved.connect(lambda _p, first, last: seen.append(f"remove {first}-{last}"))
    model.dataChanged.connect(lambda a, b, *_: seen.append(f"change {a.row()}"))
    model.layoutChanged.connect(lambda *_: seen.append("layout"))
    return seen


def test_adding_removing_and_editing_rows_keeps_selection_without_a_reset(qtmodeltester):
    model = RegistryTableModel()
    model.set_rows(_rows(5))
    qtmodeltester.check(model)
    model.sort(NAME, Qt.SortOrder.AscendingOrder)
    kept = QPersistentModelIndex(model.index(model.row_for_key("id0003"), NAME))
    seen = _recorder(model)

    rows = _rows(7)  # two new models
    del rows[1]  # and one deleted
    model.set_rows(rows)
    assert "reset" not in seen and "layout" not in seen
    assert seen.count("remove 1-1") == 1 and sum(s.startswith("insert") for s in seen) == 2
    assert [model.row(n).key for n in range(model.rowCount())] == ["id0000", "id0002", "id0003", "id0004",
                                                                     "id0005", "id0006"]
    assert kept.isValid() and model.row(kept.row()).key == "id0003"  # the selection follows its model

    seen.clear()
    model.set_rows([trained_row({**r.entry, "description": "edited"}) if r.key == "id0004" else r for r in rows])
    assert seen == [f"change {model.row_for_key('id0004')}"]
    assert model.index(model.row_for_key("id0004"), NAME).data(Qt.ItemDataRole.ToolTipRole) == "edited"
    qtmodeltester.check(model)


def test_a_change_that_reorders_rows_falls_back_to_a_reset(qtmodeltester):
    model = RegistryTableModel()
    model.set_rows(_rows(4))
    model.sort(ACCURACY, Qt.SortOrder.DescendingOrder)
    seen = _recorder(model)
    model.set_rows(_rows(4, id0000=0.99))  # the worst model becomes the best: it moves to the top
    assert seen == ["reset"] and model.row(0).key == "id0000"
    qtmodeltester.check(model)
