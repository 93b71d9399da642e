"""Qt table model over registry entries (and configured models), with a search proxy.

Rows are precomputed once per refresh (display text, sort keys, a lowercase search string), so
the view stays responsive with tens of thousands of entries: `data()` is a tuple lookup, the
source model sorts itself with one Python `list.sort` on precomputed keys (numbers for numeric
columns; a proxy sort would call back into Python for every comparison), and filtering tests
one string per row. `SORT_ROLE` exposes the keys to anyone who wants them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont

COLUMNS = ("Name", "Experiment", "Model type", "Accuracy", "Macro-F1", "Created", "Aliases", "ID")
NAME, EXPERIMENT, MODEL_TYPE, ACCURACY, MACRO_F1, CREATED, ALIASES, ID = range(len(COLUMNS))
NUMERIC_COLUMNS = (ACCURACY, MACRO_F1)
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
KEY_ROLE = Qt.ItemDataRole.UserRole + 2
CONFIGURED_PREFIX = "config:"

_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Row:
    """One table row: `key` is the registry id, or `config:<name>` for a configured model."""

    key: str
    kind: str  # "trained" or "configured"
    cells: tuple[str, ...]
    sort_keys: tuple[Any, ...]
    haystack: str
    tooltip: str = ""
    entry: Mapping[str, Any] = field(default_factory=dict)

    @property
    def configured(self) -> bool:
        return self.kind == "configured"


def _number(value: Any) -> tuple[str, float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.3f}", float(value)
    return "", -1.0


def _created(value: Any) -> str:
    text = str(value or "")
    return text[:16].replace("T", " ")


def _make_row(key: str, kind: str, texts: list[str], sort_overrides: dict[int, Any], tooltip: str,
              entry: Mapping[str, Any], extra_search: str = "") -> Row:
    """Text columns sort case-insensitively; `sort_overrides` gives numbers (or ISO dates)."""
    sort_keys = tuple(sort_overrides.get(c, texts[c].lower()) for c in range(len(COLUMNS)))
    haystack = "\t".join(texts + [extra_search]).lower()
    return Row(key, kind, tuple(texts), sort_keys, haystack, tooltip, entry)


def trained_row(entry: Mapping[str, Any], aliases: Iterable[str] = ()) -> Row:
    acc_text, acc = _number(entry.get("accuracy"))
    f1_text, f1 = _number(entry.get("macro_f1"))
    model_id = str(entry.get("id", ""))
    names = sorted(set(aliases) | set(entry.get("aliases") or ()))
    texts = [
        str(entry.get("model_name") or ""), str(entry.get("experiment_name") or ""), str(entry.get("model_type") or ""),
        acc_text, f1_text, _created(entry.get("created_at")), ", ".join(names), model_id[:8],
    ]
    sort_overrides = {ACCURACY: acc, MACRO_F1: f1, CREATED: str(entry.get("created_at") or "")}
    extra = model_id + " " + " ".join(str(t) for t in entry.get("tags") or ())
    return _make_row(model_id, "trained", texts, sort_overrides, str(entry.get("description") or ""), entry, extra)


def configured_row(name: str, spec: Any, *, live_choice: bool = False) -> Row:
    texts = [name, "(configured)", str(spec.type), "", "", "", "live (choice)" if live_choice else "", "configured"]
    entry = {"name": name, "type": spec.type, "version": spec.version, "description": spec.description}
    return _make_row(CONFIGURED_PREFIX + name, "configured", texts, {ACCURACY: -1.0, MACRO_F1: -1.0},
                     str(spec.description or ""), entry)


class RegistryTableModel(QAbstractTableModel):
    """Read-only model of Rows; `set_rows` updates them in place (inserts, removals, edits)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self._by_key: dict[str, int] = {}
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._italic = QFont()
        self._italic.setItalic(True)

    def set_rows(self, rows: list[Row]) -> None:
        """Show `rows`, telling the view only what changed (removed, inserted, edited rows).

        A registry change usually adds or edits one entry; a model reset would drop the selection,
        the scroll position and the proxy's filter state for all of them.
        """
        new = self._sorted(list(rows))
        keys = [row.key for row in new]
        if not self._rows or len(set(keys)) != len(keys) or not self._same_order(keys):
            self.beginResetModel()
            self._set(new)
            self.endResetModel()
            return
        wanted = set(keys)
        for n in range(len(self._rows) - 1, -1, -1):  # removals, bottom up
            if self._rows[n].key not in wanted:
                self.beginRemoveRows(QModelIndex(), n, n)
                del self._rows[n]
                self.endRemoveRows()
        present = {row.key for row in self._rows}
        for n, row in enumerate(new):  # insertions, top down: rows [0, n) already match `new`
            if row.key not in present:
                self.beginInsertRows(QModelIndex(), n, n)
                self._rows.insert(n, row)
                self.endInsertRows()
        changed = [n for n, (old, row) in enumerate(zip(self._rows, new)) if old != row]
        self._set(new)
        for n in changed:
            self.dataChanged.emit(self.index(n, 0), self.index(n, len(COLUMNS) - 1))

    def _same_order(self, keys: list[str]) -> bool:
        """True if the rows kept from before stay in the same relative order (no re-sort needed)."""
        wanted = set(keys)
        kept_before = [row.key for row in self._rows if row.key in wanted]
        before = set(kept_before)
        return kept_before == [key for key in keys if key in before]

    def _set(self, rows: list[Row]) -> None:
        self._rows = rows
        self._by_key = {row.key: n for n, row in enumerate(rows)}

    def _sorted(self, rows: list[Row]) -> list[Row]:
        if self._sort is not None:
            column, order = self._sort
            rows.sort(key=lambda r: r.sort_keys[column], reverse=order == Qt.SortOrder.DescendingOrder)
        return rows

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Reorder rows (stable) keeping persistent indexes (selection) on the same entries."""
        if not 0 <= column < len(COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        old_keys = [self._rows[i.row()].key for i in old]
        self._sort = (column, order)
        self._set(self._sorted(self._rows))
        new = [self.index(self._by_key[key], i.column()) for key, i in zip(old_keys, old)]
        self.changePersistentIndexList(old, new)
        self.layoutChanged.emit()

    def row(self, n: int) -> Row:
        return self._rows[n]

    def row_for_key(self, key: str) -> int:
        return self._by_key.get(key, -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells[column]
        if role == SORT_ROLE:
            return row.sort_keys[column]
        if role == KEY_ROLE:
            return row.key
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.tooltip or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in NUMERIC_COLUMNS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and row.configured:
            return self._italic
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


class RegistryFilterProxy(QSortFilterProxyModel):
    """Keeps rows whose text (any column, id, tags) contains the search; sorting is the source's."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setSortRole(SORT_ROLE)
        self.setFilterKeyColumn(-1)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)

    def set_search(self, text: str) -> None:
        needle = text.strip().lower()
        if needle == self._needle:
            return
        if hasattr(self, "beginFilterChange"):
            self.beginFilterChange()
            self._needle = needle
            self.endFilterChange()
        else:  # Qt < 6.10
            self._needle = needle
            self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        return self._needle in model.row(source_row).haystack
