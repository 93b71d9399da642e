"""`pip install .` outside the checkout gives a working `speakfeed bootstrap` (config and corpora ship as data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_pip_install_outside_the_checkout_bootstraps_and_predicts(tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # The dependencies come from the test environment (a path line, so its editable checkout is NOT on the path);
    # SpeakFeed itself is built and installed from this checkout like a user would.
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    build = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
                           capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "SPEAKFEED_WORKSPACE", "XDG_DATA_HOME", "XDG_CONFIG_HOME")}
    env["HOME"] = str(tmp_path / "home")  # the default workspace lands in the user's data folder
    where = subprocess.check_output([python, "-c", "import speakfeed_gui; print(speakfeed_gui.__file__)"],
                                    text=True, cwd=tmp_path, env=env)
    assert str(env_dir) in where and str(ROOT) not in where

    shipped = {f.relative_to(ROOT) for top in ("config", "resources") for f in (ROOT / top).rglob("*")
               if f.is_file() and "screenshots" not in f.parts}
    installed = {f.relative_to(env_dir / "share" / "speakfeed") for f in (env_dir / "share" / "speakfeed").rglob("*")
                 if f.is_file()}
    assert shipped - installed == set(), "add these folders to [tool.setuptools.data-files] in pyproject.toml"

    speakfeed = env_dir / "bin" / "speakfeed"
    boot = subprocess.run([speakfeed, "bootstrap"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=600)
    assert boot.returncode == 0, boot.stdout[-2000:] + boot.stderr[-2000:]
    workspace = tmp_path / "home" / ".local" / "share" / "SpeakFeed" / "workspace"
    assert (workspace / "config" / "models.yaml").is_file()
    clip = next((env_dir / "share" / "speakfeed" / "resources").rglob("*.flac"))
    out = subprocess.run([speakfeed, "predict", "--model", "live", "--json", str(clip)], capture_output=True,
                         text=True, cwd=tmp_path, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    result = result[0] if isinstance(result, list) else result
    assert result["label"] and sys.executable
