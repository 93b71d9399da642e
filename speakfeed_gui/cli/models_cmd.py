"""`speakfeed models ...`: configured models and the registry of trained ones."""

from __future__ import annotations

import argparse
from pathlib import Path

from speakfeed_gui.cli.common import factory_from, print_json, print_table, workspace_from, writable_registry


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("models", help="list, inspect and manage models")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)

    def add(name: str, help_text: str, handler, *, ref: bool = True, json_flag: bool = False) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help_text)
        if ref:
            q.add_argument("model", metavar="ID_OR_ALIAS")
        if json_flag:
            q.add_argument("--json", action="store_true", help="print JSON")
        q.set_defaults(handler=handler)
        return q

    add("available", "models configured in config/models.yaml", available, ref=False, json_flag=True)
    add("list", "trained models in the registry", list_models, ref=False, json_flag=True)
    add("show", "one registry model's entry and metadata", show, json_flag=True)
    add("delete", "delete a registry model and its files", delete)
    q = add("alias", "point an alias (e.g. live) at a model", alias, ref=False)
    q.add_argument("alias")
    q.add_argument("model", metavar="ID_OR_ALIAS", nargs="?", help="omit with --remove")
    q.add_argument("--remove", action="store_true", help="remove the alias")
    q = add("describe", "set a model's description and tags", describe)
    q.add_argument("--description")
    q.add_argument("--tags", help="comma-separated tags")
    q = add("export", "export a model as one bundle file", export)
    q.add_argument("dest", help="bundle file or folder to write into")
    q.add_argument("--sign", metavar="KEY_NAME", help="sign the bundle with your key (`speakfeed keys create`)")
    q = add("import", "import a bundle (hashes verified before loading)", import_, ref=False)
    q.add_argument("bundle")
    add("verify", "re-check every artifact's sha256", verify)
    from speakfeed_gui.cli.pickle_cmd import add_import_pickle

    add_import_pickle(sub)


def _registry(args: argparse.Namespace):
    from speakfeed_gui.core.registry.api import ModelRegistry

    return ModelRegistry(workspace_from(args).registry_path)


def available(args: argparse.Namespace) -> int:
    factory = factory_from(args)
    infos = [factory.get_model_info(name) for name in factory.list_available_models()]
    if args.json:
        print_json(infos)
        return 0
    rows = [(("* " if i["default"] else "  ") + i["name"], i["type"], i["version"], i["input"],
             ", ".join(i["labels"]), i["description"][:60]) for i in infos]
    print_table(["name", "type", "version", "input", "labels", "description"], rows)
    return 0


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else ("" if value is None else str(value))


def list_models(args: argparse.Namespace) -> int:
    entries = _registry(args).list_models()
    if args.json:
        print_json(entries)
        return 0
    if not entries:
        print("no trained models yet: train one with `speakfeed train DATASET` or run `speakfeed bootstrap`")
        return 0
    rows = [(e["id"][:8], e.get("model_name"), e.get("experiment_name"), e.get("version"), e.get("model_type"),
             _fmt(e.get("accuracy")), _fmt(e.get("macro_f1")), ",".join(e.get("aliases", [])),
             str(e.get("created_at", ""))[:19]) for e in entries]
    print_table(["id", "name", "experiment", "ver", "type", "accuracy", "macro_f1", "aliases", "created"], rows)
    return 0


def _section(mapping: object, key: str) -> dict:
    """mapping[key] when it is a JSON object, else {} (metadata written by older or foreign versions)."""
    value = mapping.get(key) if isinstance(mapping, dict) else None
    return value if isinstance(value, dict) else {}


def show(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.storage.atomic import read_json

    entry = _registry(args).get_model_info(args.model)
    metadata = read_json(Path(entry["metadata_path"]), "model metadata") if entry.get("metadata_path") else {}
    if args.json:
        print_json({"entry": entry, "metadata": metadata})
        return 0
    for key in ("id", "model_name", "experiment_name", "version", "model_type", "accuracy", "macro_f1",
                "labels", "aliases", "tags", "description", "created_at", "model_path"):
        print(f"{key:>16}: {_fmt(entry.get(key)) if not isinstance(entry.get(key), list) else ', '.join(entry[key])}")
    if not metadata:
        print(f"{'metadata':>16}: none recorded")
        return 0
    print(f"{'hyperparameters':>16}: {_section(metadata, 'model_info').get('hyperparameters')}")
    split = _section(metadata, "split")
    print(f"{'split':>16}: {split.get('n_train')} train / {split.get('n_test')} test, "
          f"{'speaker-independent' if split.get('grouped') else 'speakers mixed'}")
    per_class = _section(_section(metadata, "evaluation_results"), "per_class")
    per_class = {k: v for k, v in per_class.items() if isinstance(v, dict)}
    print_table(["label", "precision", "recall", "f1", "support"],
                [(k, _fmt(v.get("precision")), _fmt(v.get("recall")), _fmt(v.get("f1")), v.get("support"))
                 for k, v in per_class.items()])
    return 0


def delete(args: argparse.Namespace) -> int:
    registry = writable_registry(args)
    model_id = registry.resolve(args.model)
    registry.delete_model(model_id)
    print(f"deleted model {model_id} and its files")
    return 0


def alias(args: argparse.Namespace) -> int:
    registry = writable_registry(args)
    if args.remove:
        registry.remove_alias(args.alias)
        print(f"removed alias {args.alias}")
        return 0
    if not args.model:
        from speakfeed_gui.core.errors import SpeakFeedError

        raise SpeakFeedError("models alias: give a model id (or --remove)")
    registry.set_alias(args.alias, args.model)
    print(f"{args.alias} -> {registry.resolve(args.alias)}")
    return 0


def describe(args: argparse.Namespace) -> int:
    registry = writable_registry(args)
    if args.description is not None:
        registry.set_description(args.model, args.description)
    if args.tags is not None:
        registry.set_tags(args.model, [t.strip() for t in args.tags.split(",") if t.strip()])
    print(f"updated {registry.resolve(args.model)}")
    return 0


def export(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.registry.bundle import export_bundle

    path = export_bundle(_registry(args), args.model, Path(args.dest), sign_with=args.sign)
    print(f"exported to {path}" + (f" (signed by {args.sign})" if args.sign else ""))
    return 0


def import_(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.registry.bundle import TrustPolicy, import_bundle
    from speakfeed_gui.core.registry.signing import signer_text
    from speakfeed_gui.core.settings.config import load_config

    ws = workspace_from(args)
    policy = TrustPolicy.for_workspace(ws.root, load_config(ws.config_path).security.require_signed)
    registry = writable_registry(args)
    model_id = import_bundle(registry, Path(args.bundle), policy=policy)
    signer = (registry.get_model_info(model_id).get("imported_from") or {}).get("signer")
    print(f"imported as {model_id}; {signer_text(signer)}")
    return 0


def verify(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.registry.bundle import verify_model

    registry = _registry(args)
    verify_model(registry, args.model)
    print(f"{registry.resolve(args.model)}: all artifacts match their sha256")
    return 0
