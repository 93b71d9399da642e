"""Who made a bundle: Ed25519 signing keys, a workspace's trusted keys, and signature checks.

A user's key pairs live in their config folder (`<user config>/SpeakFeed/keys/NAME.key`, PKCS#8 PEM,
mode 0600, and `NAME.pub`). A public key file is one line, `speakfeed-ed25519 <base64 key> <name>`, so
it can be mailed or pasted; a key is known by its id, the first 16 hex digits of the sha256 of the raw
32-byte key. A workspace trusts the keys copied into `config/trusted_keys/` (`speakfeed keys trust`).

A bundle's signature signs the exact bytes of its manifest, which lists every file's sha256: a
signature that verifies covers every byte of the bundle.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from speakfeed_gui.core.errors import IntegrityError, SpeakFeedError
from speakfeed_gui.core.storage.atomic import atomic_open, os_reason

log = logging.getLogger(__name__)

SIGNATURE = "signature.json"
SIGNATURE_FORMAT = "speakfeed-signature"
PUBLIC_PREFIX = "speakfeed-ed25519"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
_MAX_KEY_FILE = 4096


class SigningKeyError(SpeakFeedError):
    """A signing key cannot be created, found or read."""


@dataclass(frozen=True)
class PublicKey:
    name: str
    key_id: str
    raw: bytes

    def line(self) -> str:
        """The public key file's one line."""
        return f"{PUBLIC_PREFIX} {base64.b64encode(self.raw).decode()} {self.name}\n"


def key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:16]


def user_keys_dir() -> Path:
    """`<user config>/SpeakFeed/keys` (XDG_CONFIG_HOME is honoured on Linux)."""
    import platformdirs

    return platformdirs.user_config_path("SpeakFeed", appauthor=False) / "keys"


def trusted_keys_dir(workspace_root: str | Path) -> Path:
    return Path(workspace_root) / "config" / "trusted_keys"


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SigningKeyError(f"key name {name!r} is not valid: use up to 64 letters, digits, '_', '-', '.' or '@'")
    return name


def _raw_public(private: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def create_key(name: str, folder: str | Path | None = None) -> tuple[Path, PublicKey]:
    """Make a new key pair NAME.key (readable by the user only) and NAME.pub; never overwrite one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _check_name(name)
    folder = Path(folder) if folder else user_keys_dir()
    private_path, public_path = folder / f"{name}.key", folder / f"{name}.pub"
    if private_path.exists() or public_path.exists():
        raise SigningKeyError(f"{private_path}: a key named {name!r} already exists; pick another name")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    public = PublicKey(name, key_id(_raw_public(private)), _raw_public(private))
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(private_path, 0o600)  # whatever the umask
        with atomic_open(public_path) as handle:
            handle.write(public.line().encode())
    except OSError as exc:
        raise SigningKeyError(f"{folder}: cannot write the key pair ({os_reason(exc)})") from None
    return private_path, public


def load_private_key(name: str, folder: str | Path | None = None) -> tuple[Any, PublicKey]:
    """The private key NAME and its public half, from the user's key folder."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    _check_name(name)
    path = (Path(folder) if folder else user_keys_dir()) / f"{name}.key"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SigningKeyError(f"{path}: no signing key named {name!r}; create one with `speakfeed keys create {name}`") from None
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read the signing key ({os_reason(exc)})") from None
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyError(f"{path}: not a readable private key ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{path}: not an Ed25519 key")
    raw = _raw_public(private)
    return private, PublicKey(name, key_id(raw), raw)


def parse_public_key(text: str, where: str) -> PublicKey:
    """A `speakfeed-ed25519 <base64> <name>` line; IntegrityError naming `where` otherwise."""
    parts = text.strip().split()
    if len(parts) != 3 or parts[0] != PUBLIC_PREFIX:
        raise IntegrityError(f"{where}: not a SpeakFeed public key (expected '{PUBLIC_PREFIX} <key> <name>')")
    try:
        raw = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise IntegrityError(f"{where}: the key is not 32 bytes of base64; not an Ed25519 public key")
    if not _NAME_RE.match(parts[2]):
        raise IntegrityError(f"{where}: key name {parts[2]!r} is not valid")
    return PublicKey(parts[2], key_id(raw), raw)


def read_public_key(path: str | Path) -> PublicKey:
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(_MAX_KEY_FILE + 1)
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read the public key ({os_reason(exc)})") from None
    if len(data) > _MAX_KEY_FILE:
        raise IntegrityError(f"{path}: too large for a public key file")
    try:
        return parse_public_key(data.decode("ascii"), str(path))
    except UnicodeDecodeError:
        raise IntegrityError(f"{path}: not a SpeakFeed public key (not text)") from None


def trust_key(public_file: str | Path, trusted_dir: str | Path) -> PublicKey:
    """Copy a teammate's public key into the workspace's trusted keys (idempotent)."""
    key = read_public_key(public_file)
    trusted_dir = Path(trusted_dir)
    try:
        trusted_dir.mkdir(parents=True, exist_ok=True)
        with atomic_open(trusted_dir / f"{key.name}-{key.key_id}.pub") as handle:
            handle.write(key.line().encode())
    except OSError as exc:
        raise SigningKeyError(f"{trusted_dir}: cannot add the key ({os_reason(exc)})") from None
    return key


def trusted_keys(trusted_dir: str | Path) -> dict[str, PublicKey]:
    """key id -> key, of every readable `*.pub` in the folder (unreadable ones are logged and skipped)."""
    found: dict[str, PublicKey] = {}
    folder = Path(trusted_dir)
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.pub")):
        try:
            key = read_public_key(path)
        except SpeakFeedError as exc:
            log.warning("trusted key skipped: %s", exc)
            continue
        found[key.key_id] = key
    return found


def local_key_ids(folder: str | Path | None = None) -> set[str]:
    """Ids of the user's own public keys (for `registry.maintainers` given as key ids)."""
    folder = Path(folder) if folder else user_keys_dir()
    ids = set()
    for path in folder.glob("*.pub") if folder.is_dir() else ():
        try:
            ids.add(read_public_key(path).key_id)
        except SpeakFeedError:
            continue
    return ids


def signer_text(signer: Any) -> str:
    """'signed by alice (key 1a2b…, trusted)' or 'unsigned', from an entry's imported_from.signer."""
    if not isinstance(signer, Mapping) or not signer.get("key_id"):
        return "unsigned"
    trust = "a trusted key" if signer.get("trusted") else "a key this workspace does not trust"
    return f"signed by {signer.get('name')} (key {signer.get('key_id')}, {trust})"


# ---- signatures ----------------------------------------------------------------------------


def signature_record(private: Any, public: PublicKey, data: bytes) -> dict[str, Any]:
    """The signature record (stored as signature.json) of `data`, from `load_private_key`'s pair."""
    return {
        "format": SIGNATURE_FORMAT,
        "algorithm": "ed25519",
        "signer": public.name,
        "key_id": public.key_id,
        "public_key": base64.b64encode(public.raw).decode(),
        "signature": base64.b64encode(private.sign(data)).decode(),
    }


def verify(record: Any, data: bytes, where: str) -> PublicKey:
    """Check a signature record over `data`; IntegrityError (one line naming the signer) unless it holds."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    ok = isinstance(record, Mapping) and record.get("format") == SIGNATURE_FORMAT
    ok = ok and record.get("algorithm") == "ed25519"
    ok = ok and all(isinstance(record.get(k), str) for k in ("signer", "key_id", "public_key", "signature"))
    if not ok:
        raise IntegrityError(f"{where}: {SIGNATURE} is not a SpeakFeed ed25519 signature record; refused")
    key = parse_public_key(f"{PUBLIC_PREFIX} {record['public_key']} {record['signer']}", f"{where}: {SIGNATURE}")
    if key.key_id != record["key_id"]:
        raise IntegrityError(f"{where}: {SIGNATURE}: key id {record['key_id']!r} does not match its key; refused")
    try:
        signature = base64.b64decode(record["signature"], validate=True)
        Ed25519PublicKey.from_public_bytes(key.raw).verify(signature, data)
    except (binascii.Error, ValueError, InvalidSignature):
        raise IntegrityError(
            f"{where}: the signature by {key.name!r} (key {key.key_id}) does not match the manifest: "
            "the bundle was changed after signing; refused"
        ) from None
    return key
