"""`speakfeed predict`: one prediction from text or an audio file."""

from __future__ import annotations

import argparse

from speakfeed_gui.cli.common import factory_from, print_json, print_table
from speakfeed_gui.core.audio.decode import is_audio_path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="predict the emotion of a text or an audio file")
    p.add_argument("input", metavar="TEXT_OR_AUDIO_FILE")
    p.add_argument("--model", help="configured model name, registry id or alias (default: default_model)")
    p.add_argument("--json", action="store_true", help="print the prediction as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    model = factory_from(args).resolve(args.model)
    item = args.input
    if model.input_kind == "audio" and not is_audio_path(item):
        from speakfeed_gui.core.errors import AudioError

        raise AudioError(f"{item}: model {model.name} needs an existing audio file (wav, flac, ogg)")
    prediction = model.predict(item)
    if args.json:
        print_json(prediction.to_dict())
        return 0
    print(f"model: {prediction.model_name} {prediction.model_version}")
    print(f"label: {prediction.label}  (confidence {prediction.confidence:.1%})")
    rows = sorted(prediction.probabilities.items(), key=lambda kv: -kv[1])
    print_table(["label", "probability"], [(k, f"{v:.3f}") for k, v in rows])
    return 0
