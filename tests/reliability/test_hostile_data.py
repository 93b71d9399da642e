"""Hostile datasets and audio files: listed with a reason, refused with one line, never a traceback.

CSVs of random bytes, wrong columns, huge fields, odd encodings and unusable paths; folders of random
names and junk files; audio files that are truncated, empty, mislabelled, with absurd headers,
NaN/inf samples, many channels or 8 bits. Generated with hypothesis and written by hand; a sample goes
through `python -m speakfeed_gui`.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given
from hypothesis import strategies as st

from speakfeed_gui.core.audio.decode import load_audio
from speakfeed_gui.core.errors import AudioError, DatasetError
from speakfeed_gui.core.training.datasets import check_dataset, inspect_audio, load_dataset
from tests.reliability.helpers import FUZZ, assert_one_line, assert_refused, error_line, run_cli, tree_state


def _check_loads_or_refuses(source: Path) -> None:
    """load_dataset gives a dataset or one DatasetError line naming the source; checking it never raises."""
    try:
        dataset = load_dataset(source)
    except DatasetError as exc:
        assert_one_line(exc)
        assert str(source.parent) in str(exc) or str(source) in str(exc), str(exc)
        return
    report = check_dataset(dataset)
    assert len(report.usable) + len(report.problems) == report.n_clips
    assert all(p.reason and "\n" not in p.reason for p in report.problems)


# ---- CSV files ----------------------------------------------------------------------------------

NASTY_PATHS = st.sampled_from([
    "~nobody-here/a.wav", "~/x.wav", "a\x00b.wav", "a" * 300 + ".wav", "a/" * 2100 + "b.wav", "../../../etc/passwd",
    "/dev/zero", "/proc/self/mem", ".", "", " ", "a.wav\x00", "C:\\clips\\a.wav", "file:///etc/passwd", "\udcff.wav",
    "clip.wav",
]) | st.text(max_size=40)


@FUZZ
@given(data=st.binary(max_size=400))
def test_csv_of_random_bytes(tmp_path_factory, data: bytes) -> None:
    table = tmp_path_factory.mktemp("csv") / "data.csv"
    table.write_bytes(data)
    _check_loads_or_refuses(table)


HEADERS = st.sampled_from([["path", "label"], ["path", "label", "speaker"], ["PATH", " Label "], ["label", "path"]]) | st.lists(
    st.sampled_from(["path", "label", "speaker", "", "x"]), max_size=4
)
CELLS = NASTY_PATHS | st.sampled_from(["calm", "energetic", "s1", ""])


@FUZZ
@given(
    header=HEADERS,
    rows=st.lists(st.tuples(NASTY_PATHS, CELLS).map(list) | st.lists(CELLS, max_size=4), min_size=1, max_size=5),
)
def test_csv_with_random_columns_and_paths(tmp_path_factory, header: list[str], rows: list[list[str]]) -> None:
    import csv

    folder = tmp_path_factory.mktemp("csv")
    sf.write(str(folder / "clip.wav"), np.full(8000, 0.1, dtype=np.float32), 16000)
    table = folder / "data.csv"
    with table.open("w", newline="", encoding="utf-8", errors="surrogateescape") as handle:
        csv.writer(handle).writerows([header, *rows])
    _check_loads_or_refuses(table)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "latin-1", "cp1252", "utf-32", "shift_jis"])
def test_csv_in_other_encodings_is_refused(tmp_path: Path, encoding: str) -> None:
    table = tmp_path / "data.csv"
    words = ("静か", "元気") if encoding == "shift_jis" else ("calmé", "énergie")
    table.write_bytes(f"path,label\n{words[0]}.wav,{words[0]}\n{words[1]}.wav,{words[1]}\n".encode(encoding))
    with pytest.raises(DatasetError) as info:
        load_dataset(table)
    assert_one_line(info.value, str(table))


def test_utf8_bom_csv_is_read(tmp_path: Path) -> None:
    for name in ("a.wav", "b.wav"):
        sf.write(str(tmp_path / name), np.full(8000, 0.1, dtype=np.float32), 16000)
    table = tmp_path / "data.csv"
    table.write_bytes("path,label\na.wav,calm\nb.wav,energetic\n".encode("utf-8-sig"))
    assert [c.label for c in load_dataset(table).clips] == ["calm", "energetic"]


def test_control_characters_in_labels_are_refused(tmp_path: Path) -> None:
    table = tmp_path / "data.csv"
    table.write_text('path,label\na.wav,"calm\nly"\nb.wav,energetic\n')
    with pytest.raises(DatasetError) as info:
        load_dataset(table)
    assert_one_line(info.value, str(table), "column 'label': 'calm\\nly'", "line break or control character")


def test_huge_field_and_huge_row_count(tmp_path: Path) -> None:
    table = tmp_path / "data.csv"
    table.write_text('path,label\n"' + "a" * 300_000 + '",calm\n')
    with pytest.raises(DatasetError) as info:
        load_dataset(table)
    assert_one_line(info.value, str(table), "field larger than field limit")
    table.write_text("path,label\n" + "".join(f"missing{n}.wav,{'calm' if n % 2 else 'energetic'}\n" for n in range(50_000)))
    dataset = load_dataset(table)
    assert len(dataset.problems) == 50_000 and not dataset.clips


# ---- folders ------------------------------------------------------------------------------------

NAMES = st.text(st.characters(blacklist_characters="/\x00", blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(
    lambda n: n not in (".", "..") and len(n.encode()) < 200
)


@FUZZ
@given(
    files=st.lists(
        st.tuples(st.lists(NAMES, min_size=0, max_size=2), NAMES, st.sampled_from([".wav", ".flac", ".ogg", ".csv", ""]),
                  st.binary(max_size=64)),
        max_size=6,
    ),
    loop=st.booleans(),
)
def test_folder_of_random_names_and_junk_files(tmp_path_factory, files, loop: bool) -> None:
    root = tmp_path_factory.mktemp("folder")
    for parts, name, suffix, data in files:
        path = root.joinpath(*parts, name + suffix)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            continue  # the random tree asked for a file where a folder is (or the reverse)
    if loop:
        (root / "loop").mkdir(exist_ok=True)
        if not (root / "loop" / "back").exists():
            (root / "loop" / "back").symlink_to(root)
    _check_loads_or_refuses(root)


# ---- audio --------------------------------------------------------------------------------------


def wav_bytes(rate: int, channels: int = 1, bits: int = 16, fmt: int = 1, data_len: int | None = None,
              payload: bytes = b"") -> bytes:
    """A RIFF/WAVE file with whatever header values are asked for, true or not."""
    block = (channels * bits // 8) & 0xFFFF
    byte_rate = (rate * block) & 0xFFFFFFFF
    header = struct.pack("<HHIIHH", fmt & 0xFFFF, channels & 0xFFFF, rate & 0xFFFFFFFF, byte_rate, block, bits & 0xFFFF)
    size = len(payload) if data_len is None else data_len
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + header + b"data" + struct.pack("<I", size & 0xFFFFFFFF) + payload
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _check_audio(path: Path) -> None:
    """load_audio gives finite mono float32 in [-1, 1] or one AudioError line; inspect_audio never raises."""
    reason, seconds = inspect_audio(path, 0.25)
    assert reason is None or ("\n" not in reason and reason), reason
    assert seconds >= 0
    try:
        audio = load_audio(path)
    except AudioError as exc:
        assert_one_line(exc, str(path))
        return
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.all(np.isfinite(audio)) and (audio.size == 0 or np.abs(audio).max() <= 1.0)


@FUZZ
@given(
    rate=st.integers(0, 2**32 - 1) | st.sampled_from([0, 1, 999, 1000, 8000, 16000, 384_000, 384_001]),
    channels=st.integers(0, 70_000) | st.sampled_from([0, 1, 2, 6, 1024]),
    bits=st.sampled_from([0, 1, 8, 12, 16, 24, 32, 64, 65535]),
    fmt=st.sampled_from([0, 1, 3, 6, 7, 0xFFFE, 0x55, 12345]),
    data_len=st.none() | st.integers(0, 2**32 - 1),
    payload=st.binary(max_size=2048),
)
def test_wav_with_random_header_values(tmp_path_factory, rate, channels, bits, fmt, data_len, payload) -> None:
    path = tmp_path_factory.mktemp("wav") / "clip.wav"
    path.write_bytes(wav_bytes(rate, channels, bits, fmt, data_len, payload))
    _check_audio(path)


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".wav", ".flac", ".ogg", ".mp3", ".aiff"]))
def test_random_bytes_as_audio(tmp_path_factory, data: bytes, suffix: str) -> None:
    path = tmp_path_factory.mktemp("audio") / f"clip{suffix}"
    path.write_bytes(data)
    _check_audio(path)


def write_hostile_audio(folder: Path) -> dict[str, Path]:
    """One file per kind of broken or unusual audio the issue lists."""
    folder.mkdir(parents=True, exist_ok=True)
    pcm = (np.sin(np.arange(16000) / 5) * 8000).astype("<i2").tobytes()
    raw = {
        "zero_length.wav": b"",
        "truncated.wav": wav_bytes(16000, payload=pcm)[:40],
        "text_named.wav": b"this is not audio at all\n" * 10,
        "mp3_named.flac": b"ID3\x03\x00\x00\x00\x00\x00\x00" + os.urandom(300),
        "huge_rate.wav": wav_bytes(4_000_000_000, payload=pcm),
        "rate_zero.wav": wav_bytes(0, payload=pcm),
        "lying_length.wav": wav_bytes(16000, data_len=0xFFFFFFF0, payload=pcm),
        "no_channels.wav": wav_bytes(16000, channels=0, payload=pcm),
    }
    paths = {name: folder / name for name in raw}
    for name, data in raw.items():
        paths[name].write_bytes(data)
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(16000) / 16000)
    arrays = {
        "nan.wav": (np.where(np.arange(16000) % 7, tone, np.nan), "FLOAT"),
        "inf.wav": (np.where(np.arange(16000) % 5, tone, np.inf), "FLOAT"),
        "silent.wav": (np.zeros(16000), "PCM_16"),
        "stereo_48k.wav": (np.stack([tone, -tone], axis=1), "PCM_16"),
        "eight_channels.wav": (np.repeat(tone[:, None], 8, axis=1) / 2, "PCM_16"),
        "eight_bit.wav": (tone, "PCM_U8"),
        "too_loud_float.wav": (tone * 40, "FLOAT"),
    }
    for name, (audio, subtype) in arrays.items():
        rate = 48_000 if "48k" in name else 16_000
        sf.write(str(folder / name), np.asarray(audio, dtype=np.float32), rate, subtype=subtype)
        paths[name] = folder / name
    return paths


UNUSABLE = {"zero_length.wav", "truncated.wav", "text_named.wav", "mp3_named.flac", "huge_rate.wav", "rate_zero.wav",
            "no_channels.wav", "nan.wav", "inf.wav", "silent.wav"}


def test_hand_written_audio_files(tmp_path: Path) -> None:
    paths = write_hostile_audio(tmp_path / "audio")
    for name, path in paths.items():
        _check_audio(path)
        reason, _ = inspect_audio(path, 0.25)
        assert (reason is not None) == (name in UNUSABLE), (name, reason)
    assert load_audio(paths["stereo_48k.wav"]).shape == (5333,)  # 1/3 s mixed to mono, resampled to 16 kHz
    assert np.abs(load_audio(paths["too_loud_float.wav"])).max() == 1.0  # clipped


@pytest.mark.slow
def test_hostile_audio_through_the_cli(trained, tmp_path: Path) -> None:
    ws, _ = trained
    paths = write_hostile_audio(tmp_path / "corpus" / "calm")
    good = tmp_path / "corpus" / "energetic" / "ok.wav"
    good.parent.mkdir()
    sf.write(str(good), (0.3 * np.sin(np.arange(16000) / 3)).astype(np.float32), 16000)
    before = tree_state(ws.root)

    checked = run_cli(ws.root, "dataset", "check", tmp_path / "corpus")
    assert checked.returncode == 1 and "Traceback" not in checked.stderr, checked.stderr
    assert all(f"calm/{name}" in checked.stdout for name in UNUSABLE), checked.stdout
    assert "unusable files:" in checked.stdout and f"{len(UNUSABLE)} unusable" in checked.stdout

    for name in ("truncated.wav", "huge_rate.wav"):
        assert_refused(run_cli(ws.root, "predict", "--model", "live", paths[name]), str(paths[name]))
    trained_on_junk = run_cli(ws.root, "train", tmp_path / "corpus", "--model-type", "logistic_regression")
    assert trained_on_junk.returncode == 2 and "unusable files" in error_line(trained_on_junk.stderr)
    assert tree_state(ws.root) == before
