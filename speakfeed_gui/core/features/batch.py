"""Featurise many files in parallel worker processes, with a content-hash-keyed on-disk cache.

The cache folder is named by the feature set's id and version (core/features/sets.py), so two
sets, or two versions of one, never share vectors. The built-in set runs on this machine's cores
(loky processes); an SSL model's set runs in this process (torch already uses every core), or on
a Dask cluster's workers when given one (`cluster`).
"""

from __future__ import annotations

import collections
import logging
import os
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from speakfeed_gui.core.audio.decode import load_audio
from speakfeed_gui.core.features.sets import FeatureSet, builtin
from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel, no_progress

log = logging.getLogger(__name__)


# -- files, in parallel, with an on-disk cache ------------------------------------------------


def cache_folder(cache_dir: Path, feature_set: FeatureSet | None = None) -> Path:
    """Where a feature set's per-clip vectors live (default: the built-in set): one `<content sha256>.npy` each."""
    fs = feature_set or builtin()
    return Path(cache_dir) / f"{fs.id}-v{fs.version}"


def _read_cached(path: Path, dim: int) -> np.ndarray | None:
    try:
        vector = np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if vector.shape != (dim,) or vector.dtype != np.float32 or not np.all(np.isfinite(vector)):
        log.warning("ignoring unusable feature cache file %s", path)
        return None
    return vector


def _write_cached(path: Path, vector: np.ndarray) -> None:
    """Atomic write: a temp file in the same folder, then os.replace."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as handle:
                np.save(handle, vector, allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        log.warning("cannot write feature cache %s: %s", path, exc)


def _featurize_chunk(
    paths: Sequence[str], cache_files: Sequence[str | None], feature_set: FeatureSet | None = None
) -> np.ndarray:
    """Worker task: load, extract and (optionally) cache a few clips."""
    fs = feature_set or builtin()
    out = np.empty((len(paths), fs.dim), dtype=np.float32)
    for row, (path, cache_file) in enumerate(zip(paths, cache_files)):
        out[row] = fs.extract(load_audio(path))
        if cache_file is not None:
            _write_cached(Path(cache_file), out[row])
    return out


_MIN_PARALLEL = 16  # fewer files than this are cheaper in-process than starting workers
_MAX_CHUNK = 16
_POOL_IDLE_SECONDS = 300  # a second training soon after the first finds the pool warm


def _chunks(indices: list[int], workers: int) -> list[list[int]]:
    size = max(1, min(_MAX_CHUNK, -(-len(indices) // (workers * 4))))
    return [indices[i : i + size] for i in range(0, len(indices), size)]


Job = tuple[list[str], list["str | None"]]


def _shared_chunks(jobs: list[Job], workers: int) -> Iterator[tuple[int, np.ndarray]]:
    """(job number, vectors) as jobs finish: this process and `workers - 1` pool processes share them.

    Why: starting worker processes takes about a second on a busy 2-core machine (spawn plus
    imports), as long as featurising ten minutes of audio. So this process works from the back
    of the queue at once while the pool starts and takes jobs from the front. Until the pool has
    returned anything, this process also redoes the oldest job waiting there instead of idling;
    the first copy to finish counts. Closing the generator cancels the jobs the pool has not
    started; a started one finishes in the background (one chunk per worker at most).
    """
    from concurrent.futures import FIRST_COMPLETED, Future, wait

    from joblib.executor import get_memmapping_executor

    # joblib's own factory for its reusable loky pool, so later joblib.Parallel calls can take it over
    pool = get_memmapping_executor(workers - 1, timeout=_POOL_IDLE_SECONDS)
    queue = collections.deque(range(len(jobs)))
    at_pool: dict[Future, int] = {}
    finished: set[int] = set()
    pool_running = False
    try:
        while len(finished) < len(jobs):
            while queue and len(at_pool) < 2 * (workers - 1):  # two each: a worker never waits for us
                job = queue.popleft()
                at_pool[pool.submit(_featurize_chunk, *jobs[job])] = job  # the built-in set only
            for future in [f for f in at_pool if f.done()]:
                job = at_pool.pop(future)
                pool_running = True
                if job not in finished:
                    finished.add(job)
                    yield job, future.result()
            if queue:
                job = queue.pop()
            elif at_pool and not pool_running:
                future = next(iter(at_pool))  # the oldest; the pool's copy is ignored from now on
                job = at_pool.pop(future)
            else:
                if at_pool:
                    wait(list(at_pool), return_when=FIRST_COMPLETED)
                continue
            finished.add(job)
            yield job, _featurize_chunk(*jobs[job])
    finally:
        for future in at_pool:
            future.cancel()


def _cluster_chunks(jobs: list[Job], fs: FeatureSet, cluster: str) -> Iterator[tuple[int, np.ndarray]]:
    """(job number, vectors) as the Dask cluster's workers finish them (joblib's Dask backend)."""
    import joblib

    from speakfeed_gui.core.features.compute import compute_backend

    with compute_backend(cluster):
        parallel = joblib.Parallel(n_jobs=-1, return_as="generator")
        # workers only compute; this machine keeps the cache (the workers' disks may not be ours)
        results = parallel(joblib.delayed(_featurize_chunk)(paths, [None] * len(paths), fs) for paths, _ in jobs)
        for n, vectors in enumerate(results):
            for cache_file, vector in zip(jobs[n][1], vectors):
                if cache_file is not None:
                    _write_cached(Path(cache_file), vector)
            yield n, vectors


def featurize_files(
    paths: Sequence[str | Path],
    *,
    cache_dir: Path | None,
    n_jobs: int = -1,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    feature_set: FeatureSet | None = None,
    cluster: str | None = None,
) -> np.ndarray:
    """(N, D) features of audio files, cached by content hash, computed in chunks on `n_jobs` cores.

    With more than one core this process and a reusable loky pool share the chunks (see
    `_shared_chunks`). Progress is reported per chunk as ("features", done, total, message); the
    cancel token is checked between chunks and raises Cancelled. `feature_set` (default the
    built-in one) chooses the extractor; `cluster`, a Dask scheduler address, sends the chunks to
    that cluster's workers (each needs SpeakFeed installed, and for SSL sets the model folder).
    """
    from speakfeed_gui.core.storage.hashing import content_hashes

    report = progress or no_progress
    paths = [str(p) for p in paths]
    total = len(paths)
    fs = feature_set or builtin()
    out = np.zeros((total, fs.dim), dtype=np.float32)
    cache_files: list[str | None] = [None] * total
    todo = list(range(total))
    check_cancel(cancel)
    if cache_dir is not None and total:
        folder = cache_folder(Path(cache_dir), fs)
        folder.mkdir(parents=True, exist_ok=True)
        todo = []
        for i, digest in enumerate(content_hashes(paths, cancel=cancel)):
            cached = _read_cached(folder / f"{digest}.npy", fs.dim)
            if cached is None:
                todo.append(i)
                cache_files[i] = str(folder / f"{digest}.npy")
            else:
                out[i] = cached
    done = total - len(todo)
    report("features", done, total, f"{done} cached" if done else "")
    if not todo:
        return out
    import joblib

    local_pool = fs.kind == "builtin" and len(todo) >= _MIN_PARALLEL
    workers = min(joblib.effective_n_jobs(n_jobs), len(todo)) if local_pool else 1
    chunks = _chunks(todo, workers if not cluster else 4)
    jobs: list[Job] = [([paths[i] for i in chunk], [cache_files[i] for i in chunk]) for chunk in chunks]
    if cluster:
        outputs: Iterator[tuple[int, np.ndarray]] = _cluster_chunks(jobs, fs, cluster)
    elif workers == 1:
        outputs = ((n, _featurize_chunk(*job, fs)) for n, job in enumerate(jobs))
    else:
        log.debug("featurising %d files in %d chunks on %d processes", len(todo), len(chunks), workers)
        outputs = _shared_chunks(jobs, workers)
    try:
        for n, vectors in outputs:
            out[chunks[n]] = vectors
            done += len(chunks[n])
            report("features", done, total, Path(paths[chunks[n][-1]]).name)
            check_cancel(cancel)
    finally:
        outputs.close()
    return out
