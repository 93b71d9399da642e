"""Authenticated encryption of recordings and session files (AES-256-GCM), and where the key lives.

An encrypted file starts with `SFENC1` and the key's 8-byte id, then holds records:
`<4-byte big-endian length> <12-byte random nonce> <ciphertext + 16-byte tag>`. Each record is
sealed on its own with its position in the file as associated data, so records cannot be swapped
or reordered unnoticed, and a file that is only appended to (a session journal, a recording) keeps
every whole record readable after a crash: only a torn last record is lost. A whole file
(a session's .json) is one record.

The key (32 random bytes) is kept in the OS keyring through `keyring`, or in a key file the user
chooses (`privacy.key_file`, created readable by the user only). Without a usable keyring backend
(a headless machine) the key goes to `<user config>/SpeakFeed/recordings.key`, and a warning says so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import struct
from pathlib import Path

from speakfeed_gui.core.errors import SpeakFeedError
from speakfeed_gui.core.storage.atomic import os_reason

log = logging.getLogger(__name__)

MAGIC = b"SFENC1"
HEADER_SIZE = len(MAGIC) + 8
KEYRING_SERVICE = "SpeakFeed"
KEYRING_USER = "recordings-key"
_NONCE = 12
_LENGTH = struct.Struct(">I")


class DecryptionError(SpeakFeedError):
    """An encrypted file cannot be read: no key, the wrong key, or damaged content."""


def is_encrypted(path: str | Path) -> bool:
    """True when the file starts like an encrypted SpeakFeed file."""
    try:
        with open(path, "rb") as handle:
            return handle.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


class Cipher:
    """AES-GCM with one key; `source` says where the key came from (named in error messages)."""

    def __init__(self, key: bytes, source: str) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != 32:
            raise DecryptionError(f"{source}: the recordings key must be 32 bytes, found {len(key)}")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(b"speakfeed-recordings-key\0" + key).digest()[:8]
        self.source = source

    def header(self) -> bytes:
        return MAGIC + self.key_id

    def seal(self, data: bytes, index: int) -> bytes:
        """One record: length, nonce, ciphertext; `index` is its position in the file (0, 1, ...)."""
        nonce = os.urandom(_NONCE)
        sealed = nonce + self._aead.encrypt(nonce, data, MAGIC + struct.pack(">Q", index))
        return _LENGTH.pack(len(sealed)) + sealed

    def encrypt_whole(self, data: bytes) -> bytes:
        """A complete encrypted file holding `data` as its one record."""
        return self.header() + self.seal(data, 0)

    def open_records(self, blob: bytes, where: str) -> tuple[list[bytes], bool]:
        """The records of an encrypted file's bytes, and whether a torn last record was left out.

        DecryptionError when the file is another key's, or a whole record fails authentication.
        """
        from cryptography.exceptions import InvalidTag

        if blob[: len(MAGIC)] != MAGIC or len(blob) < HEADER_SIZE:
            raise DecryptionError(f"{where}: not an encrypted SpeakFeed file")
        if blob[len(MAGIC):HEADER_SIZE] != self.key_id:
            raise DecryptionError(
                f"{where}: encrypted with another key (id {blob[len(MAGIC):HEADER_SIZE].hex()}), not the one in "
                f"{self.source} (id {self.key_id.hex()}); cannot read it without that key"
            )
        records, offset, index = [], HEADER_SIZE, 0
        while offset < len(blob):
            if offset + _LENGTH.size > len(blob):
                return records, True
            (size,) = _LENGTH.unpack_from(blob, offset)
            start = offset + _LENGTH.size
            if size < _NONCE + 16:
                raise DecryptionError(f"{where}: damaged encrypted file (record {index} has length {size})")
            if start + size > len(blob):
                return records, True
            nonce, sealed = blob[start:start + _NONCE], blob[start + _NONCE:start + size]
            try:
                records.append(self._aead.decrypt(nonce, sealed, MAGIC + struct.pack(">Q", index)))
            except InvalidTag:
                raise DecryptionError(
                    f"{where}: record {index} fails authentication (the file was changed or damaged)"
                ) from None
            offset, index = start + size, index + 1
        return records, False



# ---- where the key lives -------------------------------------------------------------------


def default_key_file() -> Path:
    """Where the key goes when no OS keyring is available."""
    import platformdirs

    return platformdirs.user_config_path("SpeakFeed", appauthor=False) / "recordings.key"


def _decode_key(text: str, where: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        key = b""
    if len(key) != 32:
        raise DecryptionError(f"{where}: not a SpeakFeed recordings key (expected 32 bytes of base64)")
    return key


def _new_key_text() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def key_from_file(path: str | Path, *, create: bool) -> Cipher:
    """The key in `path`; with `create` a new one is written there (mode 0600) when it does not exist."""
    path = Path(path)
    source = f"key file {path}"
    try:
        return Cipher(_decode_key(path.read_text(encoding="ascii"), str(path)), source)
    except FileNotFoundError:
        if not create:
            raise DecryptionError(f"{path}: key file not found; files encrypted with it cannot be read") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = os_reason(exc) if isinstance(exc, OSError) else "not text"
        raise DecryptionError(f"{path}: cannot read the recordings key ({reason})") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(_new_key_text() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(path, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        pass
    except OSError as exc:
        raise DecryptionError(f"{path}: cannot create the recordings key ({os_reason(exc)})") from None
    log.info("created a new recordings key in %s", path)
    return key_from_file(path, create=False)


def _keyring_backend() -> object | None:
    """The keyring backend, or None when only the 'fail' (no keyring) backend is available."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    return None if isinstance(backend, fail.Keyring) else backend


def key_from_keyring(*, create: bool) -> Cipher:
    """The key in the OS keyring; without a keyring backend, the default key file (with a warning)."""
    backend = _keyring_backend()
    if backend is None:
        fallback = default_key_file()
        log.warning("no OS keyring is available; the recordings key is kept in %s (readable by you only). "
                    "Set privacy.key_file in models.yaml to choose another file.", fallback)
        return key_from_file(fallback, create=create)
    from keyring.errors import KeyringError

    source = f"the OS keyring ({type(backend).__module__}.{type(backend).__name__}, {KEYRING_SERVICE}/{KEYRING_USER})"
    try:
        text = backend.get_password(KEYRING_SERVICE, KEYRING_USER)
        if text is None:
            if not create:
                raise DecryptionError(f"no recordings key in {source}; files encrypted with it cannot be read")
            backend.set_password(KEYRING_SERVICE, KEYRING_USER, _new_key_text())
            log.info("created a new recordings key in %s", source)
            text = backend.get_password(KEYRING_SERVICE, KEYRING_USER)
    except KeyringError as exc:
        raise DecryptionError(f"{source}: cannot use the keyring ({exc}); set privacy.key_file instead") from None
    return Cipher(_decode_key(text or "", source), source)


class KeySource:
    """Finds (and with `create`, makes) the recordings key once, on first use: a key file or the keyring."""

    def __init__(self, key_file: str | Path | None = None) -> None:
        self.key_file = Path(key_file) if key_file else None
        self._cipher: Cipher | None = None

    @classmethod
    def of(cls, cipher: Cipher) -> "KeySource":
        """A source that already holds its key (the recorder reading back its own journal)."""
        source = cls()
        source._cipher = cipher
        return source

    def cipher(self, *, create: bool = False) -> Cipher:
        if self._cipher is None:
            if self.key_file is not None:
                self._cipher = key_from_file(self.key_file, create=create)
            else:
                self._cipher = key_from_keyring(create=create)
        return self._cipher
