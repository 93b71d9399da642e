"""`speakfeed predict`: predictions for one or many texts or audio files, the model loaded once."""

from __future__ import annotations

import argparse

from speakfeed_gui.cli.common import factory_from, print_json, print_table
from speakfeed_gui.core.audio.decode import is_audio_path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("predict", help="predict the emotion of texts or audio files")
    p.add_argument("inputs", nargs="+", metavar="TEXT_OR_AUDIO_FILE")
    p.add_argument("--model", help="configured model name, registry id or alias (default: default_model)")
    p.add_argument("--json", action="store_true",
                   help="print JSON: one object for one input, a list in input order for several")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    model = factory_from(args).resolve(args.model)
    if model.input_kind == "audio":
        from speakfeed_gui.core.errors import AudioError

        for item in args.inputs:
            if not is_audio_path(item):
                raise AudioError(f"{item}: model {model.name} needs an existing audio file (wav, flac, ogg)")
    predictions = model.batch_predict(args.inputs)
    if args.json:
        dicts = [{"input": item, **p.to_dict()} for item, p in zip(args.inputs, predictions)]
        print_json(dicts[0] if len(dicts) == 1 else dicts)
        return 0
    first = predictions[0]
    print(f"model: {first.model_name} {first.model_version}")
    if len(predictions) > 1:
        print_table(["input", "label", "confidence"],
                    [(item, p.label, f"{p.confidence:.1%}") for item, p in zip(args.inputs, predictions)])
        return 0
    print(f"label: {first.label}  (confidence {first.confidence:.1%})")
    rows = sorted(first.probabilities.items(), key=lambda kv: -kv[1])
    print_table(["label", "probability"], [(k, f"{v:.3f}") for k, v in rows])
    return 0
