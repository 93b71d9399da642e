"""Look at a dataset before training on it: clips per label and speaker, durations, a 2-D projection.

`explore_dataset` returns plain numbers (no plotting), so the Train tab's data view and any
script show the same thing: the label x speaker count table, every usable clip's duration, and
a PCA projection of the standardised features (the same cached features training uses; per
speaker z-scored when asked, to show what the classifier would see).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel, no_progress
from speakfeed_gui.core.settings.workspace import Workspace, resolve_workspace


@dataclass
class DataOverview:
    labels: list[str]
    speakers: list[str]  # "" when the dataset has none
    counts: list[list[int]]  # counts[label][speaker]
    durations: list[float]  # seconds, one per usable clip
    projection: np.ndarray  # (n_clips, 2) PCA of the standardised features
    clip_labels: list[str]
    explained: tuple[float, float]  # variance ratio of the two components


def explore_dataset(
    dataset_path: str | Path,
    *,
    workspace: Workspace | None = None,
    normalize: str = "none",
    skip_bad: bool = True,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> DataOverview:
    """Counts, durations and a PCA projection of a dataset's usable clips."""
    import soundfile as sf
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    from speakfeed_gui.core.training.trainer import prepare_features

    progress = progress or no_progress
    ws = workspace or resolve_workspace()
    _, _, clips, X, y, speakers, _ = prepare_features(
        dataset_path, ws, normalize=normalize, skip_bad=skip_bad, progress=progress, cancel=cancel)
    labels = sorted(set(y.tolist()))
    who = sorted({s or "" for s in speakers})
    counts = [[sum(1 for c in clips if c.label == label and (c.speaker or "") == s) for s in who] for label in labels]
    durations = []
    for clip in clips:
        check_cancel(cancel)
        info = sf.info(str(clip.path))
        durations.append(info.frames / info.samplerate)
    progress("explore", 0, 1, "projecting")
    pca = PCA(n_components=2, random_state=0)
    projection = pca.fit_transform(StandardScaler().fit_transform(X)) if len(X) >= 2 else np.zeros((len(X), 2))
    ratios = tuple(float(r) for r in getattr(pca, "explained_variance_ratio_", (0.0, 0.0)))
    progress("explore", 1, 1, "done")
    return DataOverview(labels, who, counts, durations, projection, y.tolist(), (ratios[0], ratios[1]))


def overview_text(overview: DataOverview) -> str:
    """The label x speaker table as plain text (for logs and the CLI)."""
    rows = [["label", *[s or "(none)" for s in overview.speakers], "total"]]
    rows += [[label, *map(str, row), str(sum(row))] for label, row in zip(overview.labels, overview.counts)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)) for row in rows)

