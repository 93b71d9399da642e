"""Dataset fingerprints, content hashes and reproducible (speaker-independent) splits."""

from __future__ import annotations

import logging
import os
import shutil
from collections import Counter

import pytest

from speakfeed_gui.core.errors import DatasetError
from speakfeed_gui.core.storage.hashing import content_hashes, sha256_file
from speakfeed_gui.core.training.datasets import Clip, load_dataset
from speakfeed_gui.core.training.versioning import cv_splits, dataset_fingerprint, make_split
from tests.synth import make_dataset, tone, write_wav

# -- fingerprints ------------------------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path):
    table = make_dataset(tmp_path / "data", "csv", speakers=2, clips_per_speaker_label=2, seconds=0.3)
    return load_dataset(table)


def test_fingerprint_counts_and_stability(corpus):
    fp = dataset_fingerprint(corpus.clips, corpus.root)
    assert fp["n_clips"] == 12 and fp["n_labels"] == 3 and fp["n_speakers"] == 2
    assert fp["label_counts"] == {"burned_out": 4, "calm": 4, "energetic": 4}
    assert len(fp["sha256"]) == 64
    assert dataset_fingerprint(list(reversed(corpus.clips)), corpus.root) == fp


def test_fingerprint_ignores_where_the_dataset_lives(corpus, tmp_path):
    moved = tmp_path / "copy"
    shutil.copytree(corpus.root, moved)
    copy = load_dataset(moved / "dataset.csv")
    assert dataset_fingerprint(copy.clips, copy.root)["sha256"] == dataset_fingerprint(corpus.clips, corpus.root)["sha256"]


def test_fingerprint_changes_with_content_label_speaker_and_name(corpus):
    base = dataset_fingerprint(corpus.clips, corpus.root)["sha256"]
    clips = list(corpus.clips)
    relabel = [Clip(c.path, "other" if i == 0 else c.label, c.speaker) for i, c in enumerate(clips)]
    respeak = [Clip(c.path, c.label, "spk9" if i == 0 else c.speaker) for i, c in enumerate(clips)]
    assert dataset_fingerprint(relabel, corpus.root)["sha256"] != base
    assert dataset_fingerprint(respeak, corpus.root)["sha256"] != base
    renamed = clips[0].path.with_name("renamed.wav")
    os.rename(clips[0].path, renamed)
    assert dataset_fingerprint([Clip(renamed, clips[0].label, clips[0].speaker)] + clips[1:], corpus.root)["sha256"] != base
    os.rename(renamed, clips[0].path)
    assert dataset_fingerprint(clips, corpus.root)["sha256"] == base
    write_wav(clips[1].path, tone(500, 0.3))
    assert dataset_fingerprint(clips, corpus.root)["sha256"] != base


def test_content_hashes_follow_file_changes(tmp_path):
    path = write_wav(tmp_path / "a.wav", tone(200, 0.3))
    first = content_hashes([path])
    assert first == [sha256_file(path)]
    stat = path.stat()
    write_wav(path, tone(300, 0.3))  # same size, new content
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
    assert content_hashes([path]) == [sha256_file(path)] != first
    with pytest.raises(DatasetError, match="missing.wav: cannot read file"):
        content_hashes([tmp_path / "missing.wav"])


# -- splits --------------------------------------------------------------------------------------


def design(speakers=5, labels=("a", "b", "c"), per=4):
    """Labels and speakers of a balanced corpus: every speaker says every label `per` times."""
    rows = [(label, f"s{s}") for s in range(speakers) for label in labels for _ in range(per)]
    return [r[0] for r in rows], [r[1] for r in rows]


def test_grouped_split_holds_out_whole_speakers():
    labels, speakers = design()
    split = make_split(labels, speakers, test_fraction=0.2, seed=1)
    assert split.grouped
    assert sorted(split.train + split.test) == list(range(len(labels)))
    assert not {speakers[i] for i in split.train} & {speakers[i] for i in split.test}
    assert {labels[i] for i in split.train} == {labels[i] for i in split.test} == {"a", "b", "c"}
    assert len({speakers[i] for i in split.test}) == 1  # 5 speakers, 20 %: one held out


def test_split_is_seeded():
    labels, speakers = design(speakers=10)
    a = make_split(labels, speakers, seed=3)
    assert make_split(labels, speakers, seed=3) == a
    others = [make_split(labels, speakers, seed=s).test for s in range(4, 9)]
    assert any(test != a.test for test in others)


def test_ungrouped_split_is_stratified():
    labels = ["a"] * 50 + ["b"] * 30 + ["c"] * 20
    split = make_split(labels, [None] * 100, test_fraction=0.2, seed=0)
    assert not split.grouped
    assert Counter(labels[i] for i in split.test) == {"a": 10, "b": 6, "c": 4}
    assert make_split(labels, [None] * 100, seed=0) == split
    assert make_split(labels, [None] * 100, seed=1).test != split.test


def test_speaker_grouping_can_be_turned_off():
    labels, speakers = design(speakers=3)
    split = make_split(labels, speakers, group_by_speaker=False)
    assert not split.grouped
    assert {speakers[i] for i in split.train} & {speakers[i] for i in split.test}


def test_missing_test_label_is_a_warning(caplog):
    labels = ["a", "a", "b", "b", "c", "c"]
    with caplog.at_level(logging.WARNING, logger="speakfeed_gui.core.training.versioning"):
        split = make_split(labels, [None] * 6, test_fraction=0.2)
    assert len(split.test) == 1
    assert {labels[i] for i in split.train} == {"a", "b", "c"}
    assert "test set has no clips of" in caplog.text


@pytest.mark.parametrize(
    "labels, speakers, match",
    [
        (["a", "a", "b", "b"], ["x", "x", "x", "x"], "only 1 speaker .*turn off the speaker-independent split"),
        (["a", "a", "b", "b"], ["x", None, "y", "y"], "1 of 4 clips have no speaker"),
        (["a", "a", "b", "b"], ["x", "x", "y", "y"], r"label\(s\) a, b come from only 1 speaker"),
        (["a", "a", "b"], [None] * 3, r"label\(s\) b have fewer than 2 clips"),
        (["a", "a"], [None] * 2, "need at least 2 labels"),
    ],
)
def test_impossible_splits_say_why(labels, speakers, match):
    with pytest.raises(DatasetError, match=match):
        make_split(labels, speakers)


def test_bad_test_fraction():
    labels, speakers = design()
    with pytest.raises(DatasetError, match="test fraction"):
        make_split(labels, speakers, test_fraction=1.0)


def test_manifest_lists_both_sides(corpus):
    labels = [c.label for c in corpus.clips]
    speakers = [c.speaker for c in corpus.clips]
    split = make_split(labels, speakers, test_fraction=0.5, seed=0)
    manifest = split.to_manifest(corpus.clips, corpus.root)
    assert manifest["grouped"] is True and manifest["seed"] == 0 and manifest["test_fraction"] == 0.5
    assert len(manifest["train"]) + len(manifest["test"]) == 12
    first = manifest["test"][0]
    clip = corpus.clips[split.test[0]]
    assert first == {"path": clip.path.relative_to(corpus.root).as_posix(), "label": clip.label, "speaker": clip.speaker}
    assert first["path"].startswith("audio/")
    assert {r["speaker"] for r in manifest["train"]}.isdisjoint({r["speaker"] for r in manifest["test"]})


def test_cv_splits_partition_and_group():
    labels, speakers = design(speakers=6)
    folds = cv_splits(labels, speakers, folds=3, seed=0)
    assert len(folds) == 3
    assert sorted(i for _, test in folds for i in test) == list(range(len(labels)))
    for train, test in folds:
        assert not {speakers[i] for i in train} & {speakers[i] for i in test}
    plain = cv_splits(labels, [None] * len(labels), folds=4, seed=0)
    assert len(plain) == 4 and all(Counter(labels[i] for i in test) == {"a": 6, "b": 6, "c": 6} for _, test in plain)
    with pytest.raises(DatasetError, match="7 folds need at least 7 speakers"):
        cv_splits(labels, speakers, folds=7, seed=0)
    with pytest.raises(DatasetError, match="at least 2 folds"):
        cv_splits(labels, speakers, folds=1, seed=0)
