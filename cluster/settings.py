"""Settings of a node and of the cluster tools, from environment variables and flags.

Every setting has one field here, a ``STUI_*`` environment variable and a ``--flag``; a flag
wins over the environment, which wins over the default. Defaults are those of the protocol
spec (timeout 3600 s, 5 sessions per client, 1 MiB frames).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import Any

import attrs


def _csv(value: str) -> frozenset[str]:
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def _bool(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a yes/no value: {value!r}")


def _setting(default: Any, help: str, parse: Any = None) -> Any:
    return attrs.field(default=default, metadata={"help": help, "parse": parse})


@attrs.frozen
class Settings:
    """One node's configuration (immutable; build a new one to change it)."""

    redis_url: str = _setting("redis://127.0.0.1:6379/0", "Redis URL of the session store")
    secret: str = _setting(
        "", "shared secret; when set, clients must authenticate with a token (JWT or HMAC)"
    )
    secret_file: str = _setting(
        "", "file holding the shared secret (stui-cluster up writes one, mode 0600)"
    )
    allow_hmac_tokens: bool = _setting(
        True, "accept the legacy HMAC token (never expires) besides JWTs", _bool
    )
    insecure: bool = _setting(
        False, "without a secret, listen on a non-loopback --host anyway (no authentication)",
        _bool,
    )
    host: str = _setting("127.0.0.1", "address the node listens on")
    tls_cert: str = _setting("", "certificate chain (PEM) to serve wss:// with")
    tls_key: str = _setting("", "private key (PEM) of --tls-cert")
    redis_password_file: str = _setting(
        "", "file holding the Redis password (the user, if any, is the --redis-url's)"
    )
    port: int = _setting(8765, "WebSocket port (0 picks a free one)", int)
    health_port: int = _setting(
        -1, "plain-HTTP port for /healthz and /metrics (0 picks a free one, -1: none)", int
    )
    node_id: str = _setting("", "node id (default: a random one)")
    reuse_port: bool = _setting(
        False,
        "share the WebSocket port with other processes that set it too (SO_REUSEPORT); "
        "stui-node --workers sets it on its workers",
        _bool,
    )
    session_timeout: int = _setting(3600, "sliding session timeout in seconds", int)
    max_sessions_per_client: int = _setting(5, "per-client session limit", int)
    max_frame_bytes: int = _setting(1 << 20, "largest accepted WebSocket frame", int)
    max_state_bytes: int = _setting(256 * 1024, "largest state_data, as JSON bytes", int)
    max_state_depth: int = _setting(32, "deepest nesting of state_data", int)
    max_in_flight: int = _setting(16, "requests one connection may have running at once", int)
    client_rate: float = _setting(
        200.0, "requests per second a client may send across the cluster (0: no limit)", float
    )
    client_burst: int = _setting(400, "requests a client may send at once above its rate", int)
    max_connections: int = _setting(20_000, "connections one node accepts", int)
    idle_timeout: float = _setting(
        0.0, "seconds a connection may stay silent before it is closed (0: never)", float
    )
    allow_clients: frozenset[str] = _setting(
        frozenset(), "comma-separated client ids allowed (empty: all)", _csv
    )
    deny_clients: frozenset[str] = _setting(frozenset(), "comma-separated client ids denied", _csv)
    cleanup_interval: int = _setting(60, "seconds between expiry sweeps", int)
    drain_timeout: float = _setting(10.0, "seconds a draining node waits for requests", float)
    redis_timeout: float = _setting(5.0, "seconds before a Redis call counts as failed", float)
    failover_wait: float = _setting(
        10.0,
        "seconds a request that meets a store failure (a failover, a restart) is run again, "
        "with the same id, before the node answers Unavailable (store_failing_over)",
        float,
    )
    min_replicas: int = _setting(
        0,
        "replicas that must confirm a commit (WAIT) before the node answers it (0: no wait)",
        int,
    )
    replica_wait_ms: int = _setting(
        100, "milliseconds a commit waits for --min-replicas (WAIT's timeout)", int
    )
    wait_aof: bool = _setting(
        False,
        "also wait for the primary's AOF fsync (WAITAOF; Redis 7.2 or newer, else ignored "
        "with a warning)",
        _bool,
    )
    log_level: str = _setting("INFO", "log level (DEBUG, INFO, WARNING, ERROR)")
    eval_max_seconds: float = _setting(10.0, "wall-clock limit of one evaluation", float)
    eval_max_steps: int = _setting(50_000_000, "step budget of one evaluation", int)
    max_cached_sessions: int = _setting(
        1000, "session images a node keeps in memory (least recently used dropped)", int
    )
    max_registry: int = _setting(
        1000, "registered objects kept per session (past it and a tenth, the oldest go)", int
    )
    max_cached_objects: int = _setting(
        2_000_000, "heap objects of all cached session images together (memory bound)", int
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``STUI_*`` variables (``STUI_REDIS_URL``, ``STUI_SECRET``...).

        A ``secret_file`` fills ``secret`` when no secret is given directly, so a secret need
        not sit in an environment or on a command line.
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for field in attrs.fields(cls):
            name = "STUI_" + field.name.upper()
            if name in env:
                values[field.name] = _parse(field, env[name])
        values.update(overrides)
        if values.get("secret_file") and not values.get("secret"):
            values["secret"] = read_secret(values["secret_file"])
        return cls(**values)

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser, only: Sequence[str] = ()) -> None:
        """Add one ``--flag`` per setting (or per name in ``only``), defaulting to unset."""
        for field in attrs.fields(cls):
            if only and field.name not in only:
                continue
            flag = "--" + field.name.replace("_", "-")
            env = "STUI_" + field.name.upper()
            if field.metadata.get("parse") is _bool:
                parser.add_argument(
                    flag,
                    dest=field.name,
                    default=None,
                    action=argparse.BooleanOptionalAction,
                    help=f"{field.metadata['help']} (env {env}, default {_show(field.default)})",
                )
                continue
            parser.add_argument(
                flag,
                dest=field.name,
                default=None,
                metavar=field.name.upper(),
                help=f"{field.metadata['help']} (env {env}, default {_show(field.default)})",
            )

    @classmethod
    def from_args(cls, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
        """Environment first, then every flag that was given."""
        flags = {
            field.name: _parse(field, getattr(args, field.name))
            for field in attrs.fields(cls)
            if getattr(args, field.name, None) is not None
        }
        return cls.from_env(env, **flags)


def _parse(field: attrs.Attribute[Any], raw: str) -> Any:
    parse = field.metadata.get("parse")
    return parse(raw) if parse else raw


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, frozenset):
        return ",".join(sorted(value)) or "none"
    return repr(value) if value != "" else "none"


def read_secret(path: str) -> str:
    """The first line of a secret file (a secret is text without surrounding blanks)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.readline().strip()
    except OSError as exc:
        raise ValueError(f"cannot read the secret file {path}: {exc.strerror}") from exc
