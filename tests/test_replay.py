"""Event replay: events carry a per-session ``seq``; ``restore_session`` with ``last_seq`` on any
node answers every later event, in order, once.

Events are written the way an evaluation writes its transcript: by a commit whose
:class:`~cluster.store.Commit` carries ``events`` (here from the test process through a
:class:`~cluster.store.SessionStore`, so the tests do not depend on the evaluator; the
evaluator variant, skipped until ``nodes.smalltalk`` works, uses ``Transcript show:``).

Rules: loopback only, a real redis-server on a free port, real node processes on free ports
(killed with SIGKILL where a client must fail over). Every wait is capped (10 s per client
operation); each test < 10 s.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
import trio
from cluster_support import EVALUATOR
from conftest import connect, redis_call

from client.session import open_session
from cluster import keys
from cluster.settings import Settings
from cluster.store import EVENTS_LIMIT, Commit, SessionStore
from cluster.store import connect as redis_client

pytestmark = pytest.mark.timeout(60)


class EventWriter:
    """Commits that each add one transcript event, as an evaluation on some node would."""

    def __init__(self, store: SessionStore, sid: str) -> None:
        self.store = store
        self.sid = sid
        self.written = 0

    async def write(self, count: int = 1) -> list[int]:
        seqs = []
        for _ in range(count):
            self.written += 1
            done = await self.commit(f"ev-{self.written}", f"line {self.written}\n")
            assert not done.replayed
            seqs.append(done.first_seq)
        return seqs

    async def commit(self, request_id: str, text: str) -> Any:
        event = ("transcript", {"session_id": self.sid, "text": text, "request_id": request_id})
        return await self._commit(Commit(request_id=request_id, events=(event,)))

    async def _commit(self, commit: Commit) -> SimpleNamespace:
        """The commit (``replayed`` False, ``first_seq``), or the stored answer of a request id
        committed before (``replayed`` True): exactly-once, as a node does it."""
        async with self.store.transaction(self.sid, None, commit.request_id) as (tx, _):
            if tx.stored is not None:
                return SimpleNamespace(replayed=True, first_seq=None)
            done = await tx.commit(commit)
            return SimpleNamespace(replayed=False, first_seq=done.first_seq)

    async def write_batches(self, count: int, per_commit: int) -> None:
        """``count`` events, ``per_commit`` in each commit (an evaluation that printed a lot)."""
        while count > 0:
            size = min(count, per_commit)
            events = tuple(
                ("transcript", {"session_id": self.sid, "text": f"line {self.written + i}\n",
                                "request_id": f"batch-{self.written}"})
                for i in range(1, size + 1))
            await self._commit(Commit(request_id=f"batch-{self.written}", events=events))
            self.written += size
            count -= size


def texts(events: list[dict[str, Any]]) -> list[str]:
    return [e["data"]["text"] for e in events]


async def test_restore_with_last_seq_on_another_node_delivers_missed_events(node_process, redis):
    node_a = node_process()
    node_b = node_process()
    settings = Settings.from_env({}, redis_url=redis.url)
    async with redis_client(settings) as client:
        store = SessionStore(client, settings, "writer")
        async with connect(node_a.url) as on_a:
            sid = (await on_a.request("create_session", client_id="replay"))["session_id"]
            writer = EventWriter(store, sid)
            assert await writer.write(5) == [1, 2, 3, 4, 5]
            # A retried commit (same request id) is answered from storage: no second event.
            again = await writer.commit("ev-3", "line 3\n")
            assert again.replayed
        async with connect(node_b.url) as on_b:
            from_2 = await on_b.request("restore_session", session_id=sid, last_seq=2)
            from_5 = await on_b.request("restore_session", session_id=sid, last_seq=5)
            from_0 = await on_b.request("restore_session", session_id=sid, last_seq=0)
            plain = await on_b.request("restore_session", session_id=sid)
    assert [e["seq"] for e in from_2["missed_events"]] == [3, 4, 5]
    assert texts(from_2["missed_events"]) == ["line 3\n", "line 4\n", "line 5\n"]
    assert all(e["event"] == "transcript" for e in from_2["missed_events"])
    assert from_2["last_seq"] == 5 and from_2["missed_events_truncated"] is False
    assert from_5["missed_events"] == [] and from_5["last_seq"] == 5
    assert [e["seq"] for e in from_0["missed_events"]] == [1, 2, 3, 4, 5]
    assert "missed_events" not in plain and plain["last_seq"] == 5
    assert int(redis_call(redis, "XLEN", keys.SessionKeys(sid).events)) == 5


async def test_a_failing_over_client_gets_each_missed_event_once_in_order(node_process, redis):
    nodes = [node_process(), node_process(), node_process()]
    settings = Settings.from_env({}, redis_url=redis.url)
    delivered: list[dict[str, Any]] = []
    async with redis_client(settings) as client, open_session(
            [n.url for n in nodes], "follower", reconnect_timeout=10, request_timeout=10,
            ping_interval=None) as session:
        sid = session.session_id
        assert sid is not None
        writer = EventWriter(SessionStore(client, settings, "writer"), sid)

        async def collect(count: int) -> None:
            with trio.fail_after(10):
                while len(delivered) < count:
                    delivered.append(await session.events.receive())

        for round_ in range(2):
            await writer.write(3)  # written while the client's node is about to die
            serving = next(n for n in nodes if n.node_id == session.node_id)
            serving.kill()
            await collect(3 * (round_ + 1))
            assert session.state == "restored"
        info = await session.request("get_session_info")
        # Nothing more arrives: no event is delivered twice.
        with trio.move_on_after(0.3):
            extra = await session.events.receive()
            raise AssertionError(f"delivered again: {extra}")
    assert [e["seq"] for e in delivered] == [1, 2, 3, 4, 5, 6]
    assert texts(delivered) == [f"line {i}\n" for i in range(1, 7)]
    assert session.last_seq == 6 and info["session_id"] == sid


async def test_events_beyond_the_limit_are_reported_truncated(node_process, redis):
    node = node_process()
    settings = Settings.from_env({}, redis_url=redis.url)
    async with redis_client(settings) as client, connect(node.url) as conn:
        sid = (await conn.request("create_session", client_id="chatty"))["session_id"]
        writer = EventWriter(SessionStore(client, settings, "writer"), sid)
        total = EVENTS_LIMIT + 250
        await writer.write_batches(total, per_commit=50)
        restored = await conn.request("restore_session", session_id=sid, last_seq=0)
        recent = await conn.request("restore_session", session_id=sid, last_seq=total - 10)
    seqs = [e["seq"] for e in restored["missed_events"]]
    assert restored["missed_events_truncated"] is True and restored["last_seq"] == total
    assert seqs == list(range(seqs[0], total + 1)) and seqs[0] > 1
    assert len(seqs) >= EVENTS_LIMIT
    assert [e["seq"] for e in recent["missed_events"]] == list(range(total - 9, total + 1))
    assert recent["missed_events_truncated"] is False


@pytest.mark.skipif(not EVALUATOR, reason="nodes.smalltalk does not work yet")
async def test_transcript_events_from_evaluations_replay_on_another_node(node_process, redis):
    node_a = node_process()
    node_b = node_process()
    async with connect(node_a.url) as on_a:
        sid = (await on_a.request("create_session", client_id="talker"))["session_id"]
        for word in ("one", "two", "three"):
            await on_a.request("evaluate", session_id=sid,
                               code=f"Transcript show: '{word}'; cr")
        live = [await on_a.next_event("transcript", timeout=5) for _ in range(3)]
    async with connect(node_b.url) as on_b:
        restored = await on_b.request("restore_session", session_id=sid, last_seq=1)
    assert [e["seq"] for e in live] == [1, 2, 3]
    assert [e["seq"] for e in restored["missed_events"]] == [2, 3]
    assert texts(restored["missed_events"]) == ["two\n", "three\n"]
