"""Details pane of the Model Browser: what a model is, what it was trained on, how well it does."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.ui.metrics_view import MetricsView

log = logging.getLogger(__name__)


def read_metadata(entry: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """(metadata, problem): the verified metadata of a trained model (core reader), or why it cannot be shown."""
    from speakfeed_gui.core.registry.artifacts import read_metadata as read_verified

    path = entry.get("metadata_path")
    if not path:
        return {}, "no metadata file recorded"
    try:
        return read_verified(path, entry.get("metadata_sha256")), ""
    except SpeakFeedError as exc:
        return {}, str(exc)


def _signer(entry: Mapping[str, Any]) -> str | None:
    """Who signed an imported model's bundle (None for a model trained here)."""
    imported = entry.get("imported_from")
    if not isinstance(imported, Mapping):
        return None
    from speakfeed_gui.core.registry.signing import signer_text

    return signer_text(imported.get("signer"))


def _text(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    return str(value)


class ModelDetails(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Property", "Value"])
        self.tree.setColumnWidth(0, 170)
        self.tree.setAlternatingRowColors(True)
        self.metrics = MetricsView()
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.tree)
        split.addWidget(self.metrics)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([330, 420])
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(split, 1)
        self.clear()

    # -- content -----------------------------------------------------------------------
    def clear(self, message: str = "Select a model to see its details.") -> None:
        self.title.setText(f"<i>{message}</i>")
        self.tree.clear()
        self.metrics.set_evaluation(None, "Nothing selected")

    def show_trained(self, entry: Mapping[str, Any], metadata: Mapping[str, Any], problem: str = "") -> None:
        name = entry.get("model_name") or entry.get("experiment_name") or entry.get("id", "")
        self.title.setText(f"<b>{name}</b> &nbsp; <span style='color:gray'>trained · id {entry.get('id', '')}</span>")
        self.tree.clear()
        info = metadata.get("model_info") or {}
        model = self._group("Model", {
            "type": entry.get("model_type") or info.get("model_type"),
            "experiment": entry.get("experiment_name"),
            "created": entry.get("created_at"),
            "version": entry.get("version"),
            "labels": entry.get("labels") or metadata.get("labels"),
            "aliases": entry.get("aliases") or "",
            "tags": entry.get("tags") or "",
            "description": entry.get("description") or "",
            "model file": entry.get("model_path"),
            "signed by": _signer(entry),
        })
        self._group("Hyperparameters", info.get("hyperparameters") or {}, parent=model)
        features = metadata.get("feature_set") or {}
        names = features.get("names") or []
        item = self._group("Feature set", {"id": features.get("id"), "version": features.get("version"),
                                           "features": len(names) if names else None})
        if names:
            item.setToolTip(1, ", ".join(names))
        dataset = metadata.get("dataset") or {}
        fingerprint = dataset.get("fingerprint") or {}
        label_counts = fingerprint.get("label_counts") or {}
        self._group("Dataset", {
            "source": dataset.get("source"), "layout": dataset.get("layout"), "clips": fingerprint.get("n_clips"),
            "speakers": fingerprint.get("n_speakers"),
            "label counts": ", ".join(f"{k}: {v}" for k, v in label_counts.items()) if label_counts else None,
            "skipped files": len(dataset.get("skipped") or []), "sha256": fingerprint.get("sha256"),
        })
        split = metadata.get("split") or {}
        self._group("Split", {
            "speaker-independent": split.get("grouped"), "test fraction": split.get("test_fraction"),
            "seed": split.get("seed"), "train clips": split.get("n_train"), "test clips": split.get("n_test"),
        })
        self._group("Library versions", metadata.get("versions") or {})
        if problem:
            QTreeWidgetItem(self.tree, ["Problem", problem])
        self.tree.expandAll()
        self.metrics.set_evaluation(metadata.get("evaluation_results"), problem or "No evaluation results recorded")

    def show_configured(self, name: str, info: Mapping[str, Any]) -> None:
        default = " · default model" if info.get("default") else ""
        self.title.setText(f"<b>{name}</b> &nbsp; <span style='color:gray'>configured in models.yaml{default}"
                           " (not trained here)</span>")
        self.tree.clear()
        model = self._group("Model", {
            "type": info.get("type"), "version": info.get("version"), "input": info.get("input"),
            "labels": info.get("labels"), "confidence threshold": info.get("confidence_threshold"),
            "description": info.get("description"),
        })
        self._group("Config", info.get("config") or {}, parent=model)
        self.tree.expandAll()
        self.metrics.set_evaluation(None, "Configured models have no evaluation from this app")

    def _group(self, title: str, values: Mapping[str, Any], parent: QTreeWidgetItem | None = None) -> QTreeWidgetItem:
        group = QTreeWidgetItem(parent if parent is not None else self.tree, [title, ""])
        font = group.font(0)
        font.setBold(True)
        group.setFont(0, font)
        for key, value in values.items():
            if value is None or value == "":
                continue
            child = QTreeWidgetItem(group, [str(key), _text(value)])
            child.setToolTip(1, _text(value))
        return group

    def values(self) -> dict[str, str]:
        """Flattened 'Group/key' -> text of the tree (what the user reads; used by tests)."""
        out: dict[str, str] = {}

        def walk(item: QTreeWidgetItem, prefix: str) -> None:
            for i in range(item.childCount()):
                child = item.child(i)
                key = f"{prefix}{child.text(0)}"
                if child.childCount():
                    walk(child, key + "/")
                else:
                    out[key] = child.text(1)

        walk(self.tree.invisibleRootItem(), "")
        return out
