"""The node's TLS: serve ``wss://`` when ``--tls-cert`` and ``--tls-key`` are given.

The standard library's server context (``ssl.create_default_context`` for client
authentication purposes: modern protocol versions and ciphers), TLS 1.2 at least. Clients
verify the certificate and the host name (``client/connection.py``); ``stui-cluster up --tls``
makes a local CA and the certificates (``cluster/ops/tls.py``). The health port stays plain
HTTP: HAProxy and orchestrators probe it on the node's own host.
"""

from __future__ import annotations

import ssl

from cluster.settings import Settings


def server_context(settings: Settings) -> ssl.SSLContext | None:
    """The context to serve with, or None for plain ``ws://``; a half-given pair is an error
    (a node that silently served plain text would be worse than one that does not start)."""
    if not settings.tls_cert and not settings.tls_key:
        return None
    if not (settings.tls_cert and settings.tls_key):
        raise ValueError("--tls-cert and --tls-key must be given together")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context


def scheme(settings: Settings) -> str:
    return "wss" if settings.tls_cert else "ws"
