"""Details pane of the Model Browser: what a model is, what it was trained on, how well it does."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from speakfeed_gui.core.registry.compare import read_metadata  # noqa: F401  (re-exported: one reader, in core)
from speakfeed_gui.ui.metrics_view import MetricsView

log = logging.getLogger(__name__)


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


def evaluation_title(record: Mapping[str, Any]) -> str:
    """How an extra evaluation is named in the pane: its kind, dataset and UAR."""
    dataset = record.get("dataset") or {}
    source = Path(str(dataset.get("source") or "?"))
    name = f"{source.parent.name}/{source.name}" if source.suffix else source.name
    uar = record.get("uar")
    figure = f"UAR {uar:.3f}" if isinstance(uar, (int, float)) else "UAR –"
    if record.get("kind") == "leave-one-speaker-out":
        return f"Leave-one-speaker-out over {dataset.get('n_speakers', '?')} speakers of {name} · {figure}"
    return f"Dataset {name} · {figure}"


def evaluation_line(record: Mapping[str, Any]) -> str:
    def fmt(key: str) -> str:
        value = record.get(key)
        return f"{value:.3f}" if isinstance(value, (int, float)) else "–"

    seen = record.get("seen_in_training")
    warning = f" · {seen} of them seen in training!" if seen else ""
    return (f"UAR {fmt('uar')} · accuracy {fmt('accuracy')} · macro-F1 {fmt('macro_f1')} · "
            f"{record.get('n_test', '?')} clips{warning} · {record.get('created_at', '')}")


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
        self.evaluation_choice = QComboBox()  # held-out split or one of the extra evaluations
        self.evaluation_choice.setToolTip("Which evaluation the figures and the confusion matrix below show")
        self.evaluation_choice.currentIndexChanged.connect(self._show_evaluation)
        self._evaluations: list[tuple[Mapping[str, Any] | None, str]] = []
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(self.evaluation_choice)
        lower_layout.addWidget(self.metrics, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        split.addWidget(self.tree)
        split.addWidget(lower)
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
        self._set_evaluations([(None, "Nothing selected")])

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
            "label mapping": ", ".join(f"{k} → {v}" for k, v in (dataset.get("label_map") or {}).items()) or None,
        })
        split = metadata.get("split") or {}
        self._group("Split", {
            "speaker-independent": split.get("grouped"), "test fraction": split.get("test_fraction"),
            "seed": split.get("seed"), "train clips": split.get("n_train"), "test clips": split.get("n_test"),
        })
        from speakfeed_gui.core.training.external_eval import extra_evaluations

        extra = extra_evaluations(metadata)
        if extra:
            self._group("Evaluations", {evaluation_title(r).split(" · ")[0]: evaluation_line(r) for r in extra})
        self._group("Library versions", metadata.get("versions") or {})
        if problem:
            QTreeWidgetItem(self.tree, ["Problem", problem])
        self.tree.expandAll()
        held_out = metadata.get("evaluation_results")
        n_test = (held_out or {}).get("n_test")
        choices: list[tuple[Mapping[str, Any] | None, str]] = [
            (held_out, f"Held-out split ({n_test} clips)" if n_test else "Held-out split")]
        choices += [(r, evaluation_title(r)) for r in extra]
        loso = [n for n, (r, _) in enumerate(choices) if r and r.get("kind") == "leave-one-speaker-out"]
        # the speaker-independent figure is the one to read first when there is one
        self._set_evaluations(choices, problem or "No evaluation results recorded", current=loso[-1] if loso else 0)

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
        self._set_evaluations([(None, "Configured models have no evaluation from this app")])

    def _set_evaluations(self, choices: list[tuple[Mapping[str, Any] | None, str]], empty: str = "",
                         current: int = 0) -> None:
        """Offer these evaluations in the chooser (hidden when there is only one) and show `current`."""
        self._evaluations = [(record, empty or title) for record, title in choices]
        self.evaluation_choice.blockSignals(True)
        self.evaluation_choice.clear()
        self.evaluation_choice.addItems([title for _, title in choices])
        self.evaluation_choice.setCurrentIndex(current)
        self.evaluation_choice.blockSignals(False)
        self.evaluation_choice.setVisible(len(choices) > 1)
        self._show_evaluation(current)

    def _show_evaluation(self, index: int) -> None:
        if 0 <= index < len(self._evaluations):
            record, empty = self._evaluations[index]
            self.metrics.set_evaluation(record, empty)

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
