"""`speakfeed keys ...`: your signing keys, and the keys a workspace trusts to sign bundles."""

from __future__ import annotations

import argparse

from speakfeed_gui.cli.common import print_table, workspace_from


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("keys", help="signing keys for model bundles")
    sub = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    q = sub.add_parser("create", help="make an Ed25519 key pair in your config folder")
    q.add_argument("name", help="the signer name teammates will see, e.g. your user name")
    q.set_defaults(handler=create)
    q = sub.add_parser("trust", help="trust a teammate's public key (.pub) in this workspace")
    q.add_argument("public_key_file")
    q.set_defaults(handler=trust)
    q = sub.add_parser("list", help="your keys and the workspace's trusted keys")
    q.set_defaults(handler=list_keys)


def create(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.registry.signing import create_key

    private_path, public = create_key(args.name)
    print(f"created key {public.name} (id {public.key_id})")
    print(f"  private: {private_path} (readable by you only; never share it)")
    print(f"  public:  {private_path.with_suffix('.pub')} (give this to teammates: `speakfeed keys trust FILE`)")
    return 0


def trust(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.registry.signing import trust_key, trusted_keys_dir

    folder = trusted_keys_dir(workspace_from(args).root)
    key = trust_key(args.public_key_file, folder)
    print(f"trusted {key.name} (key {key.key_id}) in {folder}")
    return 0


def list_keys(args: argparse.Namespace) -> int:
    from speakfeed_gui.core.registry.signing import read_public_key, trusted_keys, trusted_keys_dir, user_keys_dir

    folder = user_keys_dir()
    own = [read_public_key(p) for p in sorted(folder.glob("*.pub"))] if folder.is_dir() else []
    trusted = trusted_keys(trusted_keys_dir(workspace_from(args).root))
    rows = [(k.name, k.key_id, "yours", "yes" if k.key_id in trusted else "no") for k in own]
    rows += [(k.name, k.key_id, "teammate", "yes") for k in trusted.values() if k.key_id not in {o.key_id for o in own}]
    print_table(["name", "key id", "whose", "trusted here"], rows)
    return 0
