"""``stui-cluster``: operator commands for a STUI cluster."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from . import auth


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="stui-cluster",
        description="Operate a STUI cluster: tokens for clients (more commands: see --help "
        "of each subcommand).",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    token = sub.add_parser(
        "token",
        help="print the authentication token of a client id",
        description="Print hex HMAC-SHA256(secret, CLIENT_ID), the token a client sends "
        "with 'authenticate'.",
    )
    token.add_argument("client_id", metavar="CLIENT_ID")
    token.add_argument("--secret", help="the cluster secret (default: env STUI_SECRET)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "token":
        secret = args.secret or os.environ.get("STUI_SECRET", "")
        if not secret:
            print("stui-cluster token: no secret (pass --secret or set STUI_SECRET)", file=sys.stderr)
            return 2
        print(auth.token_for(secret, args.client_id))
        return 0
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":
    sys.exit(main())
