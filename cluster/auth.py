"""Client authentication: ``token = hex HMAC-SHA256(secret, client_id)``.

Stateless on purpose: any node with the shared secret can check any client's token, so a
client that fails over to another node authenticates there with the same token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def token_for(secret: str, client_id: str) -> str:
    """The token a client presents to ``authenticate`` as ``client_id``."""
    return hmac.new(secret.encode(), client_id.encode(), hashlib.sha256).hexdigest()


def verify(secret: str, client_id: str, token: str) -> bool:
    """Constant-time comparison of ``token`` with the expected one.

    Compared as bytes: ``hmac.compare_digest`` raises TypeError for a ``str`` with non-ASCII
    characters, and a client may send any string as its token.
    """
    expected = token_for(secret, client_id).encode()
    return hmac.compare_digest(expected, token.encode("utf-8", "surrogatepass"))


def new_session_id() -> str:
    """A session id with 192 random bits (URL-safe base64, 32 characters)."""
    return secrets.token_urlsafe(24)
