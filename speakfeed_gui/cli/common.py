"""Helpers shared by the CLI command modules: workspace/factory from args, tables, progress."""

from __future__ import annotations

import json
import sys
from typing import Any, Iterable, Sequence

from speakfeed_gui.core.settings.workspace import Workspace, resolve_workspace


def workspace_from(args: Any) -> Workspace:
    return resolve_workspace(getattr(args, "workspace", None))


def writable_registry(args: Any):
    """The workspace's registry for a command that changes it; one-line refusal when this user may not."""
    from speakfeed_gui.core.errors import RegistryError
    from speakfeed_gui.core.registry.api import ModelRegistry, guard_writes
    from speakfeed_gui.core.settings.config import load_config

    ws = workspace_from(args)
    registry = ModelRegistry(ws.registry_path)
    refusal = guard_writes(registry, load_config(ws.config_path).registry.maintainers)
    if refusal:
        raise RegistryError(refusal)
    return registry


def factory_from(args: Any):
    from speakfeed_gui.core.models.factory import ModelFactory

    return ModelFactory(workspace=workspace_from(args))


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Left-aligned plain-text table with a header rule."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


class TerminalProgress:
    """A ProgressCallback that draws one updating line on stderr (plain lines when not a tty)."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._last = ("", -1)

    def __call__(self, stage: str, done: int, total: int, message: str = "") -> None:
        if self.tty:
            width = 30
            filled = int(width * done / total) if total else 0
            bar = "#" * filled + "-" * (width - filled)
            self.stream.write(f"\r{stage:<12} [{bar}] {done}/{total} {message[:40]:<40}")
            if total and done >= total:
                self.stream.write("\n")
            self.stream.flush()
        elif (stage, done) != self._last and (done in (0, total) or total <= 20):
            self.stream.write(f"{stage}: {done}/{total} {message}\n")
        self._last = (stage, done)


def cluster_from(args: Any) -> str | None:
    """`--cluster`, else the workspace's `compute.cluster` (models.yaml), else None: run here."""
    return args.cluster or factory_from(args).config.compute.cluster
