"""Where the session store is: one Redis, a Sentinel-watched primary, or a Redis Cluster.

``--redis-url`` (``STUI_REDIS_URL``) names one of three topologies:

- ``redis://[user:password@]host:port/db``: one Redis (standalone);
- ``redis+sentinel://[user:password@]h1:p1,h2:p2,h3:p3/NAME[/db]``: the primary that the
  sentinels at ``h1:p1 ...`` know as ``NAME``, followed through failovers (the password is the
  data nodes'; the sentinels are asked without one);
- ``redis+cluster://[user:password@]h1:p1,h2:p2,h3:p3``: a Redis Cluster, any reachable nodes
  as seeds (a cluster has no databases: always 0).

This module only parses and describes (no I/O): :mod:`cluster.router` finds the current
primaries, :mod:`cluster.clients` builds the coredis clients of the off-path users.

Slots: a key's Redis Cluster slot is CRC16 (XMODEM) of its hash tag, the part between the
first ``{`` and the next ``}`` when that is not empty, else of the whole key, modulo 16384.
Every key of one session carries the tag ``{<session id>}`` (:mod:`cluster.keys`), so every
session transaction lives in one slot, on one primary.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import attrs

STANDALONE, SENTINEL, CLUSTER = "standalone", "sentinel", "cluster"
KINDS = (STANDALONE, SENTINEL, CLUSTER)
SLOTS = 16384

_SCHEMES = {
    "redis": STANDALONE,
    "": STANDALONE,
    "redis+sentinel": SENTINEL,
    "redis+cluster": CLUSTER,
}


@attrs.frozen
class Address:
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@attrs.frozen
class Topology:
    """A parsed store URL: its kind, the addresses it names, and how to log in."""

    kind: str
    seeds: tuple[Address, ...]
    """Standalone: the server; sentinel: the sentinels; cluster: any nodes of the cluster."""
    service: str = ""
    """Sentinel: the monitored primary's name."""
    db: int = 0
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Topology:
        """Parse ``url`` (see the module docstring); ``ValueError`` says what is wrong."""
        parts = urlsplit(url)
        kind = _SCHEMES.get(parts.scheme)
        if kind is None:
            known = ", ".join(f"{s}://" for s in _SCHEMES if s)
            raise ValueError(f"unknown Redis URL scheme {parts.scheme!r} (use {known})")
        userinfo, _, hosts = parts.netloc.rpartition("@")
        username, password = None, None
        if userinfo:
            user_text, has_password, password_text = userinfo.partition(":")
            username = unquote(user_text) or None
            password = unquote(password_text) if has_password else None
        seeds = tuple(_address(item) for item in hosts.split(",") if item.strip())
        if not seeds:
            seeds = (Address("127.0.0.1", 6379),)
        path = [p for p in parts.path.split("/") if p]
        service, db = "", 0
        if kind == SENTINEL:
            if not path:
                raise ValueError("a Sentinel URL names the primary: redis+sentinel://h:p,.../NAME")
            service = unquote(path[0])
            db = int(path[1]) if len(path) > 1 else 0
        elif kind == STANDALONE:
            if len(seeds) != 1:
                raise ValueError("a redis:// URL names one server (use redis+sentinel:// or "
                                 "redis+cluster:// for several)")
            db = int(path[0]) if path else 0
        elif path and path != ["0"]:
            raise ValueError("a Redis Cluster has no databases: redis+cluster://h:p,... only")
        return cls(kind=kind, seeds=seeds, service=service, db=db, username=username,
                   password=password)

    @property
    def standalone(self) -> bool:
        return self.kind == STANDALONE

    def describe(self) -> str:
        """For logs and status: the kind and addresses, never the password."""
        hosts = ",".join(str(s) for s in self.seeds)
        if self.kind == SENTINEL:
            return f"sentinel {self.service} via {hosts}"
        if self.kind == CLUSTER:
            return f"cluster via {hosts}"
        return f"standalone {hosts}/{self.db}"


def _address(text: str) -> Address:
    host, _, port = text.strip().rpartition(":")
    if not host:
        host, port = port, "6379"
    host = host.strip("[]")
    try:
        return Address(host or "127.0.0.1", int(port))
    except ValueError:
        raise ValueError(f"not a host:port in a Redis URL: {text!r}") from None


def hash_tag(key: str) -> str:
    """The part of ``key`` that decides its slot (Redis Cluster's hash tag rule)."""
    start = key.find("{")
    if start >= 0:
        end = key.find("}", start + 1)
        if end > start + 1:
            return key[start + 1 : end]
    return key


def _crc16_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC16 = _crc16_table()


def crc16(data: bytes) -> int:
    """CRC16-CCITT (XMODEM), the checksum Redis Cluster hashes keys with."""
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC16[((crc >> 8) ^ byte) & 0xFF]
    return crc


def slot(key: str) -> int:
    """The Redis Cluster slot of ``key``."""
    return crc16(hash_tag(key).encode()) % SLOTS
