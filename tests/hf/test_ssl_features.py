"""SSL feature set end to end offline: a tiny randomly initialised wav2vec2 built here, its pooled hidden
states as features, through training, the feature cache, the metadata and prediction (real EmoDB clips)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")

from speakfeed_gui.cli import main  # noqa: E402
from speakfeed_gui.core.errors import HyperparameterError, ModelLoadError  # noqa: E402
from speakfeed_gui.core.features.batch import cache_folder, featurize_files  # noqa: E402
from speakfeed_gui.core.features.sets import BUILTIN, feature_set_from_spec, parse_spec  # noqa: E402
from speakfeed_gui.core.registry.api import ModelRegistry  # noqa: E402
from speakfeed_gui.core.training.trainer import load_model, run_training_experiment  # noqa: E402

EMODB = Path(__file__).resolve().parents[1] / "data" / "emodb" / "dataset.csv"


def build_tiny_wav2vec2(folder: Path, seed: int = 0) -> Path:
    """A 2-layer, 32-wide wav2vec2 with random weights, saved with its feature extractor (RECIPES.md)."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2Model

    torch.manual_seed(seed)
    config = Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                            conv_dim=(32, 32, 32), conv_stride=(5, 4, 2), conv_kernel=(10, 4, 2),
                            num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)
    Wav2Vec2Model(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    return build_tiny_wav2vec2(tmp_path_factory.mktemp("w2v") / "tiny-w2v")


def test_ssl_set_trains_end_to_end_and_predicts_the_same(workspace, tiny_model):
    from speakfeed_gui.core.audio.decode import load_audio
    from speakfeed_gui.core.models.factory import ModelFactory

    model_id = run_training_experiment(EMODB, "logistic_regression", workspace=workspace, cv_folds="loso",
                                       feature_extractor=f"ssl:{tiny_model}@1")
    entry = ModelRegistry(workspace.registry_path).get_model_info(model_id)
    meta = json.loads(Path(entry["metadata_path"]).read_text())
    fs = meta["feature_set"]
    assert fs["id"].startswith("ssl-tiny-w2v-l1-") and fs["version"] == 1 and len(fs["names"]) == 32
    assert fs["extractor"] == {"type": "ssl", "model": str(tiny_model), "layer": 1}
    assert meta["evaluation_results"]["cv"]["n_test"] == 36
    feature_set = feature_set_from_spec(fs["extractor"])
    cached = sorted(cache_folder(workspace.cache_dir, feature_set).glob("*.npy"))
    assert len(cached) == 36 and np.load(cached[0]).shape == (32,)
    # the registered model predicts through the same set: the factory equals the artifacts by hand
    clf, scaler, _ = load_model(model_id, workspace)
    clip = EMODB.parent / "wav" / sorted(p.name for p in (EMODB.parent / "wav").iterdir())[0]
    expected = clf.predict_proba(scaler.transform(feature_set.extract(load_audio(clip))[None]))[0]
    got = ModelFactory(workspace=workspace).resolve(model_id).predict(str(clip)).probabilities
    assert np.allclose([got[c] for c in clf.classes_], expected, atol=1e-6)


def test_the_cache_keys_on_the_exact_model_and_layer(tmp_path, tiny_model):
    other = build_tiny_wav2vec2(tmp_path / "tiny-w2v", seed=1)  # same name and shape, other weights
    a, b = feature_set_from_spec(f"ssl:{tiny_model}@1"), feature_set_from_spec(f"ssl:{other}@1")
    last = feature_set_from_spec({"type": "ssl", "model": str(tiny_model), "layer": -1})
    assert len({a.id, b.id, last.id}) == 3 and a.id != feature_set_from_spec(BUILTIN).id
    clips = [EMODB.parent / "wav" / p.name for p in sorted((EMODB.parent / "wav").iterdir())[:2]]
    Xa = featurize_files(clips, cache_dir=tmp_path / "cache", feature_set=a)
    Xb = featurize_files(clips, cache_dir=tmp_path / "cache", feature_set=b)
    assert not np.allclose(Xa, Xb)  # a different model's vectors never come from the other's cache
    assert np.allclose(featurize_files(clips, cache_dir=tmp_path / "cache", feature_set=a), Xa)


@pytest.mark.parametrize("spec, message", [("wav2vec", "use sf-prosody-mfcc or ssl:"), ("ssl:x@top", "whole number"),
                                           ({"type": "ssl"}, "use sf-prosody-mfcc")])
def test_bad_feature_specs_are_one_line(spec, message):
    with pytest.raises(HyperparameterError, match=message):
        parse_spec(spec)


def test_missing_model_and_bad_layer_are_one_line(tmp_path, tiny_model):
    with pytest.raises(ModelLoadError, match="not a local folder and not in the hub cache"):
        feature_set_from_spec(f"ssl:{tmp_path / 'nothing'}")
    with pytest.raises(HyperparameterError, match="hidden states 0 to 2"):
        feature_set_from_spec(f"ssl:{tiny_model}@7")


def test_cli_rejects_a_bad_feature_spec_before_any_work(workspace, capsys):
    assert main(["--workspace", str(workspace.root), "train", str(EMODB), "--features", "mfcc"]) == 2
    err = capsys.readouterr().err
    assert "feature extractor 'mfcc': use sf-prosody-mfcc or ssl:" in err and "Traceback" not in err
