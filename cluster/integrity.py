"""Integrity of stored records: a SHA-256 digest over each record's canonical bytes.

A record that fails its check is never served as good data: readers raise
:class:`cluster.errors.CorruptRecord`, and the store keeps the raw bytes aside under the
session's quarantine key for inspection. The digest guards against damage (a torn write, a
hand edit, a bad restore), not against an attacker with write access to Redis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

from .errors import CorruptRecord

SCHEMA = 1
"""Version of the stored format; readers accept every version up to this one."""

_CANONICAL = orjson.OPT_SORT_KEYS


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes: sorted keys, no whitespace, UTF-8."""
    return orjson.dumps(value, option=_CANONICAL)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def seal(body: Mapping[str, Any]) -> bytes:
    """Encode a record as ``{"schema", "body", "digest"}`` JSON bytes."""
    body_bytes = canonical(body)
    envelope = b'{"body":%s,"digest":"%s","schema":%d}' % (
        body_bytes,
        digest(body_bytes).encode(),
        SCHEMA,
    )
    return envelope


def unseal(raw: bytes | str, name: str) -> dict[str, Any]:
    """Decode and check a sealed record; raise :class:`CorruptRecord` naming ``name``."""
    try:
        envelope = orjson.loads(raw)
        body = envelope["body"]
        schema = envelope["schema"]
        expected = envelope["digest"]
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise CorruptRecord(f"stored record {name} is unreadable ({exc.__class__.__name__})")
    if not isinstance(schema, int) or schema < 1 or schema > SCHEMA:
        raise CorruptRecord(f"stored record {name} has unknown schema {schema!r}")
    if not isinstance(body, dict) or digest(canonical(body)) != expected:
        raise CorruptRecord(f"stored record {name} failed its integrity check")
    return body


def seal_fields(fields: Mapping[str, str]) -> dict[str, str]:
    """Add a ``digest`` field to a flat hash of strings (for hash-shaped records like meta)."""
    sealed = dict(fields)
    sealed["digest"] = digest(canonical(dict(fields)))
    return sealed


def unseal_fields(fields: Mapping[str, str], name: str) -> dict[str, str]:
    """Check a flat hash sealed by :func:`seal_fields`; return it without the digest."""
    body = dict(fields)
    expected = body.pop("digest", None)
    if expected is None or digest(canonical(body)) != expected:
        raise CorruptRecord(f"stored record {name} failed its integrity check")
    return body
