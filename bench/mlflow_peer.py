"""The MLflow side of figure 4: its model registry on a local SQLite store (benchmark-only peer).

One SpeakFeed registry entry corresponds to one MLflow *model version*; our `experiment_name`
is the registered model's name and the entry's fields become version tags, so "register one
model" is `create_model_version` and "list all" is `search_model_versions` paged to the end.
Filling a store with thousands of versions through the API would take minutes of setup, so the
versions beyond the first per registered model are inserted with SQLAlchemy into MLflow's own
tables, copying the first (API-created) row of each registered model: the schema stays MLflow's.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Iterable

QUIET_ENV = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true", "GIT_PYTHON_REFRESH": "quiet",
             "MLFLOW_ENABLE_ASYNC_LOGGING": "false"}


def quiet() -> None:
    """No telemetry, no git probing, no INFO chatter from MLflow or alembic."""
    import logging

    os.environ.update(QUIET_ENV)
    for name in ("mlflow", "alembic", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.WARNING)


def version_tags(entry: dict[str, Any]) -> dict[str, str]:
    keys = ("model_type", "accuracy", "macro_f1", "created_at", "dataset_sha256", "n_clips", "model_name")
    return {k: str(entry[k]) for k in keys if k in entry}


class MlflowRegistry:
    """A SQLite-backed MLflow model registry in `folder`, filled like one of ours."""

    def __init__(self, folder: Path) -> None:
        quiet()
        from mlflow import MlflowClient

        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.uri = f"sqlite:///{folder / 'mlflow.db'}"
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)

    def fill(self, entries: Iterable[dict[str, Any]]) -> int:
        """Register every entry: the first of each experiment through the API, the rest in bulk."""
        import sqlalchemy as sa
        from mlflow.store.model_registry.dbmodels.models import SqlModelVersion, SqlModelVersionTag

        first: dict[str, Any] = {}
        versions: list[dict[str, Any]] = []
        tags: list[dict[str, Any]] = []
        counts: dict[str, int] = {}
        for entry in entries:
            name = entry["experiment_name"]
            if name not in first:
                self.client.create_registered_model(name)
                first[name] = self.register(entry)
                counts[name] = 1
                continue
            counts[name] += 1
            versions.append({"name": name, "version": counts[name], "source": self.source(entry),
                             "description": entry.get("description", "")})
            tags += [{"name": name, "version": counts[name], "key": k, "value": v} for k, v in version_tags(entry).items()]
        engine = sa.create_engine(self.uri)
        with engine.begin() as connection:
            model = {row.name: row._asdict() for row in connection.execute(sa.select(SqlModelVersion.__table__))}
            now = int(time.time() * 1000)
            rows = [{**model[v["name"]], **v, "creation_time": now, "last_updated_time": now} for v in versions]
            workspace = {row["name"]: row.get("workspace") for row in model.values()}
            if rows:
                connection.execute(SqlModelVersion.__table__.insert(), rows)
            if tags:
                if "workspace" in SqlModelVersionTag.__table__.columns:
                    tags = [{**t, "workspace": workspace[t["name"]]} for t in tags]
                connection.execute(SqlModelVersionTag.__table__.insert(), tags)
        engine.dispose()
        return len(rows) + len(first)

    def source(self, entry: dict[str, Any]) -> str:
        return (self.folder / "artifacts" / entry.get("model_name", "model")).as_uri()

    def register(self, entry: dict[str, Any]) -> Any:
        return self.client.create_model_version(
            entry["experiment_name"], self.source(entry), tags=version_tags(entry), description=entry.get("description"))

    def set_alias(self, alias: str, name: str, version: int) -> None:
        self.client.set_registered_model_alias(name, alias, version)

    def list_all(self, filter_string: str | None = None) -> list[Any]:
        out, token = [], None
        while True:
            page = self.client.search_model_versions(filter_string, max_results=10_000, page_token=token)
            out += list(page)
            token = page.token
            if not token:
                return out


TREE_TYPES = ["sklearn.tree._tree.Tree"]


def log_model_seconds(folder: Path, estimator: Any, scaler: Any, experiment: str) -> float:
    """`mlflow.sklearn.log_model` of scaler + classifier (one Pipeline) with registration, in a run."""
    quiet()
    import mlflow
    import mlflow.sklearn
    from sklearn.pipeline import Pipeline

    folder.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    if mlflow.get_experiment_by_name(experiment) is None:
        mlflow.create_experiment(experiment, artifact_location=(folder / "artifacts").as_uri())
    mlflow.set_experiment(experiment)
    pipeline = Pipeline([("scaler", scaler), ("classifier", estimator)])
    with mlflow.start_run():
        began = time.perf_counter()
        mlflow.sklearn.log_model(pipeline, name="model", registered_model_name=experiment,
                                 skops_trusted_types=TREE_TYPES)  # the trust our own loader gives tree models
        return time.perf_counter() - began
