"""Where heavy work runs: this machine, or an existing Dask cluster (`--cluster tcp://host:8786`).

With a cluster address, scikit-learn's joblib calls inside `compute_backend(...)` (the folds of
cross-validation, hence every search trial) go to the cluster's workers through joblib's Dask
backend; the numbers are the same as local, only where they are computed changes. Without one,
nothing changes. The address is checked up front, and an unreachable scheduler is one line.
"""

from __future__ import annotations

import contextlib
import logging
import re
from typing import Any, Iterator

from speakfeed_gui.core.errors import SpeakFeedError, first_line

log = logging.getLogger(__name__)
_ADDRESS = re.compile(r"^(tcp|tls|inproc|ws|wss)://\S+$")
CONNECT_TIMEOUT_S = 10


def check_cluster(address: str | None) -> str | None:
    """The scheduler address (tcp://host:port, tls://, inproc://), or a one-line error; None: local."""
    if address in (None, ""):
        return None
    if not _ADDRESS.match(str(address)):
        raise SpeakFeedError(f"cluster {address!r}: expected a Dask scheduler address such as tcp://host:8786")
    return str(address)


def connect(address: str) -> Any:
    """A dask.distributed Client on an existing scheduler (never starts one)."""
    try:
        from dask.distributed import Client
    except ImportError:
        raise SpeakFeedError("cluster: dask[distributed] is not installed (pip install 'dask[distributed]')") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SpeakFeedError(f"cluster {address}: cannot connect ({first_line(exc)})") from None


@contextlib.contextmanager
def compute_backend(address: str | None) -> Iterator[Any]:
    """Run joblib-parallel work inside on the cluster at `address` (yields its Client), or locally (None)."""
    address = check_cluster(address)
    if address is None:
        yield None
        return
    import joblib

    client = connect(address)
    try:
        log.info("computing on the Dask cluster at %s (%d workers)", address, len(client.scheduler_info()["workers"]))
        with client.as_current(), joblib.parallel_config(backend="dask"):
            yield client
    finally:
        client.close()
