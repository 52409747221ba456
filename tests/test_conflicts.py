"""Concurrent writers on one session across two node processes: optimistic concurrency.

Eight clients (four per node, one WebSocket each) increment one shared counter kept in
``state_data``: read it (from the last answer or from a ``SessionConflict``'s details), write
``n + 1`` with ``expected_version``, and on ``SessionConflict`` retry from the state the error
carries. The final ``n`` must equal the number of acknowledged increments. Without
``expected_version`` (blind writes) every commit must get its own version: the acknowledged
versions are exactly 2..N+1.

Ownership note: a write from a connection that does not hold the session takes it over, and the
previous holder is closed (``session_taken_over``, 4001). With concurrent writers on different
connections that happens on nearly every write, so each client here reconnects when closed and
resends an unanswered request with the *same* id (exactly-once makes that safe); the number of
takeovers is printed.

Rules: loopback only, a real redis-server on a free port, two real node processes on free ports
(``--client-rate 0``: the per-client rate limit is not under test). Each test is capped at 40 s
of wall clock through ``trio.fail_after``; nothing sleeps without a deadline.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import trio
from cluster_support import RedisGate, wait_until
from conftest import connect, redis_call
from trio_websocket import ConnectionClosed, HandshakeError

from client.connection import Connection, open_connection
from cluster import keys
from cluster.settings import Settings
from cluster.store import Commit, SessionStore
from cluster.store import connect as redis_client

pytestmark = pytest.mark.timeout(90)

WRITERS = 8
PER_WRITER = 8


class Writer:
    """One client: its own WebSocket to one node, reopened whenever the node closes it."""

    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name
        self.ids = itertools.count(1)
        self.connections = 0
        self._conn: Connection | None = None
        self._scope: trio.CancelScope | None = None
        self._nursery: trio.Nursery | None = None

    async def run(self, body: Callable[[Writer], Awaitable[None]]) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            await body(self)
            nursery.cancel_scope.cancel()

    async def call(self, command: str, params: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Send until answered; a lost connection resends the same request id."""
        while True:
            if self._conn is None or self._conn.closed.is_set():
                await self._reopen()
            assert self._conn is not None
            try:
                response = await self._conn.call(command, params, request_id=request_id)
            except (ConnectionClosed, trio.BrokenResourceError, trio.ClosedResourceError):
                # Closed by the node (taken over): the answer may be lost, so resend the
                # same id on a new connection (send_message on a closed socket does not
                # checkpoint: reopen before trying again, never spin).
                self._drop()
                continue
            if response.get("error_type") == "SessionError" and "taken over" in str(
                    response.get("error")):
                # Fenced: not committed; this connection is being closed. Resend elsewhere.
                self._drop()
                continue
            return response

    async def _reopen(self) -> None:
        self._drop()
        assert self._nursery is not None
        while True:
            try:
                self._conn = await self._nursery.start(self._hold)
                self.connections += 1
                return
            except (HandshakeError, OSError):
                await trio.sleep(0.01)

    async def _hold(self, *, task_status: trio.TaskStatus[Connection]) -> None:
        with trio.CancelScope() as scope:
            async with open_connection(self.url) as conn:
                self._scope = scope
                task_status.started(conn)
                await conn.closed.wait()

    def _drop(self) -> None:
        if self._scope is not None:
            self._scope.cancel()
        self._scope = self._conn = None


async def run_writers(urls: list[str], body: Callable[[Writer], Awaitable[None]]) -> list[Writer]:
    writers = [Writer(urls[i % len(urls)], f"w{i}") for i in range(WRITERS)]
    with trio.fail_after(40):
        async with trio.open_nursery() as nursery:
            for writer in writers:
                nursery.start_soon(writer.run, body)
    return writers


def commits_by_version(redis: Any, sid: str) -> dict[int, str]:
    """version -> request id, from the session's exactly-once bookkeeping (the responses
    stored under each request id carry the version they committed)."""
    raw = redis_call(redis, "HGETALL", keys.SessionKeys(sid).done)
    pairs = zip(raw[::2], raw[1::2], strict=True)
    return {int(json.loads(response)["version"]): rid.decode() for rid, response in pairs}


async def new_session(url: str, client_id: str) -> str:
    async with connect(url) as conn:
        return str((await conn.request("create_session", client_id=client_id))["session_id"])


async def test_increments_with_expected_version_lose_nothing(node_process, redis):
    node_a = node_process("--client-rate", "0")
    node_b = node_process("--client-rate", "0")
    sid = await new_session(node_a.url, "shared")
    acked: list[tuple[str, int, int]] = []  # (request id, version, value written)
    conflicts = 0

    async def body(writer: Writer) -> None:
        nonlocal conflicts
        version, value = 1, 0  # a fresh session: version 1, state_data null
        done = 0
        rid, params = "", dict[str, Any]()
        while done < PER_WRITER:
            if not rid:
                rid = f"{writer.name}-{next(writer.ids)}"
                params = {"session_id": sid, "state_data": {"n": value + 1},
                          "expected_version": version}
            response = await writer.call("update_session_state", params, rid)
            if response["status"] == "success":
                result = response["result"]
                version, value = result["version"], result["session_state"]["n"]
                acked.append((rid, version, value))
                done += 1
                rid = ""
            elif response["error_type"] == "SessionConflict":
                conflicts += 1
                details = response.get("details") or {}
                if "current_version" in details:  # stale expected_version: start over from it
                    version = details["current_version"]
                    value = (details["session_state"] or {"n": 0})["n"]
                    rid = ""
                # else: this attempt kept losing WATCH races. Another attempt of the *same*
                # request (resent after a lost connection) may have committed meanwhile, so
                # the same id must be sent again: with a new id, that commit would count but
                # never be acknowledged (seen once: n = 97 after 96 acknowledgements).
            else:
                raise AssertionError(response)

    writers = await run_writers([node_a.url, node_b.url], body)
    total = WRITERS * PER_WRITER
    async with connect(node_b.url) as check:
        final = await check.request("restore_session", session_id=sid)
    takeovers = sum(w.connections for w in writers) - WRITERS
    print(f"\nconflicts: {total} increments, {conflicts} SessionConflicts, "
          f"{takeovers} reconnects after takeovers")
    assert len(acked) == total
    committed = commits_by_version(redis, sid)
    acked_ids = {rid for rid, _, _ in acked}
    assert final["session_state"] == {"n": total}, (
        f"versions without a stored response: "
        f"{sorted(set(range(2, final['version'] + 1)) - set(committed))}; committed but not "
        f"acknowledged: {sorted(set(committed.values()) - acked_ids)}")
    # Each increment moved the session by exactly one version, and wrote version - 1.
    assert sorted(v for _, v, _ in acked) == list(range(2, total + 2))
    assert all(value == version - 1 for _, version, value in acked)
    assert final["version"] == total + 1


async def test_blind_writes_each_get_their_own_version(node_process, redis):
    node_a = node_process("--client-rate", "0")
    node_b = node_process("--client-rate", "0")
    sid = await new_session(node_b.url, "blind")
    versions: dict[str, int] = {}
    replayed = conflicts = 0

    async def body(writer: Writer) -> None:
        nonlocal replayed, conflicts
        for _ in range(PER_WRITER):
            rid = f"{writer.name}-{next(writer.ids)}"
            params = {"session_id": sid, "state_data": {"last": rid}}
            while True:
                response = await writer.call("update_session_state", params, rid)
                if response.get("error_type") != "SessionConflict":
                    break
                # Without expected_version a conflict only means "kept losing WATCH races"
                # (nothing written): the same request may be sent again.
                assert "current_version" not in (response.get("details") or {}), response
                conflicts += 1
            assert response["status"] == "success", response
            replayed += bool(response.get("replayed"))
            versions[rid] = response["result"]["version"]

    await run_writers([node_a.url, node_b.url], body)
    total = WRITERS * PER_WRITER
    stored = int(redis_call(redis, "HGET", keys.SessionKeys(sid).meta, "version"))
    print(f"\nblind writes: {total} acknowledged, {replayed} answered from the done hash, "
          f"{conflicts} lost-race conflicts retried")
    assert sorted(versions.values()) == list(range(2, total + 2)), "a version was lost or reused"
    assert stored == total + 1
    # The stored state is the write that got the last version.
    last = max(versions, key=lambda rid: versions[rid])
    async with connect(node_a.url) as check:
        final = await check.request("restore_session", session_id=sid)
    assert final["session_state"] == {"last": last}


async def test_conflict_details_are_one_consistent_snapshot(node_process, redis, nursery):
    """``SessionConflict.details`` carry ``current_version`` and ``session_state``: a client
    retries from them, so they must describe the same version. Node A reaches Redis through
    a gate that holds A's read of the state record until another writer has committed."""
    gate = RedisGate(redis.port)
    await nursery.start(gate.serve)
    node_a = await trio.to_thread.run_sync(
        lambda: node_process("--redis-url", gate.url, "--redis-timeout", "30"))
    settings = Settings.from_env({}, redis_url=redis.url)
    async with connect(node_a.url) as on_a, redis_client(settings) as client:
        sid = (await on_a.request("create_session", client_id="snap"))["session_id"]
        await on_a.request("update_session_state", session_id=sid, state_data={"n": 1})
        gate.arm(keys.SessionKeys(sid).state.encode(), mode="request")
        async with trio.open_nursery() as inner:
            answer: dict[str, Any] = {}

            async def stale_write() -> None:
                answer.update(await on_a.call("update_session_state", {
                    "session_id": sid, "state_data": {"n": 1}, "expected_version": 1}))

            inner.start_soon(stale_write)
            with trio.fail_after(5):
                await gate.triggered.wait()  # A saw version 2 and now reads the state
            # Another writer commits version 3 meanwhile (no takeover: the store directly).
            other = SessionStore(client, settings, "other-writer")
            async with other.transaction(sid, None, "other") as (tx, _):
                await tx.commit(Commit(request_id="other", state_data={"n": 2}))
            gate.release()
    details = answer["details"]
    assert answer["error_type"] == "SessionConflict"
    # n is version - 1 in every stored state of this session.
    assert details["session_state"]["n"] == details["current_version"] - 1, details


async def test_a_write_that_keeps_losing_races_is_a_conflict_not_an_internal_error(
        node_process, redis):
    """Every WATCH attempt of the commit is spoiled (a thread refreshes the session's watched
    ``alive`` key without pause): after its bounded retries the node must answer
    ``SessionConflict`` (retry the same id), not ``Error`` (it used to leak WatchError)."""
    node = node_process()
    async with connect(node.url) as conn:
        sid = (await conn.request("create_session", client_id="hot"))["session_id"]
        alive = keys.SessionKeys(sid).alive.encode()
        stop, running = threading.Event(), threading.Event()

        def spoil() -> None:
            """Send PEXPIRE without a pause (a second thread drains the replies)."""
            command = b"*3\r\n$7\r\nPEXPIRE\r\n$%d\r\n%s\r\n$7\r\n3600000\r\n" % (len(alive), alive)
            with socket.create_connection(("127.0.0.1", redis.port)) as sock:
                sock.settimeout(5)

                def drain() -> None:
                    try:
                        while sock.recv(65536):
                            running.set()
                    except OSError:
                        pass

                reader = threading.Thread(target=drain, daemon=True)
                reader.start()
                while not stop.is_set():
                    sock.sendall(command * 50)
                sock.shutdown(socket.SHUT_WR)
                reader.join(5)

        spoiler = threading.Thread(target=spoil, daemon=True)
        spoiler.start()
        try:
            await wait_until(running.is_set, 5, "the spoiler runs")
            refused = await conn.call("update_session_state",
                                      {"session_id": sid, "state_data": "hot"},
                                      request_id="hot-1")
        finally:
            stop.set()
            await trio.to_thread.run_sync(spoiler.join, 10)
        again = await conn.call("update_session_state", {"session_id": sid, "state_data": "hot"},
                                request_id="hot-1")
    assert refused["status"] == "error" and refused["error_type"] == "SessionConflict", refused
    assert "current_version" not in (refused.get("details") or {})
    assert again["status"] == "success" and again["result"]["version"] == 2
