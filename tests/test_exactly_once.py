"""Exactly-once under node deaths: every acknowledged request ran once, retries are replays.

A counter per session is incremented by one request at a time through ``SessionClient``
(``n := n + 1`` once the evaluator works, otherwise ``update_session_state``, where every commit
raises ``version`` by one: ``n = version - 1``). The client resends a request whose connection
died with the *same* request id, so the server must answer it from the stored response.

- ``test_commit_landed_but_node_died_before_answering``: deterministic. Node A reaches Redis
  through :class:`cluster_support.RedisGate`, which lets A's commit through and holds Redis's
  answer; A is SIGKILLed; the client resends on B and must get ``replayed: true``.
- ``test_counters_survive_random_sigkills``: three node processes on fixed free ports are
  SIGKILLed at random moments (seeded) and restarted on the same port, for ~12 s, while six
  clients increment. Each session's ``n`` must equal its number of acknowledged requests.

Rules: loopback only, a real redis-server on a free port, real node processes on free ports,
all stopped by the fixture. The random run is bounded: 12 s of chaos, every wait capped, the
test under ~25 s.
"""

from __future__ import annotations

import os
import random
import signal
import time
from typing import Any

import pytest
import trio
from cluster_support import Counter, RedisGate, wait_until
from conftest import connect, redis_call

from client.session import SessionClient, open_session
from cluster import keys
from cluster.ops.embedded_redis import free_port

pytestmark = pytest.mark.timeout(90)

CHAOS_SECONDS = 12.0
CLIENTS = 6


async def increment(client: SessionClient, tag: Any = None) -> dict[str, Any]:
    if Counter.evaluator:
        return await client.evaluate("n := n + 1")
    return await client.update_state({"inc": tag})


async def stored_count(url: str, sid: str) -> int:
    async with connect(url) as conn:
        return await Counter.read(conn, sid)


async def test_commit_landed_but_node_died_before_answering(node_process, redis, nursery):
    gate = RedisGate(redis.port)
    await nursery.start(gate.serve)
    node_a = await trio.to_thread.run_sync(
        lambda: node_process("--redis-url", gate.url, "--client-rate", "0"))
    node_b = node_process("--client-rate", "0")
    states: list[str] = []
    async with open_session([node_a.url, node_b.url], "once",
                            on_state=lambda s, _: states.append(s),
                            reconnect_timeout=10, request_timeout=15) as client:
        assert client.node_id == node_a.node_id
        sid = client.session_id
        assert sid is not None
        if Counter.evaluator:
            await client.evaluate("n := 0")
        first = await increment(client, 1)
        assert Counter.value(first) == 1

        gate.arm(Counter.marker(sid), mode="reply")
        answer: dict[str, Any] = {}

        async def second_increment() -> None:
            answer.update(await increment(client, 2))

        async with trio.open_nursery() as inner:
            inner.start_soon(second_increment)
            with trio.fail_after(5):
                await gate.triggered.wait()
            # The commit reached Redis (its answer is held at the gate): wait until it is
            # visible, then kill A before it can answer the client.
            await wait_until(lambda: redis_call(redis, "HLEN", keys.SessionKeys(sid).done) == (
                3 if Counter.evaluator else 2), 5, "the second commit landed")
            node_a.signal(signal.SIGKILL)
        gate.release()
        assert answer.get("replayed") is True, answer
        assert Counter.value(answer) == 2
        assert client.node_id == node_b.node_id
        third = await increment(client, 3)
        assert Counter.value(third) == 3 and not third.get("replayed")
    assert "restored" in states
    assert await stored_count(node_b.url, sid) == 3


async def test_counters_survive_random_sigkills(node_process, redis):
    seed = int(os.environ.get("STUI_CHAOS_SEED", "0")) or random.randrange(1, 10**6)
    rng = random.Random(seed)
    ports = [free_port() for _ in range(3)]

    def start(port: int) -> Any:
        return node_process("--port", str(port), "--client-rate", "0", "--log-level", "ERROR")

    nodes = [await trio.to_thread.run_sync(start, port) for port in ports]
    urls = [f"ws://127.0.0.1:{port}/" for port in ports]
    acked: dict[str, int] = {}
    replayed = 0
    lost_sessions: list[str] = []
    kills = 0
    up = [True] * 3
    stop = trio.Event()

    async def worker(index: int) -> None:
        nonlocal replayed
        async with open_session(urls[index % 3:] + urls[:index % 3], f"eo{index}",
                                reconnect_timeout=20, request_timeout=20, connect_timeout=2,
                                ping_interval=1, ping_timeout=1) as client:
            sid = client.session_id
            assert sid is not None
            if Counter.evaluator:
                await client.evaluate("n := 0")
            acked[sid] = 0
            while not stop.is_set():
                result = await increment(client, acked[sid] + 1)
                acked[sid] += 1
                replayed += bool(result.get("replayed"))
                assert Counter.value(result) == acked[sid], (sid, result, acked[sid])
                await trio.sleep(0.01)  # ~6 x 80 requests/s: leave CPU for node restarts
            if client.lost is not None:
                lost_sessions.append(sid)

    async def restart(victim: int) -> None:
        nodes[victim] = await trio.to_thread.run_sync(start, ports[victim])
        up[victim] = True

    async def killer(nursery: trio.Nursery) -> None:
        nonlocal kills
        deadline = time.monotonic() + CHAOS_SECONDS
        while time.monotonic() < deadline:
            await trio.sleep(rng.uniform(0.4, 1.2))
            alive = [i for i in range(3) if up[i]]
            if len(alive) < 2:
                continue  # keep one node up: the clients' reconnect_timeout is not under test
            victim = rng.choice(alive)
            up[victim] = False
            nodes[victim].kill()  # SIGKILL
            kills += 1
            nursery.start_soon(restart, victim)  # restarts take 0.5-3 s on a busy 2-core box
        while not all(up):
            await trio.sleep(0.05)
        stop.set()

    started = time.monotonic()
    with trio.fail_after(CHAOS_SECONDS + 40):
        async with trio.open_nursery() as nursery:
            for index in range(CLIENTS):
                nursery.start_soon(worker, index)
            nursery.start_soon(killer, nursery)
    counts = {sid: await stored_count(urls[0], sid) for sid in acked}
    total = sum(acked.values())
    print(f"\nexactly-once ({Counter.mode()}, seed {seed}): {kills} SIGKILLs in "
          f"{time.monotonic() - started:.1f} s, {total} acknowledged, {replayed} replayed")
    assert len(acked) == CLIENTS and not lost_sessions
    assert counts == acked, f"seed {seed}: stored {counts} != acknowledged {acked}"
    assert kills >= 3 and total > 0
