"""Hostile `.sfbundle` archives from strangers: refused by name, nothing written, nothing run.

tests/core/test_bundle.py covers fixed cases (absolute and '..' member paths, symlinks, pickles by
name, an untrusted skops type, declared-size zip bombs, a member lying about its size). Here: random
archives built by mutating a real bundle, duplicate names, nested zips, a zip bomb hidden inside a
.skops member, backslash and drive-letter paths, and a sample through `python -m speakfeed_gui`.
"""

from __future__ import annotations

import hashlib
import io
import json
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from speakfeed_gui.core.errors import IntegrityError, SpeakFeedError
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.registry.bundle import export_bundle, import_bundle, verify_model
from speakfeed_gui.core.settings.workspace import init_workspace
from tests.reliability.helpers import FUZZ, assert_one_line, assert_refused, run_cli, tree_state


@pytest.fixture
def shared(trained, tmp_path: Path):
    """(members of a real exported bundle, a fresh target registry)."""
    ws, model_id = trained
    bundle = export_bundle(ModelRegistry(ws.registry_path), model_id, tmp_path / "real.sfbundle")
    with zipfile.ZipFile(bundle) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return members, ModelRegistry(init_workspace(tmp_path / "target").registry_path)


def write_zip(path: Path, members: list[tuple[str, bytes]]) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names: we want them
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, data in members:
                archive.writestr(zipfile.ZipInfo(name), data)  # a ZipInfo keeps '/' and '..' as given
    return path


def relisted(members: dict[str, bytes], extra: dict[str, bytes] | None = None, role: str = "extra_files") -> dict[str, bytes]:
    """Members plus `extra`, the manifest listing every file with its true hash (so only content is judged)."""
    manifest = json.loads(members["manifest.json"])
    out = {**members, **(extra or {})}
    for name, data in (extra or {}).items():
        manifest["files"] = [f for f in manifest["files"] if f["name"] != name]
        manifest["files"].append({"name": name, "role": role, "sha256": hashlib.sha256(data).hexdigest()})
    out["manifest.json"] = json.dumps(manifest).encode()
    return out


def assert_import_refused(target: ModelRegistry, bundle: Path, *expected: str) -> None:
    before = tree_state(target.folder.parent)
    with pytest.raises(IntegrityError) as info:
        import_bundle(target, bundle)
    assert_one_line(info.value, str(bundle), *expected)
    assert tree_state(target.folder.parent) == before and len(target) == 0


# ---- generated archives -------------------------------------------------------------------------

NAMES = st.sampled_from([
    "manifest.json", "../escape.json", "/abs.json", "a/b.json", "..\\win.json", "C:evil.json", "x.pkl", "x.joblib",
    "x.skops", "x.json", "", ".", "x\x00.json", "model.json ", "MANIFEST.JSON", "x.SKOPS", "é.json",
]) | st.text(max_size=12)
MANIFEST_VALUES = (
    st.none() | st.integers() | st.text(max_size=8) | st.lists(st.integers(), max_size=2)
    | st.dictionaries(st.sampled_from(["labels", "model_path", "experiment_name", "x"]),
                      st.integers() | st.text(max_size=8) | st.lists(st.text(max_size=4), max_size=2))
)
MUTATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("add"), NAMES, st.binary(max_size=200)),
        st.tuples(st.just("add_listed"), NAMES, st.binary(max_size=200)),
        st.tuples(st.just("drop"), st.integers(0, 10)),
        st.tuples(st.just("duplicate"), st.integers(0, 10)),
        st.tuples(st.just("rename"), st.integers(0, 10), NAMES),
        st.tuples(st.just("garble"), st.integers(0, 10), st.binary(max_size=200)),
        st.tuples(st.just("nest"), st.integers(0, 10)),
        st.tuples(st.just("manifest"), st.sampled_from(["entry", "files", "format", "format_version", "source_id"]),
                  MANIFEST_VALUES),
    ),
    min_size=1,
    max_size=3,
)


def _mutate(members: dict[str, bytes], mutations: list[tuple]) -> list[tuple[str, bytes]]:
    items = list(members.items())
    for kind, *args in mutations:
        pick = (lambda n: n % len(items)) if items else None  # noqa: B023
        if kind == "add":
            items.append((args[0], args[1]))
        elif kind == "add_listed":
            items = list(relisted(dict(items), {args[0]: args[1]}).items()) if "manifest.json" in dict(items) else items
        elif kind == "drop" and items:
            items.pop(pick(args[0]))
        elif kind == "duplicate" and items:
            items.append(items[pick(args[0])])
        elif kind == "rename" and items:
            i = pick(args[0])
            items[i] = (args[1], items[i][1])
        elif kind == "garble" and items:
            i = pick(args[0])
            items[i] = (items[i][0], args[1])
        elif kind == "nest" and items:
            i = pick(args[0])
            inner = io.BytesIO()
            with zipfile.ZipFile(inner, "w") as archive:
                archive.writestr(items[i][0], items[i][1])
            items[i] = (items[i][0], inner.getvalue())
        elif kind == "manifest":
            for i, (name, data) in enumerate(items):
                if name == "manifest.json":
                    try:
                        manifest = json.loads(data)
                        manifest[args[0]] = args[1]
                        items[i] = (name, json.dumps(manifest).encode())
                    except (ValueError, TypeError):
                        pass
    return items


@FUZZ
@given(mutations=MUTATIONS)
def test_mutated_bundles_are_refused_or_import_intact(shared, tmp_path_factory, mutations) -> None:
    members, target = shared
    bundle = write_zip(tmp_path_factory.mktemp("b") / "m.sfbundle", _mutate(members, mutations))
    outside = tree_state(bundle.parent)
    before = tree_state(target.folder.parent)
    try:
        new_id = import_bundle(target, bundle)
    except SpeakFeedError as exc:
        assert_one_line(exc, str(bundle))
        assert tree_state(target.folder.parent) == before, "a refused bundle changed the workspace"
    else:
        verify_model(target, new_id)  # whatever was accepted is a complete, hash-checked model
        target.delete_model(new_id)
    assert tree_state(bundle.parent) == outside, "the import wrote outside the workspace"


# ---- hand-written archives ------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["..\\escape.json", "C:escape.json", "sub\\..\\..\\escape.json", "\\\\server\\share.json"])
def test_windows_style_escaping_paths(shared, tmp_path: Path, member: str) -> None:
    members, target = shared
    bundle = write_zip(tmp_path / "w.sfbundle", list(relisted(members, {member: b"{}"}).items()))
    assert_import_refused(target, bundle)
    assert not list(tmp_path.rglob("escape.json"))


def test_duplicate_member_names(shared, tmp_path: Path) -> None:
    members, target = shared
    model = next(n for n in members if n.endswith(".skops") and "scaler" not in n)
    bundle = write_zip(tmp_path / "d.sfbundle", [*members.items(), (model, b"PK\x03\x04 a second model")])
    assert_import_refused(target, bundle, f"member {model!r} appears twice")


def test_bundle_nested_in_a_bundle(shared, tmp_path: Path) -> None:
    members, target = shared
    inner = write_zip(tmp_path / "inner.sfbundle", list(members.items())).read_bytes()
    assert_import_refused(target, write_zip(tmp_path / "n1.sfbundle", [("inner.sfbundle", inner)]), "of an unexpected type")
    assert_import_refused(target, write_zip(tmp_path / "n2.sfbundle", list(relisted(members, {"inner.json": inner}).items())),
                          "'inner.json': bundled JSON file is not valid JSON")


def test_manifest_entry_fields_of_the_wrong_type(shared, tmp_path: Path) -> None:
    members, target = shared
    manifest = json.loads(members["manifest.json"])
    manifest["entry"]["labels"] = 5
    bundle = write_zip(tmp_path / "e.sfbundle", [*{**members, "manifest.json": json.dumps(manifest).encode()}.items()])
    assert_import_refused(target, bundle, "manifest.json entry: field 'labels' must be a list of text values")


def _skops_bomb(gigabytes: float) -> bytes:
    """A small .skops (zip) whose schema.json inflates to `gigabytes` of spaces."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("schema.json", "w", force_zip64=True) as handle:
            handle.write(b'{"__class__": "LogisticRegression", "__module__": "sklearn.linear_model", "x": "')
            block = b" " * (1 << 20)
            for _ in range(int(gigabytes * 1024)):
                handle.write(block)
            handle.write(b'"}')
    return out.getvalue()


def _import_peak_mb(ws_root: Path, bundle: Path) -> tuple[float, str]:
    """Peak memory (MB) of a `speakfeed models import` process, and its stderr."""
    import os
    import subprocess
    import sys

    from tests.reliability.helpers import PROJECT_ROOT, subprocess_env

    proc = subprocess.Popen([sys.executable, "-m", "speakfeed_gui", "--workspace", str(ws_root), "models", "import",
                             str(bundle)], cwd=PROJECT_ROOT, env=subprocess_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    stderr = proc.stderr.read().decode()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, stderr


@pytest.mark.slow
def test_zip_bomb_inside_a_skops_member(shared, tmp_path: Path) -> None:
    """0.5 MB on disk, 0.5 GB inflated: refused from the declared sizes, never inflated into memory."""
    members, target = shared
    model = next(n for n in members if n.endswith(".skops") and "scaler" not in n)
    bomb = _skops_bomb(0.5)
    assert len(bomb) < 700_000
    bundle = write_zip(tmp_path / "bomb.sfbundle", list(relisted(members, {model: bomb}, role="model_path").items()))
    assert_import_refused(target, bundle, f"{model!r}", "too large to be a SpeakFeed model")
    junk = write_zip(tmp_path / "junk.sfbundle", list(relisted(members, {model: b"PK junk"}, role="model_path").items()))
    baseline, _ = _import_peak_mb(target.folder.parent, junk)
    peak, stderr = _import_peak_mb(target.folder.parent, bundle)
    assert "too large to be a SpeakFeed model" in stderr
    assert peak - baseline < 200, f"the import inflated the bomb ({peak:.0f} MB peak against {baseline:.0f} MB)"


@pytest.mark.slow
def test_hostile_bundles_through_the_cli(shared, tmp_path: Path) -> None:
    members, target = shared
    ws_root = target.folder.parent
    model = next(n for n in members if n.endswith(".skops") and "scaler" not in n)
    cases = {
        "escape.sfbundle": (list(relisted(members, {"../escape.json": b"{}"}).items()), "has a '..' path"),
        "dup.sfbundle": ([*members.items(), *members.items()], "appears twice"),
        "bomb.sfbundle": (list(relisted(members, {model: _skops_bomb(0.3)}, role="model_path").items()), model),
        "junk.sfbundle": ([("manifest.json", b"\xff" * 10)], "manifest.json is not valid JSON"),
        "deep.sfbundle": ([("manifest.json", b"[" * 200_000)], "manifest.json is not valid JSON"),
        "digits.sfbundle": ([("manifest.json", b'{"format": ' + b"7" * 5000 + b"}")], "manifest.json is not valid JSON"),
    }
    before = tree_state(ws_root)
    for name, (items, expected) in cases.items():
        bundle = write_zip(tmp_path / name, items)
        assert_refused(run_cli(ws_root, "models", "import", bundle), str(bundle), expected)
    (tmp_path / "empty.sfbundle").write_bytes(b"")
    assert_refused(run_cli(ws_root, "models", "import", tmp_path / "empty.sfbundle"), "not a zip file")
    assert tree_state(ws_root) == before and not list(tmp_path.rglob("escape.json"))
