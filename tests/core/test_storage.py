"""Atomic writes, the cross-process lock, skops persistence with an allow-list, and version checks."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from speakfeed_gui.core.errors import IntegrityError, ModelLoadError, RegistryError, StorageError
from speakfeed_gui.core.storage import atomic, locks, skops_io, versions
from speakfeed_gui.core.storage.hashing import sha256_file


@pytest.fixture
def tiny_fs(tmp_path: Path):
    """A 64 KiB tmpfs mounted for the test (root only); skipped where mounting is not permitted."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "none", str(mount)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_atomic_write_replaces_content_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    atomic.atomic_write_json(target, {"b": 1, "a": [1, 2]})
    atomic.atomic_write_json(target, {"z": 2, "a": 1})
    assert target.read_text().startswith('{\n  "z": 2')  # indent 2, key order kept
    assert json.loads(target.read_text()) == {"z": 2, "a": 1}
    atomic.atomic_write_text(tmp_path / "t.txt", "héllo")
    assert (tmp_path / "t.txt").read_text(encoding="utf-8") == "héllo"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json", "t.txt"]


def test_atomic_write_on_full_disk_keeps_old_file(tiny_fs: Path) -> None:
    target = tiny_fs / "model.skops"
    target.write_bytes(b"old content")
    with pytest.raises(StorageError, match=r"model\.skops: cannot write \(disk full\)") as info:
        atomic.atomic_write_bytes(target, os.urandom(200_000))
    assert "\n" not in str(info.value)
    assert target.read_bytes() == b"old content"
    assert [p.name for p in tiny_fs.iterdir()] == ["model.skops"]  # the temp file was removed


def test_atomic_write_on_read_only_fs_keeps_old_file(tiny_fs: Path) -> None:
    target = tiny_fs / "registry.json"
    target.write_text("{}")
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], check=True)
    with pytest.raises(StorageError, match="read-only file system"):
        atomic.atomic_write_json(target, {"new": True})
    assert target.read_text() == "{}"


def test_atomic_write_into_missing_folder_names_path(tmp_path: Path) -> None:
    target = tmp_path / "nope" / "x.json"
    with pytest.raises(StorageError, match=r"nope/x\.json: cannot write \(folder does not exist\)"):
        atomic.atomic_write_json(target, {})


def test_atomic_write_refuses_unserialisable_json(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    target.write_text("{}")
    with pytest.raises(StorageError, match="x.json: cannot write JSON"):
        atomic.atomic_write_json(target, {"bad": object()})
    assert target.read_text() == "{}"


def test_lock_times_out_while_another_process_holds_it(tmp_path: Path) -> None:
    target = tmp_path / "model_registry.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from speakfeed_gui.core.storage.locks import locked
            with locked({str(target)!r}):
                print("held", flush=True)
                sys.stdin.readline()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(RegistryError, match=r"model_registry\.json\.lock: another SpeakFeed process holds"):
            with locks.locked(target, timeout=0.2):
                pass
    finally:
        holder.communicate("\n", timeout=10)
    with locks.locked(target, timeout=2):  # released when the holder exits
        pass


def test_read_json_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"meta\.json: model metadata not found"):
        atomic.read_json(tmp_path / "meta.json", "model metadata")
    (tmp_path / "meta.json").write_text("{oops")
    with pytest.raises(ModelLoadError, match=r"meta\.json: model metadata is not valid JSON \(Expecting"):
        atomic.read_json(tmp_path / "meta.json", "model metadata")
    (tmp_path / "meta.json").write_text("[1]")
    with pytest.raises(IntegrityError, match="must be a JSON object, found list"):
        atomic.read_json(tmp_path / "meta.json", "model metadata", error=IntegrityError)
    (tmp_path / "meta.json").write_text('{"a": 1}')
    assert atomic.read_json(tmp_path / "meta.json", "model metadata") == {"a": 1}


def _estimators() -> dict[str, object]:
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    return {
        "random_forest": RandomForestClassifier(n_estimators=5, random_state=0),
        "decision_tree": DecisionTreeClassifier(random_state=0),
        "logistic_regression": LogisticRegression(max_iter=200),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=5, random_state=0),
        "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=5, random_state=0),
        "svm": SVC(probability=True, random_state=0),
        "mlp": MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0),
        "knn": KNeighborsClassifier(n_neighbors=3),
        "pipeline": Pipeline([("scale", StandardScaler()), ("forest", RandomForestClassifier(n_estimators=3))]),
    }


@pytest.fixture(scope="module")
def toy_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 6))
    y = np.array(["calm", "anxious", "energetic"] * 20)
    x[y == "calm"] += 1.5
    return x, y


@pytest.mark.parametrize("name", list(_estimators()))
def test_skops_round_trip_gives_identical_predictions(tmp_path: Path, toy_data, name: str) -> None:
    import warnings

    x, y = toy_data
    model = _estimators()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence warnings of the tiny fits
        model.fit(x, y)
    path = tmp_path / f"{name}.skops"
    digest = skops_io.save_estimator(model, path)
    assert digest == sha256_file(path)
    loaded = skops_io.load_estimator(path, digest)
    assert type(loaded) is type(model)
    assert (loaded.predict(x) == model.predict(x)).all()
    np.testing.assert_array_equal(loaded.predict_proba(x), model.predict_proba(x))


def _without_ids(node):
    """A skops schema with its per-process object ids and array file names left out."""
    if isinstance(node, dict):
        return {k: _without_ids(v) for k, v in node.items() if k not in ("__id__", "file")}
    if isinstance(node, list):
        return [_without_ids(v) for v in node]
    return node


@pytest.mark.parametrize("name", list(_estimators()))
def test_our_skops_dump_is_the_file_skops_itself_writes(toy_data, name: str) -> None:
    """Compact schema and a one-pass audit, but the same state, arrays and untrusted types as skops.io."""
    import io
    import json
    import warnings

    import skops.io

    model = _estimators()[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(*toy_data)
    ours, found = skops_io.skops_dump(model)
    theirs = skops.io.dumps(model)
    assert found == skops.io.get_untrusted_types(data=theirs) == skops.io.get_untrusted_types(data=ours)
    with zipfile.ZipFile(io.BytesIO(ours)) as a, zipfile.ZipFile(io.BytesIO(theirs)) as b:
        assert _without_ids(json.loads(a.read("schema.json"))) == _without_ids(json.loads(b.read("schema.json")))
        arrays = lambda z: sorted(z.read(n) for n in z.namelist() if n != "schema.json")  # noqa: E731
        assert arrays(a) == arrays(b)
        assert len(a.read("schema.json")) < len(b.read("schema.json"))  # no indentation


def test_scaler_and_label_encoder_round_trip(tmp_path: Path, toy_data) -> None:
    from sklearn.preprocessing import LabelEncoder, StandardScaler

    x, y = toy_data
    for obj, data in ((StandardScaler().fit(x), x), (LabelEncoder().fit(y), y)):
        path = tmp_path / f"{type(obj).__name__}.skops"
        loaded = skops_io.load_estimator(path, skops_io.save_estimator(obj, path))
        np.testing.assert_array_equal(loaded.transform(data), obj.transform(data))


def test_flipped_byte_is_refused_naming_the_file(tmp_path: Path, toy_data) -> None:
    from sklearn.tree import DecisionTreeClassifier

    x, y = toy_data
    path = tmp_path / "tree.skops"
    digest = skops_io.save_estimator(DecisionTreeClassifier().fit(x, y), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=rf"{path}: sha256 mismatch \(expected {digest[:8]}…, found .*changed or corrupted"):
        skops_io.load_estimator(path, digest)


def _rewrite_schema(src: Path, dest: Path, edit) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            zout.writestr(name, edit(data.decode()).encode() if name == "schema.json" else data)


def test_untrusted_type_is_refused_without_loading(tmp_path: Path, toy_data) -> None:
    from sklearn.linear_model import LogisticRegression

    x, y = toy_data
    good = tmp_path / "good.skops"
    skops_io.save_estimator(LogisticRegression(max_iter=200).fit(x, y), good)
    evil = tmp_path / "evil.skops"
    # Claim the top-level object is an os.system-like type: skops must report it and we must refuse.
    _rewrite_schema(good, evil, lambda s: s.replace('"__module__": "sklearn.linear_model._logistic"', '"__module__": "subprocess"', 1)
                    .replace('"__class__": "LogisticRegression"', '"__class__": "Popen"', 1))
    with pytest.raises(IntegrityError, match=r"evil\.skops: refused to load, .*allow-list: subprocess\.Popen"):
        skops_io.load_estimator(evil)


def test_pickle_file_is_not_a_skops_file(tmp_path: Path) -> None:
    import pickle

    path = tmp_path / "model.skops"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(IntegrityError, match="model.skops: not a valid skops file"):
        skops_io.load_estimator(path)
    with pytest.raises(ModelLoadError, match="missing.skops: model file is missing"):
        skops_io.load_estimator(tmp_path / "missing.skops")


def test_model_from_other_sklearn_version_loads_with_one_warning(tmp_path: Path, toy_data, caplog) -> None:
    import sklearn
    from sklearn.ensemble import RandomForestClassifier

    x, y = toy_data
    model = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, y)
    path = tmp_path / "rf.skops"
    skops_io.save_estimator(model, path)
    old = tmp_path / "old.skops"
    _rewrite_schema(path, old, lambda s: s.replace(f'\\"{sklearn.__version__}\\"', '\\"1.0.0\\"'))
    with caplog.at_level(logging.WARNING, logger="speakfeed_gui.core.storage.skops_io"):
        loaded = skops_io.load_estimator(old)
    assert (loaded.predict(x) == model.predict(x)).all()
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 1, lines
    assert f"saved with scikit-learn 1.0.0, running {sklearn.__version__}" in lines[0]
    assert "RandomForestClassifier" in lines[0]


def test_save_refuses_object_it_could_not_load(tmp_path: Path) -> None:
    import operator

    from sklearn.preprocessing import FunctionTransformer

    with pytest.raises(IntegrityError, match="cannot save FunctionTransformer: types outside the allow-list: _operator.neg"):
        skops_io.save_estimator(FunctionTransformer(func=operator.neg).fit(np.ones((3, 2))), tmp_path / "f.skops")
    assert not (tmp_path / "f.skops").exists()


def test_check_versions_reports_differences() -> None:
    running = versions.runtime_versions()
    assert versions.check_versions({"versions": dict(running)}) == []
    assert versions.check_versions({}) == []
    major, minor, *_ = running["python"].split(".")
    same_minor = {**running, "python": f"{major}.{minor}.99"}
    assert versions.check_versions({"versions": same_minor}) == []
    warnings = versions.check_versions({"versions": {**running, "sklearn": "0.24.2"}, "numpy_version": "1.0"})
    assert warnings == [
        f"model was trained with scikit-learn 0.24.2, running {running['sklearn']}; predictions may differ (retrain to be sure)"
    ]  # the nested record wins over the top-level numpy_version
    warnings = versions.check_versions({"python_version": "3.8.1", "numpy_version": "1.0", "sklearn_version": "0.24.2"})
    assert [w.split(" running")[0] for w in warnings] == [
        "model was trained with Python 3.8.1,",
        "model was trained with numpy 1.0,",
        "model was trained with scikit-learn 0.24.2,",
    ]


def test_atomic_writes_get_normal_permissions_not_mkstemps_0600(tmp_path):
    from speakfeed_gui.core.storage.atomic import atomic_write_text

    mask = os.umask(0o022)
    os.umask(mask)
    path = tmp_path / "shared.json"
    atomic_write_text(path, "{}")
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask
