"""One rule picks the live model for the Live tab and the CLI."""

from speakfeed_gui.core.models.live_choice import live_model_ref


def test_a_configured_choice_beats_the_live_alias_which_beats_default_model():
    aliases = {"live": "0123abcd", "best": "ffff0000"}
    assert live_model_ref("dummy", aliases, ["dummy", "sentiment"], "sentiment") == "sentiment"
    assert live_model_ref("dummy", aliases, ["dummy"], "gone-from-config") == "0123abcd"
    assert live_model_ref("dummy", {"best": "ffff0000"}, ["dummy"]) == "dummy"
