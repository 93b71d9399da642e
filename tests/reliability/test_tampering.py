"""Tampered files: a flipped byte anywhere is refused by name; a pickle that would run code never runs.

tests/core/test_storage.py and test_bundle.py flip one byte of a skops file and of a scaler; here every
artifact a trained model has (model, scaler, metadata, split manifest) is flipped at several places
and checked through every path that reads it, bundles are flipped at every kind of position, and code
payloads are smuggled in through the CLI with a marker file as the witness.
"""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from speakfeed_gui.core.errors import IntegrityError, SpeakFeedError
from speakfeed_gui.core.models.factory import ModelFactory
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.registry.artifacts import load_registered
from speakfeed_gui.core.registry.bundle import export_bundle, import_bundle, verify_model
from speakfeed_gui.core.settings.workspace import init_workspace
from tests.reliability.helpers import FUZZ, assert_one_line, assert_refused, flip_byte, run_cli, tree_state


def artifact(ws, model_id: str, role: str) -> Path:
    entry = ModelRegistry(ws.registry_path).get_model_info(model_id)
    return Path(entry["extra_files"][0] if role == "split" else entry[f"{role}_path"])


@pytest.mark.parametrize("role", ["model", "scaler", "metadata", "split"])
def test_flipped_byte_in_any_artifact_is_refused_by_name(trained, tmp_path: Path, role: str) -> None:
    ws, model_id = trained
    registry = ModelRegistry(ws.registry_path)
    path = artifact(ws, model_id, role)
    size = path.stat().st_size
    for position in (0, size // 3, size // 2, size - 1):
        flip_byte(path, position)
        for read in (lambda: verify_model(registry, model_id), lambda: export_bundle(registry, model_id, tmp_path)):
            with pytest.raises(IntegrityError) as info:
                read()
            assert_one_line(info.value, str(path), "sha256 mismatch")
        if role != "split":  # the split manifest is provenance, not needed to predict
            with pytest.raises(IntegrityError) as info:
                load_registered(model_id, ws)
            assert_one_line(info.value, str(path))
            with pytest.raises(IntegrityError):
                ModelFactory(workspace=ws).resolve(model_id).load()
        flip_byte(path, position)  # flipped back: the very same file verifies again
        verify_model(registry, model_id)
    assert not list(tmp_path.glob("*.sfbundle"))


@pytest.mark.slow
def test_tampered_model_through_the_cli(trained, tiny_dataset: Path) -> None:
    ws, model_id = trained
    clip = next(tiny_dataset.parent.rglob("*.wav"))
    scaler, model = artifact(ws, model_id, "scaler"), artifact(ws, model_id, "model")
    original = tree_state(ws.root)
    flip_byte(scaler, 100)
    flip_byte(model, 200)
    assert_refused(run_cli(ws.root, "models", "verify", "live"), str(model), "sha256 mismatch")
    assert_refused(run_cli(ws.root, "predict", "--model", "live", clip), str(model), "sha256 mismatch")
    flip_byte(model, 200)
    assert_refused(run_cli(ws.root, "predict", "--model", "live", clip), str(scaler), "sha256 mismatch")
    flip_byte(scaler, 100)
    assert tree_state(ws.root) == original  # refusing changed nothing; the flips undone, all is as before


# ---- bundles ------------------------------------------------------------------------------------


@pytest.fixture
def bundle_pair(trained, tmp_path: Path):
    """(source registry, model id, exported bundle, target registry)."""
    ws, model_id = trained
    source = ModelRegistry(ws.registry_path)
    bundle = export_bundle(source, model_id, tmp_path / "m.sfbundle")
    return source, model_id, bundle, ModelRegistry(init_workspace(tmp_path / "target").registry_path)


def _same_files(source: ModelRegistry, model_id: str, target: ModelRegistry, new_id: str) -> None:
    a, b = source.get_model_info(model_id), target.get_model_info(new_id)
    for key in ("model_path", "scaler_path", "metadata_path"):
        assert Path(a[key]).read_bytes() == Path(b[key]).read_bytes(), key


@FUZZ
@given(position=st.integers(min_value=0))
def test_flipped_byte_anywhere_in_a_bundle(bundle_pair, tmp_path_factory, position: int) -> None:
    """Refused, naming the bundle; or (a byte zip ignores, e.g. a timestamp) imported byte-identical."""
    source, model_id, bundle, target = bundle_pair
    copy = tmp_path_factory.mktemp("flip") / "m.sfbundle"
    copy.write_bytes(bundle.read_bytes())
    flip_byte(copy, position)
    before = tree_state(target.folder)
    try:
        new_id = import_bundle(target, copy)
    except SpeakFeedError as exc:
        assert_one_line(exc, str(copy))
        assert tree_state(target.folder) == before
    else:
        verify_model(target, new_id)
        _same_files(source, model_id, target, new_id)
        target.delete_model(new_id)


def test_flipped_byte_in_any_member_data_is_refused(bundle_pair, tmp_path: Path) -> None:
    """Every member's compressed bytes (start, middle, three quarters in), all refused.

    (The very last byte of a deflate stream may be padding: flipping it can leave the content unchanged,
    which test_flipped_byte_anywhere_in_a_bundle accepts when the import is byte-identical.)
    """
    source, model_id, bundle, target = bundle_pair
    with zipfile.ZipFile(bundle) as archive:
        infos = archive.infolist()
    data = bundle.read_bytes()
    for info in infos:
        extra_length = int.from_bytes(data[info.header_offset + 28:info.header_offset + 30], "little")
        start = info.header_offset + 30 + len(info.filename.encode()) + extra_length  # after the local header
        for position in (start, start + info.compress_size // 2, start + 3 * info.compress_size // 4):
            copy = tmp_path / f"{info.filename}-{position}.sfbundle"
            copy.write_bytes(data)
            flip_byte(copy, position)
            with pytest.raises(IntegrityError) as raised:
                import_bundle(target, copy)
            assert_one_line(raised.value, str(copy))
    assert len(target) == 0 and not [p for p in target.folder.iterdir() if p.name != "model_registry.json.lock"]


# ---- code payloads --------------------------------------------------------------------------------


class Payload:
    """Unpickling this opens (creates) the marker file: the proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _forged(members: dict[str, bytes], name: str, data: bytes, role: str = "model_path") -> dict[str, bytes]:
    """The bundle an attacker would build: `data` as the file of `role` (named `name`), and every hash that
    covers it recomputed (the metadata's artifact hash, the entry's metadata hash, the manifest's list)."""
    manifest = json.loads(members["manifest.json"])
    old = next(f["name"] for f in manifest["files"] if f["role"] == role)
    metadata_name = next(f["name"] for f in manifest["files"] if f["role"] == "metadata_path")
    out = {k: v for k, v in members.items() if k != old}
    out[name] = data
    metadata = json.loads(out[metadata_name])
    metadata["artifacts"]["model"] = {"file": name, "sha256": hashlib.sha256(data).hexdigest()}
    out[metadata_name] = json.dumps(metadata).encode()
    manifest["entry"]["metadata_sha256"] = hashlib.sha256(out[metadata_name]).hexdigest()
    manifest["files"] = [{**f, "name": name if f["name"] == old else f["name"]} for f in manifest["files"]]
    for record in manifest["files"]:
        record["sha256"] = hashlib.sha256(out[record["name"]]).hexdigest()
    out["manifest.json"] = json.dumps(manifest).encode()
    return out


def _object_array_skops(real: bytes, payload: object) -> bytes:
    """The real .skops with one stored numpy array replaced by a pickled object array holding `payload`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(real)) as src, zipfile.ZipFile(out, "w") as dest:
        names = src.namelist()
        target = next(n for n in names if n.endswith(".npy"))
        for name in names:
            if name == target:
                buffer = io.BytesIO()
                np.save(buffer, np.array([payload, 1], dtype=object), allow_pickle=True)
                dest.writestr(name, buffer.getvalue())
            else:
                dest.writestr(name, src.read(name))
    return out.getvalue()


@pytest.mark.slow
def test_pickle_payloads_never_run(bundle_pair, tmp_path: Path, tiny_dataset: Path) -> None:
    source, model_id, bundle, target = bundle_pair
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(Payload(tmp_path / "control"))).close()
    assert (tmp_path / "control").exists()  # the payload is live: loading it does create its file
    with zipfile.ZipFile(bundle) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    model = next(n for n in members if n.endswith(".skops") and "scaler" not in n)
    payload = pickle.dumps(Payload(marker))
    bundles = {
        "pickle.sfbundle": (_forged(members, "model.pkl", payload), "'model.pkl' is a pickle/joblib file"),
        "disguised.sfbundle": (_forged(members, model, payload), f"{model!r}: not a valid skops file"),
        "object-array.sfbundle": (_forged(members, model, _object_array_skops(members[model], Payload(marker))),
                                  f"{model!r}: cannot load the model (ValueError: Object arrays cannot be loaded"),
    }
    ws_root = target.folder.parent
    before = tree_state(ws_root)
    for name, (items, expected) in bundles.items():
        path = tmp_path / name
        with zipfile.ZipFile(path, "w") as archive:
            for member, data in items.items():
                archive.writestr(member, data)
        assert_refused(run_cli(ws_root, "models", "import", path), str(path), expected)
        assert not marker.exists(), f"{name}: the payload ran"
    assert tree_state(ws_root) == before

    # Someone with write access swaps the model on disk for a payload and fixes the metadata's hash of it:
    # the registry's metadata hash refuses it; with that bypassed too, skops refuses the file itself.
    from speakfeed_gui.core.registry.artifacts import load_from_metadata

    ws = init_workspace(source.folder.parent)
    entry = source.get_model_info(model_id)
    model_path, metadata_path = Path(entry["model_path"]), Path(entry["metadata_path"])
    for data in (payload, _object_array_skops(model_path.read_bytes(), Payload(marker))):
        model_path.write_bytes(data)
        metadata = json.loads(metadata_path.read_text())
        metadata["artifacts"]["model"]["sha256"] = hashlib.sha256(data).hexdigest()
        metadata_path.write_text(json.dumps(metadata))
        with pytest.raises(IntegrityError) as info:
            load_registered(model_id, ws)
        assert_one_line(info.value, str(metadata_path), "sha256 does not match the registry")
        with pytest.raises(SpeakFeedError) as info:
            load_from_metadata(metadata_path)
        assert_one_line(info.value, str(model_path))
        assert not marker.exists()
    clip = next(tiny_dataset.parent.rglob("*.wav"))
    assert_refused(run_cli(ws.root, "predict", "--model", model_id, clip), str(metadata_path))
    assert not marker.exists()
