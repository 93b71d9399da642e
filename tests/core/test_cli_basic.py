"""The CLI's first commands and its error contract: one line, non-zero exit, no traceback."""

import json
import subprocess
import sys

import yaml

from speakfeed_gui.cli import main


def test_predict_dummy_text(workspace, capsys):
    assert main(["--workspace", str(workspace.root), "predict", "--model", "dummy", "some text"]) == 0
    out = capsys.readouterr().out
    assert "model: dummy 1.0" in out and "probability" in out


def test_predict_json(workspace, capsys):
    assert main(["--workspace", str(workspace.root), "predict", "--model", "dummy", "--json", "some text"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["model_name"] == "dummy" and len(data["probabilities"]) == 5


def test_models_available(workspace, capsys):
    assert main(["--workspace", str(workspace.root), "models", "available"]) == 0
    out = capsys.readouterr().out
    assert "* emotion" in out and "dummy" in out and "huggingface" in out


def test_unknown_model_is_one_line(workspace, capsys):
    assert main(["--workspace", str(workspace.root), "predict", "--model", "nope", "x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("speakfeed: error: no model 'nope'") and "\n" not in err


def test_bad_yaml_subprocess_has_no_traceback(workspace):
    data = yaml.safe_load(workspace.config_path.read_text())
    data["models"]["dummy"]["type"] = "bert"
    workspace.config_path.write_text(yaml.safe_dump(data))
    run = subprocess.run(
        [sys.executable, "-m", "speakfeed_gui", "--workspace", str(workspace.root), "predict", "--model", "dummy", "hi"],
        capture_output=True, text=True,
    )
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "models.dummy.type: unknown model type 'bert'" in lines[0]


def test_no_command_prints_help(capsys):
    assert main([]) == 1
    assert "usage: speakfeed" in capsys.readouterr().out
