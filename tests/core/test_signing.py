"""Signed bundles: who made a model, refused when changed after signing, and `security.require_signed`."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path

import pytest
import yaml

from speakfeed_gui.cli import main
from speakfeed_gui.core.errors import IntegrityError
from speakfeed_gui.core.registry import bundle as bundles
from speakfeed_gui.core.registry import signing
from speakfeed_gui.core.registry.api import ModelRegistry
from speakfeed_gui.core.settings.workspace import init_workspace
from tests.core.test_bundle import _tree, source, target  # noqa: F401  (fixtures)


def _rewrite(bundle: Path, out: Path, change) -> Path:
    """Copy a bundle member by member, passing each (name, bytes) through `change`."""
    with zipfile.ZipFile(bundle) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info)))
    return out


def _assert_nothing_imported(target: ModelRegistry, before: list[str]) -> None:
    assert len(target) == 0
    assert _tree(target.folder) == before


def test_key_pair_is_private_and_a_signed_bundle_imports_naming_its_trusted_signer(source, target, tmp_path):
    registry, model_id = source
    private_path, public = signing.create_key("alice")
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert private_path.parent.is_relative_to(tmp_path.parent)  # the isolated config folder, not ~/.config
    with pytest.raises(signing.SigningKeyError, match="already exists"):
        signing.create_key("alice")
    path = bundles.export_bundle(registry, model_id, tmp_path / "m.sfbundle", sign_with="alice")
    with zipfile.ZipFile(path) as archive:
        assert signing.SIGNATURE in archive.namelist()

    trusted_dir = signing.trusted_keys_dir(target.folder.parent)
    signing.trust_key(private_path.with_suffix(".pub"), trusted_dir)
    policy = bundles.TrustPolicy.for_workspace(target.folder.parent, require_signed=True)
    new_id = bundles.import_bundle(target, path, policy=policy)
    signer = target.get_model_info(new_id)["imported_from"]["signer"]
    assert signer == {"name": "alice", "key_id": public.key_id, "trusted": True}
    assert signing.signer_text(signer) == f"signed by alice (key {public.key_id}, a trusted key)"


def test_without_require_signed_unsigned_and_untrusted_bundles_import_and_say_so(source, target, tmp_path):
    registry, model_id = source
    signing.create_key("mallory")
    unsigned = bundles.export_bundle(registry, model_id, tmp_path / "u.sfbundle")
    signed = bundles.export_bundle(registry, model_id, tmp_path / "s.sfbundle", sign_with="mallory")
    first = bundles.import_bundle(target, unsigned)
    assert target.get_model_info(first)["imported_from"]["signer"] is None
    second = bundles.import_bundle(target, signed, policy=bundles.TrustPolicy.for_workspace(target.folder.parent, False))
    signer = target.get_model_info(second)["imported_from"]["signer"]
    assert signer["name"] == "mallory" and signer["trusted"] is False


def test_require_signed_refuses_unsigned_and_untrusted_bundles_naming_the_signer(source, target, tmp_path):
    registry, model_id = source
    _, public = signing.create_key("mallory")
    unsigned = bundles.export_bundle(registry, model_id, tmp_path / "u.sfbundle")
    signed = bundles.export_bundle(registry, model_id, tmp_path / "s.sfbundle", sign_with="mallory")
    before = _tree(target.folder)
    policy = bundles.TrustPolicy.for_workspace(target.folder.parent, require_signed=True)
    with pytest.raises(IntegrityError) as caught:
        bundles.import_bundle(target, unsigned, policy=policy)
    assert "not signed; refused" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(IntegrityError) as caught:
        bundles.import_bundle(target, signed, policy=policy)
    message = str(caught.value)
    assert f"signed by 'mallory' (key {public.key_id}), a key this workspace does not trust; refused" in message
    assert "\n" not in message
    _assert_nothing_imported(target, before)


@pytest.mark.parametrize("how", ["manifest entry", "model file and its hash", "swapped signer key"])
def test_a_bundle_changed_after_signing_is_refused_even_without_require_signed(source, target, tmp_path, how):
    registry, model_id = source
    signing.create_key("alice")
    signing.create_key("bob")
    path = bundles.export_bundle(registry, model_id, tmp_path / "m.sfbundle", sign_with="alice")
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(bundles.MANIFEST))
    model_name = next(f["name"] for f in manifest["files"] if f["role"] == "model_path")
    bob_signature = signing.signature_record(*signing.load_private_key("bob"), b"other manifest")

    def change(name: str, data: bytes) -> bytes:
        if how == "manifest entry" and name == bundles.MANIFEST:
            return data.replace(b'"accuracy": 0.9', b'"accuracy": 0.99')
        if how == "model file and its hash":
            other = source[0].get_model_info(model_id)["scaler_path"]  # a valid skops file of another kind
            if name == model_name:
                return Path(other).read_bytes()
            if name == bundles.MANIFEST:
                import hashlib

                doc = json.loads(data)
                for record in doc["files"]:
                    if record["name"] == model_name:
                        record["sha256"] = hashlib.sha256(Path(other).read_bytes()).hexdigest()
                return json.dumps(doc, indent=2).encode()
        if how == "swapped signer key" and name == signing.SIGNATURE:
            record = json.loads(data)
            record["public_key"], record["key_id"] = bob_signature["public_key"], bob_signature["key_id"]
            return json.dumps(record).encode()
        return data

    tampered = _rewrite(path, tmp_path / "t.sfbundle", change)
    before = _tree(target.folder)
    with pytest.raises(IntegrityError) as caught:
        bundles.import_bundle(target, tampered)
    assert "changed after signing; refused" in str(caught.value)
    _assert_nothing_imported(target, before)


def test_a_signature_file_that_is_not_a_signature_is_refused(source, target, tmp_path):
    registry, model_id = source
    path = bundles.export_bundle(registry, model_id, tmp_path / "m.sfbundle")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr(signing.SIGNATURE, json.dumps({"format": "speakfeed-signature", "signer": "x"}))
    with pytest.raises(IntegrityError, match="not a SpeakFeed ed25519 signature record"):
        bundles.import_bundle(target, path)


def test_cli_keys_create_trust_export_sign_and_require_signed(source, tmp_path, capsys):
    registry, model_id = source
    ws_a, ws_b = str(registry.folder.parent), str(tmp_path / "b")
    init_workspace(ws_b)
    assert main(["keys", "create", "alice"]) == 0
    out = capsys.readouterr().out
    public_file = Path(out.split("public:")[1].split()[0])
    bundle = tmp_path / "m.sfbundle"
    assert main(["--workspace", ws_a, "models", "export", model_id, str(bundle), "--sign", "alice"]) == 0
    assert "signed by alice" in capsys.readouterr().out

    config = Path(ws_b) / "config" / "models.yaml"
    data = yaml.safe_load(config.read_text())
    data["security"] = {"require_signed": True}
    config.write_text(yaml.safe_dump(data))
    assert main(["--workspace", ws_b, "models", "import", str(bundle)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("speakfeed: error: ") and "signed by 'alice'" in err and "does not trust" in err
    assert "\n" not in err

    assert main(["--workspace", ws_b, "keys", "trust", str(public_file)]) == 0
    capsys.readouterr()
    assert main(["--workspace", ws_b, "models", "import", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "signed by alice" in out and "a trusted key" in out
    assert main(["--workspace", ws_b, "keys", "list"]) == 0
    assert "alice" in capsys.readouterr().out
    assert main(["--workspace", ws_a, "models", "export", model_id, str(tmp_path / "x.sfbundle"), "--sign", "nobody"]) == 2
    assert "no signing key named 'nobody'" in capsys.readouterr().err
    assert not (tmp_path / "x.sfbundle").exists()
