"""Safe model artifacts: estimators stored with skops, never pickle.

Loading checks the file's sha256 first and then refuses any type outside `TRUSTED_TYPES`, so a
tampered or foreign file cannot run code.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import warnings
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from speakfeed_gui.core.errors import IntegrityError, ModelLoadError, first_line
from speakfeed_gui.core.storage.atomic import atomic_write_bytes, os_reason
from speakfeed_gui.core.storage.hashing import sha256_bytes, sha256_file

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
            line = first_line(message)
            if line not in others:
                others.append(line)
    for (saved, running), names in versions.items():
        log.warning(
            "%s: saved with scikit-learn %s, running %s (%s); predictions may differ, retrain to be sure",
            path, saved, running, ", ".join(dict.fromkeys(names)),
        )
    for line in others:
        log.warning("%s: %s", path, line)
