"""Who may write a shared registry: `registry.maintainers` (user names or key ids) and the folder itself."""

from __future__ import annotations

import getpass

import pytest
import yaml

from speakfeed_gui.cli import main
from speakfeed_gui.core.errors import RegistryError
from speakfeed_gui.core.registry import signing
from speakfeed_gui.core.registry.api import ModelRegistry, current_identities, guard_writes, write_refusal
from tests.core.test_bundle import _train_into


def _set_maintainers(workspace, names) -> None:
    data = yaml.safe_load(workspace.config_path.read_text())
    data["registry"] = {"maintainers": names}
    workspace.config_path.write_text(yaml.safe_dump(data))


def test_a_non_maintainer_gets_a_registry_that_refuses_every_change(workspace):
    registry = ModelRegistry(workspace.registry_path)
    model_id = _train_into(registry)
    snapshot = registry.get_model_info(model_id)
    reason = guard_writes(registry, ["carol", "dave"], identities={"bob"})
    assert "only the registry's maintainers (carol, dave) may change it" in reason and "\n" not in reason
    attempts = {
        "register": lambda: registry.register_model({"model_name": "x"}),
        "alias": lambda: registry.set_alias("best", model_id),
        "describe": lambda: registry.set_description(model_id, "mine now"),
        "tags": lambda: registry.set_tags(model_id, ["x"]),
        "delete": lambda: registry.delete_model(model_id),
    }
    for what, attempt in attempts.items():
        with pytest.raises(RegistryError, match="registry.maintainers in models.yaml"):
            attempt()
            pytest.fail(f"{what} was not refused")
    fresh = ModelRegistry(workspace.registry_path)
    assert len(fresh) == 1 and fresh.get_model_info(model_id) == snapshot and fresh.aliases() == {}
    assert registry.list_models()[0]["id"] == model_id  # reading is still fine


def test_maintainers_may_be_named_by_user_name_or_by_signing_key_id(workspace):
    folder = workspace.models_dir
    assert write_refusal(folder, [getpass.getuser()]) is None
    assert write_refusal(folder, []) is None  # no maintainers named: anyone who can write the folder
    _, key = signing.create_key("alice")
    assert key.key_id in current_identities()
    assert write_refusal(folder, ["someone-else", key.key_id]) is None
    assert write_refusal(folder, ["someone-else"]) is not None


def test_cli_refuses_a_non_maintainer_in_one_line_and_still_lists(workspace, capsys):
    registry = ModelRegistry(workspace.registry_path)
    model_id = _train_into(registry)
    _set_maintainers(workspace, ["carol"])
    ws = ["--workspace", str(workspace.root)]
    for args in (["models", "alias", "best", model_id], ["models", "delete", model_id],
                 ["models", "describe", model_id, "--description", "x"],
                 ["models", "import", str(workspace.root / "nothing.sfbundle")],
                 ["train", str(workspace.root / "no-dataset")]):
        assert main(ws + args) == 2, args
        err = capsys.readouterr().err.strip()
        assert err.startswith("speakfeed: error: ") and "only the registry's maintainers (carol)" in err, err
        assert "\n" not in err
    assert main(ws + ["models", "list"]) == 0
    assert model_id[:8] in capsys.readouterr().out
    assert ModelRegistry(workspace.registry_path).get_model_info(model_id)["description"] == "toy"

    _set_maintainers(workspace, ["carol", getpass.getuser()])
    assert main(ws + ["models", "alias", "best", model_id]) == 0


def test_maintainers_must_be_a_list_of_names(workspace):
    from speakfeed_gui.core.errors import ConfigError
    from speakfeed_gui.core.settings.config import load_config

    _set_maintainers(workspace, "carol")
    with pytest.raises(ConfigError, match=r"registry\.maintainers: expected a list of user names or key ids"):
        load_config(workspace.config_path)
