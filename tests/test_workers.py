"""``stui-node --workers N``: N node processes on one port under a supervisor.

Real processes only: the supervisor is ``python -m nodes --workers 2`` on a free port of
127.0.0.1, its workers are real nodes on the test's redis-server, the clients real WebSockets.
Which worker a connection lands on is the kernel's choice (SO_REUSEPORT hashes the
connection's addresses), so the tests open enough connections that missing one worker has a
probability below one in a million, and say so. Every wait is bounded; every process started
is stopped by the test (SIGTERM, then SIGKILL of its process group).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from conftest import connect, redis_call

from client.connection import Connection
from cluster import keys
from cluster.ops.embedded_redis import RedisServer
from cluster.settings import Settings
from nodes.health import http_get as health_get
from nodes.workers import settings_env, worker_count

ROOT = Path(__file__).resolve().parent.parent
CONNECTIONS = 24
"""Connections opened to see both workers: all on one of two workers has p = 2 × 2^-24."""


class Supervised:
    """A ``stui-node --workers N`` process (its own process group, like the launcher's)."""

    def __init__(self, redis_url: str, workers: int, *extra: str) -> None:
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nodes", "--workers", str(workers), "--port", "0",
             "--health-port", "0", "--redis-url", redis_url, "--log-level", "INFO", *extra],
            stdout=subprocess.PIPE, stderr=self.log, cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"stui-node --workers did not start: {self.log_text()[-3000:]}")
        self.info: dict[str, Any] = json.loads(line)
        self.port = int(self.info["port"])
        self.health_port = int(self.info["health_port"])

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    @property
    def worker_ids(self) -> list[str]:
        return [w["node_id"] for w in self.info["workers"]]

    @property
    def worker_pids(self) -> list[int]:
        return [int(w["pid"]) for w in self.info["workers"]]

    def log_text(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def log_records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.startswith("{")]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # anything of the group still there
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.poll() is None:
            self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


@pytest.fixture
def supervised(redis: RedisServer) -> Iterator[Any]:
    started: list[Supervised] = []

    def start(workers: int = 2, *extra: str) -> Supervised:
        proc = Supervised(redis.url, workers, *extra)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()


def gone(pid: int) -> bool:
    """The process has exited (a zombie waiting for a reaper counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = trio.current_time() + timeout
    while not predicate():
        if trio.current_time() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await trio.sleep(0.05)


async def http_get(port: int, path: str) -> tuple[int, bytes]:
    return await health_get("127.0.0.1", port, path)


async def ping_new_connections(url: str, count: int) -> list[str]:
    """``count`` fresh connections, one ping each: the node ids that answered, in order."""
    answered = []
    for _ in range(count):
        async with connect(url) as client:
            answered.append(str((await client.request("ping"))["node_id"]))
    return answered


def metric_sum(text: str, name: str) -> dict[str, float]:
    """Per ``worker`` label: the sum of the samples of ``name`` in a Prometheus page."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line[len(name) + 1:].rsplit("} ", 1)
            worker = next(p.split("=", 1)[1].strip('"') for p in labels.split(",")
                          if p.startswith("worker="))
            totals[worker] = totals.get(worker, 0.0) + float(value)
    return totals


# -- tests ---------------------------------------------------------------------------------------


async def test_two_workers_serve_one_port(supervised, redis):
    proc = supervised(2)
    assert proc.worker_ids == [f"{proc.info['node_id']}-w0", f"{proc.info['node_id']}-w1"]
    assert len(set(proc.worker_pids)) == 2 and not any(map(gone, proc.worker_pids))

    answered = await ping_new_connections(proc.url, CONNECTIONS)
    assert set(answered) == set(proc.worker_ids), answered

    # Each worker is a node of its own in the registry.
    def registered() -> set[str]:
        return {m.decode() for m in redis_call(redis, "ZRANGE", keys.NODES, "0", "-1")}

    await wait_until(lambda: set(proc.worker_ids) <= registered(), 5, "both workers registered")

    # The supervisor's health port answers for both, and its /metrics holds both workers'.
    status, body = await http_get(proc.health_port, "/healthz")
    health = json.loads(body)
    assert status == 200 and health["status"] == "ok", health
    assert [w["node_id"] for w in health["workers"]] == proc.worker_ids
    assert all(w["status"] == "ok" and w["redis"] == "ok" for w in health["workers"])
    status, body = await http_get(proc.health_port, "/metrics")
    assert status == 200
    pings = metric_sum(body.decode(), "stui_requests_total")
    assert sum(pings.values()) == CONNECTIONS and set(pings) == set(proc.worker_ids), pings
    assert {w: float(answered.count(w)) for w in proc.worker_ids} == pings


async def test_a_killed_worker_is_restarted_and_the_port_keeps_serving(supervised):
    proc = supervised(2)
    victim, survivor = proc.worker_pids[0], proc.worker_ids[1]
    async with connect(proc.url) as kept:
        await kept.request("ping")
        os.kill(victim, signal.SIGKILL)
        await wait_until(lambda: gone(victim), 5, "the killed worker exited")
        # Meanwhile every new connection is served (by the other worker, or the new w0).
        answered = await ping_new_connections(proc.url, 10)
        assert all(node_id in proc.worker_ids for node_id in answered), answered
        assert survivor in answered

        async def restarted() -> dict[str, Any]:
            while True:
                status, body = await http_get(proc.health_port, "/healthz")
                health = json.loads(body)
                first = health["workers"][0]
                if status == 200 and first["status"] == "ok" and first["pid"] != victim:
                    return dict(first)
                await trio.sleep(0.1)

        with trio.fail_after(15):
            first = await restarted()
        assert first["restarts"] == 1 and first["node_id"] == proc.worker_ids[0]
        assert not gone(int(first["pid"]))
        # The restarted worker takes connections again.
        with trio.fail_after(15):
            seen: set[str] = set()
            while proc.worker_ids[0] not in seen:
                seen.update(await ping_new_connections(proc.url, 4))
        # A connection to the surviving worker was never disturbed... if it was on w1.
        if kept.closed.is_set():
            assert (await ping_new_connections(proc.url, 1))[0] in proc.worker_ids
        else:
            await kept.request("ping")
    exits = [r for r in proc.log_records() if r.get("msg") == "worker exited; restarting it"]
    assert len(exits) == 1 and exits[0]["exit"] == "killed by SIGKILL", exits
    assert exits[0]["worker"] == proc.worker_ids[0] and exits[0]["pid"] == victim


async def test_sigterm_drains_every_worker_and_exits_0(supervised, redis):
    proc = supervised(2, "--drain-timeout", "5")
    async with AsyncExitStack() as stack:
        clients: dict[str, Connection] = {}
        for _ in range(CONNECTIONS * 2):
            client = await stack.enter_async_context(connect(proc.url))
            node_id = str((await client.request("ping"))["node_id"])
            if node_id in clients:
                await client.aclose()
            else:
                clients[node_id] = client
            if len(clients) == 2:
                break
        assert set(clients) == set(proc.worker_ids)
        os.kill(proc.process.pid, signal.SIGTERM)
        for node_id, client in clients.items():
            event = await client.next_event("server_draining", timeout=5)
            assert event["data"]["node_id"] == node_id
            with trio.fail_after(5):
                await client.closed.wait()
    code = await trio.to_thread.run_sync(proc.process.wait, 20)
    assert code == 0, proc.log_text()[-3000:]
    assert all(gone(pid) for pid in proc.worker_pids)
    registered = {m.decode() for m in redis_call(redis, "ZRANGE", keys.NODES, "0", "-1")}
    assert not registered & set(proc.worker_ids), "draining workers deregister"
    messages = [r.get("msg") for r in proc.log_records()]
    assert messages.count("node stopped") == 2 and "workers stopped" in messages


async def test_workers_drain_by_themselves_when_the_supervisor_is_killed(supervised):
    proc = supervised(2)
    os.kill(proc.process.pid, signal.SIGKILL)
    proc.process.wait(5)
    with trio.fail_after(15):
        while not all(gone(pid) for pid in proc.worker_pids):
            await trio.sleep(0.05)
    stopped = [r for r in proc.log_records() if r.get("msg") == "node stopped"]
    assert sorted(r["node_id"] for r in stopped) == sorted(proc.worker_ids)


async def test_one_worker_is_a_plain_node(redis):
    process = subprocess.Popen(
        [sys.executable, "-m", "nodes", "--workers", "1", "--port", "0", "--health-port", "0",
         "--redis-url", redis.url, "--log-level", "WARNING"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=ROOT,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        announced = json.loads(process.stdout.readline())
        assert set(announced) == {"node_id", "port", "health_port"}, announced
        async with connect(f"ws://127.0.0.1:{announced['port']}/") as client:
            pong = await client.request("ping")
        assert pong["node_id"] == announced["node_id"] and "-w" not in pong["node_id"]
        process.terminate()
        assert await trio.to_thread.run_sync(process.wait, 20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def test_bad_worker_counts_are_refused():
    done = subprocess.run(
        [sys.executable, "-m", "nodes", "--workers", "0", "--port", "0"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert done.returncode == 2 and "--workers must be at least 1" in done.stderr
    assert worker_count("3") == 3 and worker_count(None) == 1
    assert worker_count("auto") == len(os.sched_getaffinity(0))


def test_workers_get_exactly_the_supervisors_settings():
    settings = Settings.from_env(
        {}, secret="s3cret", client_rate=12.5, deny_clients=frozenset({"a", "b"}),
        reuse_port=True, max_connections=7,
    )
    again = Settings.from_env(settings_env(settings))
    assert attrs.asdict(again) == attrs.asdict(settings)


async def test_a_port_in_use_fails_the_start_with_a_message(redis):
    with trio.socket.socket() as taken:
        await taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = await trio.to_thread.run_sync(lambda: subprocess.run(
            [sys.executable, "-m", "nodes", "--workers", "2", "--port", str(port),
             "--redis-url", redis.url],
            cwd=ROOT, capture_output=True, text=True, timeout=30,
        ))
    assert done.returncode == 1 and "Address already in use" in done.stderr, done.stderr
    assert done.stdout == "", "no announcement: the node did not start"
