"""Labelled speech datasets in the layouts researchers have, and a check of every file in them.

Accepted layouts (detected by `load_dataset`):
- csv: a CSV with header `path,label` and optional `speaker` (paths relative to the CSV's folder,
  other columns ignored), or a folder holding exactly one such CSV;
- folders: one sub-folder of audio files per label (speakers known only from RAVDESS-style names);
- ravdess: RAVDESS names `03-01-05-01-02-01-12.wav` anywhere below a folder (3rd field emotion,
  7th field actor).
Listing never decodes audio; `check_dataset` opens every file and says which ones cannot be used.
A label mapping (`old=new` pairs, or a YAML/CSV mapping file) renames or merges labels while loading,
so corpora with different label sets train and evaluate against one set.
"""

from __future__ import annotations

import csv
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from speakfeed_gui.core.audio.decode import AUDIO_SUFFIXES
from speakfeed_gui.core.audio.levels import power_db
from speakfeed_gui.core.errors import DatasetError, first_line
from speakfeed_gui.core.progress import CancelToken, ProgressCallback, check_cancel, no_progress

log = logging.getLogger(__name__)

RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RAVDESS_NAME = re.compile(r"^\d{2}(-\d{2}){6}$")
_ACTOR_FOLDER = re.compile(r"^actor[_-]?\d+$", re.IGNORECASE)
LAYOUTS_HELP = (
    "accepted layouts: a CSV file with columns path,label[,speaker]; a folder with one sub-folder of audio "
    "files per label; a folder of RAVDESS-named files like 03-01-05-01-02-01-12.wav"
)
SILENT_PEAK = 1e-4
SILENT_RMS_DBFS = -60.0


@dataclass
class Clip:
    path: Path
    label: str
    speaker: str | None = None


@dataclass
class Problem:
    path: Path
    reason: str


@dataclass
class Dataset:
    source: Path
    layout: str
    clips: list[Clip]
    problems: list[Problem] = field(default_factory=list)

    @property
    def root(self) -> Path:
        """The folder clip paths are relative to (the CSV's folder for the csv layout)."""
        return self.source if self.source.is_dir() else self.source.parent


# -- loading ------------------------------------------------------------------------------------


def load_dataset(path: str | Path, label_map: Mapping[str, str] | None = None) -> Dataset:
    """List the clips of a dataset (CSV file or folder) without decoding any audio.

    With `label_map` every clip's label is renamed through it (see `apply_label_map`).
    """
    path = Path(path).expanduser().absolute()
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder; {LAYOUTS_HELP}")
    if path.is_file():
        if path.suffix.lower() != ".csv":
            raise DatasetError(f"{path}: not a CSV file; {LAYOUTS_HELP}")
        dataset = _load_csv(path)
    else:
        dataset = _load_folder(path)
    return apply_label_map(dataset, label_map) if label_map else dataset


# -- label mapping ------------------------------------------------------------------------------

MAP_HELP = "write old=new, e.g. neutral=calm (several may map to one new label)"


def parse_label_map(pairs: Iterable[str], where: str = "--map") -> dict[str, str]:
    """`["neutral=calm", "anger=frustrated"]` -> {"neutral": "calm", ...}; one line per bad pair."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        old, new = old.strip(), new.strip()
        if not sep or not old or not new:
            raise DatasetError(f"{where} {pair!r}: expected OLD=NEW; {MAP_HELP}")
        _add_pair(mapping, old, new, f"{where} {pair!r}")
    return mapping


def _add_pair(mapping: dict[str, str], old: str, new: str, where: str) -> None:
    for text in (old, new):
        if _CONTROL.search(text):
            raise DatasetError(f"{where}: {text!r} holds a line break or control character")
    if old in mapping and mapping[old] != new:
        raise DatasetError(f"{where}: {old!r} is already mapped to {mapping[old]!r}; map each label once")
    mapping[old] = new


def load_label_map(path: str | Path) -> dict[str, str]:
    """A mapping file: YAML (`old: new` lines) or CSV (two columns old,new; a header row is optional)."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise DatasetError(f"{path}: cannot read the label mapping ({reason})") from None
    mapping: dict[str, str] = {}
    if path.suffix.lower() == ".csv":
        for n, row in enumerate(csv.reader(text.splitlines()), start=1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if len(cells) != 2 or not all(cells):
                raise DatasetError(f"{path}: line {n}: expected two columns old,new; got {','.join(row)!r}")
            if n == 1 and [c.lower() for c in cells] in (["old", "new"], ["from", "to"], ["label", "new_label"]):
                continue
            _add_pair(mapping, cells[0], cells[1], f"{path}: line {n}")
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DatasetError(f"{path}: not valid YAML ({first_line(exc)}); write one 'old: new' per line") from None
        if not isinstance(data, dict) or not data:
            raise DatasetError(f"{path}: expected 'old: new' lines (a YAML mapping), got {type(data).__name__}")
        for old, new in data.items():
            if not isinstance(new, (str, int)) or isinstance(new, bool) or not str(new).strip():
                raise DatasetError(f"{path}: key {old!r}: expected a label name, got {new!r}")
            _add_pair(mapping, str(old).strip(), str(new).strip(), f"{path}: key {old!r}")
    if not mapping:
        raise DatasetError(f"{path}: the label mapping is empty; {MAP_HELP}")
    return mapping


def label_map_from_text(text: str) -> dict[str, str]:
    """A mapping typed in one field (the Train tab): `old=new` pairs split by commas or spaces, or a mapping file."""
    text = text.strip()
    if not text:
        return {}
    if Path(text).expanduser().suffix.lower() in (".yaml", ".yml", ".csv") and "=" not in text:
        return load_label_map(text)
    return parse_label_map([pair for pair in re.split(r"[,\s]+", text) if pair], where="label mapping")


def apply_label_map(dataset: Dataset, label_map: Mapping[str, str]) -> Dataset:
    """Rename labels through `label_map`; labels it does not name stay as they are.

    Every old label must occur in the dataset, so a typo is caught instead of silently mapping nothing.
    """
    known = {c.label for c in dataset.clips}
    unknown = [old for old in label_map if old not in known]
    if unknown:
        raise DatasetError(
            f"label mapping: {unknown[0]!r} is not a label of {dataset.source}; its labels: {', '.join(sorted(known))}"
        )
    clips = [Clip(c.path, label_map.get(c.label, c.label), c.speaker) for c in dataset.clips]
    _require_labels(dataset.source, f"{dataset.layout} (after the label mapping)", {c.label for c in clips})
    return Dataset(dataset.source, dataset.layout, clips, list(dataset.problems))


def _require_labels(source: Path, layout: str, labels: set[str]) -> None:
    if len(labels) < 2:
        found = ", ".join(sorted(labels)) or "none"
        raise DatasetError(
            f"{source}: {layout} layout with {len(labels)} label(s) ({found}); need at least 2; {LAYOUTS_HELP}"
        )


def _csv_header(row: list[str]) -> list[str]:
    return [cell.strip().lower() for cell in row]


def _csv_rows(csv_path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {path, label[, speaker]}) of every non-blank row, after checking the header."""
    try:
        handle = csv_path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DatasetError(f"{csv_path}: cannot be read ({exc.strerror or exc})") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = _csv_header(next(reader, []))
            for column in ("path", "label"):
                if column not in header:
                    got = ",".join(header) or "an empty first line"
                    raise DatasetError(
                        f"{csv_path}: line 1: missing required column '{column}'; the header must hold "
                        f"path,label and optionally speaker, got {got}"
                    )
            col = {name: header.index(name) for name in ("path", "label", "speaker") if name in header}
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield reader.line_num, {name: (row[i].strip() if i < len(row) else "") for name, i in col.items()}
        except csv.Error as exc:
            raise DatasetError(f"{csv_path}: line {reader.line_num}: malformed CSV ({exc})") from None
        except UnicodeDecodeError:
            raise DatasetError(f"{csv_path}: not UTF-8 text; save the CSV as UTF-8") from None


def _load_csv(csv_path: Path) -> Dataset:
    clips: list[Clip] = []
    problems: list[Problem] = []
    seen: dict[Path, tuple[int, str]] = {}
    for line, cells in _csv_rows(csv_path):
        where = f"{csv_path}: line {line}, column"
        for column in ("path", "label"):
            if not cells[column]:
                raise DatasetError(f"{where} '{column}': empty {column}")
        label = cells["label"]
        for column in ("label", "speaker"):
            if _CONTROL.search(cells.get(column) or ""):
                raise DatasetError(f"{where} '{column}': {cells[column]!r} holds a line break or control character")
        try:
            clip_path = Path(cells["path"]).expanduser()
            clip_path = (clip_path if clip_path.is_absolute() else csv_path.parent / clip_path).resolve()
            is_file = clip_path.is_file()
        except (OSError, ValueError, RuntimeError) as exc:  # NUL byte, name too long, unknown ~user...
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise DatasetError(f"{where} 'path': {cells['path'][:80]!r} is not a usable file path ({reason})") from None
        if clip_path in seen:
            first_line, first_label = seen[clip_path]
            what = "duplicate row" if first_label == label else f"listed again with another label ({first_label!r})"
            raise DatasetError(f"{where} 'path': {what}: {cells['path']!r} is already on line {first_line}")
        seen[clip_path] = (line, label)
        if is_file:
            clips.append(Clip(clip_path, label, cells.get("speaker") or None))
        else:
            problems.append(Problem(clip_path, f"file not found (listed on line {line} of {csv_path.name})"))
    _require_labels(csv_path, "csv", {label for _, label in seen.values()})
    return Dataset(csv_path, "csv", clips, problems)


def _has_dataset_columns(csv_path: Path) -> bool:
    try:
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            header = _csv_header(next(csv.reader(handle), []))
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return "path" in header and "label" in header


def _audio_files(folder: Path) -> list[Path]:
    """Audio files below `folder`, skipping hidden files and folders."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).parts
        if path.suffix.lower() in AUDIO_SUFFIXES and not any(p.startswith(".") for p in rel) and path.is_file():
            found.append(path)
    return sorted(found)


def _ravdess_speaker(path: Path) -> str:
    return f"actor_{path.stem.split('-')[6]}"


def _load_folder(folder: Path) -> Dataset:
    tables = [p for p in sorted(folder.glob("*.csv")) if _has_dataset_columns(p)]
    if len(tables) == 1:
        return _load_csv(tables[0])
    if len(tables) > 1:
        names = ", ".join(p.name for p in tables)
        raise DatasetError(
            f"{folder}: holds {len(tables)} CSV files with path,label columns ({names}); pass the one to use"
        )
    audio = _audio_files(folder)
    if not audio:
        kinds = ", ".join(s[1:] for s in AUDIO_SUFFIXES)
        raise DatasetError(f"{folder}: no audio files ({kinds}) found; {LAYOUTS_HELP}")
    subfolders = {p.relative_to(folder).parts[0] for p in audio if p.parent != folder}
    ravdess_named = [p for p in audio if _RAVDESS_NAME.match(p.stem)]
    if subfolders and not all(_ACTOR_FOLDER.match(name) for name in subfolders):
        return _label_folders(folder, audio)
    if 2 * len(ravdess_named) >= len(audio):
        return _ravdess(folder, audio)
    raise DatasetError(f"{folder}: audio files are neither in per-label sub-folders nor RAVDESS-named; {LAYOUTS_HELP}")


def _label_folders(folder: Path, audio: list[Path]) -> Dataset:
    """Label = first sub-folder; speakers only when every labelled file has a RAVDESS name."""
    nested = [p for p in audio if p.parent != folder]
    problems = [Problem(p, "not inside a label sub-folder") for p in audio if p.parent == folder]
    named = all(_RAVDESS_NAME.match(p.stem) for p in nested)
    clips = [Clip(p, p.relative_to(folder).parts[0], _ravdess_speaker(p) if named else None) for p in nested]
    _require_labels(folder, "folders", {c.label for c in clips})
    return Dataset(folder, "folders", clips, problems)


def _ravdess(folder: Path, audio: list[Path]) -> Dataset:
    clips, problems = [], []
    for path in audio:
        if not _RAVDESS_NAME.match(path.stem):
            problems.append(Problem(path, "name is not RAVDESS-style (like 03-01-05-01-02-01-12.wav)"))
            continue
        code = path.stem.split("-")[2]
        if code not in RAVDESS_EMOTIONS:
            problems.append(Problem(path, f"unknown RAVDESS emotion code {code} (valid: 01 to 08)"))
            continue
        clips.append(Clip(path, RAVDESS_EMOTIONS[code], _ravdess_speaker(path)))
    _require_labels(folder, "ravdess", {c.label for c in clips})
    return Dataset(folder, "ravdess", clips, problems)


# -- checking -----------------------------------------------------------------------------------


@dataclass
class DatasetReport:
    """What `check_dataset` found. Counts, speakers and duration are over the usable clips."""

    n_clips: int
    total_seconds: float
    label_counts: dict[str, int]
    speakers: list[str]
    problems: list[Problem]
    usable: list[Clip]
    source: Path = Path(".")
    layout: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": str(self.source),
            "layout": self.layout,
            "n_clips": self.n_clips,
            "n_usable": len(self.usable),
            "total_seconds": round(self.total_seconds, 3),
            "label_counts": dict(self.label_counts),
            "speakers": list(self.speakers),
            "problems": [{"path": str(p.path), "reason": p.reason} for p in self.problems],
        }

    def summary_lines(self, details: bool = True) -> list[str]:
        """Human-readable report; `details` adds one line per label and per unusable file."""
        lines = [
            f"dataset: {self.source} (layout: {self.layout})",
            f"clips: {self.n_clips} found, {len(self.usable)} usable, {len(self.problems)} unusable",
            f"duration: {self.total_seconds:.1f} s of usable audio",
            f"labels: {len(self.label_counts)}",
            f"speakers: {len(self.speakers)} ({', '.join(self.speakers)})" if self.speakers else "speakers: unknown",
        ]
        if details:
            lines[4:4] = [f"  {label}: {n}" for label, n in self.label_counts.items()]
            lines += [f"unusable: {p.path}: {p.reason}" for p in self.problems]
        return lines


def inspect_audio(path: Path, min_seconds: float) -> tuple[str | None, float]:
    """(reason the file is unusable or None, duration in seconds), streaming the samples once."""
    import soundfile as sf

    if not path.is_file():
        return "file not found", 0.0
    try:
        info = sf.info(str(path))
    except Exception as exc:  # LibsndfileError, RuntimeError, TypeError...
        return f"not a readable audio file ({first_line(exc)})", 0.0
    seconds = info.frames / info.samplerate if info.samplerate else 0.0
    if info.frames <= 0:
        return "empty: no samples", 0.0
    if not 1_000 <= info.samplerate <= 384_000:
        return f"sample rate {info.samplerate} Hz is out of range (1000 to 384000 Hz)", seconds
    if seconds < min_seconds:
        return f"too short: {seconds:.2f} s (minimum {min_seconds:g} s)", seconds
    peak, energy, count = 0.0, 0.0, 0
    try:
        for block in sf.blocks(str(path), blocksize=1 << 16, dtype="float32", always_2d=True):
            if not np.all(np.isfinite(block)):
                return "contains NaN or infinite samples", seconds
            peak = max(peak, float(np.max(np.abs(block))))
            energy += float(np.sum(np.square(block, dtype=np.float64)))
            count += block.size
    except Exception as exc:
        return f"cannot be decoded ({first_line(exc)})", seconds
    rms_db = power_db(energy / max(count, 1))
    if peak == 0.0:
        return "silent: every sample is zero", seconds
    if peak < SILENT_PEAK or rms_db < SILENT_RMS_DBFS:
        needs = f"needs peak >= {SILENT_PEAK:g} and RMS >= {SILENT_RMS_DBFS:g} dBFS"
        return f"silent: peak {peak:.1e}, RMS {rms_db:.0f} dBFS ({needs})", seconds
    return None, seconds


def check_dataset(
    dataset: Dataset,
    *,
    min_seconds: float = 0.25,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> DatasetReport:
    """Open every clip; flag missing, unreadable, empty, too short, silent and NaN/inf files."""
    report = progress or no_progress
    problems = list(dataset.problems)
    usable: list[Clip] = []
    seconds = 0.0
    total = len(dataset.clips)
    step = max(1, total // 200)
    report("check", 0, total, "")
    for n, clip in enumerate(dataset.clips, start=1):
        check_cancel(cancel)
        reason, duration = inspect_audio(clip.path, min_seconds)
        if reason is None:
            usable.append(clip)
            seconds += duration
        else:
            problems.append(Problem(clip.path, reason))
        if n % step == 0 or n == total:
            report("check", n, total, clip.path.name)
    if problems:
        log.info("%s: %d of %d files unusable", dataset.source, len(problems), total + len(dataset.problems))
    return DatasetReport(
        n_clips=total + len(dataset.problems),
        total_seconds=seconds,
        label_counts=dict(sorted(Counter(c.label for c in usable).items())),
        speakers=sorted({c.speaker for c in usable if c.speaker}),
        problems=problems,
        usable=usable,
        source=dataset.source,
        layout=dataset.layout,
    )


def usable_clips(report: DatasetReport, *, skip_bad: bool) -> list[Clip]:
    """The clips to train on; refuses unusable files unless skip_bad, and too few clips per label."""
    source = report.source
    if report.problems and not skip_bad:
        first = "; ".join(f"{p.path.name}: {p.reason}" for p in report.problems[:3])
        more = " ..." if len(report.problems) > 3 else ""
        raise DatasetError(
            f"{len(report.problems)} unusable files in {source}: {first}{more}; "
            "fix them or pass --skip-bad (skip_bad=True)"
        )
    skipped = f" after skipping {len(report.problems)} unusable files" if report.problems else ""
    if len(report.label_counts) < 2:
        raise DatasetError(f"{source}: {len(report.label_counts)} label(s) left{skipped}; need at least 2 labels")
    few = [f"{label} ({n})" for label, n in report.label_counts.items() if n < 2]
    if few:
        raise DatasetError(f"{source}: label(s) with fewer than 2 usable clips{skipped}: {', '.join(few)}; add clips")
    return list(report.usable)
