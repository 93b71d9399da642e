"""Hostile models.yaml files and --param values: the project's own one-line error, or a working result.

Generated with hypothesis (random YAML structures under every models.yaml key, random text, random
bytes; random strings for every hyperparameter) plus hand-written cases, a sample of them through
`python -m speakfeed_gui` to prove no traceback reaches the user and nothing saved changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from speakfeed_gui.core.errors import ConfigError, DatasetError, HyperparameterError, SpeakFeedError
from speakfeed_gui.core.models.factory import ModelFactory
from speakfeed_gui.core.settings.config import load_config
from speakfeed_gui.core.settings.workspace import DEFAULT_CONFIG, init_workspace
from speakfeed_gui.core.training.estimators import ESTIMATOR_NAMES, param_specs, validate_hyperparameters
from tests.reliability.helpers import FUZZ, assert_one_line, assert_refused, run_cli, tree_state

SHIPPED = yaml.safe_load(DEFAULT_CONFIG.read_text())
KEY_PATHS = [
    (), ("default_model",), ("models",), ("models", "dummy"), ("models", "dummy", "type"),
    ("models", "dummy", "version"), ("models", "dummy", "confidence_threshold"), ("models", "dummy", "emotion_labels"),
    ("models", "dummy", "labels"), ("models", "dummy", "description"), ("models", "dummy", "config"),
    ("models", "dummy", "config", "seed"), ("models", "emotion", "config"), ("models", "emotion", "config", "model_ref"),
    ("models", "text_sentiment", "config", "max_length"), ("models", "text_sentiment", "config", "device"),
    ("pipeline",), ("pipeline", "preprocessing", "lowercase"), ("pipeline", "inference", "batch_size"),
    ("live",), ("live", "window_seconds"), ("live", "hop_seconds"), ("live", "vad"), ("live", "smoothing"),
    ("live", "asr_model"), ("live", "filler_words"), ("live", "targets"), ("live", "targets", "pause_share"),
]
SCALARS = (
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    | st.sampled_from(["dummy", "audio_emotion", "huggingface", "calm", "", "auto", "cpu", "live", "-1", "1e9"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.integers(), inner, max_size=4),
    max_leaves=10,
)


def _set(document: dict, path: tuple, value: object) -> object:
    if not path:
        return value
    node = document
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    return document


def _check_config(path: Path, ws) -> None:
    """load_config gives a config or one ConfigError line naming the file; a loaded config is usable."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        assert_one_line(exc, str(path))
        return
    factory = ModelFactory(path, workspace=ws)
    for name in factory.list_available_models():
        try:
            info = factory.get_model_info(name)
        except SpeakFeedError as exc:
            assert_one_line(exc)
        else:
            assert info["name"] == name
    assert config.default_model in config.models


@FUZZ
@given(path=st.sampled_from(KEY_PATHS) | st.tuples(st.text(max_size=10)), value=VALUES)
def test_random_values_under_models_yaml_keys(tmp_path_factory, path: tuple, value: object) -> None:
    ws = init_workspace(tmp_path_factory.mktemp("ws"))
    document = _set(yaml.safe_load(DEFAULT_CONFIG.read_text()), path, value)
    ws.config_path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    _check_config(ws.config_path, ws)


@FUZZ
@given(text=st.text(max_size=300) | st.binary(max_size=300).map(lambda b: b.decode("latin-1")))
def test_random_text_as_models_yaml(tmp_path_factory, text: str) -> None:
    ws = init_workspace(tmp_path_factory.mktemp("ws"))
    ws.config_path.write_text(text, encoding="utf-8", errors="surrogateescape")
    _check_config(ws.config_path, ws)


HAND_WRITTEN_YAML = {
    "not utf-8": b"default_model: \xff\xfe\n",
    "invalid date": b"default_model: dummy\nmodels:\n  dummy: {type: dummy, version: 2024-13-45}\n",
    "huge integer": b"default_model: dummy\nmodels:\n  dummy: {type: dummy, config: {seed: " + b"9" * 5000 + b"}}\n",
    "bad explicit tag": b"default_model: !!int dummy\n",
    "python object tag": b"default_model: !!python/object/apply:os.system [touch /tmp/sf-pwned]\n",
    "unhashable default": b"default_model: [dummy]\nmodels:\n  dummy: {type: dummy}\n",
    "unhashable type": b"default_model: dummy\nmodels:\n  dummy: {type: {a: 1}}\n",
    "set of labels": b"default_model: dummy\nmodels:\n  dummy: {type: dummy, labels: !!set {a, b}}\n",
    "recursive alias": b"default_model: dummy\nmodels:\n  dummy: &d {type: dummy, labels: &l [a, *l]}\n",
    "deep nesting": b"default_model: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "infinite target": b"default_model: dummy\nmodels:\n  dummy: {type: dummy}\nlive: {targets: {pause_share: [0, .inf]}}\n",
    "nan target": b"default_model: dummy\nmodels:\n  dummy: {type: dummy}\nlive: {targets: {pause_share: [.nan, 1]}}\n",
    "empty file": b"",
    "a list": b"- a\n- b\n",
}


@pytest.mark.parametrize("case", list(HAND_WRITTEN_YAML))
def test_hand_written_bad_yaml(tmp_path: Path, case: str) -> None:
    ws = init_workspace(tmp_path / "ws")
    ws.config_path.write_bytes(HAND_WRITTEN_YAML[case])
    with pytest.raises(ConfigError) as info:
        load_config(ws.config_path)
    assert_one_line(info.value, str(ws.config_path))
    assert not Path("/tmp/sf-pwned").exists()


@pytest.mark.slow
@pytest.mark.parametrize("case", ["invalid date", "huge integer", "unhashable default", "deep nesting", "python object tag"])
def test_bad_yaml_through_the_cli(tmp_path: Path, case: str) -> None:
    ws = init_workspace(tmp_path / "ws")
    ws.config_path.write_bytes(HAND_WRITTEN_YAML[case])
    before = tree_state(ws.root)
    assert_refused(run_cli(ws.root, "predict", "--model", "dummy", "some text"), str(ws.config_path))
    assert tree_state(ws.root) == before


# ---- hyperparameters ------------------------------------------------------------------------------

PARAM_NAMES = sorted({(t, s.name) for t in ESTIMATOR_NAMES for s in param_specs(t)})
VALUE_TEXT = st.text(max_size=12) | st.sampled_from(
    ["nan", "inf", "-inf", "1e400", "-0", "0", "None", "null", "true", "1_000", "0x10", "٣", " 5 ", "1.5", "[1]", "{a: 1}"]
)


@FUZZ
@given(name=st.sampled_from(PARAM_NAMES), value=VALUE_TEXT)
def test_random_strings_for_every_curated_parameter(name: tuple[str, str], value: str) -> None:
    model_type, param = name
    try:
        params = validate_hyperparameters(model_type, {param: value})
    except HyperparameterError as exc:
        assert_one_line(exc, f"{model_type}.{param}")
        return
    spec = next(s for s in param_specs(model_type) if s.name == param)
    got = params[param]
    if spec.kind == "choice":
        assert got in spec.choices
    elif got is not None:
        assert spec.low <= got <= spec.high and got == got


# Parameters outside the curated list go to scikit-learn as-is; its own validation must still end
# as one SpeakFeed line, and a model that trains must verify.
EXTRA_NAMES = ["tol", "penalty", "solver", "fit_intercept", "intercept_scaling", "random_state", "l1_ratio", "verbose"]


@pytest.mark.filterwarnings("ignore::FutureWarning")  # sklearn 1.8 deprecates `penalty`
@FUZZ
@given(param=st.sampled_from(EXTRA_NAMES), value=VALUE_TEXT)
def test_random_strings_for_other_estimator_parameters_train_or_fail_cleanly(
    tmp_path_factory, tiny_dataset: Path, param: str, value: str
) -> None:
    from speakfeed_gui.core.registry.api import ModelRegistry
    from speakfeed_gui.core.registry.bundle import verify_model
    from speakfeed_gui.core.training.trainer import run_training_experiment

    ws = init_workspace(tmp_path_factory.mktemp("ws"))
    try:
        model_id = run_training_experiment(tiny_dataset, "logistic_regression", {param: value}, workspace=ws)
    except (HyperparameterError, DatasetError) as exc:  # DatasetError: sklearn refused the combination in fit
        assert_one_line(exc)
        assert not list(ws.models_dir.iterdir()), "a failed training left files behind"
        return
    verify_model(ModelRegistry(ws.registry_path), model_id)


@pytest.mark.slow
@pytest.mark.parametrize(
    "param, expected",
    [
        ("n_estimators=1e3", "random_forest.n_estimators: expected a whole number"),
        ("max_depth=inf", "random_forest.max_depth"),
        ("class_weight=__import__('os')", "random_forest.class_weight"),
        ("min_impurity_decrease=-1", "random_forest: The 'min_impurity_decrease' parameter"),
        ("=5", "--param '=5': expected NAME=VALUE"),
    ],
)
def test_bad_params_through_the_cli(tmp_path: Path, tiny_dataset: Path, param: str, expected: str) -> None:
    ws = init_workspace(tmp_path / "ws")
    before = tree_state(ws.root)
    assert_refused(run_cli(ws.root, "train", tiny_dataset, "--param", param), expected)
    assert tree_state(ws.root) == before
