"""The session service's pipeline, driven through the handlers without a node or a socket.

Handlers need a :class:`nodes.service.SessionService` and a peer (the connection as the
session layer sees it); here the peer is :class:`Peer`, an in-memory implementation that
records what it was sent, and two services on one real Redis stand for two nodes.

The order the pipeline promises: lock, replay check, fence, run, commit, events. So a replayed
request id changes nothing (not even ownership), a holder whose epoch is stale is refused and
closed, and an evaluation's events reach the connection before its answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import trio
from conftest import redis_call

from cluster import keys
from cluster.errors import SessionTakenOver, StaleVersion, StuiError
from cluster.registry import NodeRegistry
from cluster.settings import Settings
from cluster.store import SessionStore, connect
from cluster.tokens import Grant
from nodes import handlers as handlers  # registers the commands
from nodes.dispatch import Call, commands
from nodes.metrics import NodeMetrics
from nodes.protocol import Request
from nodes.service import SessionService

pytestmark = pytest.mark.timeout(30)


class Peer:
    """A connection as the session layer sees it, kept in memory."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.client_id: str | None = None
        self.grant: Grant | None = None
        self.sent: list[dict[str, Any]] = []
        self.closed: list[tuple[str, int]] = []
        self.known: str | None = None

    def send_nowait(self, message: dict[str, Any]) -> bool:
        self.sent.append(message)
        return True

    async def taken_over(self, session_id: str, epoch: int) -> None:
        self.closed.append((session_id, epoch))

    def identify(self, client_id: str) -> None:
        self.known = client_id

    def authenticate(self, grant: Grant) -> None:
        self.client_id, self.grant = grant.client_id, grant


class Node:
    """A service and its peers: what a node is to the handlers."""

    def __init__(self, service: SessionService) -> None:
        self.service = service
        self.count = 0

    async def call(self, peer: Peer, command: str, **params: Any) -> dict[str, Any]:
        self.count += 1
        request = Request(id=f"{peer.name}-{self.count}", command=command, parameters=params)
        return await self.call_with_id(peer, request)

    async def call_with_id(self, peer: Peer, request: Request) -> dict[str, Any]:
        return await commands.dispatch(Call(self.service, peer, request))


@pytest.fixture
async def nodes(redis, nursery) -> AsyncIterator[tuple[Node, Node]]:
    settings = Settings.from_env({}, redis_url=redis.url)
    async with connect(settings) as client:
        made = []
        for node_id in ("node-a", "node-b"):
            store = SessionStore(client, settings, node_id)
            made.append(Node(SessionService(
                settings, node_id, store, NodeRegistry(client, node_id), NodeMetrics(),
                nursery.start_soon,
            )))
        yield made[0], made[1]
        for node in made:
            await node.service.store.wire.aclose()


def meta_field(redis: Any, sid: str, field: str) -> str:
    return redis_call(redis, "HGET", keys.SessionKeys(sid).meta, field).decode()


async def test_a_replayed_request_id_changes_nothing_not_even_ownership(nodes, redis):
    a, b = nodes
    alice_a, alice_b = Peer("a"), Peer("b")
    sid = (await a.call(alice_a, "create_session", client_id="alice"))["session_id"]
    update = Request(id="u-1", command="update_session_state",
                     parameters={"session_id": sid, "state_data": {"n": 1}})
    first = await a.call_with_id(alice_a, update)
    # The same request id arrives through another node (a client that failed over).
    again = await b.call_with_id(alice_b, update)
    assert again["replayed"] is True and again["version"] == first["version"] == 2
    # No takeover happened: the epoch, the owner and the holder are those of node A.
    assert meta_field(redis, sid, "epoch") == "1" and meta_field(redis, sid, "owner") == "node-a"
    assert b.service.attachments.epoch(alice_b, sid) is None
    assert a.service.attachments.epoch(alice_a, sid) == 1


async def test_a_first_write_on_another_node_takes_the_session_over(nodes, redis):
    a, b = nodes
    alice_a, alice_b = Peer("a"), Peer("b")
    sid = (await a.call(alice_a, "create_session", client_id="alice"))["session_id"]
    written = await b.call(alice_b, "update_session_state", session_id=sid, state_data=1)
    assert written["version"] == 2
    assert meta_field(redis, sid, "epoch") == "2" and meta_field(redis, sid, "owner") == "node-b"
    assert b.service.attachments.epoch(alice_b, sid) == 2
    # A's holder is now stale: its next write is refused (fenced) and it is closed.
    with pytest.raises(SessionTakenOver):
        await a.call(alice_a, "update_session_state", session_id=sid, state_data=2)
    with trio.fail_after(5):
        while not alice_a.closed:
            await trio.sleep(0.01)
    assert alice_a.closed == [(sid, 2)]
    # Not grabbed back implicitly later either: the state is B's.
    with pytest.raises(SessionTakenOver):
        await a.call(alice_a, "update_session_state", session_id=sid, state_data=3)
    restored = await b.call(alice_b, "restore_session", session_id=sid)
    assert restored["session_state"] == 1 and restored["version"] == 2


async def test_an_evaluations_transcript_reaches_the_connection_before_its_answer(nodes):
    a, _ = nodes
    alice = Peer("a")
    sid = (await a.call(alice, "create_session", client_id="alice"))["session_id"]
    answer = await a.call(alice, "evaluate", session_id=sid, code="Transcript show: 'hi'. 3 + 4")
    assert answer["result"] == "7" and answer["transcript"] == "hi"
    events = [m for m in alice.sent if m.get("event") == "transcript"]
    assert len(events) == 1
    assert events[0]["seq"] == 1 and events[0]["data"]["text"] == "hi"


async def test_a_stale_expected_version_answers_the_current_version_and_state(nodes):
    a, _ = nodes
    alice = Peer("a")
    sid = (await a.call(alice, "create_session", client_id="alice"))["session_id"]
    await a.call(alice, "update_session_state", session_id=sid, state_data={"v": 2})
    with pytest.raises(StaleVersion) as conflict:
        await a.call(alice, "update_session_state", session_id=sid, state_data={"v": 9},
                     expected_version=1)
    assert conflict.value.error_type == "SessionConflict"
    assert conflict.value.details == {"current_version": 2, "session_state": {"v": 2}}


async def test_another_clients_session_is_not_found_through_the_pipeline(nodes):
    a, _ = nodes
    alice, mallory = Peer("a"), Peer("m")
    sid = (await a.call(alice, "create_session", client_id="alice"))["session_id"]
    mallory.authenticate(Grant(client_id="mallory"))
    with pytest.raises(StuiError) as refused:
        await a.call(mallory, "evaluate", session_id=sid, code="1")
    assert refused.value.error_type == "SessionNotFound"
