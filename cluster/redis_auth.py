"""Redis credentials for nodes and tools, and the ACL a node needs (no more).

A node finds its Redis password in the URL (``redis://user:password@host:port/0``) or, better
(a command line is visible to every local user), in ``--redis-password-file``; the user, if any,
is the URL's. :func:`node_acl` is the ACL rule the launcher gives the nodes' Redis user: only the
commands a node sends (listed from ``cluster/store.py``, ``cluster/expiry.py``,
``cluster/registry.py``, ``nodes/control.py``, ``cluster/router.py``, ``cluster/rollback.py``,
``cluster/keyspace.py`` and ``cluster/lua/*.lua``, whose commands Redis checks too), only keys
under ``stui:`` and only the channels nodes use. ``tests/test_redis_auth.py``
runs a node's whole workload under it and checks that Redis denied nothing (``ACL LOG``).

``CONFIG SET`` is deliberately not in the list: it could move Redis's data directory or change
its persistence. The launcher and compose start Redis with keyspace events on, so a node only
reads that setting (``CONFIG GET``); on a Redis without them, the node says so and relies on
the sweeper (``nodes/control.py``).
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import coredis
import trio
from coredis.exceptions import AuthenticationError, AuthorizationError, RedisError, ResponseError

from .settings import Settings, read_secret

NODE_USER = "stui"

NODE_COMMANDS = (
    # connection (coredis: HELLO for RESP3, CLIENT SETNAME, SELECT for a db other than 0; its
    # CLIENT SETINFO on Redis 7.2+ may be refused: coredis carries on without it)
    "ping", "hello", "auth", "client|setname", "client|id", "select",
    "readonly", "echo",
    # strings and keys
    "get", "set", "del", "exists", "expire", "pexpire", "pexpireat", "pttl", "ttl", "incr",
    "incrby", "rename",
    # hashes
    "hget", "hmget", "hset", "hgetall", "hdel", "hincrby",
    # sorted sets and sets
    "zadd", "zrem", "zrange", "zrangebyscore", "zcard", "zscore", "zremrangebyrank",
    "sadd", "srem", "scard",
    # streams (session events)
    "xadd", "xrange", "xtrim",
    # optimistic transactions
    "watch", "unwatch", "multi", "exec", "discard",
    # Lua scripts (cluster/lua/*.lua)
    "eval", "evalsha", "script|load", "script|exists",
    # pub/sub: takeover notices, expired-key events; shared sessions' events (sharded)
    "publish", "subscribe", "unsubscribe", "psubscribe", "punsubscribe", "ping",
    "spublish", "ssubscribe", "sunsubscribe",
    # keyspace events: read, never set (see the module docstring)
    "config|get",
    # Redis that fails over (cluster/router.py, cluster/rollback.py, cluster/durability.py):
    # where the primaries are, their replication offsets, waiting for replicas
    # (WAITAOF, for --wait-aof, exists from Redis 7.2 on: an ACL naming it is refused by 7.0,
    # so it is not here; add +waitaof to the nodes' user on a 7.2 server.)
    "role", "info", "cluster|slots", "cluster|shards", "cluster|nodes", "asking", "wait",
)
NODE_KEYS = "~stui:*"
NODE_CHANNELS = ("&stui:*", "&__keyevent@*__:expired")


def new_password() -> str:
    """A random password (256 bits, URL-safe, so it can sit in a Redis URL as it is)."""
    return secrets.token_urlsafe(32)


def node_acl(password: str, user: str = NODE_USER) -> str:
    """The ACL file line of the nodes' user: its password, keys, channels and commands."""
    commands = " ".join("+" + name for name in dict.fromkeys(NODE_COMMANDS))
    channels = " ".join(NODE_CHANNELS)
    return f"user {user} on >{password} resetkeys {NODE_KEYS} resetchannels {channels} " \
        f"-@all {commands}"


def admin_acl(password: str) -> str:
    """The ACL file line of the ``default`` user: every command, with a password (operators,
    backup and restore, ``redis-cli``)."""
    return f"user default on >{password} ~* &* +@all"


def url_with_password(url: str, password: str, user: str | None = None) -> str:
    """``url`` with ``password`` (and ``user``, if given) filled in."""
    parts = urlsplit(url)
    name = user if user is not None else unquote(parts.username or "")
    hosts = parts.netloc.rpartition("@")[2]  # one host, or several (Sentinel, Cluster)
    netloc = f"{quote(name, safe='')}:{quote(password, safe='')}@{hosts or '127.0.0.1'}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def effective_url(settings: Settings) -> str:
    """The URL to connect with: ``redis_url``, with the password of ``redis_password_file``."""
    if not settings.redis_password_file:
        return settings.redis_url
    return url_with_password(settings.redis_url, read_secret(settings.redis_password_file))


def redact(url: str) -> str:
    """``url`` without its password, for logs and status output."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(
        (parts.scheme, f"{user}:***@{netloc}", parts.path, parts.query, parts.fragment)
    )


async def probe(redis: coredis.Redis[str], timeout: float = 2.0) -> str:
    """``ok``, ``unauthorized`` (no or wrong password, or a user without PING) or
    ``unreachable``: what a health check and a start-up message need to tell apart."""
    try:
        with trio.fail_after(timeout):
            await redis.ping()
        return "ok"
    except (AuthenticationError, AuthorizationError):
        return "unauthorized"
    except ResponseError as exc:
        text = str(exc).upper()
        if "NOAUTH" in text or "WRONGPASS" in text or "NOPERM" in text:
            return "unauthorized"
        return "unreachable"
    except (RedisError, OSError, trio.TooSlowError, TimeoutError):
        return "unreachable"


UNAUTHORIZED_HINT = (
    "Redis refused the node's credentials (no password, or a wrong one): give the password "
    "in --redis-url (redis://user:password@host:port/0) or in --redis-password-file"
)
