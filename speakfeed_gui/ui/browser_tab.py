"""Model Browser: every trained model in the registry and every configured model, with actions.

Dialogs that ask something (delete confirmation, edit) are opened non-modally with `open()` and
act on `finished`, so the event loop keeps running and tests can click their buttons. Bundle export,
import and verification run as background tasks (bundle_tasks.py).

A registry this user may not change (not one of `registry.maintainers`, or a folder they cannot
write) is shown read-only: a line above the table says why, and the actions that would write are
disabled with that reason as their tooltip, instead of failing on the first click.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.ui.bundle_tasks import choose_bundle, export_task, import_task, verify_task
from speakfeed_gui.ui.context import LIVE_ALIAS, AppContext
from speakfeed_gui.ui.error_dialog import report_error
from speakfeed_gui.ui.evaluate_dialog import EvaluateDialog
from speakfeed_gui.ui.model_details import ModelDetails, read_metadata
from speakfeed_gui.ui.model_edit_dialog import ModelEditDialog
from speakfeed_gui.ui.registry_table import (
    ALIASES,
    COLUMNS,
    CONFIGURED_PREFIX,
    CREATED,
    KEY_ROLE,
    NAME,
    RegistryFilterProxy,
    RegistryTableModel,
    Row,
    configured_row,
    trained_row,
)
from speakfeed_gui.ui.workers import Worker

log = logging.getLogger(__name__)
_COLUMN_WIDTHS = (230, 140, 130, 80, 80, 130, 90, 80)


class BrowserTab(QWidget):
    selection_changed = Signal(str)  # row key ("" when nothing is selected)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._metadata_cache: dict[str, tuple[dict[str, Any], str]] = {}
        self.confirm_box: QMessageBox | None = None
        self.compare_dialog: Any = None
        self.edit_dialog: ModelEditDialog | None = None
        self.read_only: str | None = None  # why the registry cannot be changed here; None: it can
        self.evaluate_dialog: EvaluateDialog | None = None
        self.evaluate_worker: Worker | None = None
        self.model = RegistryTableModel(self)
        self.proxy = RegistryFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._build()
        self._restore_view_state()
        context.registry_changed.connect(self.reload)
        context.live_model_changed.connect(self._on_live_changed)
        self.reload()

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search name, experiment, type, alias, id or tag…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search)
        self.count_label = QLabel()
        self.read_only_label = QLabel()
        self.read_only_label.setWordWrap(True)
        self.read_only_label.setVisible(False)
        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # Ctrl+click to compare
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 8)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in enumerate(_COLUMN_WIDTHS):
            self.view.setColumnWidth(column, width)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self.view.doubleClicked.connect(lambda _index: self.use_for_live())

        self.act_live = self._action("Use for Live Feedback", self.use_for_live, "Make this the Live tab's model")
        self.act_edit = self._action("Edit…", self.edit_selected, "Edit description and tags")
        self.act_delete = self._action("Delete…", self.delete_selected, "Delete the model and its files",
                                       QKeySequence.StandardKey.Delete)
        self.act_export = self._action("Export bundle…", lambda: self.export_selected(), "Save the model as a bundle")
        self.act_import = self._action("Import bundle…", lambda: self.import_bundle(), "Add a model from a bundle")
        self.act_verify = self._action("Verify", self.verify_selected, "Check every artifact's sha256")
        self.act_evaluate = self._action("Evaluate on dataset…", lambda: self.evaluate_selected(),
                                         "UAR, accuracy, macro-F1 and confusion matrix on a labelled dataset")
        self.act_copy = self._action("Copy id", self.copy_id, "Copy the model id to the clipboard")
        self.act_compare = self._action("Compare…", lambda: self.compare_selected(),
                                        "Compare the selected models side by side (Ctrl+click to select several)")
        self.view.selectionModel().selectionChanged.connect(lambda *_a: self._update_compare())
        toolbar = QToolBar()
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.act_live, self.act_edit, self.act_delete, self.act_export, self.act_import,
                       self.act_verify, self.act_evaluate, self.act_copy, self.act_compare):
            toolbar.addAction(action)
        self.toolbar = toolbar

        self.details = ModelDetails()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        search_row = QHBoxLayout()
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.count_label)
        left_layout.addLayout(search_row)
        left_layout.addWidget(self.read_only_label)
        left_layout.addWidget(self.view, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setSizes([760, 640])
        layout = QVBoxLayout(self)
        layout.addWidget(toolbar)
        layout.addWidget(self.splitter, 1)
        self._update_actions(None)
        self._update_compare()

    def _action(self, text: str, slot: Any, tip: str, shortcut: Any = None) -> QAction:
        action = QAction(text, self)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        if shortcut is not None:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        action.setData(tip)  # the tooltip to restore when the registry becomes writable again
        self.addAction(action)
        return action

    def _restore_view_state(self) -> None:
        state = self.context.settings.value("browser/header")
        if state is not None:
            self.view.horizontalHeader().restoreState(state)
        splitter = self.context.settings.value("browser/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        column = int(self.context.setting("browser/sort_column", CREATED))
        order = int(self.context.setting("browser/sort_order", int(Qt.SortOrder.DescendingOrder.value)))
        self.view.sortByColumn(column if 0 <= column < len(COLUMNS) else CREATED, Qt.SortOrder(order))

    def save_state(self) -> None:
        header = self.view.horizontalHeader()
        self.context.settings.setValue("browser/header", header.saveState())
        self.context.settings.setValue("browser/splitter", self.splitter.saveState())
        self.context.set_setting("browser/sort_column", header.sortIndicatorSection())
        self.context.set_setting("browser/sort_order", int(header.sortIndicatorOrder().value))

    # -- data -----------------------------------------------------------------------------
    def build_rows(self) -> list[Row]:
        by_id: dict[str, list[str]] = {}
        for alias, target in self.context.aliases().items():
            by_id.setdefault(target, []).append(alias)
        choice = self.context.live_model_ref()
        rows = [configured_row(name, spec, live_choice=(name == choice))
                for name, spec in self.context.configured_models().items()]
        rows += [trained_row(entry, by_id.get(entry.get("id", ""), ())) for entry in self.context.entries()]
        return rows

    def _check_read_only(self) -> None:
        try:
            self.read_only = self.context.registry_write_refusal()
        except SpeakFeedError as exc:
            self.read_only = str(exc)
        self.read_only_label.setText(f"<b>Read-only registry.</b> {self.read_only}" if self.read_only else "")
        self.read_only_label.setVisible(bool(self.read_only))

    def reload(self) -> None:
        """Re-read the registry; keep the selection (by model id) and the search."""
        self._check_read_only()
        key = self.selected_key()
        try:
            rows = self.build_rows()
        except SpeakFeedError as exc:
            report_error(exc, title="Cannot read the model registry")
            rows = [r for r in (self.model.row(n) for n in range(self.model.rowCount())) if r.configured]
        self._metadata_cache.clear()
        self.model.set_rows(rows)
        self._update_count()
        if key and self.select_key(key):
            self._show_details(self.model.row(self.model.row_for_key(key)))  # its entry may have changed
        elif key:
            self.view.selectionModel().clear()  # Qt would move the selection to a neighbour
            self.details.clear("The selected model is no longer in the registry.")
            self._update_actions(None)
        else:
            self._show_details(None)
        self._update_actions(self.selected_row())  # the read-only state may have changed

    def select_key(self, key: str) -> bool:
        """Select a row by registry id (or `config:<name>`), clearing a search that hides it."""
        source_row = self.model.row_for_key(key)
        if source_row < 0:
            return False
        index = self.proxy.mapFromSource(self.model.index(source_row, NAME))
        if not index.isValid():
            self.search.clear()
            index = self.proxy.mapFromSource(self.model.index(source_row, NAME))
        flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        self.view.selectionModel().setCurrentIndex(index, flags)
        self.view.scrollTo(index)
        return True

    def show_model(self, model_id: str) -> None:
        """Select a model that may have just been registered."""
        if not self.select_key(model_id):
            self.context.notify_registry_changed()
            self.select_key(model_id)

    def selected_row(self) -> Row | None:
        index = self.view.selectionModel().currentIndex()
        if not index.isValid() or not self.view.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.model.row(self.proxy.mapToSource(index).row())

    def selected_key(self) -> str:
        row = self.selected_row()
        return row.key if row else ""

    def _on_search(self, text: str) -> None:
        self.proxy.set_search(text)
        self._update_count()

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{total} models" if shown == total else f"{shown} of {total} models")

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        key = current.data(KEY_ROLE) if current.isValid() else ""
        row = self.model.row(self.model.row_for_key(key)) if key else None
        self._show_details(row)
        self.selection_changed.emit(key or "")

    def _show_details(self, row: Row | None) -> None:
        self._update_actions(row)
        if row is None:
            self.details.clear()
        elif row.configured:
            name = row.key[len(CONFIGURED_PREFIX):]
            try:
                info = self.context.factory().get_model_info(name)
            except SpeakFeedError as exc:
                info = {"type": row.entry.get("type"), "description": str(exc)}
            self.details.show_configured(name, info)
        else:
            if row.key not in self._metadata_cache:
                self._metadata_cache[row.key] = read_metadata(row.entry)
            metadata, problem = self._metadata_cache[row.key]
            self.details.show_trained(row.entry, metadata, problem)

    def _update_actions(self, row: Row | None) -> None:
        trained = row is not None and not row.configured
        for action in (self.act_export, self.act_verify, self.act_copy):
            action.setEnabled(trained)
        writes = {self.act_edit: trained, self.act_delete: trained, self.act_import: True,
                  self.act_live: row is not None}  # a trained model's live alias is a registry write
        for action, wanted in writes.items():
            blocked = bool(self.read_only) and (action is not self.act_live or trained)
            action.setEnabled(wanted and not blocked)
            tip = f"Read-only registry: {self.read_only}" if blocked else str(action.data())
            action.setToolTip(tip)
            action.setStatusTip(tip)
        self.act_evaluate.setEnabled(trained and self.evaluate_worker is None)

    def _on_live_changed(self, _ref: str) -> None:
        self.reload()

    # -- actions --------------------------------------------------------------------------
    def use_for_live(self) -> None:
        row = self.selected_row()
        if row is None:
            return
        ref = row.key[len(CONFIGURED_PREFIX):] if row.configured else row.key
        self.context.use_for_live(ref, configured=row.configured)

    def edit_selected(self) -> None:
        row = self.selected_row()
        if row is None or row.configured:
            return
        dialog = ModelEditDialog(row.cells[NAME], str(row.entry.get("description") or ""),
                                 row.entry.get("tags") or (), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda key=row.key, d=dialog: self._apply_edit(key, *d.values()))
        self.edit_dialog = dialog
        dialog.open()

    def _apply_edit(self, key: str, description: str, tags: list[str]) -> None:
        def change(registry: Any) -> None:
            registry.set_description(key, description)
            registry.set_tags(key, tags)

        self.context.write_registry(change, "Edit model", parent=self)

    def delete_selected(self) -> None:
        row = self.selected_row()
        if row is None or row.configured:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Delete model",
                          f"Delete {row.cells[NAME]} ({row.key[:8]}) and its files?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        if LIVE_ALIAS in row.cells[ALIASES].split(", "):
            box.setInformativeText("It is the Live Feedback model; Live Feedback falls back to the default model.")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda result, key=row.key: self._confirm_delete(key, result))
        self.confirm_box = box
        box.open()

    def _confirm_delete(self, key: str, result: int) -> None:
        self.confirm_box = None
        if result != QMessageBox.StandardButton.Yes.value:
            return
        self.context.write_registry(lambda registry: registry.delete_model(key), "Delete model", parent=self,
                                    done=lambda _r: self.context.status_message.emit(f"Deleted model {key[:8]}"))

    def copy_id(self) -> None:
        row = self.selected_row()
        if row is not None and not row.configured:
            QGuiApplication.clipboard().setText(row.key)
            self.context.status_message.emit(f"Copied {row.key}")

    def export_selected(self, dest: str | Path | None = None) -> Worker | None:
        """Export the selected trained model (asks where when `dest` is None)."""
        row = self.selected_row()
        if row is None or row.configured:
            return None
        target = dest if dest is not None else choose_bundle(self, self.context, save_as=f"{row.cells[NAME]}.sfbundle")
        return export_task(self.context, row.key, target, parent=self) if target else None

    def import_bundle(self, path: str | Path | None = None) -> Worker | None:
        """Import a bundle (asks which when `path` is None); the new model is selected."""
        source = path if path is not None else choose_bundle(self, self.context)
        return import_task(self.context, source, self._on_imported, parent=self) if source else None

    def _on_imported(self, model_id: str) -> None:
        from speakfeed_gui.core.registry.signing import signer_text

        try:
            signer = (self.context.registry().get_model_info(model_id).get("imported_from") or {}).get("signer")
        except SpeakFeedError:
            signer = None
        self.context.status_message.emit(f"Imported model {model_id[:8]}, {signer_text(signer)}")
        self.show_model(model_id)

    def verify_selected(self) -> Worker | None:
        row = self.selected_row()
        if row is None or row.configured:
            return None
        return verify_task(self.context, row.key, parent=self)

    # -- comparison ------------------------------------------------------------------------
    def selected_trained_keys(self) -> list[str]:
        """Registry ids of every selected trained model, in table order."""
        rows = sorted(self.view.selectionModel().selectedRows(), key=lambda index: index.row())
        keys = [self.model.row(self.proxy.mapToSource(index).row()) for index in rows]
        return [row.key for row in keys if not row.configured]

    def _update_compare(self) -> None:
        self.act_compare.setEnabled(len(self.selected_trained_keys()) >= 2)

    def compare_selected(self) -> Any:
        """The comparison dialog of the selected trained models (two or more)."""
        from speakfeed_gui.ui.compare_dialog import CompareDialog

        keys = self.selected_trained_keys()
        if len(keys) < 2:
            self.context.status_message.emit("Select two or more trained models (Ctrl+click) to compare them.")
            return None
        try:
            dialog = CompareDialog(self.context, keys, self)
        except SpeakFeedError as exc:
            report_error(exc, title="Compare models")
            return None
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.compare_dialog = dialog
        dialog.show()
        return dialog
    def evaluate_selected(self, dataset: str | Path | None = None, mapping: str = "") -> Worker | None:
        """Evaluate the selected trained model on a labelled dataset in a worker (asks which when `dataset` is None).

        The record lands in the model's metadata (core `evaluate_on_dataset`); the details pane then shows it.
        """
        row = self.selected_row()
        if row is None or row.configured or self.evaluate_worker is not None:
            return None
        if dataset is None:
            start = str(self.context.setting("paths/last_dataset_dir", str(Path.home())))
            dialog = EvaluateDialog(row.cells[NAME], list(row.entry.get("labels") or ()), start, self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.accepted.connect(lambda d=dialog: self.evaluate_selected(*d.values()))
            self.evaluate_dialog = dialog
            dialog.open()
            return None
        from speakfeed_gui.core.training.datasets import label_map_from_text

        try:
            label_map = label_map_from_text(mapping)
        except SpeakFeedError as exc:
            report_error(exc, title="Evaluate model")
            return None
        key, workspace, source = row.key, self.context.workspace, Path(dataset)

        def work(progress: Any, cancel: Any) -> dict[str, Any]:
            from speakfeed_gui.core.training.external_eval import evaluate_on_dataset

            return evaluate_on_dataset(key, source, label_map=label_map or None, workspace=workspace,
                                       progress=progress, cancel=cancel)

        worker = Worker(work, name="evaluate model", parent=self)
        worker.finished.connect(lambda record, k=key: self._on_evaluated(k, record))
        worker.failed.connect(lambda exc: report_error(exc, title="Evaluate model"))
        worker.done.connect(self._on_evaluate_done)
        self.evaluate_worker = worker
        self.act_evaluate.setEnabled(False)
        self.context.track(worker, "Evaluating model")
        return worker.start()

    def _on_evaluated(self, key: str, record: dict[str, Any]) -> None:
        self.context.notify_registry_changed()  # re-reads the metadata, so the details show the new record
        if self.selected_key() == key:
            self.details.evaluation_choice.setCurrentIndex(self.details.evaluation_choice.count() - 1)
        self.context.status_message.emit(
            f"Model {key[:8]} on {Path(record['dataset']['source']).name}: UAR {record['uar']:.3f}, "
            f"accuracy {record['accuracy']:.3f}, macro-F1 {record['macro_f1']:.3f}"
        )

    def _on_evaluate_done(self) -> None:
        self.evaluate_worker = None
        self._update_actions(self.selected_row())
