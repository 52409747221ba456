"""Where a client finds its credentials: a token, or the cluster secret to make one.

``stui-cluster up`` writes the cluster secret to ``<state dir>/secret`` (mode 0600) and, with
``--tls``, the local CA to ``<state dir>/tls/ca.pem``. A client on the same machine (``stui``,
the demo, chaos) finds both there, or the secret in ``STUI_SECRET``, and makes its own
short-lived JWTs from the secret, so the commands the demo prints work as they are. Anyone
else is given a token (``stui-cluster token CLIENT_ID``) and, for ``wss://``, the CA file.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from cluster import tokens

DEFAULT_STATE_DIR = Path(".stui/cluster")
SECRET_FILE = "secret"
CA_FILE = Path("tls") / "ca.pem"
CLIENT_TOKEN_TTL = 3600.0
"""Seconds a token made by a client for itself lives (it makes a new one before then)."""


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("STUI_STATE_DIR") or DEFAULT_STATE_DIR)


def find_secret(directory: Path | None = None, env: Mapping[str, str] | None = None) -> str:
    """``STUI_SECRET``, else the secret file of the state dir, else '' (no secret found)."""
    env = os.environ if env is None else env
    if env.get("STUI_SECRET"):
        return env["STUI_SECRET"]
    path = (directory or state_dir(env)) / SECRET_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def find_ca(directory: Path | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """The local cluster's CA file, if ``stui-cluster up --tls`` made one."""
    path = (directory or state_dir(env)) / CA_FILE
    return str(path) if path.is_file() else None


def minter(secret: str, client_id: str, ttl: float = CLIENT_TOKEN_TTL) -> Callable[[], str]:
    """A callable that makes a fresh JWT for ``client_id`` each time it is called: give it to
    :class:`client.session.SessionClient` as ``token``."""

    def mint() -> str:
        return tokens.issue(secret, client_id, ttl=ttl)

    return mint


def token_for(
    client_id: str,
    *,
    token: str | None = None,
    directory: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> str | Callable[[], str] | None:
    """What to authenticate with: ``token`` if given, else a minter from the secret found,
    else None (a cluster without a secret needs no token)."""
    if token:
        return token
    secret = find_secret(directory, env)
    return minter(secret, client_id) if secret else None
