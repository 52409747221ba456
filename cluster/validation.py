"""Validation of everything a client sends before it reaches the store.

Each check raises :class:`cluster.errors.InvalidRequest` (or ``PermissionDenied`` for access
lists) with a message that names the field, so a client can fix its request; nothing stored is
touched by a request that fails here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from .errors import InvalidRequest, PermissionDenied

CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}")
SESSION_ID = re.compile(r"[A-Za-z0-9_-]{22,64}")
REQUEST_ID_MAX = 128


def require(params: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """The parameter ``name``, which must be present and of type ``kind``."""
    if name not in params or params[name] is None:
        raise InvalidRequest(f"missing parameter '{name}'")
    value = params[name]
    if isinstance(value, bool) and kind is not bool:
        raise InvalidRequest(f"parameter '{name}' must be {_kind_name(kind)}")
    if not isinstance(value, kind):
        raise InvalidRequest(f"parameter '{name}' must be {_kind_name(kind)}")
    return value


def optional(params: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    """The parameter ``name`` if given (``None`` otherwise), checked like :func:`require`."""
    if params.get(name) is None:
        return None
    return require(params, name, kind)


SEQ_MAX = 2**63 - 1
"""Largest event sequence number a client may name (stream ids are 64-bit in Redis)."""


def sequence_number(params: Mapping[str, Any], name: str) -> int | None:
    """An optional event sequence number (``last_seq``): an integer from 0 to ``SEQ_MAX``.

    Anything else would reach Redis as an invalid stream id and fail there.
    """
    value: int | None = optional(params, name, int)
    if value is not None and not 0 <= value <= SEQ_MAX:
        raise InvalidRequest(f"parameter '{name}' must be an integer from 0 to {SEQ_MAX}")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        str: "a string",
        int: "an integer",
        dict: "an object",
        list: "an array",
        bool: "a boolean",
    }
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def client_id(params: Mapping[str, Any]) -> str:
    value: str = require(params, "client_id", str)
    if not CLIENT_ID.fullmatch(value):
        raise InvalidRequest(
            "parameter 'client_id' must be 1-128 characters of letters, digits and _.:@- "
            "starting with a letter or digit"
        )
    return value


def session_id(params: Mapping[str, Any]) -> str:
    value: str = require(params, "session_id", str)
    if not SESSION_ID.fullmatch(value):
        # Malformed ids cannot exist; answer as the spec answers a missing session.
        from .errors import SessionNotFound

        raise SessionNotFound(f"session {value[:64]!r} not found")
    return value


def state_data(params: Mapping[str, Any], *, max_bytes: int, max_depth: int) -> Any:
    """``state_data``: any JSON value, bounded in encoded size and nesting depth."""
    if "state_data" not in params:
        raise InvalidRequest("missing parameter 'state_data'")
    value = params["state_data"]
    depth = _depth(value, max_depth)
    if depth > max_depth:
        raise InvalidRequest(f"state_data is nested deeper than {max_depth} levels")
    size = len(orjson.dumps(value))
    if size > max_bytes:
        raise InvalidRequest(f"state_data is {size} bytes, over the limit of {max_bytes}")
    return value


def _depth(value: Any, limit: int) -> int:
    """Nesting depth, iteratively (a hostile value must not exhaust the Python stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return deepest


def check_access(client: str, *, allow: frozenset[str], deny: frozenset[str]) -> None:
    """Allow and deny lists: deny wins; an empty allow list allows everyone."""
    if client in deny or (allow and client not in allow):
        raise PermissionDenied(f"client {client!r} is not allowed")
