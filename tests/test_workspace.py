"""The persistent workspace (issue 3 of the plan, T3.1-T3.4): heap in Redis, registry, inspector.

Rules: a real redis-server on a free port, nodes in-process (two of them share the Redis, so a
restore on the second node proves the state came from Redis, not from a node's memory), real
WebSocket clients, a time cap per test.
"""

from __future__ import annotations

import orjson
import pytest
import trio
from conftest import connect

from client.connection import RequestFailed
from cluster import keys


async def new_session(conn):
    created = await conn.request("create_session", client_id="ws-user")
    return created["session_id"]


async def test_evaluate_answers_print_string_and_type(start_node):
    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        result = await conn.request("evaluate", session_id=sid, code="3 + 4")
    assert result["result"] == "7"
    assert result["result_type"] == "SmallInteger"
    assert result["has_error"] is False
    assert result["object_id"].startswith("r")
    assert result["execution_time"] >= 0


async def test_smalltalk_error_is_a_success_with_has_error(start_node):
    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        await conn.request("evaluate", session_id=sid, code="x := 5")
        result = await conn.request("evaluate", session_id=sid, code="x := 6. 1/0")
        after = await conn.request("evaluate", session_id=sid, code="x")
    assert result["has_error"] is True
    assert result["error_class"] == "ZeroDivide"
    assert after["result"] == "5", "an evaluation that fails discards its changes"


async def test_syntax_error_is_evaluation_error_with_position(start_node):
    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        response = await conn.call("evaluate", {"session_id": sid, "code": "3 + + 4"})
    assert response["error_type"] == "EvaluationError"
    assert response["details"]["line"] == 1
    assert response["details"]["column"] >= 1


async def test_workspace_survives_on_another_node_with_identity_and_cycles(start_node):
    first, second = await start_node(), await start_node()
    code = "a := OrderedCollection new. b := Array with: a with: a. a add: b. b size"
    async with connect(first) as conn:
        sid = await new_session(conn)
        assert (await conn.request("evaluate", session_id=sid, code=code))["result"] == "2"
    async with connect(second) as conn:
        restored = await conn.request("restore_session", session_id=sid)
        assert {"a", "b"} <= set(restored["workspace_context"]["variables"])
        same = await conn.request("evaluate", session_id=sid, code="(b at: 1) == (b at: 2)")
        cycle = await conn.request("evaluate", session_id=sid, code="(a at: 1) == b")
    assert same["result"] == "true"
    assert cycle["result"] == "true"


async def test_session_classes_and_methods_persist(start_node):
    first, second = await start_node(), await start_node()
    define = (
        "Object subclass: #Account instanceVariableNames: 'balance' "
        "classVariableNames: '' package: 'Demo'. "
        "Account compile: 'deposit: x balance := (balance ifNil: [0]) + x'. "
        "Account compile: 'balance ^balance'. "
        "acct := Account new. acct deposit: 30"
    )
    async with connect(first) as conn:
        sid = await new_session(conn)
        await conn.request("evaluate", session_id=sid, code=define)
    async with connect(second) as conn:
        await conn.request("restore_session", session_id=sid)
        result = await conn.request("evaluate", session_id=sid, code="acct deposit: 12; balance")
        source = await conn.request(
            "evaluate", session_id=sid, code="(Account sourceCodeAt: #balance) asString"
        )
    assert result["result"] == "42"
    assert "balance" in source["result"]


async def test_restore_lists_bindings_history_and_registry(start_node):
    first, second = await start_node(), await start_node()
    async with connect(first) as conn:
        sid = await new_session(conn)
        evaluated = await conn.request("evaluate", session_id=sid, code="counter := 41 + 1")
    async with connect(second) as conn:
        restored = await conn.request("restore_session", session_id=sid)
    context = restored["workspace_context"]
    assert context["variables"] == ["counter"]
    assert context["bindings"]["counter"] == {"class": "SmallInteger", "print_string": "42"}
    assert context["history"][-1]["code"] == "counter := 41 + 1"
    registry = restored["object_registry"]
    assert registry[evaluated["object_id"]]["print_string"] == "42"


async def test_inspect_fields_and_navigate(start_node):
    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        evaluated = await conn.request("evaluate", session_id=sid, code="p := 3 @ 4")
        described = await conn.request("inspect", session_id=sid, object_id=evaluated["object_id"])
        names = {f["name"]: f for f in described["fields"]}
        assert described["class"] == "Point"
        assert names["x"]["print_string"] == "3"
        opened = await conn.request(
            "open_inspector", session_id=sid, object_id=evaluated["object_id"]
        )
        moved = await conn.request(
            "navigate_inspector", session_id=sid, inspector_id=opened["inspector_id"], field="y"
        )
        assert moved["object"]["print_string"] == "4"
        assert moved["path"] == ["y"]


async def test_inspector_state_is_restored_elsewhere(start_node):
    first, second = await start_node(), await start_node()
    async with connect(first) as conn:
        sid = await new_session(conn)
        evaluated = await conn.request("evaluate", session_id=sid, code="#(10 20 30)")
        opened = await conn.request(
            "open_inspector", session_id=sid, object_id=evaluated["object_id"], view="tree"
        )
        await conn.request(
            "select_field", session_id=sid, inspector_id=opened["inspector_id"], field=2
        )
    async with connect(second) as conn:
        restored = await conn.request("restore_session", session_id=sid)
    state = restored["inspector_state"]
    assert state["inspectors"] == [
        {
            "inspector_id": opened["inspector_id"],
            "root": evaluated["object_id"],
            "path": [],
            "selected_field": 2,
            "view": "tree",
        }
    ]
    assert state["selected_object"] == evaluated["object_id"]


async def test_released_object_answers_object_not_found(start_node):
    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        evaluated = await conn.request("evaluate", session_id=sid, code="OrderedCollection new")
        await conn.request("release_object", session_id=sid, object_id=evaluated["object_id"])
        response = await conn.call(
            "inspect", {"session_id": sid, "object_id": evaluated["object_id"]}
        )
    assert response["error_type"] == "ObjectNotFound"


async def test_small_change_writes_only_changed_objects(start_node, redis):
    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        await conn.request(
            "evaluate", session_id=sid, code="big := (1 to: 200) collect: [:i | i printString]"
        )
        heap_key = keys.SessionKeys(sid).heap
        before = int(redis.command("HLEN", heap_key))
        await conn.request("evaluate", session_id=sid, code="small := 1")
        after = int(redis.command("HLEN", heap_key))
    assert before >= 200, "each string of the collection is its own record"
    assert after - before <= 1


async def test_replayed_evaluation_runs_once(start_node):
    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        await conn.request("evaluate", session_id=sid, code="n := 0")
        first = await conn.call(
            "evaluate", {"session_id": sid, "code": "n := n + 1"}, request_id="inc-1"
        )
        again = await conn.call(
            "evaluate", {"session_id": sid, "code": "n := n + 1"}, request_id="inc-1"
        )
        value = await conn.request("evaluate", session_id=sid, code="n")
    assert first["result"]["result"] == "1"
    assert again["replayed"] is True
    assert again["result"]["result"] == "1"
    assert value["result"] == "1"


async def test_runaway_loop_hits_a_limit_and_others_are_served(start_node):
    node = await start_node(eval_max_seconds=1.5)
    async with connect(node) as looping, connect(node) as other:
        sid = await new_session(looping)
        latencies: list[float] = []

        async def ping_meanwhile(cancel: trio.CancelScope) -> None:
            while not cancel.cancel_called:
                started = trio.current_time()
                await other.request("ping")
                latencies.append(trio.current_time() - started)
                await trio.sleep(0.01)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(ping_meanwhile, nursery.cancel_scope)
            response = await looping.call(
                "evaluate", {"session_id": sid, "code": "[true] whileTrue"}
            )
            nursery.cancel_scope.cancel()
    assert response["error_type"] == "Timeout"
    assert len(latencies) > 20, "other clients were answered while the loop ran"


async def test_interrupt_stops_a_running_evaluation(start_node):
    node = await start_node(eval_max_seconds=30)
    async with connect(node) as conn, connect(node) as control:
        sid = await new_session(conn)
        async with trio.open_nursery() as nursery:
            outcome: dict = {}

            async def run() -> None:
                outcome["response"] = await conn.call(
                    "evaluate", {"session_id": sid, "code": "[true] whileTrue"}
                )

            nursery.start_soon(run)
            with trio.fail_after(5):
                while sid not in node.service.interrupts:
                    await trio.sleep(0.01)
            answer = await control.request("interrupt", session_id=sid)
    assert answer["interrupted"] is True
    assert outcome["response"]["error_type"] == "Timeout"


async def test_transcript_event_and_replay_with_last_seq(start_node):
    first, second = await start_node(), await start_node()
    async with connect(first) as conn:
        sid = await new_session(conn)
        result = await conn.request("evaluate", session_id=sid, code="Transcript show: 'one'. 1")
        event = await conn.next_event("transcript")
        await conn.request("evaluate", session_id=sid, code="Transcript show: 'two'. 2")
    assert result["transcript"] == "one"
    assert event["data"]["text"] == "one" and event["seq"] == 1
    async with connect(second) as conn:
        restored = await conn.request("restore_session", session_id=sid, last_seq=1)
    assert [e["data"]["text"] for e in restored["missed_events"]] == ["two"]
    assert restored["last_seq"] == 2


async def test_damaged_object_record_is_named_and_session_stays_usable(start_node, redis):
    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        await conn.request("evaluate", session_id=sid, code="keep := 7. lost := 'text' copy")
    heap_key = keys.SessionKeys(sid).heap
    fields = redis.command("HKEYS", heap_key).split()
    victim = fields[0]
    raw = redis.command("HGET", heap_key, victim)
    envelope = orjson.loads(raw)
    envelope["body"]["tampered"] = True
    redis.command("HSET", heap_key, victim, orjson.dumps(envelope).decode())
    other = await start_node()
    async with connect(other) as conn:
        await conn.request("restore_session", session_id=sid)
        kept = await conn.request("evaluate", session_id=sid, code="keep")
        lost = await conn.request("evaluate", session_id=sid, code="lost")
    assert f"{heap_key}#{victim}" in kept["damaged"], "the damaged record is named"
    assert kept["result"] == "7", "the rest of the session stays usable"
    assert "damaged object" in lost["result"]
    assert redis.command("HEXISTS", keys.SessionKeys(sid).quarantine, f"{heap_key}#{victim}") == "1"


@pytest.mark.parametrize("code", ["'x' , 'y'", "#(1 $a 'str' #sym 2.5) printString"])
async def test_results_are_stable_across_nodes(start_node, code):
    first, second = await start_node(), await start_node()
    async with connect(first) as conn:
        sid = await new_session(conn)
        here = await conn.request("evaluate", session_id=sid, code=f"v := {code}")
    async with connect(second) as conn:
        await conn.request("restore_session", session_id=sid)
        there = await conn.request("evaluate", session_id=sid, code="v")
    assert here["result"] == there["result"]


async def test_evaluate_on_missing_session_is_not_found(start_node):
    node = await start_node()
    async with connect(node) as conn:
        with pytest.raises(RequestFailed) as failed:
            await conn.request("evaluate", session_id="A" * 32, code="1")
    assert failed.value.error_type == "SessionNotFound"


async def test_image_cache_is_bounded_by_objects_and_reloads(start_node):
    node = await start_node(max_cached_objects=300)
    async with connect(node) as conn:
        first = await new_session(conn)
        second = await new_session(conn)
        await conn.request(
            "evaluate", session_id=first, code="a := (1 to: 200) collect: [:i | i printString]"
        )
        await conn.request(
            "evaluate", session_id=second, code="b := (1 to: 200) collect: [:i | i printString]"
        )
        assert node.images.get(first) is None, "the least recently used image was dropped"
        assert node.images.evictions >= 1
        again = await conn.request("evaluate", session_id=first, code="a size")
    assert again["result"] == "200", "a dropped image is reloaded from Redis"


async def test_inspect_code_evaluates_then_describes(start_node):
    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        described = await conn.request("inspect", session_id=sid, code="#(7 8 9)", limit=2)
        failed = await conn.request("inspect", session_id=sid, code="1/0")
        neither = await conn.call("inspect", {"session_id": sid})
    assert described["class"] == "Array"
    assert described["indexed_size"] == 3
    assert [e["print_string"] for e in described["elements"]] == ["7", "8"]
    assert failed["evaluation"]["has_error"] is True
    assert neither["error_type"] == "InvalidRequest"


async def test_registry_is_bounded_oldest_released_inspected_kept(start_node):
    node = await start_node(max_registry=5)
    async with connect(node) as conn:
        sid = await new_session(conn)
        first = await conn.request("evaluate", session_id=sid, code="Array with: 1")
        opened = await conn.request("evaluate", session_id=sid, code="Array with: 2")
        await conn.request("open_inspector", session_id=sid, object_id=opened["object_id"])
        for i in range(10):
            await conn.request("evaluate", session_id=sid, code=f"Array with: {i + 10}")
        restored = await conn.request("restore_session", session_id=sid)
        gone = await conn.call("inspect", {"session_id": sid, "object_id": first["object_id"]})
        kept = await conn.request("inspect", session_id=sid, object_id=opened["object_id"])
    assert len(restored["object_registry"]) <= 5 + 2  # plus the inspector's field entries
    assert gone["error_type"] == "ObjectNotFound"
    assert kept["print_string"] == "#(2)"


async def test_a_workspace_of_the_first_format_is_read_then_moved_to_the_hash(start_node, redis):
    """Sessions stored before the workspace became a hash (one sealed string holding the
    bindings and the whole history) still restore and evaluate; their first commit moves them
    to the hash and deletes the old key."""
    from conftest import redis_call

    from cluster.integrity import seal, unseal
    from cluster.model import SessionMeta

    first, second = await start_node(), await start_node()
    async with connect(first) as conn:
        sid = await new_session(conn)
        await conn.request("evaluate", session_id=sid, code="x := 41")
    k = keys.SessionKeys(sid)
    # Rewrite the session as the first format stored it.
    flat = redis_call(redis, "HGETALL", k.workspace)
    fields = {a.decode(): b.decode() for a, b in zip(flat[::2], flat[1::2], strict=True)}
    record = unseal(fields["record"], "record")
    record["history"] = [unseal(fields["h0"], "h0")]
    del record["history"][0]["seq"], record["history_next"]
    redis_call(redis, "SET", k.legacy_workspace, seal(record), "PX", "600000")
    redis_call(redis, "DEL", k.workspace)
    flat = redis_call(redis, "HGETALL", k.meta)
    meta = SessionMeta.from_fields(
        {a.decode(): b.decode() for a, b in zip(flat[::2], flat[1::2], strict=True)}, k.meta
    )
    old = meta.with_changes(ttl_keys=meta.ttl_keys & ~32)  # no workspace hash yet
    redis_call(redis, "HSET", k.meta, *[p for kv in old.to_fields().items() for p in kv])

    async with connect(second) as conn:
        restored = await conn.request("restore_session", session_id=sid)
        assert restored["workspace_context"]["variables"] == ["x"]
        assert [h["code"] for h in restored["workspace_context"]["history"]] == ["x := 41"]
        answer = await conn.request("evaluate", session_id=sid, code="x := x + 1")
        again = await conn.request("restore_session", session_id=sid)
    assert answer["result"] == "42"
    assert redis_call(redis, "EXISTS", k.legacy_workspace) == 0
    assert [h["code"] for h in again["workspace_context"]["history"]] == ["x := 41", "x := x + 1"]
    # Absolute expiry times (PEXPIRETIME): two PTTL reads a millisecond apart made this flaky.
    expires = int(redis_call(redis, "PEXPIRETIME", k.workspace))
    assert 0 < expires <= int(redis_call(redis, "PEXPIRETIME", k.meta))


async def test_history_keeps_the_last_fifty_in_slots(start_node, redis):
    from conftest import redis_call

    node = await start_node()
    async with connect(node) as conn:
        sid = await new_session(conn)
        for i in range(53):
            await conn.request("evaluate", session_id=sid, code=f"{i}")
        restored = await conn.request("restore_session", session_id=sid)
    history = restored["workspace_context"]["history"]
    assert [h["code"] for h in history] == [str(i) for i in range(3, 53)]
    # 50 slots and the record: each evaluation rewrote its slot, not the whole history.
    assert int(redis_call(redis, "HLEN", keys.SessionKeys(sid).workspace)) == 51
