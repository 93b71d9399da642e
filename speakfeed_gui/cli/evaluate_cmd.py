"""`speakfeed evaluate MODEL DATASET [--map OLD=NEW ...]`: a model's figures on a labelled dataset it never saw."""

from __future__ import annotations

import argparse

from speakfeed_gui.cli.common import TerminalProgress, print_json, print_table, workspace_from
from speakfeed_gui.cli.train_cmd import add_map_arguments, label_map_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "evaluate", help="UAR, accuracy, macro-F1, per-class figures and confusion matrix of a model on a dataset"
    )
    p.add_argument("model", help="registry id, id prefix or alias (e.g. live)")
    p.add_argument("dataset", help="CSV (path,label[,speaker]), folder of label folders, or RAVDESS folder")
    add_map_arguments(p)
    p.add_argument("--skip-bad", action="store_true", help="skip unusable clips")
    p.add_argument("--no-store", action="store_true", help="do not record the result in the model's metadata")
    p.add_argument("--json", action="store_true", help="print the whole result as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.progress import CancelToken
    from speakfeed_gui.core.training.external_eval import evaluate_on_dataset

    cancel = CancelToken()
    try:
        record = evaluate_on_dataset(
            args.model, args.dataset, label_map=label_map_from(args), workspace=workspace_from(args),
            skip_bad=args.skip_bad, store=not args.no_store, progress=TerminalProgress(), cancel=cancel,
        )
    except KeyboardInterrupt:
        cancel.cancel()
        raise
    if args.json:
        print_json(record)
        return 0
    print(f"dataset: {record['dataset']['source']} ({record['n_test']} clips)")
    if record.get("seen_in_training"):
        print(f"warning: {record['seen_in_training']} of these clips were in the model's training set; "
              "these figures are not on unseen data")
    print(f"UAR {record['uar']:.3f}  accuracy {record['accuracy']:.3f}  macro-F1 {record['macro_f1']:.3f}"
          f"  (chance UAR {1 / len(record['labels']):.2f})")
    per_class = record["per_class"]
    print_table(["label", "recall", "precision", "F1", "clips"],
                [(k, f"{v['recall']:.3f}", f"{v['precision']:.3f}", f"{v['f1']:.3f}", v["support"])
                 for k, v in per_class.items()])
    print("confusion matrix (rows: true, columns: predicted)")
    print_table(["", *record["labels"]], [(label, *row) for label, row in zip(record["labels"], record["confusion_matrix"])])
    if not args.no_store:
        print("stored in the model's metadata")
    return 0
