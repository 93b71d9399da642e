"""Durable files and safe model artifacts.

Every artifact and registry file is written atomically (temp file in the same folder, fsync,
`os.replace`, fsync of the folder), so a crash or a full disk leaves either the old file or the
new one, never half of each. Estimators are stored with `skops.io`, never pickle: loading checks
the file's sha256 first and then refuses any type outside `TRUSTED_TYPES`, so a tampered or
foreign file cannot run code.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import logging
import os
import platform
import tempfile
import warnings
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from speakfeed_gui.core.errors import IntegrityError, ModelLoadError, RegistryError, SpeakFeedError, StorageError
from speakfeed_gui.core.hashing import sha256_bytes, sha256_file

log = logging.getLogger(__name__)

# Types that skops does not trust by default but that the trainer's estimators contain. Found by
# fitting each supported estimator on toy data and calling skops.io.get_untrusted_types (skops 0.16,
# scikit-learn 1.9); the loss/link names are reported untrusted by older skops releases.
TRUSTED_TYPES: tuple[str, ...] = (
    "sklearn.tree._tree.Tree",  # DecisionTree, RandomForest, ExtraTrees, GradientBoosting
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",  # MLPClassifier (adam)
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",  # MLPClassifier (sgd)
    "sklearn.metrics._dist_metrics.EuclideanDistance64",  # KNeighborsClassifier
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.ExponentialLoss",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.HalfLogitLink",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.link.IdentityLink",
    "sklearn._loss.link.Interval",
    "sklearn.ensemble._gb_losses.BinomialDeviance",
    "sklearn.ensemble._gb_losses.MultinomialDeviance",
    "sklearn.ensemble._gb_losses.ExponentialLoss",
    "sklearn.calibration._CalibratedClassifier",  # svm: CalibratedClassifierCV(SVC) for probabilities
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.dummy.DummyClassifier",
    "sklearn.preprocessing._label.LabelEncoder",
)

_REASONS = {
    errno.ENOSPC: "disk full",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "folder does not exist",
    errno.ENOTDIR: "a parent is not a folder",
}


def os_reason(exc: OSError) -> str:
    """A short human reason for an OSError ('disk full', 'read-only file system', ...)."""
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)


def fsync_dir(folder: str | Path) -> None:
    """Make a rename or a new file in `folder` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_mode() -> int:
    """rw for everyone, minus the process umask (what open() would give a new file)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_FILE_MODE = _file_mode()


@contextlib.contextmanager
def atomic_open(path: str | Path) -> Iterator[BinaryIO]:
    """A binary file that replaces `path` only if the block ends without error.

    Any OSError (disk full, read-only, permission) becomes one StorageError line naming the path;
    the old file is then untouched and no temp file remains.
    """
    path = Path(path)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, _FILE_MODE)  # mkstemp makes 0600; teammates sharing the folder must read it
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
        tmp = None
        fsync_dir(path.parent)
    except OSError as exc:
        raise StorageError(f"{path}: cannot write ({os_reason(exc)}); the previous file was left unchanged") from None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Replace `path` with `data` all at once (see atomic_open)."""
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> None:
    """Write `obj` as indented JSON atomically (key order kept)."""
    try:
        text = json.dumps(obj, indent=2, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise StorageError(f"{path}: cannot write JSON ({exc})") from None
    atomic_write_text(path, text + "\n")


@contextlib.contextmanager
def locked(path: str | Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold the cross-process lock `<path>.lock` (fcntl.flock: released even if the holder is killed)."""
    import filelock

    lock_path = f"{path}.lock"
    lock = filelock.FileLock(lock_path, timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise RegistryError(
            f"{lock_path}: another SpeakFeed process holds this lock (waited {timeout:g} s); "
            "wait for it to finish or close the other SpeakFeed window"
        ) from None
    except OSError as exc:
        raise RegistryError(f"{lock_path}: cannot create the lock file ({os_reason(exc)})") from None
    try:
        yield
    finally:
        lock.release()


def read_json(path: str | Path, what: str, *, error: type[SpeakFeedError] = ModelLoadError) -> dict[str, Any]:
    """Parse a JSON object file; every failure is one `error` line naming the file and `what` it is."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except OSError as exc:
        raise error(f"{path}: cannot read {what} ({os_reason(exc)})") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # also a 5000-digit number or 100,000 nested brackets
        raise error(f"{path}: {what} is not valid JSON ({str(exc).splitlines()[0][:200]})") from None
    if not isinstance(data, dict):
        raise error(f"{path}: {what} must be a JSON object, found {type(data).__name__}")
    return data


# A .skops file is itself a zip: limits on what it declares keep a hostile one from inflating into
# memory (schema.json is parsed whole). A 5000-tree forest has a schema of about 80 MB.
MAX_SKOPS_SCHEMA_BYTES = 128 << 20
MAX_SKOPS_BYTES = 4 << 30
MAX_SKOPS_MEMBERS = 200_000
_SKOPS_READ_ERRORS = (KeyError, ValueError, TypeError, AttributeError, RecursionError, EOFError, NotImplementedError)


def _check_skops_sizes(source: Any, where: str | Path) -> None:
    """Refuse (IntegrityError) a skops zip whose declared sizes are over the limits, before anything is inflated.

    zipfile never returns more bytes than a member declares, so the declared sizes bound the memory used.
    `source` is a path, a file object or an open ZipFile.
    """
    import zlib

    try:
        if isinstance(source, zipfile.ZipFile):
            infos = source.infolist()
        else:
            with zipfile.ZipFile(source) as archive:
                infos = archive.infolist()
    except (zipfile.BadZipFile, zlib.error, *_SKOPS_READ_ERRORS) as exc:
        raise IntegrityError(f"{where}: not a valid skops file ({type(exc).__name__}: {str(exc)[:200]})") from None
    schema = max((i.file_size for i in infos if i.filename == "schema.json"), default=0)
    total = sum(i.file_size for i in infos)
    if len(infos) > MAX_SKOPS_MEMBERS or schema > MAX_SKOPS_SCHEMA_BYTES or total > MAX_SKOPS_BYTES:
        raise IntegrityError(
            f"{where}: refused, too large to be a SpeakFeed model ({len(infos)} members, schema.json {schema} bytes, "
            f"{total} bytes inflated; limits {MAX_SKOPS_MEMBERS}, {MAX_SKOPS_SCHEMA_BYTES}, {MAX_SKOPS_BYTES})"
        )


def audit_skops(path: str | Path) -> list[str]:
    """The file's non-default types, after checking each is in TRUSTED_TYPES (nothing is loaded).

    Raises IntegrityError naming the file and the refused types, or if it is not a skops file (or
    declares more data than any SpeakFeed model holds: a zip bomb).
    """
    import zlib

    import skops.io

    try:
        _check_skops_sizes(str(path), path)
        found = skops.io.get_untrusted_types(file=str(path))
    except (zipfile.BadZipFile, zlib.error, *_SKOPS_READ_ERRORS) as exc:
        detail = (str(exc).splitlines() or [""])[0][:200]
        raise IntegrityError(f"{path}: not a valid skops file ({type(exc).__name__}: {detail})") from None
    except OSError as exc:
        raise IntegrityError(f"{path}: cannot read ({os_reason(exc)})") from None
    bad = [t for t in found if t not in TRUSTED_TYPES]
    if bad:
        raise IntegrityError(
            f"{path}: refused to load, it contains types outside SpeakFeed's allow-list: {', '.join(bad)}"
        )
    return found


def save_estimator(obj: Any, path: str | Path) -> str:
    """Serialise a scikit-learn object with skops atomically; return the file's sha256.

    Refuses (IntegrityError) an object that `load_estimator` would refuse, so no unloadable model is
    ever registered.
    """
    data, found = skops_dump(obj, where=path)
    bad = [t for t in found if t not in TRUSTED_TYPES]
    if bad:
        raise IntegrityError(f"{path}: cannot save {type(obj).__name__}: types outside the allow-list: {', '.join(bad)}")
    atomic_write_bytes(path, data)
    return sha256_bytes(data)


def skops_dump(obj: Any, where: str | Path = "model") -> tuple[bytes, list[str]]:
    """The skops file of `obj` and the types skops would not trust in it, in one pass.

    `skops.io.dumps` indents schema.json, which forces Python's slow JSON encoder, and
    `get_untrusted_types(data=…)` unzips and parses the file again: together 2/3 of saving a
    200-tree forest. Here the same skops state is written compact and audited as built; the
    file is what `skops.io.load` reads (tests compare it with `skops.io.dumps`). Over the size
    limits `load_estimator` enforces it raises IntegrityError naming `where`.
    """
    import io

    import skops
    from skops.io._audit import get_tree
    from skops.io._utils import LoadContext, SaveContext, get_state

    buffer = io.BytesIO()
    with _gc_paused(), _ReadBackZipFile(buffer) as archive:
        context = SaveContext(zip_file=archive)
        state = get_state(obj, context)
        context.clear_memo()
        state["protocol"] = context.protocol
        state["_skops_version"] = skops.__version__
        archive.writestr("schema.json", json.dumps(state))
        _check_skops_sizes(archive, where)
        tree = get_tree(state, load_context=LoadContext(src=archive, protocol=state["protocol"]), trusted=None)
        found = sorted(tree.get_unsafe_set())
    return buffer.getvalue(), found


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic GC while skops builds ~60k short-lived objects: each full collection it set off
    rescanned the app's whole heap (~120 ms with sklearn and torch loaded), every few saves."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _ReadBackZipFile(zipfile.ZipFile):
    """An uncompressed zip being written that the skops audit can read back from memory.

    Also: skops asks `name not in namelist()` before each array it writes; a list made that
    quadratic in the number of trees.
    """

    def __init__(self, buffer: BinaryIO) -> None:
        super().__init__(buffer, "w", compression=zipfile.ZIP_STORED)
        self._members: dict[str, bytes] = {}

    def writestr(self, name: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        super().writestr(name, data, *args, **kwargs)
        self._members[str(getattr(name, "filename", name))] = data.encode() if isinstance(data, str) else bytes(data)

    def namelist(self) -> Any:
        return self.NameToInfo.keys()

    def read(self, name: Any, pwd: bytes | None = None) -> bytes:
        return self._members[str(getattr(name, "filename", name))]


def verify_sha256(path: str | Path, expected: str) -> None:
    """Raise IntegrityError unless the file's sha256 is `expected` (missing file too)."""
    try:
        found = sha256_file(path)
    except FileNotFoundError:
        raise IntegrityError(f"{path}: file is missing") from None
    except OSError as exc:
        raise IntegrityError(f"{path}: cannot read ({os_reason(exc)})") from None
    if found != expected:
        raise IntegrityError(
            f"{path}: sha256 mismatch (expected {expected[:8]}…, found {found[:8]}…): "
            "the file was changed or corrupted"
        )


def load_estimator(path: str | Path, expected_sha256: str | None = None) -> Any:
    """Load a skops file: hash check, then type audit, then `skops.io.load` with only allowed types.

    A model saved with another scikit-learn version still loads; sklearn's version warning is
    logged instead of printed.
    """
    import skops.io

    if not Path(path).is_file():
        raise ModelLoadError(f"{path}: model file is missing")
    if expected_sha256:
        verify_sha256(path, expected_sha256)
    trusted = audit_skops(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            obj = skops.io.load(str(path), trusted=trusted)
        except Exception as exc:  # skops/sklearn raise many types for incompatible files
            raise ModelLoadError(f"{path}: cannot load the model ({type(exc).__name__}: {exc})") from None
    _log_load_warnings(path, [w.message for w in caught])
    return obj


def _log_load_warnings(path: str | Path, messages: list[Warning | str]) -> None:
    """Turn sklearn's per-estimator version warnings into one log line; log other warnings once each."""
    versions: dict[tuple[str, str], list[str]] = {}
    others: list[str] = []
    for message in messages:
        saved = getattr(message, "original_sklearn_version", None)
        if saved is not None:
            key = (str(saved), str(getattr(message, "current_sklearn_version", "?")))
            versions.setdefault(key, []).append(str(getattr(message, "estimator_name", "?")))
        else:
            line = str(message).splitlines()[0] if str(message) else type(message).__name__
            if line not in others:
                others.append(line)
    for (saved, running), names in versions.items():
        log.warning(
            "%s: saved with scikit-learn %s, running %s (%s); predictions may differ, retrain to be sure",
            path, saved, running, ", ".join(dict.fromkeys(names)),
        )
    for line in others:
        log.warning("%s: %s", path, line)


def runtime_versions() -> dict[str, str]:
    """Versions that decide whether a saved model loads identically; record them in metadata['versions']."""
    import numpy
    import sklearn

    return {"python": platform.python_version(), "numpy": numpy.__version__, "sklearn": sklearn.__version__}


def _recorded_versions(metadata: dict[str, Any]) -> dict[str, str]:
    """metadata['versions'] as written from runtime_versions(), else top-level `<name>_version` keys."""
    nested = metadata.get("versions")
    nested = nested if isinstance(nested, dict) else {}
    out = {}
    for name in ("python", "numpy", "sklearn"):
        value = nested.get(name) or metadata.get(f"{name}_version")
        if value:
            out[name] = str(value)
    return out


def check_versions(metadata: dict[str, Any]) -> list[str]:
    """One warning line per library whose recorded version differs from the running one.

    Python is compared by major.minor; numpy and scikit-learn by full version.
    """
    running = runtime_versions()
    labels = {"python": "Python", "numpy": "numpy", "sklearn": "scikit-learn"}
    warnings_out = []
    for name, recorded in _recorded_versions(metadata).items():
        now = running[name]
        same = recorded.split(".")[:2] == now.split(".")[:2] if name == "python" else recorded == now
        if not same:
            warnings_out.append(
                f"model was trained with {labels[name]} {recorded}, running {now}; "
                "predictions may differ (retrain to be sure)"
            )
    return warnings_out
