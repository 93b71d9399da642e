"""Dataset layouts, CSV validation, the per-file check and the usable-clip gate."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf

from speakfeed_gui.core.audio.decode import load_audio
from speakfeed_gui.core.errors import Cancelled, DatasetError
from speakfeed_gui.core.features.extractor import extract_features, feature_names
from speakfeed_gui.core.progress import CancelToken
from speakfeed_gui.core.training.datasets import Clip, Dataset, check_dataset, load_dataset, usable_clips
from tests.synth import make_dataset, noise, ravdess_codes, silence, speechlike, tone, write_wav

SMALL = {"speakers": 2, "clips_per_speaker_label": 2, "seconds": 0.4}


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


# -- layouts -------------------------------------------------------------------------------------


def test_csv_layout(tmp_path):
    table = make_dataset(tmp_path, "csv", **SMALL)
    ds = load_dataset(table)
    assert ds.layout == "csv" and ds.source == table and ds.root == tmp_path
    assert len(ds.clips) == 12 and not ds.problems
    assert {c.label for c in ds.clips} == {"calm", "energetic", "burned_out"}
    assert {c.speaker for c in ds.clips} == {"spk1", "spk2"}
    assert all(c.path.is_absolute() and c.path.is_file() for c in ds.clips)


def test_folder_holding_one_csv_is_the_csv_layout(tmp_path):
    make_dataset(tmp_path, "csv", **SMALL)
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")  # not a dataset table: ignored
    ds = load_dataset(tmp_path)
    assert ds.layout == "csv" and len(ds.clips) == 12


def test_csv_paths_are_relative_to_the_csv_and_extra_columns_ignored(tmp_path, monkeypatch):
    write_wav(tmp_path / "data" / "a.wav", tone(200, 0.3))
    write_wav(tmp_path / "data" / "b.wav", tone(300, 0.3))
    table = write_csv(tmp_path / "data" / "list.csv", "Label, notes ,path\nhappy,x,a.wav\nsad,y,b.wav\n")
    monkeypatch.chdir(tmp_path)
    ds = load_dataset("data/list.csv")
    assert [(c.path.name, c.label, c.speaker) for c in ds.clips] == [("a.wav", "happy", None), ("b.wav", "sad", None)]
    assert ds.source == table


def test_csv_missing_files_become_problems(tmp_path):
    write_wav(tmp_path / "a.wav", tone(200, 0.3))
    table = write_csv(tmp_path / "d.csv", "path,label\na.wav,happy\ngone.wav,sad\n")
    ds = load_dataset(table)
    assert [c.path.name for c in ds.clips] == ["a.wav"]
    assert [(p.path.name, p.reason) for p in ds.problems] == [("gone.wav", "file not found (listed on line 3 of d.csv)")]


@pytest.mark.parametrize(
    "text, match",
    [
        ("file,label\na.wav,x\n", r"d\.csv: line 1: missing required column 'path'"),
        ("path,emotion\na.wav,x\n", r"d\.csv: line 1: missing required column 'label'"),
        ("", r"d\.csv: line 1: missing required column 'path'"),
        ("path,label\na.wav,x\nb.wav,\n", r"d\.csv: line 3, column 'label': empty label"),
        ("path,label\na.wav,x\n,y\n", r"d\.csv: line 3, column 'path': empty path"),
        ("path,label\na.wav,x\nb.wav,y\na.wav,x\n", r"d\.csv: line 4, column 'path': duplicate row: 'a.wav' is already on line 2"),
        ("path,label\na.wav,x\n./a.wav,y\n", r"line 3, column 'path': listed again with another label \('x'\)"),
        ("path,label\na.wav,x\nb.wav,x\n", r"csv layout with 1 label\(s\) \(x\).*accepted layouts"),
    ],
)
def test_csv_errors_name_file_line_and_column(tmp_path, text, match):
    for name in ("a.wav", "b.wav"):
        write_wav(tmp_path / name, tone(200, 0.3))
    with pytest.raises(DatasetError, match=match):
        load_dataset(write_csv(tmp_path / "d.csv", text))


def test_folders_layout(tmp_path):
    root = make_dataset(tmp_path, "folders", **SMALL)
    (root / "README.txt").write_text("not audio")
    ds = load_dataset(root)
    assert ds.layout == "folders" and len(ds.clips) == 12
    assert {c.label for c in ds.clips} == {"calm", "energetic", "burned_out"}
    assert all(c.speaker is None for c in ds.clips)


def test_folders_layout_with_ravdess_names_knows_speakers(tmp_path):
    write_wav(tmp_path / "angry" / "03-01-05-01-01-01-07.wav", tone(200, 0.3))
    write_wav(tmp_path / "sad" / "deeper" / "03-01-04-01-01-01-12.wav", tone(200, 0.3))
    write_wav(tmp_path / "stray.wav", tone(200, 0.3))
    ds = load_dataset(tmp_path)
    assert ds.layout == "folders"
    assert sorted((c.label, c.speaker) for c in ds.clips) == [("angry", "actor_07"), ("sad", "actor_12")]
    assert [(p.path.name, p.reason) for p in ds.problems] == [("stray.wav", "not inside a label sub-folder")]


def test_ravdess_layout(tmp_path):
    root = make_dataset(tmp_path, "ravdess", labels=("neutral", "angry", "surprised"), **SMALL)
    write_wav(root / "Actor_01" / "03-01-09-01-01-01-01.wav", tone(200, 0.3))
    write_wav(root / "Actor_01" / "take2.wav", tone(200, 0.3))
    ds = load_dataset(root)
    assert ds.layout == "ravdess" and len(ds.clips) == 12
    assert {c.label for c in ds.clips} == {"neutral", "angry", "surprised"}
    assert {c.speaker for c in ds.clips} == {"actor_01", "actor_02"}
    reasons = sorted(p.reason for p in ds.problems)
    assert reasons[0].startswith("name is not RAVDESS-style") and reasons[1].startswith("unknown RAVDESS emotion code 09")


def test_flat_ravdess_folder(tmp_path):
    write_wav(tmp_path / "03-01-02-01-01-01-03.wav", tone(200, 0.3))
    write_wav(tmp_path / "03-01-08-02-02-02-03.wav", tone(200, 0.3))
    ds = load_dataset(tmp_path)
    assert sorted((c.label, c.speaker) for c in ds.clips) == [("calm", "actor_03"), ("surprised", "actor_03")]


@pytest.mark.parametrize(
    "setup, match",
    [
        (lambda p: p / "nope", "no such file or folder"),
        (lambda p: p, "no audio files"),
        (lambda p: write_wav(p / "x.wav", tone(200, 0.3)).parent, "neither in per-label sub-folders nor RAVDESS-named"),
        (lambda p: write_wav(p / "only" / "x.wav", tone(200, 0.3)).parent.parent, r"folders layout with 1 label\(s\) \(only\)"),
        (lambda p: write_wav(p / "x.wav", tone(200, 0.3)), "not a CSV file"),
    ],
    ids=["missing", "empty", "unknown", "one-label", "not-csv"],
)
def test_unusable_paths_explain_the_layouts(tmp_path, setup, match):
    with pytest.raises(DatasetError, match=match) as err:
        load_dataset(setup(tmp_path))
    assert "accepted layouts: a CSV file with columns path,label[,speaker]" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("suffix", ["flac", "ogg"])
def test_stereo_44k_files_decode_to_mono_16k(tmp_path, suffix):
    stereo = np.stack([tone(440, 1.0, sr=44100), tone(440, 1.0, sr=44100, amp=0.2)], axis=1)
    path = write_wav(tmp_path / "happy" / f"a.{suffix}", stereo, sr=44100)
    write_wav(tmp_path / "sad" / f"b.{suffix}", stereo, sr=44100)
    assert sf.info(str(path)).channels == 2
    ds = load_dataset(tmp_path)
    report = check_dataset(ds)
    assert not report.problems and report.total_seconds == pytest.approx(2.0, abs=0.05)
    audio = load_audio(path)
    assert audio.ndim == 1 and abs(audio.size - 16000) <= 200
    pitch = extract_features(audio)[feature_names().index("pitch_mean_hz")]
    assert pitch == pytest.approx(440, rel=0.01)


# -- check_dataset -------------------------------------------------------------------------------


@pytest.fixture
def messy(tmp_path):
    """A folders dataset with one good clip per label and one clip of every problem kind."""
    write_wav(tmp_path / "calm" / "good.wav", speechlike(140, 0.5))
    write_wav(tmp_path / "tense" / "good.wav", speechlike(220, 0.5))
    write_wav(tmp_path / "tense" / "good2.flac", speechlike(230, 0.5))
    (tmp_path / "calm" / "text.wav").write_text("hello, I am not audio")
    write_wav(tmp_path / "calm" / "empty.wav", np.zeros(0, dtype=np.float32))
    write_wav(tmp_path / "calm" / "short.wav", tone(200, 0.1))
    write_wav(tmp_path / "calm" / "zeros.wav", silence(0.5))
    write_wav(tmp_path / "calm" / "quiet.wav", noise(0.5, amp=3e-4))
    bad = tone(200, 0.5)
    bad[100] = np.nan
    sf.write(str(tmp_path / "tense" / "nan.wav"), bad, 16000, subtype="FLOAT")
    write_wav(tmp_path / "tense" / "vanishes.wav", tone(200, 0.5))
    ds = load_dataset(tmp_path)
    (tmp_path / "tense" / "vanishes.wav").unlink()
    return ds


def test_every_problem_kind_is_reported(messy):
    calls = []
    report = check_dataset(messy, progress=lambda *a: calls.append(a))
    reasons = {p.path.name: p.reason for p in report.problems}
    assert set(reasons) == {"text.wav", "empty.wav", "short.wav", "zeros.wav", "quiet.wav", "nan.wav", "vanishes.wav"}
    assert reasons["text.wav"].startswith("not a readable audio file (")
    assert reasons["empty.wav"] == "empty: no samples"
    assert reasons["short.wav"] == "too short: 0.10 s (minimum 0.25 s)"
    assert reasons["zeros.wav"] == "silent: every sample is zero"
    assert re.fullmatch(r"silent: peak 3\.\de-04, RMS -7\d dBFS \(needs peak >= 0\.0001 and RMS >= -60 dBFS\)", reasons["quiet.wav"])
    assert reasons["nan.wav"] == "contains NaN or infinite samples"
    assert reasons["vanishes.wav"] == "file not found"
    assert sorted(c.path.name for c in report.usable) == ["good.wav", "good.wav", "good2.flac"]
    assert report.n_clips == 10
    assert report.label_counts == {"calm": 1, "tense": 2}
    assert report.speakers == []
    assert report.total_seconds == pytest.approx(1.5, abs=0.01)
    assert calls[0] == ("check", 0, 10, "") and calls[-1][:3] == ("check", 10, 10)


def test_min_seconds_is_configurable(messy):
    report = check_dataset(messy, min_seconds=0.05)
    assert "short.wav" in {c.path.name for c in report.usable}


def test_report_dict_and_summary(messy):
    report = check_dataset(messy)
    data = report.to_dict()
    assert data["n_clips"] == 10 and data["n_usable"] == 3 and data["layout"] == "folders"
    assert {p["reason"] for p in data["problems"]} >= {"file not found", "empty: no samples"}
    lines = report.summary_lines()
    assert "clips: 10 found, 3 usable, 7 unusable" in lines
    assert "  tense: 2" in lines and "speakers: unknown" in lines
    assert any(line.startswith("unusable: ") and line.endswith("nan.wav: contains NaN or infinite samples") for line in lines)
    assert len(report.summary_lines(details=False)) == 5


def test_check_can_be_cancelled(messy):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        check_dataset(messy, cancel=token)


def test_usable_clips_refuses_problems_unless_skipped(messy):
    report = check_dataset(messy)
    expected = (
        r"^7 unusable files in .*: empty\.wav: empty: no samples; quiet\.wav: silent: .*; "
        r"short\.wav: too short: .* \.\.\.; fix them or pass --skip-bad \(skip_bad=True\)$"
    )
    with pytest.raises(DatasetError, match=expected):
        usable_clips(report, skip_bad=False)
    with pytest.raises(DatasetError, match=r"after skipping 7 unusable files: calm \(1\)"):
        usable_clips(report, skip_bad=True)


def test_usable_clips_returns_the_good_ones(tmp_path):
    root = make_dataset(tmp_path, "folders", **SMALL)
    write_wav(root / "calm" / "blank.wav", silence(0.5))
    report = check_dataset(load_dataset(root))
    with pytest.raises(DatasetError, match="1 unusable files in"):
        usable_clips(report, skip_bad=False)
    clips = usable_clips(report, skip_bad=True)
    assert len(clips) == 12 and all(isinstance(c, Clip) for c in clips)


def test_usable_clips_needs_two_labels(tmp_path):
    write_wav(tmp_path / "a.wav", tone(200, 0.5))
    write_wav(tmp_path / "b.wav", silence(0.5))
    ds = Dataset(tmp_path, "csv", [Clip(tmp_path / "a.wav", "x"), Clip(tmp_path / "b.wav", "y")])
    with pytest.raises(DatasetError, match="1 label"):
        usable_clips(check_dataset(ds), skip_bad=True)


def test_synthetic_ravdess_maps_other_labels_to_spare_codes(tmp_path):
    root = make_dataset(tmp_path, "ravdess", speakers=1, clips_per_speaker_label=1, seconds=0.3)
    assert ravdess_codes(("calm", "energetic", "burned_out")) == {"calm": "02", "energetic": "01", "burned_out": "03"}
    assert sorted(c.label for c in load_dataset(root).clips) == ["calm", "happy", "neutral"]


# -- label mapping (real EmoDB clips) ----------------------------------------------------------


@pytest.fixture
def emodb_csv(tmp_path):
    from tests.emodb import write_subset

    return write_subset(tmp_path, ["spk08", "spk10"], ["anger", "disgust", "neutral"], per_cell=1)


def test_label_map_renames_and_merges_labels(emodb_csv):
    from speakfeed_gui.core.training.datasets import parse_label_map

    mapping = parse_label_map(["anger=frustrated", "disgust=frustrated", " neutral = calm "])
    assert mapping == {"anger": "frustrated", "disgust": "frustrated", "neutral": "calm"}
    dataset = load_dataset(emodb_csv, mapping)
    original = load_dataset(emodb_csv)
    assert [c.path for c in dataset.clips] == [c.path for c in original.clips]
    assert [c.label for c in dataset.clips] == [mapping[c.label] for c in original.clips]
    before = check_dataset(original).label_counts
    assert check_dataset(dataset).label_counts == {"calm": before["neutral"],
                                                   "frustrated": before["anger"] + before["disgust"]}


def test_labels_the_mapping_leaves_out_stay(emodb_csv):
    dataset = load_dataset(emodb_csv, {"anger": "frustrated"})
    assert {c.label for c in dataset.clips} == {"frustrated", "disgust", "neutral"}


@pytest.mark.parametrize("suffix, text", [
    (".yaml", "anger: frustrated\ndisgust: frustrated\nneutral: calm\n"),
    (".csv", "old,new\nanger,frustrated\ndisgust,frustrated\n\nneutral,calm\n"),
    (".csv", "anger,frustrated\ndisgust,frustrated\nneutral,calm\n"),
])
def test_mapping_files_yaml_and_csv(tmp_path, emodb_csv, suffix, text):
    from speakfeed_gui.core.training.datasets import load_label_map

    path = write_csv(tmp_path / f"map{suffix}", text)
    mapping = load_label_map(path)
    assert mapping == {"anger": "frustrated", "disgust": "frustrated", "neutral": "calm"}
    assert {c.label for c in load_dataset(emodb_csv, mapping).clips} == {"frustrated", "calm"}


def test_a_label_not_in_the_dataset_is_one_line_naming_it_and_the_known_ones(emodb_csv):
    with pytest.raises(DatasetError) as info:
        load_dataset(emodb_csv, {"angry": "frustrated"})
    message = str(info.value)
    assert "'angry' is not a label" in message and "anger, disgust, neutral" in message and "\n" not in message


@pytest.mark.parametrize("pairs, match", [
    (["anger"], "expected OLD=NEW"),
    (["=calm"], "expected OLD=NEW"),
    (["anger="], "expected OLD=NEW"),
    (["anger=frustrated", "anger=calm"], "already mapped to 'frustrated'"),
])
def test_bad_map_pairs_are_one_line(pairs, match):
    from speakfeed_gui.core.training.datasets import parse_label_map

    with pytest.raises(DatasetError, match=match) as info:
        parse_label_map(pairs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name, text, match", [
    ("m.yaml", "- anger\n- calm\n", "expected 'old: new' lines"),
    ("m.yaml", "anger: [a, b]\n", "key 'anger': expected a label name"),
    ("m.yaml", "anger: {\n", "not valid YAML"),
    ("m.csv", "anger,frustrated,extra\n", "line 1: expected two columns"),
    ("m.csv", "\n", "empty"),
])
def test_bad_mapping_files_name_the_file_and_place(tmp_path, name, text, match):
    from speakfeed_gui.core.training.datasets import load_label_map

    path = write_csv(tmp_path / name, text)
    with pytest.raises(DatasetError, match=match) as info:
        load_label_map(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_mapping_everything_onto_one_label_is_refused(emodb_csv):
    with pytest.raises(DatasetError, match="after the label mapping.*need at least 2"):
        load_dataset(emodb_csv, {"anger": "x", "disgust": "x", "neutral": "x"})
