"""Model bundles between workspaces, hostile bundles refused, and verify_model on disk artifacts."""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import stat
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from speakfeed_gui.core.errors import IntegrityError
from speakfeed_gui.core.registry import bundle as bundles
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.workspace import init_workspace
from speakfeed_gui.core.storage.hashing import sha256_file
from speakfeed_gui.core.storage.skops_io import load_estimator, save_estimator
from speakfeed_gui.core.storage.versions import runtime_versions

RNG = np.random.default_rng(1)
X = RNG.normal(size=(40, 5))
Y = np.array(["calm", "anxious"] * 20)
X[Y == "calm"] += 1.0


def _train_into(registry: ModelRegistry, experiment: str = "demo") -> str:
    """What the trainer does: skops model + scaler, split manifest, metadata with hashes, registration."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.preprocessing import StandardScaler

    folder = registry.folder / experiment
    folder.mkdir(parents=True, exist_ok=True)
    stem = "random_forest_20250101_120000"
    scaler = StandardScaler().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = RandomForestClassifier(n_estimators=5, random_state=0).fit(scaler.transform(X), Y)
    artifacts = {
        "model": {"file": f"{stem}.skops", "sha256": save_estimator(model, folder / f"{stem}.skops")},
        "scaler": {"file": f"{stem}_scaler.skops", "sha256": save_estimator(scaler, folder / f"{stem}_scaler.skops")},
    }
    (folder / f"{stem}_split.json").write_text(json.dumps({"train": [0, 1], "test": [2]}))
    artifacts["split"] = {"file": f"{stem}_split.json", "sha256": sha256_file(folder / f"{stem}_split.json")}
    metadata_path = folder / f"{stem}_metadata.json"
    metadata_path.write_text(json.dumps({"artifacts": artifacts, "versions": runtime_versions()}))
    return registry.register_model({
        "model_name": "random_forest", "experiment_name": experiment, "model_type": "random_forest",
        "model_path": folder / f"{stem}.skops", "scaler_path": folder / f"{stem}_scaler.skops",
        "metadata_path": metadata_path, "extra_files": [folder / f"{stem}_split.json"],
        "metadata_sha256": sha256_file(metadata_path), "accuracy": 0.9, "macro_f1": 0.88,
        "labels": ["anxious", "calm"], "tags": ["demo"], "description": "toy",
    })


def _predict(info: dict) -> np.ndarray:
    scaler = load_estimator(info["scaler_path"])
    return load_estimator(info["model_path"]).predict_proba(scaler.transform(X))


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture
def source(tmp_path: Path) -> tuple[ModelRegistry, str]:
    registry = ModelRegistry(init_workspace(tmp_path / "a").registry_path)
    return registry, _train_into(registry)


@pytest.fixture
def target(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(init_workspace(tmp_path / "b").registry_path)


@pytest.fixture
def exported(source, tmp_path: Path) -> Path:
    registry, model_id = source
    return bundles.export_bundle(registry, model_id, tmp_path / "model.sfbundle")


def test_round_trip_gives_identical_predictions(source, target: ModelRegistry, exported: Path) -> None:
    registry, model_id = source
    original = registry.get_model_info(model_id)
    new_id = bundles.import_bundle(target, exported)
    imported = target.get_model_info(new_id)
    assert new_id != model_id
    np.testing.assert_array_equal(_predict(imported), _predict(original))
    for key in ("model_name", "experiment_name", "accuracy", "macro_f1", "labels", "tags", "description", "metadata_sha256"):
        assert imported[key] == original[key], key
    assert imported["version"] == 1 and imported["imported_from"]["source_id"] == model_id
    assert Path(imported["model_path"]).parent == target.folder / "demo"
    assert [Path(p).name for p in imported["extra_files"]] == [Path(p).name for p in original["extra_files"]]
    bundles.verify_model(target, new_id)
    assert not any(p.name.startswith(".import-") for p in target.folder.iterdir())


def test_manifest_lists_files_with_hashes_and_no_local_paths(source, exported: Path) -> None:
    registry, model_id = source
    with zipfile.ZipFile(exported) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = sorted(archive.namelist())
    assert manifest["format"] == "speakfeed-bundle" and manifest["format_version"] == 1
    info = registry.get_model_info(model_id)
    assert {f["name"]: f["sha256"] for f in manifest["files"]} == {
        Path(p).name: sha256_file(p) for p in (info["model_path"], info["scaler_path"], info["metadata_path"], *info["extra_files"])
    }
    assert names == sorted(["manifest.json", *(f["name"] for f in manifest["files"])])
    assert not {"model_path", "scaler_path", "metadata_path", "extra_files", "id"} & set(manifest["entry"])


def test_export_into_folder_and_import_twice(source, target: ModelRegistry, tmp_path: Path) -> None:
    registry, model_id = source
    path = bundles.export_bundle(registry, model_id, tmp_path)
    assert path.parent == tmp_path and path.name == f"random_forest-v1-{model_id[:8]}.sfbundle"
    first = target.get_model_info(bundles.import_bundle(target, path))
    second = target.get_model_info(bundles.import_bundle(target, path))
    assert Path(second["model_path"]).parent == target.folder / "demo" / "import-2"
    assert second["version"] == 2 and first["model_path"] != second["model_path"]
    bundles.verify_model(target, second["id"])


def test_verify_model_names_the_first_bad_file(source) -> None:
    registry, model_id = source
    bundles.verify_model(registry, model_id)
    info = registry.get_model_info(model_id)
    scaler = Path(info["scaler_path"])
    data = bytearray(scaler.read_bytes())
    data[100] ^= 0xFF
    scaler.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=rf"{scaler}: sha256 mismatch .*changed or corrupted"):
        bundles.verify_model(registry, model_id)
    metadata = Path(info["metadata_path"])
    metadata.write_text(metadata.read_text().replace("random_forest", "random_f0rest"))
    with pytest.raises(IntegrityError, match=rf"{metadata}: sha256 mismatch"):
        bundles.verify_model(registry, model_id)
    with pytest.raises(IntegrityError, match="sha256 mismatch"):
        bundles.export_bundle(registry, model_id, scaler.parent)  # a damaged model is not shared


def test_verify_model_without_recorded_hashes_is_an_error(source) -> None:
    registry, model_id = source
    info = registry.get_model_info(model_id)
    bare = registry.register_model({**{k: info[k] for k in ("model_name", "model_path", "experiment_name")}})
    with pytest.raises(IntegrityError, match="no metadata file is recorded"):
        bundles.verify_model(registry, bare)
    os.remove(info["extra_files"][0])
    with pytest.raises(IntegrityError, match=r"_split\.json: file is missing"):
        bundles.verify_model(registry, model_id)


# ---- hostile bundles ----------------------------------------------------------------------------


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write(path: Path, members: dict[str, bytes], extra: list[tuple[zipfile.ZipInfo, bytes]] = ()) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for info, data in extra:
            archive.writestr(info, data)
    return path


def _with_file(members: dict[str, bytes], name: str, data: bytes) -> dict[str, bytes]:
    """The members with one file added or replaced, listed in the manifest with its true hash
    (so only the file's content and name are judged)."""
    manifest = json.loads(members["manifest.json"])
    digest = hashlib.sha256(data).hexdigest()
    records = [f for f in manifest["files"] if f["name"] == name]
    if records:
        records[0]["sha256"] = digest
    else:
        manifest["files"].append({"name": name, "role": "extra_files", "sha256": digest})
    return {**members, name: data, "manifest.json": json.dumps(manifest).encode()}


def _refused(target: ModelRegistry, path: Path, match: str, **limits) -> None:
    before = _tree(target.folder)
    with pytest.raises(IntegrityError, match=match) as info:
        bundles.import_bundle(target, path, **limits)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)
    assert _tree(target.folder) == before and len(target) == 0


class _Boom:
    """Unpickling this creates a marker file: proof that a pickle ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_in_bundle_is_refused_and_never_runs(exported: Path, target: ModelRegistry, tmp_path: Path) -> None:
    control = tmp_path / "control-marker"
    pickle.loads(pickle.dumps(_Boom(control))).close()  # the payload is live: loading it creates the file
    assert control.exists()
    marker = tmp_path / "marker"
    payload = pickle.dumps(_Boom(marker))
    members = _members(exported)
    for name, match in (
        ("model.pkl", "'model.pkl' is a pickle/joblib file"),
        ("model.joblib", "'model.joblib' is a pickle/joblib file"),
        ("disguised.skops", "'disguised.skops': not a valid skops file"),
        ("disguised.json", "'disguised.json': bundled JSON file is not valid JSON"),
    ):
        _refused(target, _write(tmp_path / f"{name}.sfbundle", _with_file(members, name, payload)), match)
    assert not marker.exists()


def test_untrusted_skops_type_is_refused(exported: Path, target: ModelRegistry, tmp_path: Path) -> None:
    members = _members(exported)
    model_name = next(n for n in members if n.endswith(".skops") and "scaler" not in n)
    evil = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(members[model_name])) as src, zipfile.ZipFile(evil, "w") as out:
        for name in src.namelist():
            data = src.read(name)
            if name == "schema.json":
                data = data.replace(b'"__module__": "sklearn.ensemble._forest"', b'"__module__": "os"', 1)
                data = data.replace(b'"__class__": "RandomForestClassifier"', b'"__class__": "system"', 1)
            out.writestr(name, data)
    members = _with_file(members, model_name, evil.getvalue())
    _refused(target, _write(tmp_path / "evil.sfbundle", members), r"contains types outside SpeakFeed's allow-list: os\.system")


def test_hash_mismatch_and_manifest_problems(exported: Path, target: ModelRegistry, tmp_path: Path) -> None:
    members = _members(exported)
    manifest = json.loads(members["manifest.json"])
    name = manifest["files"][0]["name"]
    tampered = {**members, name: members[name][:-1] + bytes([members[name][-1] ^ 1])}
    _refused(target, _write(tmp_path / "t.sfbundle", tampered), rf"member '{name}': sha256 mismatch")
    _refused(target, _write(tmp_path / "m.sfbundle", {k: v for k, v in members.items() if k != "manifest.json"}), "no manifest.json")
    unlisted = {**members, "extra.json": b"{}"}
    _refused(target, _write(tmp_path / "u.sfbundle", unlisted), "members not listed in manifest.json: extra.json; refused")
    missing = {k: v for k, v in members.items() if k != name}
    _refused(target, _write(tmp_path / "x.sfbundle", missing), f"manifest.json lists files that are missing or repeated: {name}")
    bad_version = {**members, "manifest.json": json.dumps({**manifest, "format_version": 99}).encode()}
    _refused(target, _write(tmp_path / "v.sfbundle", bad_version), "bundle format version 99 is not supported")
    (tmp_path / "plain.sfbundle").write_text("not a zip")
    _refused(target, tmp_path / "plain.sfbundle", r"not a SpeakFeed bundle \(not a zip file\)")


@pytest.mark.parametrize(
    ("member", "match"),
    [
        ("/etc/evil.json", "has an absolute path"),
        ("../evil.json", "has a '..' path"),
        ("sub/evil.json", "is in a folder"),
    ],
)
def test_member_paths_are_refused(exported: Path, target: ModelRegistry, tmp_path: Path, member: str, match: str) -> None:
    members = _with_file(_members(exported), "evil.json", b"{}")
    del members["evil.json"]
    info = zipfile.ZipInfo(member)  # ZipFile.writestr would strip a leading '/', a ZipInfo keeps it
    _refused(target, _write(tmp_path / "p.sfbundle", members, [(info, b"{}")]), match)
    assert not (tmp_path / "evil.json").exists() and not Path("/etc/evil.json").exists()


def test_symlink_member_is_refused(exported: Path, target: ModelRegistry, tmp_path: Path) -> None:
    info = zipfile.ZipInfo("link.json")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    members = _with_file(_members(exported), "link.json", b"/etc/passwd")
    del members["link.json"]
    _refused(target, _write(tmp_path / "s.sfbundle", members, [(info, b"/etc/passwd")]), "is a symbolic link")


def test_too_many_members_and_zip_bombs(exported: Path, target: ModelRegistry, tmp_path: Path) -> None:
    members = _members(exported)
    many = dict(members)
    for i in range(21):
        many = _with_file(many, f"f{i}.json", b"{}")
    _refused(target, _write(tmp_path / "many.sfbundle", many), "more than the 20 a bundle may hold")
    bomb = _with_file(members, "bomb.json", b" " * 3_000_000)  # ~3 KB compressed
    bomb_path = _write(tmp_path / "bomb.sfbundle", bomb)
    assert bomb_path.stat().st_size < 100_000
    _refused(target, bomb_path, "declares 3000000 bytes, over the 1000000-byte limit", max_member_bytes=1_000_000)
    _refused(target, bomb_path, "over the 2000000-byte limit", max_total_bytes=2_000_000)


def test_member_larger_than_declared_is_refused(exported: Path, target: ModelRegistry, tmp_path: Path) -> None:
    """The central directory declares 100 bytes for a 100 KB member: the real bytes are not trusted past it."""
    data = b"[" + b"0," * 50_000 + b"0]"
    path = tmp_path / "lie.sfbundle"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in _with_file(_members(exported), "big.json", data).items():
            archive.writestr(name, content)
        archive.getinfo("big.json").file_size = 100  # written into the central directory on close
    with zipfile.ZipFile(path) as archive:
        assert archive.getinfo("big.json").file_size == 100
    _refused(target, path, "'big.json'")
