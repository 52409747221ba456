"""Who may reach a node: the loopback-only rule for a node without a secret.

Like Redis's protected mode: a node started by hand without a secret accepts any client id
from anyone who can connect, so it listens on loopback only (whatever ``--host`` says) and says
so, unless ``--insecure`` is given. With a secret, ``--host`` is used as given. Every choice
that leaves a door open is logged as a warning at start-up.
"""

from __future__ import annotations

import ipaddress

import attrs

from cluster.settings import Settings

LOOPBACK = "127.0.0.1"
SHORT_SECRET = 32


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def restrict(settings: Settings) -> tuple[Settings, list[str]]:
    """The settings to serve with, and the warnings to log at start-up."""
    notes: list[str] = []
    if not settings.secret:
        if not is_loopback(settings.host) and not settings.insecure:
            notes.append(
                f"no secret: serving on loopback ({LOOPBACK}) only instead of {settings.host}; "
                "give a secret (--secret-file, STUI_SECRET) to serve other hosts, or "
                "--insecure to serve them without authentication"
            )
            settings = attrs.evolve(settings, host=LOOPBACK)
        elif settings.insecure and not is_loopback(settings.host):
            notes.append(
                f"--insecure: serving {settings.host} WITHOUT authentication: anyone who can "
                "connect may act as any client id"
            )
        else:
            notes.append(
                "no secret: any local process may act as any client id (loopback only)"
            )
    elif len(settings.secret.encode()) < SHORT_SECRET:
        notes.append(
            f"the secret is shorter than {SHORT_SECRET} bytes: tokens signed with it are easier "
            "to forge ('stui-cluster up' generates 32 random bytes)"
        )
    if not settings.tls_cert and not is_loopback(settings.host):
        notes.append(
            "serving ws:// (no TLS) on a non-loopback address: terminate TLS in front of the "
            "node, or give --tls-cert and --tls-key"
        )
    return settings, notes
