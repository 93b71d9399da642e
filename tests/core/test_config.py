"""models.yaml validation: the shipped file loads, every bad file gives one line naming the key."""

from pathlib import Path

import pytest
import yaml

from speakfeed_gui.core.errors import ConfigError
from speakfeed_gui.core.settings.config import DEFAULT_LABELS, load_config, parse_config
from speakfeed_gui.core.settings.measures import DEFAULT_TARGETS as MEASURE_BANDS
from speakfeed_gui.core.settings.workspace import DEFAULT_CONFIG, init_workspace, resolve_workspace


def _base() -> dict:
    return yaml.safe_load(DEFAULT_CONFIG.read_text())


def test_shipped_config_loads():
    cfg = load_config(DEFAULT_CONFIG)
    assert cfg.default_model in cfg.models
    assert set(cfg.models) >= {"dummy", "emotion", "text_sentiment"}
    assert cfg.models["dummy"].labels == DEFAULT_LABELS
    assert cfg.live.window_seconds == 2.0 and cfg.live.hop_seconds == 0.5
    assert cfg.live.targets == MEASURE_BANDS  # the shipped bands are the catalogue's (core/settings/measures.py)
    assert cfg.inference.add_timestamps is True


@pytest.mark.parametrize(
    "mutate, expected",
    [
        (lambda d: d["models"]["dummy"].update(type="bert"), "models.dummy.type: unknown model type 'bert'; known types: audio_emotion, dummy, huggingface, nemo"),
        (lambda d: d["models"]["dummy"].pop("type"), "models.dummy.type: missing"),
        (lambda d: d["models"]["dummy"].update(confidence_threshold="high"), "models.dummy.confidence_threshold: expected a number from 0 to 1, got 'high'"),
        (lambda d: d["models"]["dummy"].update(confidence_threshold=1.5), "models.dummy.confidence_threshold: expected a number from 0 to 1"),
        (lambda d: d["models"]["dummy"].update(emotion_labels=[]), "models.dummy.emotion_labels: expected a non-empty list"),
        (lambda d: d["models"]["dummy"].update(emotion_labels=["a", "a"]), "without repeats"),
        (lambda d: d["models"]["dummy"].update(colour="red"), "models.dummy.colour: unknown key"),
        (lambda d: d["models"]["text_sentiment"]["config"].pop("model_name"), "models.text_sentiment.config.model_name: expected a value (required for type huggingface)"),
        (lambda d: d["models"]["text_sentiment"]["config"].update(device="tpu"), "models.text_sentiment.config.device: expected one of auto, cpu, cuda, mps, got 'tpu'"),
        (lambda d: d["models"]["text_sentiment"]["config"].update(max_lenght=3), "models.text_sentiment.config.max_lenght: expected a known key for type huggingface"),
        (lambda d: d["models"]["text_sentiment"]["config"].update(batch_size=0), "batch_size: expected a whole number of at least 1"),
        (lambda d: d.update(default_model="nope"), "default_model: expected one of the configured models"),
        (lambda d: d.update(models={}), "models: missing or empty"),
        (lambda d: d["pipeline"]["inference"].update(add_timestamps="yes"), "pipeline.inference.add_timestamps: expected true or false"),
        (lambda d: d["live"].update(hop_seconds=5.0), "live.hop_seconds: expected a number of seconds from 0.05 to window_seconds"),
        (lambda d: d["live"].update(vad="webrtc"), "live.vad: expected one of auto, silero, energy"),
        (lambda d: d["live"]["targets"].update(words_per_minute=[200, 100]), "live.targets.words_per_minute: expected a [low, high] pair"),
        (lambda d: d["live"]["targets"].update(jitter=[1, 2]), "live.targets.jitter: unknown metric"),
        (lambda d: d.update(extra=1), "extra: unknown key"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, mutate, expected):
    data = _base()
    mutate(data)
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message
    assert "\n" not in message


def test_a_key_with_control_characters_is_named_on_one_line(tmp_path: Path):
    """Found by the hypothesis fuzzer: a top-level YAML key "\\n" split the message in two."""
    with pytest.raises(ConfigError) as caught:
        parse_config({"\n\tx": 1}, tmp_path / "models.yaml")
    assert str(caught.value) == (f"{tmp_path / 'models.yaml'}: \\n\\tx: unknown key; "
                                 "valid keys: default_model, models, pipeline, live, security, privacy, registry, compute")


def test_invalid_yaml_reports_line(tmp_path: Path):
    path = tmp_path / "models.yaml"
    path.write_text("models:\n  dummy: [unclosed\n")
    with pytest.raises(ConfigError, match=r"not valid YAML at line \d+"):
        load_config(path)


def test_missing_and_non_mapping_files(tmp_path: Path):
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "absent.yaml")
    with pytest.raises(ConfigError, match=r"\(top level\): expected a mapping"):
        parse_config(["a", "list"], tmp_path / "x.yaml")


def test_defaults_fill_optional_sections(tmp_path: Path):
    cfg = parse_config({"default_model": "d", "models": {"d": {"type": "dummy"}}}, tmp_path / "m.yaml")
    assert cfg.models["d"].version == "1.0" and cfg.models["d"].confidence_threshold == 0.0
    assert cfg.preprocessing.lowercase is True and cfg.live.vad == "auto"


def test_workspace_init_copies_default_and_never_overwrites(tmp_path: Path, monkeypatch):
    ws = init_workspace(tmp_path / "w")
    assert ws.config_path.read_text() == DEFAULT_CONFIG.read_text() and ws.models_dir.is_dir()
    ws.config_path.write_text("# mine\n")
    init_workspace(tmp_path / "w")
    assert ws.config_path.read_text() == "# mine\n"
    monkeypatch.setenv("SPEAKFEED_WORKSPACE", str(tmp_path / "env"))
    assert resolve_workspace().root == (tmp_path / "env").resolve()
    assert resolve_workspace(tmp_path / "arg").root == (tmp_path / "arg").resolve()
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="must be a folder"):
        resolve_workspace(tmp_path / "file")


def test_a_plug_in_backend_registers_its_own_pydantic_schema(tmp_path: Path):
    """A backend may declare its `config:` block as a pydantic schema; its problems read like the built-ins'."""
    from typing import Annotated

    from pydantic import Field

    from speakfeed_gui.core.settings.backends import register_backend_schema, unregister_backend_schema
    from speakfeed_gui.core.settings.schema import BackendConfig

    class EchoConfig(BackendConfig):
        unknown_key = "expected a known key for type echo (valid: {valid})"
        gain: Annotated[float, Field(ge=0, le=2, description="a gain from 0 to 2")] = 1.0

    register_backend_schema("echo", EchoConfig)
    try:
        document = {"default_model": "e", "models": {"e": {"type": "echo", "config": {"gain": 1.5}}}}
        assert parse_config(document, tmp_path / "m.yaml").models["e"].config == {"gain": 1.5}
        document["models"]["e"]["config"] = {"gain": 7}
        with pytest.raises(ConfigError, match=r"models\.e\.config\.gain: expected a gain from 0 to 2, got 7$"):
            parse_config(document, tmp_path / "m.yaml")
        document["models"]["e"]["config"] = {"gian": 1}
        with pytest.raises(ConfigError, match=r"models\.e\.config\.gian: expected a known key for type echo \(valid: gain\)"):
            parse_config(document, tmp_path / "m.yaml")
    finally:
        unregister_backend_schema("echo")


def test_pipeline_config_values_go_through_the_same_schema():
    from speakfeed_gui.core import PipelineConfig

    config = PipelineConfig()
    config.inference_config["batch_size"] = 0
    with pytest.raises(ConfigError, match=r"pipeline\.inference\.batch_size: expected a whole number of at least 1, got 0$"):
        config.inference()
