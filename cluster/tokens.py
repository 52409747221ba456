"""Client tokens: JWTs (HS256) that expire, and the legacy HMAC token of the wire contract.

A JWT names the client in ``sub``, ends at ``exp`` and may list the only sessions it opens in
``sessions``. Any node holding the cluster secret checks it without asking anyone, so a client
that fails over authenticates on the next node with the same token. The legacy token
(``hex HMAC-SHA256(secret, client_id)``, :mod:`cluster.auth`) never expires; it keeps working
unless ``allow_hmac_tokens`` is off.

Every refusal is :class:`~cluster.errors.Unauthorized` with ``details.reason`` (one of
:data:`REASONS`), so a client can tell an expired token (get a new one) from a wrong one (stop).
PyJWT does the signature and time checks; what it accepts is then checked again here for the
shape we rely on (a valid client id, a list of session ids), because a well-signed token is not
necessarily a well-formed one.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import jwt

from . import auth, validation
from .errors import PermissionDenied, Unauthorized
from .validation import CLIENT_ID, SESSION_ID

ALGORITHM = "HS256"
DEFAULT_TTL = 24 * 3600
"""Seconds a token from ``stui-cluster token`` lives unless ``--ttl`` says otherwise."""
MAX_TOKEN_CHARS = 8192
MAX_SESSIONS_CLAIM = 1000
LEEWAY = 5.0
"""Seconds of clock difference between the token's issuer and a node that are forgiven."""

REASONS = (
    "missing",  # a command before authenticate
    "expired",  # exp has passed (on authenticate, on a later command, or the connection's)
    "not_yet_valid",  # nbf / iat in the future
    "bad_signature",  # signed with another secret
    "malformed",  # not a JWT, or claims of the wrong type
    "wrong_client",  # sub is not the client_id the request names
    "hmac_disabled",  # a legacy HMAC token while allow_hmac_tokens is off
    "invalid",  # a legacy HMAC token that does not match
)


@attrs.frozen
class Grant:
    """What an accepted token allows: acting as ``client_id`` until ``expires_at`` (epoch
    seconds; None: never), on ``sessions`` only (None: every session of the client)."""

    client_id: str
    expires_at: float | None = None
    sessions: frozenset[str] | None = None
    kind: str = "none"  # "jwt", "hmac" or "none" (a cluster without a secret)

    def expired(self, now: float | None = None) -> bool:
        return self.expires_at is not None and (now or time.time()) >= self.expires_at

    def allows(self, session_id: str) -> bool:
        return self.sessions is None or session_id in self.sessions


def refuse(reason: str, message: str, **details: Any) -> Unauthorized:
    return Unauthorized(message, details={"reason": reason, **details})


def _quiet(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """PyJWT warns about secrets under 32 bytes on every call; the node warns once instead
    (``stui-cluster`` generates 32 random bytes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", jwt.InsecureKeyLengthWarning)
        return fn(*args, **kwargs)


def issue(
    secret: str,
    client_id: str,
    *,
    ttl: float = DEFAULT_TTL,
    sessions: Iterable[str] | None = None,
    now: float | None = None,
) -> str:
    """A signed token for ``client_id``, valid for ``ttl`` seconds from ``now``."""
    if not secret:
        raise ValueError("a token needs the cluster secret")
    if not CLIENT_ID.fullmatch(client_id):
        raise ValueError(f"invalid client id {client_id!r}")
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"sub": client_id, "iat": issued, "exp": issued + int(ttl)}
    if sessions is not None:
        claims["sessions"] = sorted(set(sessions))
    return str(_quiet(jwt.encode, claims, secret, algorithm=ALGORITHM))


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def verify(
    secret: str,
    token: Any,
    client_id: str | None = None,
    *,
    allow_hmac: bool = True,
) -> Grant:
    """Check ``token`` (a JWT, or a legacy HMAC token when ``allow_hmac``); the grant it gives.

    ``client_id`` is the id the client says it is (required for a legacy token, optional for a
    JWT, whose ``sub`` names it). Raises :class:`Unauthorized` with ``details.reason``.
    """
    if not isinstance(token, str) or not token:
        raise refuse("malformed", "'token' must be a non-empty string")
    if len(token) > MAX_TOKEN_CHARS:
        raise refuse("malformed", f"token is longer than {MAX_TOKEN_CHARS} characters")
    if not looks_like_jwt(token):
        return _verify_hmac(secret, token, client_id, allow_hmac)
    claims = _decode(secret, token)
    subject = claims.get("sub")
    if not isinstance(subject, str) or not CLIENT_ID.fullmatch(subject):
        raise refuse("malformed", "the token's 'sub' is not a valid client id")
    if client_id is not None and client_id != subject:
        raise refuse("wrong_client", "the token was issued for another client id")
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        raise refuse("malformed", "the token has no numeric 'exp'")
    return Grant(subject, float(exp), _sessions_claim(claims), "jwt")


def _decode(secret: str, token: str) -> Mapping[str, Any]:
    options = {"require": ["sub", "exp"], "verify_sub": False}
    try:
        claims = _quiet(
            jwt.decode, token, secret, algorithms=[ALGORITHM], options=options, leeway=LEEWAY
        )
        return dict(claims)
    except jwt.ExpiredSignatureError:
        raise refuse("expired", "the token has expired: get a new one")
    except jwt.ImmatureSignatureError:
        raise refuse("not_yet_valid", "the token is not valid yet (check the clocks)")
    except jwt.InvalidSignatureError:
        raise refuse("bad_signature", "the token's signature does not match this cluster")
    except jwt.MissingRequiredClaimError as exc:
        raise refuse("malformed", f"the token lacks the claim {exc.claim!r}")
    except jwt.InvalidTokenError as exc:
        # DecodeError, InvalidAlgorithmError, InvalidIssuedAtError...: the message is PyJWT's
        # own and names no secret material.
        raise refuse("malformed", f"the token is not a valid JWT ({exc})"[:200])
    except (ValueError, TypeError, OverflowError) as exc:
        raise refuse("malformed", f"the token is not a valid JWT ({exc.__class__.__name__})")


def _sessions_claim(claims: Mapping[str, Any]) -> frozenset[str] | None:
    if "sessions" not in claims or claims["sessions"] is None:
        return None
    raw = claims["sessions"]
    if not isinstance(raw, list) or len(raw) > MAX_SESSIONS_CLAIM:
        raise refuse("malformed", "the token's 'sessions' must be a list of session ids")
    if not all(isinstance(s, str) and SESSION_ID.fullmatch(s) for s in raw):
        raise refuse("malformed", "the token's 'sessions' must be a list of session ids")
    return frozenset(raw)


def _verify_hmac(secret: str, token: str, client_id: str | None, allow_hmac: bool) -> Grant:
    if not allow_hmac:
        raise refuse("hmac_disabled", "HMAC tokens are turned off on this cluster: use a JWT")
    if client_id is None:
        raise refuse("malformed", "an HMAC token needs the 'client_id' it was made for")
    if not auth.verify(secret, client_id, token):
        raise refuse("invalid", "invalid token for this client id")
    return Grant(client_id, None, None, "hmac")


def check_scope(grant: Grant | None, command: str, parameters: Mapping[str, Any]) -> None:
    """Before every command: the connection's token has not expired, and a token limited to
    some sessions names this one (and creates none)."""
    if grant is None:
        return
    if grant.expired():
        raise refuse("expired", "the connection's token has expired: authenticate again")
    if grant.sessions is None:
        return
    if command == "create_session":
        raise PermissionDenied("this token is limited to some sessions and creates none")
    session_id = parameters.get("session_id")
    if isinstance(session_id, str) and not grant.allows(session_id):
        raise PermissionDenied("this token does not open that session")


def authenticate(params: Mapping[str, Any], *, secret: str, allow_hmac: bool = True) -> Grant:
    """The ``authenticate`` command's check: which client the connection acts for.

    Without a secret, the connection is simply bound to the ``client_id`` it names (there is
    nothing to check it against). With one, ``token`` is required: a JWT (``client_id`` may
    then be left out: ``sub`` names the client) or, when ``allow_hmac``, a legacy HMAC token.
    """
    if not secret:
        return Grant(validation.client_id(params))
    token = validation.require(params, "token", str)
    client_id = None
    if params.get("client_id") is not None or not looks_like_jwt(token):
        client_id = validation.client_id(params)
    return verify(secret, token, client_id, allow_hmac=allow_hmac)
