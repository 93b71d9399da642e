"""ModelRegistry in one process: entries, lookups, aliases, paths, the file's layout, migration and corruption."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from speakfeed_gui.core.errors import ModelNotFoundError, RegistryError
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.workspace import init_workspace


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    return ModelRegistry(init_workspace(tmp_path).registry_path)


def _entry(registry: ModelRegistry, name: str = "random_forest", experiment: str = "exp", **extra) -> dict:
    folder = registry.folder / experiment
    return {
        "model_name": name,
        "experiment_name": experiment,
        "model_path": folder / f"{name}.skops",
        "scaler_path": folder / f"{name}_scaler.skops",
        "metadata_path": str(folder / f"{name}_metadata.json"),
        "accuracy": 0.75,
        "macro_f1": 0.7,
        "model_type": name,
        "labels": ["calm", "anxious"],
        **extra,
    }


def test_a_plain_json_load_sees_every_model_after_every_write(registry: ModelRegistry) -> None:
    """The seed's map {model_id: entry} and nothing else, complete once each call returned."""
    ids = []
    for name in ("a", "b", "c"):
        ids.append(registry.register_model(_entry(registry, name)))
        with open(registry.path) as handle:
            assert list(json.load(handle)) == ids
        assert not registry.journal_path.exists() or registry.journal_path.read_bytes() == b""  # no pending append
    registry.set_alias("live", ids[1])
    registry.set_description(ids[0], "first")
    registry.delete_model(ids[2], delete_files=False)
    data = json.loads(registry.path.read_text())
    assert list(data) == ids[:2]
    assert data[ids[1]]["aliases"] == ["live"] and "aliases" not in data[ids[0]]
    assert data[ids[0]]["description"] == "first" and data[ids[0]]["model_path"] == "models/exp/a.skops"
    assert len(registry.path.read_text().splitlines()) == 2 + 2  # one entry a line, between the braces


def test_register_get_list_and_len(registry: ModelRegistry) -> None:
    assert len(registry) == 0 and registry.list_models() == []
    first = registry.register_model(_entry(registry, "a", extra_files=[registry.folder / "exp" / "a_split.json"]))
    second = registry.register_model(_entry(registry, "b", custom_key={"n": 1}))
    assert len(registry) == 2
    info = registry.get_model_info(first)
    assert info["id"] == first and info["aliases"] == [] and info["tags"] == [] and info["description"] == ""
    assert info["model_path"] == str(registry.folder / "exp" / "a.skops")
    assert info["extra_files"] == [str(registry.folder / "exp" / "a_split.json")]
    assert info["created_at"] and info["accuracy"] == 0.75
    assert registry.get_model_info(second)["custom_key"] == {"n": 1}
    assert [m["id"] for m in registry.list_models()] == [second, first]  # newest first
    info["tags"].append("changed")  # a returned dict is a copy
    assert registry.get_model_info(first)["tags"] == []


def test_paths_are_stored_relative_and_survive_a_move(tmp_path: Path) -> None:
    registry = ModelRegistry(init_workspace(tmp_path / "ws").registry_path)
    model_id = registry.register_model(_entry(registry))
    stored = json.loads(registry.path.read_text())[model_id]  # relative to the workspace root, as in the seed
    assert stored["model_path"] == "models/exp/random_forest.skops"
    assert stored["metadata_path"] == "models/exp/random_forest_metadata.json"
    shutil.move(tmp_path / "ws", tmp_path / "moved")
    moved = ModelRegistry(tmp_path / "moved" / "models" / "model_registry.json")
    assert moved.get_model_info(model_id)["scaler_path"] == str(tmp_path / "moved" / "models" / "exp" / "random_forest_scaler.skops")


def test_path_outside_registry_folder_stays_absolute(registry: ModelRegistry, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "m.skops"
    model_id = registry.register_model({**_entry(registry), "model_path": outside})
    assert registry.get_model_info(model_id)["model_path"] == str(outside)


def test_versions_count_per_experiment(registry: ModelRegistry) -> None:
    ids = [registry.register_model(_entry(registry, experiment=e, version=99)) for e in ("x", "x", "y", "x")]
    assert [registry.get_model_info(i)["version"] for i in ids] == [1, 2, 1, 3]


def test_next_version_follows_deletes_and_other_writers(registry: ModelRegistry) -> None:
    """The per-experiment version index stays what a scan of all entries would give."""
    ids = [registry.register_model(_entry(registry, experiment="x")) for _ in range(3)]
    registry.delete_model(ids[2])  # the newest version number is free again, as before the index
    assert registry.get_model_info(registry.register_model(_entry(registry, experiment="x")))["version"] == 3
    other = ModelRegistry(registry.path)  # another process's handle registers meanwhile
    assert other.get_model_info(other.register_model(_entry(registry, experiment="x")))["version"] == 4
    registry.delete_model(ids[0])
    assert registry.get_model_info(registry.register_model(_entry(registry, experiment="x")))["version"] == 5
    assert registry.get_model_info(registry.register_model(_entry(registry, experiment="z")))["version"] == 1


def test_prefix_and_alias_lookup_and_not_found(registry: ModelRegistry) -> None:
    model_id = registry.register_model(_entry(registry))
    assert registry.resolve(model_id[:6]) == model_id
    assert registry.resolve(model_id[:12].upper()) == model_id
    with pytest.raises(ModelNotFoundError) as info:
        registry.get_model_info(model_id[:5])  # too short to be a prefix
    assert str(info.value) == (
        f"no model '{model_id[:5]}' in {registry.path}; run `speakfeed models list` to see ids and aliases"
    )
    with pytest.raises(ModelNotFoundError, match="no model 'xyz' in .*model_registry.json; run `speakfeed models list`"):
        registry.get_model_info("xyz")
    registry.set_alias("live", model_id[:8])
    assert registry.get_model_info("live")["id"] == model_id
    assert registry.aliases() == {"live": model_id}


def test_ambiguous_prefix_is_reported(registry: ModelRegistry) -> None:
    ids = ["abcdef01-0000-4000-8000-000000000000", "abcdef02-0000-4000-8000-000000000000"]
    registry.path.write_text(json.dumps({i: {"model_name": "m", "experiment_name": "e"} for i in ids}))
    with pytest.raises(ModelNotFoundError, match="id prefix 'abcdef' matches 2 models in .*; type more characters"):
        registry.resolve("abcdef")
    assert registry.resolve("abcdef02") == ids[1]


def test_aliases_move_and_are_listed(registry: ModelRegistry) -> None:
    a = registry.register_model(_entry(registry, "a"))
    b = registry.register_model(_entry(registry, "b"))
    registry.list_models()  # build the cached view, then change it
    registry.set_alias("live", a)
    registry.set_alias("best", a)
    assert {m["id"]: m["aliases"] for m in registry.list_models()} == {a: ["best", "live"], b: []}
    registry.set_alias("live", b)
    assert {m["id"]: m["aliases"] for m in registry.list_models()} == {a: ["best"], b: ["live"]}
    registry.remove_alias("best")
    assert registry.aliases() == {"live": b}
    assert ModelRegistry(registry.path).aliases() == {"live": b}  # from disk, not only memory
    with pytest.raises(ModelNotFoundError, match="no alias 'best' in .*; aliases: live"):
        registry.remove_alias("best")
    with pytest.raises(RegistryError, match="alias 'bad alias' is not valid"):
        registry.set_alias("bad alias", a)
    with pytest.raises(ModelNotFoundError):
        registry.set_alias("prod", "nonexistent")


def test_description_and_tags(registry: ModelRegistry) -> None:
    model_id = registry.register_model(_entry(registry))
    registry.list_models()
    registry.set_description(model_id, "trained on the demo set")
    registry.set_tags(model_id[:8], ["demo", " good ", "demo", ""])
    info = registry.get_model_info(model_id)
    assert info["description"] == "trained on the demo set" and info["tags"] == ["demo", "good"]
    assert registry.list_models()[0]["tags"] == ["demo", "good"]
    assert ModelRegistry(registry.path).get_model_info(model_id)["tags"] == ["demo", "good"]
    with pytest.raises(RegistryError, match="tags must be a list of text values"):
        registry.set_tags(model_id, "demo")


def test_delete_removes_entry_files_and_aliases(registry: ModelRegistry) -> None:
    folder = registry.folder / "exp"
    folder.mkdir()
    names = ["m.skops", "m_scaler.skops", "m_metadata.json", "m_split.json"]
    for name in names:
        (folder / name).write_text("x")
    keep = registry.register_model(_entry(registry, "keep"))
    model_id = registry.register_model({
        **_entry(registry), "model_path": folder / "m.skops", "scaler_path": folder / "m_scaler.skops",
        "metadata_path": folder / "m_metadata.json", "extra_files": [folder / "m_split.json"],
    })
    registry.set_alias("live", model_id)
    registry.delete_model("live")
    assert [m["id"] for m in registry.list_models()] == [keep]
    assert registry.aliases() == {}
    assert not folder.exists()  # files deleted, then the empty experiment folder
    with pytest.raises(ModelNotFoundError):
        registry.get_model_info(model_id)


def test_delete_keeps_files_when_asked_or_outside(registry: ModelRegistry, tmp_path: Path) -> None:
    outside = tmp_path / "precious.skops"
    outside.write_text("keep me")
    inside = registry.folder / "exp" / "m.skops"
    inside.parent.mkdir()
    inside.write_text("x")
    first = registry.register_model({**_entry(registry), "model_path": inside, "scaler_path": None})
    registry.delete_model(first, delete_files=False)
    assert inside.exists()
    second = registry.register_model({**_entry(registry), "model_path": outside, "scaler_path": None})
    registry.delete_model(second)
    assert outside.read_text() == "keep me"


def test_register_normalises_tuples_numpy_and_paths(registry: ModelRegistry, tmp_path: Path) -> None:
    import numpy as np

    model_id = registry.register_model({
        **_entry(registry), "labels": ("calm", "anxious"), "accuracy": np.float32(0.5),
        "confusion": np.array([[1, 0], [0, 1]]), "dataset": tmp_path / "data.csv",
    })
    for info in (registry.get_model_info(model_id), registry.list_models()[0]):
        assert info["labels"] == ["calm", "anxious"] and info["accuracy"] == 0.5
        assert info["confusion"] == [[1, 0], [0, 1]] and info["dataset"] == str(tmp_path / "data.csv")


def test_register_refuses_non_json_values(registry: ModelRegistry) -> None:
    with pytest.raises(RegistryError, match="cannot register: field 'accuracy' holds a value of type object, not JSON data"):
        registry.register_model({**_entry(registry), "accuracy": object()})
    assert len(registry) == 0


def test_stat_token_changes_after_each_write(registry: ModelRegistry) -> None:
    before = registry.stat_token()
    model_id = registry.register_model(_entry(registry))
    after_register = registry.stat_token()
    registry.set_alias("live", model_id)
    after_alias = registry.stat_token()
    assert len({before, after_register, after_alias}) == 3
    assert registry.stat_token() == after_alias  # stable without writes


def test_other_instance_sees_changes_incrementally(registry: ModelRegistry) -> None:
    other = ModelRegistry(registry.path)
    assert other.list_models() == []
    ids = [registry.register_model(_entry(registry, f"m{i}")) for i in range(3)]
    assert [m["id"] for m in other.list_models()] == ids[::-1]
    registry.delete_model(ids[1], delete_files=False)
    registry.set_description(ids[0], "first")
    listed = other.list_models()
    assert [m["id"] for m in listed] == [ids[2], ids[0]] and listed[1]["description"] == "first"


def test_rewrites_keep_the_previous_file_as_backup(tmp_path: Path) -> None:
    registry = ModelRegistry(init_workspace(tmp_path).registry_path)
    ids = [registry.register_model(_entry(registry, f"m{i}")) for i in range(3)]
    before = registry.path.read_bytes()
    assert not registry.backup_path.exists()  # registrations append in place: nothing to back up
    registry.set_alias("live", ids[0])
    assert registry.backup_path.read_bytes() == before
    later = registry.register_model(_entry(registry, "m3"))  # appends go to the new file, never to the backup
    assert registry.backup_path.read_bytes() == before and later in json.loads(registry.path.read_text())
    fresh = ModelRegistry(registry.path)
    assert [m["id"] for m in fresh.list_models()] == [later, *ids[::-1]] and fresh.aliases() == {"live": ids[0]}


def legacy_workspace(tmp_path: Path) -> tuple[Path, list[str]]:
    """A registry as SpeakFeed wrote it before: `_aliases`/`_generation` keys, paths relative to models/,
    and an operation journal holding lines already folded in (generation 0) and newer ones (generation 1)."""
    ws = init_workspace(tmp_path / "ws")
    ids = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(4)]
    entry = {"model_name": "m", "experiment_name": "exp", "version": 1, "tags": [], "description": "",
             "model_path": "exp/m0.skops", "metadata_path": "exp/m0_metadata.json", "created_at": "2025-01-01T00:00:00"}
    outside = str(tmp_path / "elsewhere" / "m.skops")
    lines = [
        f'"{ids[0]}": {json.dumps(entry)}',
        f'"{ids[1]}": {json.dumps({**entry, "version": 2, "model_path": outside, "created_at": "2025-01-02"})}',
        f'"_aliases": {json.dumps({"live": ids[0]})}', '"_generation": 1',
    ]
    ws.registry_path.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    journal = [
        {"gen": 0, "op": "put", "id": ids[3], "entry": {**entry, "model_name": "folded, then deleted"}},
        {"gen": 1, "op": "put", "id": ids[2], "entry": {**entry, "version": 3, "extra_files": ["exp/m2_split.json"],
                                                         "created_at": "2025-01-03"}},
        {"gen": 1, "op": "alias", "alias": "best", "id": ids[2]},
        {"gen": 1, "op": "update", "id": ids[0], "fields": {"tags": ["old"]}},
    ]
    ws.registry_path.with_name("model_registry.journal").write_text("".join(json.dumps(op) + "\n" for op in journal))
    return ws.registry_path, ids


def test_an_older_registry_opens_and_is_migrated(tmp_path: Path) -> None:
    path, ids = legacy_workspace(tmp_path)
    registry = ModelRegistry(path)
    models = {m["id"]: m for m in registry.list_models()}
    assert list(models) == [ids[2], ids[1], ids[0]]  # the folded-then-deleted line stays skipped
    assert models[ids[0]]["model_path"] == str(path.parent / "exp" / "m0.skops")
    assert models[ids[1]]["model_path"] == str(tmp_path / "elsewhere" / "m.skops")
    assert models[ids[2]]["extra_files"] == [str(path.parent / "exp" / "m2_split.json")]
    assert registry.aliases() == {"live": ids[0], "best": ids[2]} and models[ids[0]]["tags"] == ["old"]
    data = json.loads(path.read_text())  # migrated on disk by that first read
    assert list(data) == [ids[0], ids[1], ids[2]]
    assert data[ids[0]]["model_path"] == "models/exp/m0.skops" and data[ids[0]]["aliases"] == ["live"]
    assert data[ids[2]]["aliases"] == ["best"] and path.with_name("model_registry.journal").read_bytes() == b""
    new = registry.register_model(_entry(registry, experiment="exp"))
    assert registry.get_model_info(new)["version"] == 4 and new in json.loads(path.read_text())


def test_seed_format_registry_is_read(tmp_path: Path) -> None:
    ws = init_workspace(tmp_path)
    seed = {
        "0b6c2f0e-1111-4222-8333-444455556666": {
            "model_name": "random_forest", "experiment_name": "baseline",
            "model_path": str(ws.models_dir / "baseline" / "rf.skops"),
            "metadata_path": str(ws.models_dir / "baseline" / "rf_metadata.json"),
            "accuracy": 0.6, "created_at": "2024-01-01T10:00:00",
        }
    }
    ws.registry_path.write_text(json.dumps(seed, indent=2))
    registry = ModelRegistry(ws.registry_path)
    assert registry.get_model_info("0b6c2f0e")["model_path"] == str(ws.models_dir / "baseline" / "rf.skops")
    new = registry.register_model(_entry(registry, experiment="baseline", version=1))
    assert [m["id"] for m in registry.list_models()][0] == new


def test_corrupt_snapshot_is_reported_and_never_overwritten(tmp_path: Path) -> None:
    registry = ModelRegistry(init_workspace(tmp_path).registry_path)
    for i in range(3):
        registry.register_model(_entry(registry, f"m{i}"))
    registry.set_description(registry.list_models()[0]["id"], "a rewrite keeps a backup")
    assert registry.backup_path.exists()
    registry.path.write_text('{"broken": ')
    damaged = registry.path.read_bytes()
    fresh = ModelRegistry(registry.path)
    with pytest.raises(RegistryError) as info:
        fresh.list_models()
    message = str(info.value)
    assert "\n" not in message
    assert f"{registry.path}: registry file is corrupt (invalid JSON" in message
    assert f"cp {registry.backup_path} {registry.path}" in message
    with pytest.raises(RegistryError, match="is corrupt"):
        fresh.register_model(_entry(fresh))
    with pytest.raises(RegistryError, match="is corrupt"):
        registry.register_model(_entry(registry))  # an instance with a cached good state re-reads too
    assert registry.path.read_bytes() == damaged
    shutil.copy(registry.backup_path, registry.path)  # the recovery the message describes
    assert len(ModelRegistry(registry.path)) == 3


def test_corrupt_snapshot_without_backup_says_so(registry: ModelRegistry) -> None:
    registry.path.write_text("[1, 2]")
    with pytest.raises(RegistryError, match="expected a JSON object .* no backup exists"):
        registry.list_models()


def _torn_append(registry: ModelRegistry, written: int) -> bytes:
    """The files a writer SIGKILLed inside its append leaves: the pending record fsync'd, then only the
    first `written` bytes of the append over the closing brace. Returns the file as it was before."""
    from speakfeed_gui.core.registry.format import PENDING_KEY, append_bytes, body_end, entry_line

    before = registry.path.read_bytes()
    at = body_end(before)
    record = {"ino": registry.path.stat().st_ino, "size": len(before), "at": at, "tail": before[at:].decode("latin-1")}
    registry.journal_path.write_text(json.dumps({PENDING_KEY: record}) + "\n")
    data = append_bytes(entry_line("00000000-dead-4000-8000-000000000000", {"model_name": "torn"}, ()), first=False)
    with open(registry.path, "r+b") as handle:
        handle.seek(at)
        handle.write(data[:written])
    return before


@pytest.mark.parametrize("written", [1, 2, 40])
def test_an_append_torn_by_a_kill_is_rolled_back_exactly(registry: ModelRegistry, written: int) -> None:
    first = registry.register_model(_entry(registry, "a"))
    before = _torn_append(registry, written)
    other = ModelRegistry(registry.path)
    assert [m["id"] for m in other.list_models()] == [first]  # rolled back under the lock by this reader
    assert registry.path.read_bytes() == before and registry.journal_path.read_bytes() == b""
    second = registry.register_model(_entry(registry, "b"))  # the writer's cached view was refused, then re-read
    assert list(json.loads(registry.path.read_text())) == [first, second]


def test_an_unparseable_file_without_a_matching_record_is_corrupt_not_rolled_back(registry: ModelRegistry) -> None:
    registry.register_model(_entry(registry, "a"))
    _torn_append(registry, 40)
    damaged = registry.path.read_bytes()
    registry.journal_path.write_bytes(b"")  # no record: not a torn append this version made
    with pytest.raises(RegistryError, match="registry file is corrupt"):
        ModelRegistry(registry.path).list_models()
    assert registry.path.read_bytes() == damaged


def test_corrupt_legacy_journal_line_names_the_line(registry: ModelRegistry) -> None:
    registry.register_model(_entry(registry, "first"))
    with open(registry.journal_path, "ab") as handle:  # an older version's operation journal
        handle.write(b'{"gen":0,"op":"delete","id":"x"}\ngarbage\n')
    # The bad line is complete (newline-terminated): corruption, not a torn write.
    with pytest.raises(RegistryError, match=r"model_registry\.journal: registry file is corrupt \(line 2:.*delete that line"):
        ModelRegistry(registry.path).list_models()


def test_missing_file_with_a_later_legacy_journal_is_an_error(registry: ModelRegistry) -> None:
    registry.folder.mkdir(parents=True, exist_ok=True)
    registry.journal_path.write_text('{"gen":2,"op":"delete","id":"x"}\n')
    with pytest.raises(RegistryError, match="missing, but model_registry.journal continues a later generation"):
        ModelRegistry(registry.path).list_models()


def test_set_alias_compare_and_set(tmp_path):
    registry = ModelRegistry(tmp_path / "models" / "model_registry.json")
    a = registry.register_model({"model_name": "a", "experiment_name": "e"})
    b = registry.register_model({"model_name": "b", "experiment_name": "e"})
    assert registry.set_alias("live", a, only_if=None) is True
    assert registry.set_alias("live", b, only_if=None) is False  # someone set it meanwhile: untouched
    assert registry.aliases()["live"] == a
    assert registry.set_alias("live", b, only_if=a) is True and registry.aliases()["live"] == b
