"""Share trained models between machines as one `.sfbundle` file, and verify models on disk.

A bundle is a zip holding `manifest.json` (format version, the registry entry without local paths,
and each file's name, role and sha256) next to the model's files, flat. Importing treats the file
as hostile: it is refused before anything is written or loaded unless every member is a plain
.skops or .json file of sane size, listed in the manifest with a matching sha256, and every skops
file holds only allowed types and loads. Pickle/joblib files are refused by name and never opened.

A bundle may carry `signature.json`, an Ed25519 signature of the exact manifest bytes (signing.py).
A signature that does not verify is always refused (the bundle changed after signing); whether an
unsigned or untrusted bundle is accepted is the caller's `TrustPolicy` (`security.require_signed`).
The signer, and whether its key was trusted, is kept in the entry's `imported_from.signer`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

from speakfeed_gui.core.errors import IntegrityError, ModelLoadError, RegistryError, StorageError, first_line
from speakfeed_gui.core.registry.api import FILES_KEY, PATH_KEYS, ModelRegistry, entry_problem
from speakfeed_gui.core.registry.format import artifact_roles
from speakfeed_gui.core.registry.signing import (
    SIGNATURE,
    PublicKey,
    load_private_key,
    signature_record,
    trusted_keys,
    trusted_keys_dir,
    verify,
)
from speakfeed_gui.core.storage.atomic import atomic_open, fsync_dir, os_reason, read_json
from speakfeed_gui.core.storage.skops_io import load_estimator, verify_sha256

log = logging.getLogger(__name__)

FORMAT = "speakfeed-bundle"
FORMAT_VERSION = 1
SUFFIX = ".sfbundle"
MANIFEST = "manifest.json"
ALLOWED_SUFFIXES = (".skops", ".json")
MAX_MEMBERS = 20
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 2 << 30
MAX_MANIFEST_BYTES = 1 << 20
ROLES = (*PATH_KEYS, FILES_KEY)
_LOCAL_KEYS = (*ROLES, "id", "aliases", "version")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class TrustPolicy:
    """Which signers an import accepts: `trusted` maps key id -> key; `require_signed` refuses the rest."""

    trusted: Mapping[str, PublicKey] = field(default_factory=dict)
    require_signed: bool = False

    @classmethod
    def for_workspace(cls, workspace_root: str | Path, require_signed: bool) -> "TrustPolicy":
        """The workspace's trusted keys (config/trusted_keys/) and its `security.require_signed`."""
        return cls(trusted_keys(trusted_keys_dir(workspace_root)), require_signed)


# ---- verification --------------------------------------------------------------------------


def verify_model(registry: ModelRegistry, ref: str) -> None:
    """Re-hash the model's metadata (against the entry's `metadata_sha256`) and every artifact it lists.

    The trainer writes `metadata["artifacts"] = {role: {"file": name, "sha256": hex}}` with names
    relative to the metadata file's folder. Raises IntegrityError naming the first bad file.
    """
    _verify_entry(registry.get_model_info(ref), strict=True)


def _verify_entry(entry: Mapping[str, Any], *, strict: bool) -> None:
    """Check what the entry and its metadata record; `strict` also fails when nothing is recorded."""
    label = f"model {entry.get('id', '')[:8] or entry.get('model_name', '?')}"
    metadata_path = entry.get("metadata_path")
    if not metadata_path:
        if strict:
            raise IntegrityError(f"{label}: no metadata file is recorded, so there are no hashes to verify")
        return
    if entry.get("metadata_sha256"):
        verify_sha256(metadata_path, entry["metadata_sha256"])
    elif strict:
        log.warning("%s: the registry entry records no metadata_sha256; checking the artifacts only", metadata_path)
    metadata = read_json(metadata_path, "model metadata", error=IntegrityError)
    artifacts = metadata.get("artifacts")
    if not isinstance(artifacts, dict) or not artifacts:
        if strict:
            raise IntegrityError(f"{metadata_path}: records no artifact hashes (metadata['artifacts']); cannot verify")
        return
    covered = set()
    for role, record in artifacts.items():
        name = record.get("file") or record.get("path") if isinstance(record, dict) else None
        digest = record.get("sha256") if isinstance(record, dict) else None
        if not isinstance(name, str) or not isinstance(digest, str):
            raise IntegrityError(f"{metadata_path}: artifacts.{role}: expected {{'file': name, 'sha256': hex}}")
        path = os.path.join(os.path.dirname(metadata_path), name)
        verify_sha256(path, digest)
        covered.add(os.path.realpath(path))
    for key in ("model_path", "scaler_path"):
        if entry.get(key) and os.path.realpath(entry[key]) not in covered:
            raise IntegrityError(f"{entry[key]}: not covered by the artifact hashes in {metadata_path}")


# ---- export --------------------------------------------------------------------------------


def _safe_name(text: str, fallback: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or fallback


def export_bundle(
    registry: ModelRegistry, ref: str, dest: str | Path, *, sign_with: str | None = None,
    keys_dir: str | Path | None = None,
) -> Path:
    """Write the model as one `.sfbundle` (zip) file; `dest` is the file, or a folder to put it in.

    With `sign_with` (a key name in the user's key folder) the manifest is signed.
    """
    entry = registry.get_model_info(ref)
    _verify_entry(entry, strict=False)
    files, names = [], set()
    for role, path in artifact_roles(entry):
        name = os.path.basename(path)
        if not name.endswith(ALLOWED_SUFFIXES):
            raise IntegrityError(f"{path}: only .skops and .json files can be bundled; retrain to get a skops model")
        if name in names or name == MANIFEST:
            raise IntegrityError(f"{path}: two files of model {entry['id'][:8]} share the name {name!r}")
        if not os.path.isfile(path):
            raise IntegrityError(f"{path}: file of model {entry['id'][:8]} is missing")
        names.add(name)
        files.append({"name": name, "role": role, "path": path})
    signer = load_private_key(sign_with, keys_dir) if sign_with else None  # fails before anything is written
    dest = Path(dest)
    if dest.is_dir():
        stem = _safe_name(f"{entry.get('model_name') or 'model'}-v{entry.get('version', 1)}-{entry['id'][:8]}", "model")
        dest = dest / (stem + SUFFIX)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "source_id": entry["id"],
        "source_version": entry.get("version"),
        "entry": {k: v for k, v in entry.items() if k not in _LOCAL_KEYS},
        "files": [],
    }
    with atomic_open(dest) as handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for item in files:
            manifest["files"].append({"name": item["name"], "role": item["role"], "sha256": _copy_in(item, archive)})
        raw = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
        archive.writestr(MANIFEST, raw)
        if signer is not None:
            archive.writestr(SIGNATURE, json.dumps(signature_record(*signer, raw), indent=2))
    return dest


def _copy_in(item: Mapping[str, str], archive: zipfile.ZipFile) -> str:
    """Stream one file into the archive; return the sha256 of exactly the bytes written."""
    digest = hashlib.sha256()
    with open(item["path"], "rb") as src, archive.open(item["name"], "w") as out:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


# ---- import --------------------------------------------------------------------------------


def _check_member(bundle: Path, info: zipfile.ZipInfo, seen: set[str], max_member_bytes: int) -> None:
    name = info.filename
    where = f"{bundle}: member {name!r}"
    if not name:  # ZipInfo.is_dir() below would raise IndexError on it
        raise IntegrityError(f"{where} has an empty name; refused")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise IntegrityError(f"{where} has an absolute path; refused")
    if ".." in re.split(r"[/\\]", name):
        raise IntegrityError(f"{where} has a '..' path; refused")
    if "/" in name or "\\" in name or info.is_dir():
        raise IntegrityError(f"{where} is in a folder; bundles are flat; refused")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise IntegrityError(f"{where} is a symbolic link; refused")
    if info.flag_bits & 0x1:
        raise IntegrityError(f"{where} is encrypted; refused")
    if name in seen:
        raise IntegrityError(f"{where} appears twice; refused")
    if not name.endswith(ALLOWED_SUFFIXES):
        pickled = re.search(r"\.(pkl|pickle|joblib|p)$", name, re.I)
        kind = "a pickle/joblib file, which could run code" if pickled else "of an unexpected type"
        raise IntegrityError(f"{where} is {kind}; only .skops and .json files are accepted; refused")
    if info.file_size > max_member_bytes:
        raise IntegrityError(f"{where} declares {info.file_size} bytes, over the {max_member_bytes}-byte limit; refused")


def _read_small(bundle: Path, archive: zipfile.ZipFile, name: str) -> bytes:
    with archive.open(name) as handle:
        raw = handle.read(MAX_MANIFEST_BYTES + 1)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise IntegrityError(f"{bundle}: {name} is over {MAX_MANIFEST_BYTES} bytes; refused")
    return raw


def _read_manifest(bundle: Path, archive: zipfile.ZipFile, members: set[str]) -> tuple[dict[str, Any], bytes]:
    if MANIFEST not in members:
        raise IntegrityError(f"{bundle}: no {MANIFEST}; not a SpeakFeed bundle")
    raw = _read_small(bundle, archive, MANIFEST)
    try:
        manifest = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise IntegrityError(f"{bundle}: {MANIFEST} is not valid JSON ({first_line(exc, 200)})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IntegrityError(f"{bundle}: {MANIFEST} is not a SpeakFeed bundle manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise IntegrityError(f"{bundle}: bundle format version {version!r} is not supported (up to {FORMAT_VERSION})")
    files = manifest.get("files")
    ok = isinstance(files, list) and isinstance(manifest.get("entry"), dict)
    ok = ok and all(
        isinstance(f, dict) and isinstance(f.get("name"), str) and f.get("role") in ROLES
        and isinstance(f.get("sha256"), str) and re.fullmatch(r"[0-9a-f]{64}", f["sha256"])
        for f in files
    )
    if not ok:
        raise IntegrityError(f"{bundle}: {MANIFEST} has a malformed 'entry' or 'files' list")
    problem = entry_problem({k: v for k, v in manifest["entry"].items() if k not in _LOCAL_KEYS})
    if problem:
        raise IntegrityError(f"{bundle}: {MANIFEST} entry: {problem}; refused")
    listed = [f["name"] for f in files]
    if SIGNATURE in listed:
        raise IntegrityError(f"{bundle}: {MANIFEST} lists {SIGNATURE} as a model file; refused")
    unlisted, absent = sorted(members - {MANIFEST, SIGNATURE} - set(listed)), sorted(set(listed) - members)
    if unlisted:
        raise IntegrityError(f"{bundle}: members not listed in {MANIFEST}: {', '.join(unlisted)}; refused")
    if absent or len(set(listed)) != len(listed):
        names = ", ".join(absent or listed)
        raise IntegrityError(f"{bundle}: {MANIFEST} lists files that are missing or repeated: {names}; refused")
    roles = [f["role"] for f in files]
    if roles.count("model_path") != 1 or any(roles.count(r) > 1 for r in PATH_KEYS):
        raise IntegrityError(f"{bundle}: the manifest must list exactly one model file and at most one of each role")
    return manifest, raw


def _check_signer(
    bundle: Path, archive: zipfile.ZipFile, members: set[str], manifest_raw: bytes, policy: TrustPolicy
) -> dict[str, Any] | None:
    """Verify the signature (always) and apply the trust policy; the signer record, or None if unsigned."""
    hint = "security.require_signed is on in models.yaml; trust the signer's key with `speakfeed keys trust FILE`"
    if SIGNATURE not in members:
        if policy.require_signed:
            raise IntegrityError(f"{bundle}: the bundle is not signed; refused ({hint})")
        return None
    try:
        record = json.loads(_read_small(bundle, archive, SIGNATURE))
    except (ValueError, RecursionError):
        raise IntegrityError(f"{bundle}: {SIGNATURE} is not valid JSON; refused") from None
    key = verify(record, manifest_raw, str(bundle))
    known = policy.trusted.get(key.key_id)
    if known is None and policy.require_signed:
        raise IntegrityError(f"{bundle}: signed by {key.name!r} (key {key.key_id}), a key this workspace does not "
                             f"trust; refused ({hint})")
    return {"name": known.name if known else key.name, "key_id": key.key_id, "trusted": known is not None}


def _extract(
    bundle: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, expected: str, budget: list[int],
    max_member_bytes: int,
) -> None:
    """Stream one member to disk, counting real bytes against its declared size and both limits."""
    where = f"{bundle}: member {info.filename!r}"
    digest, size = hashlib.sha256(), 0
    with archive.open(info) as src, open(target, "xb") as out:
        while chunk := src.read(_CHUNK):
            size += len(chunk)
            budget[0] -= len(chunk)
            if size > info.file_size or size > max_member_bytes or budget[0] < 0:
                raise IntegrityError(f"{where} expands beyond its declared size or the size limit; refused")
            digest.update(chunk)
            out.write(chunk)
    if size != info.file_size:
        raise IntegrityError(f"{where} holds {size} bytes but declares {info.file_size}; refused")
    if digest.hexdigest() != expected:
        raise IntegrityError(
            f"{where}: sha256 mismatch (manifest {expected[:8]}…, found {digest.hexdigest()[:8]}…); refused"
        )


def _destination(registry: ModelRegistry, experiment: str, names: list[str]) -> Path:
    """`<models>/<experiment>/`, or a fresh `import-N` subfolder of it if a file name is taken."""
    base = registry.folder / _safe_name(experiment, "imported")
    candidate, n = base, 1
    while any((candidate / name).exists() for name in names):
        n += 1
        candidate = base / f"import-{n}"
    return candidate


def _move_into(staging: Path, dest: Path, names: list[str]) -> list[Path]:
    """Move files without ever overwriting one (hard link, then unlink); roll back on failure."""
    dest.mkdir(parents=True, exist_ok=True)
    moved: list[Path] = []
    try:
        for name in names:
            target = dest / name
            try:
                os.link(staging / name, target)  # fails rather than overwrite
            except FileExistsError:
                raise
            except OSError:  # a file system without hard links
                with open(staging / name, "rb") as src, open(target, "xb") as out:
                    moved.append(target)
                    shutil.copyfileobj(src, out)
                continue
            moved.append(target)
        fsync_dir(dest)
    except OSError as exc:
        _remove(moved, dest)
        raise RegistryError(f"{dest}: cannot place the imported files ({os_reason(exc)}); nothing was imported") from None
    return moved


def _remove(paths: list[Path], folder: Path) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
    with contextlib.suppress(OSError):
        folder.rmdir()  # only if now empty


def import_bundle(
    registry: ModelRegistry,
    bundle: str | Path,
    *,
    max_member_bytes: int = MAX_MEMBER_BYTES,
    max_total_bytes: int = MAX_TOTAL_BYTES,
    policy: TrustPolicy | None = None,
) -> str:
    """Check a `.sfbundle` completely, then copy its files into `<models>/<experiment>/` and register it.

    Returns the new id. Any problem raises IntegrityError (one line naming the bundle and the problem)
    and leaves nothing behind. `policy` says which signers are trusted and whether one is required.
    """
    bundle = Path(bundle)
    if registry.read_only:  # before anything is staged in the registry folder
        raise RegistryError(registry.read_only)
    if not bundle.is_file():
        raise IntegrityError(f"{bundle}: no such bundle file")
    if not zipfile.is_zipfile(bundle):
        raise IntegrityError(f"{bundle}: not a SpeakFeed bundle (not a zip file)")
    try:
        folder = registry.folder
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".import-", dir=folder))
    except OSError as exc:
        raise RegistryError(f"{registry.folder}: cannot stage the import ({os_reason(exc)})") from None
    try:
        with zipfile.ZipFile(bundle) as archive:
            manifest, signer = _check_archive(
                bundle, archive, staging, max_member_bytes, max_total_bytes, policy or TrustPolicy())
        files = manifest["files"]
        staged = {f["role"]: str(staging / f["name"]) for f in files if f["role"] != FILES_KEY}
        _check_contents(bundle, staging, files, {**manifest["entry"], **staged})
        entry = {k: v for k, v in manifest["entry"].items() if k not in _LOCAL_KEYS}
        names = [f["name"] for f in files]
        dest = _destination(registry, str(entry.get("experiment_name") or "imported"), names)
        moved = _move_into(staging, dest, names)
        for f in files:
            if f["role"] == FILES_KEY:
                entry.setdefault(FILES_KEY, []).append(str(dest / f["name"]))
            else:
                entry[f["role"]] = str(dest / f["name"])
        entry["imported_from"] = {
            "bundle": bundle.name,
            "source_id": manifest.get("source_id"),
            "source_version": manifest.get("source_version"),
            "imported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "signer": signer,
        }
        try:
            return registry.register_model(entry)
        except BaseException:
            _remove(moved, dest)
            raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise IntegrityError(f"{bundle}: damaged zip archive ({type(exc).__name__}: {exc}); refused") from None
    except OSError as exc:  # reading the bundle or writing the staged copy (disk full, read-only...)
        raise StorageError(
            f"{bundle}: cannot import into {registry.folder} ({os_reason(exc)}); nothing was imported"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_archive(
    bundle: Path, archive: zipfile.ZipFile, staging: Path, max_member_bytes: int, max_total_bytes: int,
    policy: TrustPolicy,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Refuse unsafe members and bad or unwanted signatures, then extract the listed files into `staging`,
    verifying sizes and hashes. Returns the manifest and the signer record (None: unsigned)."""
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise IntegrityError(f"{bundle}: {len(infos)} members, more than the {MAX_MEMBERS} a bundle may hold; refused")
    seen: set[str] = set()
    for info in infos:
        _check_member(bundle, info, seen, max_member_bytes)
        seen.add(info.filename)
    declared = sum(info.file_size for info in infos)
    if declared > max_total_bytes:
        raise IntegrityError(
            f"{bundle}: declares {declared} bytes in all, over the {max_total_bytes}-byte limit; refused"
        )
    manifest, raw = _read_manifest(bundle, archive, seen)
    signer = _check_signer(bundle, archive, seen, raw, policy)
    budget = [max_total_bytes]
    for record in manifest["files"]:
        info = archive.getinfo(record["name"])
        _extract(bundle, archive, info, staging / record["name"], record["sha256"], budget, max_member_bytes)
    return manifest, signer


def _check_contents(bundle: Path, staging: Path, files: list[dict[str, Any]], staged_entry: dict[str, Any]) -> None:
    """After every hash matched: JSON files must parse, skops files may hold only allowed types and must load.

    The trial load (allowed types only, so it cannot run code) refuses what the audit cannot see, e.g. a
    stored array that is a pickled object array: no model is listed that would fail to load.
    """
    for record in files:
        path = staging / record["name"]
        try:
            if record["name"].endswith(".json"):
                read_json(path, "bundled JSON file", error=IntegrityError)
            else:
                load_estimator(path)  # audits the types first
        except (IntegrityError, ModelLoadError) as exc:
            raise IntegrityError(f"{bundle}: {str(exc).replace(str(path), repr(record['name']))}; refused") from None
    try:
        _verify_entry(staged_entry, strict=False)
    except IntegrityError as exc:
        raise IntegrityError(f"{bundle}: {str(exc).replace(str(staging) + os.sep, '')}; refused") from None
