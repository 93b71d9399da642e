"""Shared set-up for the figures: sizes per mode, a trained workspace, the virtual microphone.

Everything lives in one temporary folder per run; the user's workspace, settings and logs are
never touched (the runner points SPEAKFEED_WORKSPACE, SPEAKFEED_SETTINGS_DIR and
SPEAKFEED_LOG_DIR into it before any figure runs).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, TypeVar

REPO = Path(__file__).resolve().parents[1]
DEMO_CSV = REPO / "resources" / "demo_corpus" / "demo_corpus.csv"
T = TypeVar("T")


def say(message: str) -> None:
    """Progress for the person running the benchmarks (stderr, so stdout stays clean)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class BenchContext:
    smoke: bool
    root: Path
    _workspace: Any = None
    _mic: Any = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def pick(self, full: T, smoke: T) -> T:
        """A size for the current mode."""
        return smoke if self.smoke else full

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def trained_workspace(self) -> Any:
        """A workspace whose `live` alias is the demo model trained on the bundled corpus (built once)."""
        if self._workspace is None:
            from bench.data import corpus_copies
            from speakfeed_gui.core.registry.api import ModelRegistry
            from speakfeed_gui.core.settings.workspace import init_workspace
            from speakfeed_gui.core.training.bootstrap import HYPERPARAMETERS, LIVE_ALIAS, MODEL_TYPE, bootstrap
            from speakfeed_gui.core.training.trainer import run_training_experiment

            workspace = init_workspace(self.folder("trained-ws"))
            if self.smoke:  # the demo model's recipe on 40 clips, 1 s live windows: the same code in less time
                config = workspace.config_path.read_text()
                for old, new in (("window_seconds: 2.0", "window_seconds: 1.0"), ("hop_seconds: 0.5", "hop_seconds: 0.25")):
                    if old not in config:
                        raise RuntimeError(f"{workspace.config_path}: no {old!r} to shorten for the smoke run")
                    config = config.replace(old, new)
                workspace.config_path.write_text(config)
                csv_path, _ = corpus_copies(self.folder("clips-40"), 40)
                model_id = run_training_experiment(csv_path, MODEL_TYPE, HYPERPARAMETERS, workspace=workspace)
                ModelRegistry(workspace.registry_path).set_alias(LIVE_ALIAS, model_id)
            else:
                say("training the demo default model into a temporary workspace")
                bootstrap(workspace)
            self._workspace = workspace
        return self._workspace

    def live_model(self) -> Any:
        """The trained audio_emotion model (`live` alias), loaded."""
        from speakfeed_gui.core.models.factory import ModelFactory

        return ModelFactory(workspace=self.trained_workspace()).get_model().load()

    def subprocess_env(self, **extra: str) -> dict[str, str]:
        """The environment for child Python processes: this run's isolation plus the repo on the path."""
        env = dict(os.environ, **extra)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
        return env

    def microphone(self) -> Any:
        """The PulseAudio virtual microphone (tests/virtual_mic.py): the running one, or started for this run."""
        if self._mic is None:
            from tests.virtual_mic import VirtualMic

            try:
                self._mic = VirtualMic.start(self.folder("mic"))
            except BaseException as exc:  # pytest.fail raises an OutcomeException (a BaseException)
                raise RuntimeError(f"virtual microphone did not start: {exc}") from None
            self._stack.callback(self._mic.stop)
        return self._mic

    @contextlib.contextmanager
    def feeder(self, cls: Any = None, **kwargs: Any) -> Iterator[Any]:
        """A MicFeeder (or subclass) writing silence and queued clips into the virtual microphone in real time."""
        from tests.virtual_mic import MicFeeder

        feeder = (cls or MicFeeder)(self.microphone().fifo, **kwargs).start()
        try:
            yield feeder
        finally:
            feeder.stop()

    def close(self) -> None:
        self._stack.close()
