"""The session heap through Redis: graphs round-trip exactly, commits are atomic, the collector
never frees a reachable object.

Rules: a real redis-server on a free port; in-process nodes; every graph goes out through one
node and comes back through another, so it really travelled through Redis.
"""

from __future__ import annotations

import orjson
import trio
from conftest import connect, redis_call
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cluster import keys
from nodes.smalltalk import Image

# A graph: named collections, each holding small integers, strings or references to other
# collections (by index), so sharing and cycles appear naturally.
ATOM = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.text("abc xyz", max_size=5).map(lambda s: "'" + s + "'"),
    st.sampled_from(["nil", "true", "#sym", "$q", "(1/3)", "(2@3)"]),
)
GRAPH = st.lists(
    st.tuples(
        st.sampled_from(["OrderedCollection", "Array", "Set"]),
        st.lists(st.one_of(ATOM, st.integers(0, 5).map(lambda i: f"@{i}")), max_size=4),
    ),
    min_size=1,
    max_size=6,
)


def build_code(graph: list[tuple[str, list[str]]]) -> str:
    """Smalltalk that builds the graph into workspace variables g0, g1, ..."""
    lines = []
    for index, (kind, _) in enumerate(graph):
        ctor = "Array new: 0" if kind == "Array" else f"{kind} new"
        lines.append(f"g{index} := {ctor}.")
    for index, (kind, items) in enumerate(graph):
        for item in items:
            value = f"g{int(item[1:]) % len(graph)}" if item.startswith("@") else item
            if kind == "Array":
                lines.append(f"g{index} := g{index} copyWith: {value}.")
            elif kind == "Set" and item.startswith("@"):
                continue  # a Set of mutable collections re-hashes as they change: skip
            else:
                lines.append(f"g{index} add: {value}.")
    return "\n".join(lines)


def shape_code(count: int) -> str:
    """Smalltalk answering the sizes and identity structure of g0..gN: sizes, and which g's
    each one holds (by identity: equality would recurse forever on a cycle, as in Pharo)."""
    names = [f"g{i}" for i in range(count)]
    checks = []
    for a in names:
        checks.append(f"{a} size printString")
        for b in names:
            checks.append(f"({a} anySatisfy: [:e | e == {b}]) printString")
    return "{" + ". ".join(checks) + "} printString"


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(graph=GRAPH)
def test_random_graphs_round_trip_through_redis(redis_server, graph):
    redis_server.command("FLUSHALL")
    code = build_code(graph)
    shape = shape_code(len(graph))

    async def scenario() -> tuple[str, str]:
        from cluster.settings import Settings
        from nodes.node import Node

        settings_ = Settings.from_env({}, redis_url=redis_server.url, port=0)
        async with trio.open_nursery() as nursery:
            first, second = Node(settings_), Node(settings_)
            await nursery.start(first.run)
            await nursery.start(second.run)
            async with connect(first) as conn:
                sid = (await conn.request("create_session", client_id="graph"))["session_id"]
                built = await conn.request("evaluate", session_id=sid, code=code)
                assert built["has_error"] is False, built
                before = (await conn.request("evaluate", session_id=sid, code=shape))["result"]
            async with connect(second) as conn:
                await conn.request("restore_session", session_id=sid)
                after = (await conn.request("evaluate", session_id=sid, code=shape))["result"]
            first.drain()
            second.drain()
        return before, after

    before, after = trio.run(scenario)
    assert before == after


def test_image_records_round_trip_with_shared_and_cyclic_objects():
    image = Image.new()
    outcome = image.evaluate(
        "a := OrderedCollection new. b := Array with: a with: a. a add: b. d := Dictionary new. "
        "d at: #self put: d. d at: #a put: a. s := 'shared'. t := Array with: s with: s"
    )
    assert not outcome.has_error
    records = {
        oid: orjson.loads(orjson.dumps(image.dump_object(oid))) for oid in image.object_ids()
    }
    workspace = orjson.loads(orjson.dumps(image.dump_workspace()))
    copy = Image.load(records, workspace)
    for check in (
        "(b at: 1) == (b at: 2)",
        "(a at: 1) == b",
        "(d at: #self) == d",
        "(d at: #a) == a",
        "(t at: 1) == (t at: 2)",
    ):
        assert copy.evaluate(check).print_string == "true", check


async def test_a_failed_commit_leaves_nothing(start_node, redis):
    """An evaluation whose commit loses to a takeover writes nothing at all."""
    node = await start_node()
    async with connect(node) as conn, connect(node) as thief:
        sid = (await conn.request("create_session", client_id="atom"))["session_id"]
        await conn.request("evaluate", session_id=sid, code="x := 1")
        k = keys.SessionKeys(sid)
        # Another connection takes the session over: the first connection's epoch is stale.
        await thief.request("restore_session", session_id=sid)
        before = {key: redis_call(redis, "DUMP", key) for key in k.data_keys()}
        response = await conn.call("evaluate", {"session_id": sid, "code": "x := 2. y := 3"})
        after = {key: redis_call(redis, "DUMP", key) for key in k.data_keys()}
        value = await thief.request("evaluate", session_id=sid, code="{x. y}")
    assert response.get("status") == "error"
    assert response["error_type"] == "SessionError"
    assert after == before, "no record of the failed evaluation was written"
    assert value["result"] == "#(1 nil)"


async def test_collector_frees_garbage_and_never_a_reachable_object(start_node, redis):
    node = await start_node()
    async with connect(node) as conn:
        sid = (await conn.request("create_session", client_id="gc"))["session_id"]
        heap = keys.SessionKeys(sid).heap
        await conn.request(
            "evaluate", session_id=sid, code="keep := OrderedCollection new. keep add: 'kept' copy"
        )
        kept_result = await conn.request("evaluate", session_id=sid, code="Array with: 'held'")
        # 1,500 strings, then dropped; then 1,600 more kept: the heap has more than doubled
        # since the last collection, so that commit runs the collector.
        junk = await conn.request(
            "evaluate", session_id=sid, code="junk := (1 to: 1500) collect: [:i | i printString]"
        )
        grown = int(redis.command("HLEN", heap))
        await conn.request("evaluate", session_id=sid, code="junk := nil")
        # The registry keeps every result alive until the client releases it.
        await conn.request("release_object", session_id=sid, object_id=junk["object_id"])
        await conn.request(
            "evaluate", session_id=sid, code="more := (1 to: 1600) collect: [:i | i printString]"
        )
        shrunk = int(redis.command("HLEN", heap))
        check = await conn.request("evaluate", session_id=sid, code="(keep at: 1) , '!'")
        counted = await conn.request("evaluate", session_id=sid, code="more size")
        held = await conn.request("inspect", session_id=sid, object_id=kept_result["object_id"])
    assert grown > 1500
    assert 1600 <= shrunk < 1700, "the 1,500 unreachable strings were collected"
    assert counted["result"] == "1600"
    assert check["result"] == "'kept!'"
    assert held["elements"][0]["print_string"] == "'held'", "a registered object survives"
