"""Side-by-side comparison of registry models (MLflow's "compare runs", for a coach).

`compare_models` reads each model's entry and metadata JSON and lines them up in sections of
rows, one value per model, each row flagged when the values differ (the "only differences"
filter). Confusion matrices and extra evaluations on other datasets are kept per model. The CLI
(`speakfeed models compare`) and the Model Browser's comparison dialog both show this one result.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from speakfeed_gui.core.errors import RegistryError, SpeakFeedError
from speakfeed_gui.core.registry.artifacts import read_metadata as read_verified

SUMMARY_METRICS = ("accuracy", "macro_precision", "macro_recall", "macro_f1")
EXTRA_KEYS = ("extra_evaluations", "evaluations", "external_evaluations")  # first present wins


@dataclass
class Row:
    key: str
    values: list[Any]
    differs: bool


@dataclass
class Comparison:
    models: list[dict[str, Any]]  # id, name, experiment, type, version, created_at, aliases, problem
    sections: dict[str, list[Row]] = field(default_factory=dict)
    confusion: list[dict[str, Any] | None] = field(default_factory=list)  # {"labels", "matrix"} per model

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def rows(self, section: str, only_differences: bool = False) -> list[Row]:
        return [r for r in self.sections.get(section, []) if r.differs or not only_differences]


def read_metadata(entry: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """(metadata, problem): a trained model's verified metadata (sha256 checked), or why it is unusable.

    A comparison still lists a model whose metadata is missing or changed, with the problem.
    """
    path = entry.get("metadata_path")
    if not path:
        return {}, "no metadata file recorded"
    try:
        return read_verified(path, entry.get("metadata_sha256")), ""
    except SpeakFeedError as exc:
        return {}, str(exc)


def _section(mapping: Any, key: str) -> dict[str, Any]:
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, dict) else {}


def _same(values: Sequence[Any]) -> bool:
    def norm(v: Any) -> Any:
        if isinstance(v, float) and math.isfinite(v):
            return round(v, 6)
        return json.dumps(v, sort_keys=True, default=str)

    return len({norm(v) for v in values}) <= 1


def _rows(per_model: Sequence[Mapping[str, Any]], order: Iterable[str] = ()) -> list[Row]:
    keys = list(order)
    for values in per_model:
        keys += [k for k in values if k not in keys]
    rows = []
    for key in keys:
        values = [m.get(key) for m in per_model]
        if all(v is None for v in values):
            continue
        rows.append(Row(key, values, not _same(values)))
    return rows


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _extra_evaluations(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """{"<dataset>.<metric>": number} from whatever extra-evaluation shape the metadata holds.

    A mapping of dataset -> metrics, or a list of objects naming their dataset ("dataset",
    "name" or "source"); only numeric metrics are compared.
    """
    raw = next((metadata[k] for k in EXTRA_KEYS if k in metadata), None)
    if isinstance(raw, list):
        named = {}
        for n, item in enumerate(raw):
            if isinstance(item, dict):
                name = item.get("dataset") or item.get("name") or item.get("source") or f"evaluation {n + 1}"
                named[str(name)] = item
        raw = named
    out: dict[str, Any] = {}
    if not isinstance(raw, dict):
        return out
    for dataset, metrics in raw.items():
        if _number(metrics):
            out[str(dataset)] = metrics
        elif isinstance(metrics, dict):
            out.update({f"{dataset}.{k}": v for k, v in metrics.items() if _number(v)})
    return out


def _training(metadata: Mapping[str, Any]) -> dict[str, Any]:
    dataset = _section(metadata, "dataset")
    fingerprint = _section(dataset, "fingerprint")
    split = _section(metadata, "split")
    features = _section(metadata, "feature_set")
    names = features.get("names")
    return {
        "dataset": dataset.get("source"),
        "layout": dataset.get("layout"),
        "clips": fingerprint.get("n_clips"),
        "speakers": fingerprint.get("n_speakers"),
        "labels": fingerprint.get("n_labels"),
        "label counts": fingerprint.get("label_counts"),
        "dataset sha256": (fingerprint.get("sha256") or "")[:12] or None,
        "skipped clips": len(dataset["skipped"]) if isinstance(dataset.get("skipped"), list) else None,
        "split": ("speaker-independent" if split.get("grouped") else "speakers mixed") if split else None,
        "test fraction": split.get("test_fraction"),
        "train / test": f"{split.get('n_train')} / {split.get('n_test')}" if split else None,
        "seed": split.get("seed"),
        "cv folds": split.get("cv_folds") or split.get("folds"),
        "feature set": f"{features.get('id')} v{features.get('version')}" if features.get("id") else None,
        "features": len(names) if isinstance(names, list) else None,
        "versions": ", ".join(f"{k} {v}" for k, v in _section(metadata, "versions").items()) or None,
    }


def compare_models(registry: Any, refs: Sequence[str]) -> Comparison:
    """The comparison of two or more models given by id, id prefix or alias."""
    if len(refs) < 2:
        raise RegistryError(f"compare: give two or more models to compare, got {len(refs)}")
    ids = [registry.resolve(ref) for ref in refs]
    if len(set(ids)) != len(ids):
        twice = next(r for r, i in zip(refs, ids) if ids.count(i) > 1)
        raise RegistryError(f"compare: {twice!r} names a model that is already in the comparison")
    entries = [registry.get_model_info(i) for i in ids]
    metas = []
    models = []
    for entry in entries:
        metadata, problem = read_metadata(entry)
        metas.append(metadata)
        models.append({"id": entry["id"], "name": entry.get("model_name"), "experiment": entry.get("experiment_name"),
                       "type": entry.get("model_type"), "version": entry.get("version"),
                       "created_at": entry.get("created_at"), "aliases": entry.get("aliases", []),
                       "problem": problem or None})
    evaluations = [_section(m, "evaluation_results") for m in metas]
    metrics = []
    for entry, evaluation in zip(entries, evaluations):
        values = {k: evaluation.get(k, entry.get(k)) for k in SUMMARY_METRICS}
        for label, scores in _section(evaluation, "per_class").items():
            if isinstance(scores, dict):
                values[f"f1 {label}"] = scores.get("f1")
                values[f"recall {label}"] = scores.get("recall")
        metrics.append(values)
    confusion = []
    for evaluation in evaluations:
        matrix, labels = evaluation.get("confusion_matrix"), evaluation.get("labels")
        ok = isinstance(matrix, list) and isinstance(labels, list) and len(matrix) == len(labels)
        confusion.append({"labels": labels, "matrix": matrix} if ok else None)
    hyper = [_section(_section(m, "model_info"), "hyperparameters") for m in metas]
    sections = {
        "metrics": _rows(metrics, SUMMARY_METRICS),
        "hyperparameters": _rows([{**{"model type": e.get("model_type")}, **h} for e, h in zip(entries, hyper)]),
        "training": _rows([_training(m) for m in metas]),
        "extra evaluations": _rows([_extra_evaluations(m) for m in metas]),
    }
    return Comparison(models=models, sections=sections, confusion=confusion)
