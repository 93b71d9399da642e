"""Hostile registry files: random bytes and valid JSON of the wrong shape, read and written through.

Every command either works or says, in one line, which file is broken and how to recover; a broken
registry is never overwritten (tests/core/test_registry.py proves it for a few fixed corruptions).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from speakfeed_gui.cli import main
from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.workspace import init_workspace
from tests.reliability.helpers import FUZZ, assert_one_line, assert_refused, run_cli, tree_state

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["model_path", "scaler_path", "metadata_path", "extra_files", "labels", "version", "created_at", "model_name",
          "experiment_name", "metadata_sha256", "accuracy", "tags", "description"]
ENTRY = st.dictionaries(st.sampled_from(FIELDS), JSON | st.sampled_from(["a/b.skops", "/etc/passwd", "../x.json"]), max_size=6)
MODEL_ID = "3f1e2d4c-0000-4000-8000-00000000abcd"
SHAPED = st.dictionaries(
    st.sampled_from([MODEL_ID, "_aliases", "_generation", "_future", "x"]) | st.text(max_size=5),
    ENTRY | JSON | st.dictionaries(st.sampled_from(["live", "x"]), st.sampled_from([MODEL_ID, "nope"]) | JSON),
    max_size=4,
)


def _exercise(ws, capsys) -> None:
    """Every registry command: works, or one SpeakFeedError line; nothing in the workspace is ever rewritten
    by a command that failed because the registry is unreadable."""
    registry = ModelRegistry(ws.registry_path)
    before = tree_state(ws.root)
    try:
        models = registry.list_models()
    except SpeakFeedError as exc:
        assert_one_line(exc, "registry file is corrupt")
        for write in (lambda: registry.register_model({"model_name": "new"}), lambda: registry.set_alias("live", MODEL_ID)):
            with pytest.raises(SpeakFeedError):
                write()
        assert tree_state(ws.root) == before, "a corrupt registry was modified"
        models = []
    ws_args = ["--workspace", str(ws.root)]
    commands = [["models", "list"], ["models", "list", "--json"]]
    for model in models:
        commands += [["models", action, model["id"]] for action in ("show", "verify")]
        commands += [["models", "export", model["id"], str(ws.root)], ["predict", "--model", model["id"], __file__]]
    for argv in commands:
        _console_to(sys.stderr)
        code = main([*ws_args, *argv])
        err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert code in (0, 2), (argv, code, err)
        if code == 2:  # one error line, after any warnings the command logged on its way
            assert err[-1].startswith("speakfeed: error: ") and all(e.startswith("WARNING: ") for e in err[:-1]), err


def _console_to(stream) -> None:
    """The CLI's console log handler was bound to the stderr of the first test that ran main(): rebind it."""
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:
            handler.stream = stream  # not setStream(): it would flush the closed old stream


@FUZZ
@given(snapshot=st.binary(max_size=200) | JSON.map(json.dumps) | SHAPED.map(json.dumps))
def test_random_snapshot_files(tmp_path_factory, capsys, snapshot: str | bytes) -> None:
    ws = init_workspace(tmp_path_factory.mktemp("ws"))
    ws.registry_path.write_bytes(snapshot if isinstance(snapshot, bytes) else snapshot.encode())
    _exercise(ws, capsys)


OPS = st.fixed_dictionaries(
    {"gen": st.integers(-1, 2) | JSON, "op": st.sampled_from(["put", "delete", "update", "alias", "unalias", "drop"])},
    optional={"id": st.sampled_from([MODEL_ID, "x"]) | JSON, "entry": ENTRY | JSON, "fields": ENTRY | JSON,
              "alias": st.sampled_from(["live"]) | JSON},
)


@FUZZ
@given(lines=st.lists(OPS.map(json.dumps) | st.text(max_size=30), max_size=4), tail=st.binary(max_size=20))
def test_random_journal_lines(tmp_path_factory, capsys, lines: list[str], tail: bytes) -> None:
    ws = init_workspace(tmp_path_factory.mktemp("ws"))
    journal = ws.registry_path.with_name("model_registry.journal")
    journal.write_bytes("".join(line.replace("\n", " ") + "\n" for line in lines).encode() + tail.replace(b"\n", b""))
    _exercise(ws, capsys)


HAND_WRITTEN = {
    "deeply nested": b"[" * 100_000,
    "huge number": b'{"a": ' + b"9" * 5000 + b"}",
    "utf-16": json.dumps({MODEL_ID: {"model_name": "x"}}).encode("utf-16"),
    "a list": b"[1, 2, 3]",
    "entry not an object": json.dumps({MODEL_ID: 5}).encode(),
    "path not text": json.dumps({MODEL_ID: {"model_path": 5, "metadata_path": ["a"]}}).encode(),
    "labels not a list": json.dumps({MODEL_ID: {"labels": 7}}).encode(),
    "no metadata recorded": json.dumps({MODEL_ID: {"model_name": "bare", "model_path": "a.skops"}}).encode(),
    "metadata of another shape": json.dumps({MODEL_ID: {"model_name": "x", "metadata_path": "meta.json"}}).encode(),
    "metadata nested deeply": json.dumps({MODEL_ID: {"model_name": "x", "metadata_path": "deep.json"}}).encode(),
}


@pytest.mark.parametrize("case", list(HAND_WRITTEN))
def test_hand_written_registry_files(tmp_path: Path, capsys, case: str) -> None:
    ws = init_workspace(tmp_path / "ws")
    (ws.models_dir / "meta.json").write_text('{"artifacts": [1], "model_info": 3}')
    (ws.models_dir / "deep.json").write_text("[" * 100_000)
    ws.registry_path.write_bytes(HAND_WRITTEN[case])
    _exercise(ws, capsys)


@pytest.mark.slow
@pytest.mark.parametrize("case", ["deeply nested", "huge number", "path not text", "no metadata recorded"])
def test_hostile_registry_through_the_cli(tmp_path: Path, case: str) -> None:
    ws = init_workspace(tmp_path / "ws")
    ws.registry_path.write_bytes(HAND_WRITTEN[case])
    before = tree_state(ws.root)
    command = ["models", "verify", MODEL_ID] if case == "no metadata recorded" else ["models", "alias", "live", MODEL_ID]
    assert_refused(run_cli(ws.root, *command), "no metadata file is recorded" if case == "no metadata recorded" else "corrupt")
    assert tree_state(ws.root) == before


def test_an_older_registry_on_a_read_only_disk_is_read_in_memory(tmpfs) -> None:
    """Migration needs the lock and a rewrite; a read-only disk still lists every model, changing nothing."""
    from tests.core.test_registry import legacy_workspace

    fs = tmpfs("4m")
    path, ids = legacy_workspace(fs.path)
    before = tree_state(path.parent)
    fs.read_only()
    registry = ModelRegistry(path)
    assert [m["id"] for m in registry.list_models()] == [ids[2], ids[1], ids[0]]
    assert registry.aliases() == {"live": ids[0], "best": ids[2]}
    with pytest.raises(SpeakFeedError) as info:
        registry.set_alias("other", ids[1])
    assert_one_line(info.value, "read-only file system")
    assert tree_state(path.parent) == before
