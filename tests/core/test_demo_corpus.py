"""The synthetic demo corpus: real espeak-ng synthesis, real FLAC files, measured prosody."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from speakfeed_gui.cli import main
from speakfeed_gui.core.errors import Cancelled, DatasetError
from speakfeed_gui.core.progress import CancelToken
from speakfeed_gui.core.settings.config import DEFAULT_LABELS
from speakfeed_gui.core.training.demo_corpus import (
    CSV_NAME,
    DEFAULT_SEED,
    DEFAULT_SENTENCES_PER,
    DEFAULT_VOICES,
    DEMO_DIR,
    STYLE_TABLE,
    generate_demo_corpus,
    style_table_markdown,
)

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs the espeak-ng program")

SMALL = {"voices": ("en+m3", "en+f2"), "sentences_per": 2}


def read_rows(csv_path: Path) -> list[dict[str, str]]:
    with csv_path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def tree_bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    return generate_demo_corpus(tmp_path_factory.mktemp("small"), **SMALL)


def test_small_corpus_has_every_label_for_every_voice(small):
    assert small.name == CSV_NAME
    assert small.read_text(encoding="utf-8").splitlines()[0] == "path,label,speaker"
    rows = read_rows(small)
    assert len(rows) == 2 * 2 * len(STYLE_TABLE)
    assert set(STYLE_TABLE) == set(DEFAULT_LABELS)
    assert Counter((r["speaker"], r["label"]) for r in rows) == {
        (v, label): 2 for v in SMALL["voices"] for label in DEFAULT_LABELS
    }
    for row in rows:
        info = sf.info(str(small.parent / row["path"]))
        assert (info.format, info.samplerate, info.channels, info.subtype) == ("FLAC", 16_000, 1, "PCM_16")
        assert 1.0 <= info.duration <= 5.0, row


def test_same_seed_gives_identical_bytes_and_another_seed_differs(small, tmp_path):
    again = generate_demo_corpus(tmp_path / "again", **SMALL)
    assert tree_bytes(again.parent) == tree_bytes(small.parent)
    other = tree_bytes(generate_demo_corpus(tmp_path / "other", seed=DEFAULT_SEED + 1, **SMALL).parent)
    first = tree_bytes(small.parent)
    clips = [name for name in first if name.endswith(".flac")]
    assert sum(first[name] != other.get(name) for name in clips) == len(clips)


def _measure(path: Path) -> dict[str, float]:
    """Level (dBFS over active frames), median pitch (semitones re 100 Hz), centroid (Hz), duration (s)."""
    import librosa

    y, sr = sf.read(str(path), dtype="float32")
    rms = librosa.feature.rms(y=y, frame_length=512, hop_length=160)[0]
    active = rms > 0.1 * rms.max()
    f0 = librosa.yin(y, fmin=60, fmax=500, sr=sr, frame_length=1024, hop_length=160)
    n = min(f0.size, active.size)
    centroid = librosa.feature.spectral_centroid(y=y, sr=sr, n_fft=512, hop_length=160)[0]
    return {
        "level": float(20 * np.log10(np.sqrt(np.mean(np.square(rms[active]))))),
        "pitch": float(np.median(12 * np.log2(f0[:n][active[:n]] / 100))),
        "centroid": float(np.mean(centroid[active])),
        "duration": y.size / sr,
    }


def _pitch_range(path: Path) -> float:
    """10-90 % range of voiced pitch in semitones (pYIN, which rejects unvoiced frames)."""
    import librosa

    y, sr = sf.read(str(path), dtype="float32")
    f0, voiced, _ = librosa.pyin(y, fmin=50, fmax=500, sr=sr, frame_length=1024, hop_length=160)
    st = 12 * np.log2(f0[voiced] / 100)
    return float(np.percentile(st, 90) - np.percentile(st, 10))


def test_styles_differ_in_the_documented_direction(small):
    rows = read_rows(small)
    by_pair: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for row in rows:
        sentence = row["path"].rsplit("_", 1)[1]  # same voice + same index = same sentence
        by_pair.setdefault((row["speaker"], sentence), {})[row["label"]] = _measure(small.parent / row["path"])
    assert len(by_pair) == 4
    for pair, m in by_pair.items():  # the strongest contrasts hold clip by clip
        assert m["burned_out"]["level"] < m["energetic"]["level"] - 6, pair
        assert m["burned_out"]["pitch"] < m["energetic"]["pitch"] - 3, pair
        assert m["burned_out"]["duration"] > m["calm"]["duration"] > m["energetic"]["duration"], pair
        assert m["burned_out"]["centroid"] < m["calm"]["centroid"], pair
        assert m["anxious"]["duration"] < m["calm"]["duration"], pair

    def mean(label: str, key: str) -> float:
        return float(np.mean([m[label][key] for m in by_pair.values()]))

    assert mean("anxious", "pitch") > mean("calm", "pitch") + 2
    assert mean("frustrated", "level") > mean("calm", "level") + 3
    assert mean("frustrated", "pitch") < mean("energetic", "pitch")
    flat = [_pitch_range(small.parent / r["path"]) for r in rows if r["label"] == "burned_out"]
    lively = [_pitch_range(small.parent / r["path"]) for r in rows if r["label"] == "energetic"]
    assert np.mean(flat) < np.mean(lively) - 1.5


def test_shipped_corpus_matches_its_csv():
    csv_path = DEMO_DIR / CSV_NAME
    rows = read_rows(csv_path)
    n_labels, n_voices = len(STYLE_TABLE), len(DEFAULT_VOICES)
    assert len(rows) == n_labels * n_voices * DEFAULT_SENTENCES_PER
    assert Counter(r["label"] for r in rows) == {label: n_voices * DEFAULT_SENTENCES_PER for label in STYLE_TABLE}
    assert Counter(r["speaker"] for r in rows) == {v: n_labels * DEFAULT_SENTENCES_PER for v in DEFAULT_VOICES}
    listed = {(DEMO_DIR / r["path"]).resolve() for r in rows}
    on_disk = {p.resolve() for p in DEMO_DIR.rglob("*.flac")}
    assert listed == on_disk
    for path in listed:
        info = sf.info(str(path))
        assert (info.samplerate, info.channels) == (16_000, 1)
    total = sum(p.stat().st_size for p in DEMO_DIR.rglob("*") if p.is_file())
    assert total < 5_500_000


def test_shipped_corpus_is_what_the_generator_makes_with_its_seed(tmp_path):
    """Per-clip seeding: one voice regenerated alone reproduces the shipped clips of that voice."""
    voice = DEFAULT_VOICES[0]
    csv_path = generate_demo_corpus(tmp_path, seed=DEFAULT_SEED, voices=(voice,))
    rows = read_rows(csv_path)
    assert len(rows) == len(STYLE_TABLE) * DEFAULT_SENTENCES_PER
    for row in rows:
        assert (tmp_path / row["path"]).read_bytes() == (DEMO_DIR / row["path"]).read_bytes(), row["path"]
    shipped = [line for line in (DEMO_DIR / CSV_NAME).read_text().splitlines() if line.endswith("," + voice)]
    assert csv_path.read_text().splitlines()[1:] == shipped


def test_readme_quotes_the_current_style_table():
    readme = (DEMO_DIR / "README.md").read_text(encoding="utf-8")
    assert style_table_markdown() in readme
    assert "not a validated emotion detector" in readme


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"voices": ("en+m3", "no-such-voice")}, "no-such-voice"),
        ({"voices": ("en+m3", "en+m3")}, "distinct"),
        ({"voices": ()}, "voices"),
        ({"sentences_per": 0}, "sentences_per"),
        ({"sentences_per": 31}, "sentences_per"),
    ],
)
def test_bad_arguments_are_one_line_errors(tmp_path, kwargs, fragment):
    options = {"voices": ("en+m3",), "sentences_per": 1, **kwargs}
    with pytest.raises(DatasetError, match=fragment) as info:
        generate_demo_corpus(tmp_path, **options)
    assert "\n" not in str(info.value)
    assert not (tmp_path / CSV_NAME).exists()


def test_cancel_stops_before_the_csv_and_progress_reaches_the_end(tmp_path):
    token = CancelToken()
    seen: list[tuple[int, int]] = []

    def progress(stage: str, done: int, total: int, message: str = "") -> None:
        seen.append((done, total))
        if done == 3:
            token.cancel()

    with pytest.raises(Cancelled):
        generate_demo_corpus(tmp_path / "cancelled", voices=("en+f2",), sentences_per=1, progress=progress, cancel=token)
    assert not (tmp_path / "cancelled" / CSV_NAME).exists()
    assert len(list((tmp_path / "cancelled").rglob("*.flac"))) == 4

    seen.clear()
    generate_demo_corpus(tmp_path / "done", voices=("en+f2",), sentences_per=1, progress=progress)
    assert seen[-1] == (5, 5)


def test_cli_demo_data_writes_the_corpus(tmp_path, capsys):
    out = tmp_path / "corpus"
    assert main(["--workspace", str(tmp_path / "ws"), "demo-data", "--out", str(out), "--seed", "3"]) == 0
    printed = capsys.readouterr().out
    assert "180 clips" in printed and str(out / CSV_NAME) in printed
    rows = read_rows(out / CSV_NAME)
    assert len(rows) == 180 and all((out / r["path"]).is_file() for r in rows)
