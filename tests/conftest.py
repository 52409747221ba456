"""Fixtures: a real redis-server on a free port, real nodes, real WebSocket clients.

Rules for every test here: loopback only, port 0 or a free port (never 6379), no mocks, and a
time cap per test (pytest-timeout, see pyproject.toml).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import trio

sys.path.insert(0, str(Path(__file__).parent))

from cluster.embedded_redis import RedisServer  # noqa: E402

from client.connection import Connection, open_connection  # noqa: E402
from cluster.settings import Settings  # noqa: E402
from nodes.node import Node  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


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
        self.process = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            err = self.process.stderr.read().decode() if self.process.stderr else ""
            raise RuntimeError(f"stui-node did not start: {err}")
        info = json.loads(line)
        self.port: int = info["port"]
        self.node_id: str = info["node_id"]

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
        if self.process.poll() is None:
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
