"""Fixtures: a real redis-server on a free port, real nodes, real WebSocket clients.

Rules for every test here: loopback only, port 0 or a free port (never 6379), no mocks, and a
time cap per test (pytest-timeout, see pyproject.toml).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

sys.path.insert(0, str(Path(__file__).parent))

from client.connection import Connection, open_connection
from cluster.ops.embedded_redis import RedisServer
from cluster.settings import Settings
from nodes.node import Node

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.cleanup()


@pytest.fixture
def redis(redis_server: RedisServer) -> RedisServer:
    """The shared test Redis, emptied for this test."""
    if redis_server.process is None or redis_server.process.poll() is not None:
        redis_server.start()
    redis_server.command("FLUSHALL")
    return redis_server


@pytest.fixture
def settings(redis: RedisServer) -> Settings:
    return Settings.from_env({}, redis_url=redis.url, port=0, cleanup_interval=1)


NodeFactory = Callable[..., Any]


@pytest.fixture
async def start_node(
    nursery: trio.Nursery, settings: Settings
) -> AsyncIterator[Callable[..., Any]]:
    """``await start_node(**overrides)`` -> an in-process :class:`Node`, serving on port 0."""
    started: list[Node] = []

    async def start(**overrides: Any) -> Node:
        node = Node(Settings.from_env({}, **{**_fields(settings), **overrides}))
        await nursery.start(node.run)
        started.append(node)
        return node

    yield start
    for node in started:
        node.drain()


def _fields(settings: Settings) -> dict[str, Any]:
    import attrs

    return attrs.asdict(settings, recurse=False)


def url_of(node: Node) -> str:
    return f"ws://127.0.0.1:{node.port}/"


@asynccontextmanager
async def connect(node: Node | str) -> AsyncIterator[Connection]:
    async with open_connection(node if isinstance(node, str) else url_of(node)) as connection:
        yield connection


class NodeProcess:
    """A real ``stui-node`` process (for SIGKILL, SIGSTOP and SIGTERM tests)."""

    def __init__(self, redis_url: str, *extra: str, env: dict[str, str] | None = None) -> None:
        cmd = [
            sys.executable, "-m", "nodes", "--port", "0", "--health-port", "0",
            "--redis-url", redis_url, "--log-level", "WARNING", *extra,
        ]
        # stderr (JSON logs) goes to a file: an unread pipe could fill and block the node.
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed with the process object
        self.process = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.log.seek(0)
            raise RuntimeError(f"stui-node did not start: {self.log.read().decode()[-2000:]}")
        info = json.loads(line)
        self.port: int = info["port"]
        self.node_id: str = info["node_id"]
        self.health_port: int = int(info.get("health_port", 0))

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def wait(self, timeout: float = 20) -> int:
        return self.process.wait(timeout)

    def stop(self) -> None:
        """SIGTERM (the node drains and exits, saving its coverage data), SIGKILL if slow."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen node must wake to drain
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def node_process(redis: RedisServer) -> Iterator[Callable[..., NodeProcess]]:
    """``node_process(*flags)`` -> a started :class:`NodeProcess`; all are stopped after."""
    procs: list[NodeProcess] = []

    def start(*extra: str, env: dict[str, str] | None = None) -> NodeProcess:
        proc = NodeProcess(redis.url, *extra, env=env)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.stop()


# -- helpers for reading Redis from tests (sync, via redis-cli) ------------------------------


def cluster_cli(
    *args: str, state: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m cluster --state-dir STATE ARGS`` from the repository root; ``env``
    replaces the environment (default: inherited)."""
    return subprocess.run(
        [sys.executable, "-m", "cluster", "--state-dir", str(state), *args],
        capture_output=True, text=True, timeout=90, cwd=ROOT, env=env,
    )


@pytest.fixture
def state_dir(tmp_path: Path) -> Iterator[Path]:
    """A launched cluster's state directory; whatever was left running is taken down."""
    from cluster.ops import launcher

    state = tmp_path / "cluster"
    yield state
    if (state / "cluster.json").exists():
        launcher.down(state)


def redis_call(redis: RedisServer, *args: str | bytes) -> Any:
    """One command over a plain socket (RESP2), replies as bytes: for binary-exact reads that
    redis-cli would re-encode, and fast enough to run around every request of a test."""
    import socket

    with socket.create_connection(("127.0.0.1", redis.port), timeout=5) as sock:
        parts = [b"*%d\r\n" % len(args)]
        for arg in args:
            data = arg if isinstance(arg, bytes) else arg.encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        sock.sendall(b"".join(parts))
        reader = sock.makefile("rb")
        return _read_reply(reader)


def _read_reply(reader: Any) -> Any:
    line = reader.readline()
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RuntimeError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        size = int(rest)
        return None if size < 0 else reader.read(size + 2)[:-2]
    if kind == b"*":
        count = int(rest)
        return None if count < 0 else [_read_reply(reader) for _ in range(count)]
    raise RuntimeError(f"unexpected reply {line!r}")


def redis_keys(redis: RedisServer, pattern: str = "stui:*") -> list[str]:
    """Every key matching ``pattern`` (KEYS: fine on a test Redis)."""
    return sorted(key.decode() for key in redis_call(redis, "KEYS", pattern))


# Node and client bookkeeping that legitimately changes on every request or connection (rate
# buckets, connection counters, heartbeats, the sweeper lease, who is attached to a session):
# not session data.
_BOOKKEEPING = ("stui:sweeper", "stui:{sweeper}", "stui:node:", "stui:nodes", "stui:counters")
_BOOKKEEPING_SUFFIXES = (":bucket", ":stats", ":attached")


def dump_keys(redis: RedisServer, pattern: str = "stui:*") -> dict[str, bytes]:
    """``DUMP`` of every matching key that holds session data or an index of sessions, for
    byte-for-byte comparisons before and after a request (TTLs are not part of a dump)."""
    return {
        name: redis_call(redis, "DUMP", name)
        for name in redis_keys(redis, pattern)
        if not name.startswith(_BOOKKEEPING) and not name.endswith(_BOOKKEEPING_SUFFIXES)
    }


def pttl(redis: RedisServer, key: str) -> int:
    """Milliseconds until ``key`` expires (-1: no expiry, -2: no such key)."""
    return int(redis.command("PTTL", key))


# -- a raw WebSocket client: every frame as sent, every message as received ----------------


class RawClient:
    """One WebSocket without request matching: for malformed frames and exact accounting."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []

    async def send(self, frame: str | bytes) -> None:
        await self.ws.send_message(frame)

    async def receive(self, timeout: float = 5) -> dict[str, Any]:
        """The next message that is not a pushed event."""
        with trio.fail_after(timeout):
            while True:
                message = json.loads(await self.ws.get_message())
                if isinstance(message, dict) and "event" in message and "id" not in message:
                    self.events.append(message)
                    continue
                assert isinstance(message, dict), message
                return message

    async def ask(self, frame: str | bytes, timeout: float = 5) -> dict[str, Any]:
        await self.send(frame)
        return await self.receive(timeout)

    async def call(
        self, command: str, parameters: Any = None, *, request_id: str = "r"
    ) -> dict[str, Any]:
        frame: dict[str, Any] = {"id": request_id, "command": command}
        if parameters is not None:
            frame["parameters"] = parameters
        return await self.ask(json.dumps(frame))

    async def assert_alive(self, request_id: str = "alive-check") -> None:
        """A ping is answered next: the connection works and nothing else was pending."""
        pong = await self.call("ping", request_id=request_id)
        assert pong["id"] == request_id and pong["status"] == "success", pong


@asynccontextmanager
async def raw_connect(node: Node | str, path: str = "/") -> AsyncIterator[RawClient]:
    from trio_websocket import open_websocket_url

    url = node if isinstance(node, str) else f"ws://127.0.0.1:{node.port}{path}"
    async with open_websocket_url(url) as ws:
        yield RawClient(ws)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``slow`` tests (long chaos, benchmark smoke runs) run only with STUI_SLOW=1; CI runs
    their bounded siblings."""
    if os.environ.get("STUI_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set STUI_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
