"""Garbage on the wire: every frame gets exactly one answer, and nothing stored changes.

Rules: loopback only, a real redis-server on a free port, one real in-process node on port 0;
no mocks. Each test runs in about a second (cap: 60 s per test by the 5 s per-frame waits).

How Hypothesis is used: a node and a WebSocket live in one Trio run, and Hypothesis cannot run
examples inside it (pytest-trio would start a new Trio run per example, without our node). So
each test first *collects* a batch of frames with a synchronous ``@given`` function (300
examples, ``derandomize=True`` and no example database, so the batch is the same on every run;
no shrinking: a failure names the offending frame verbatim), then sends them one by one over a
single connection. The oracle for every frame is independent of the node's code: the response
id is the frame's ``id`` if the frame is a UTF-8 text frame holding a JSON object whose ``id``
is a string of 1 to 128 characters, and ``null`` otherwise; and after each frame the very next
message must be that response (a ``ping`` at the end proves nothing extra was queued).

The fuzzing connection is bound to the client ``fuzzer`` and sometimes names the session of
another client (``owner``): that session's keys must be byte-for-byte unchanged at the end
(``DUMP`` before/after), whatever the frames were.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from conftest import RawClient, dump_keys, raw_connect
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cluster import keys
from cluster.auth import new_session_id

BATCH = 300
COMMANDS = [
    "create_session", "restore_session", "update_session_state", "close_session",
    "get_session_info", "list_client_sessions", "get_session_statistics", "ping", "authenticate",
]
FIELDS = ["client_id", "session_id", "state_data", "expected_version", "token", "last_seq"]
KNOWN_ERRORS = {
    "InvalidRequest", "SessionError", "SessionNotFound", "PermissionDenied", "Unauthorized",
    "SessionConflict", "RateLimited",
}
# Commands that can legitimately succeed for some random input on this connection.
MAY_SUCCEED = {"ping", "authenticate", "create_session", "list_client_sessions",
               "get_session_statistics", "restore_session", "get_session_info",
               "update_session_state", "close_session"}
OWNER = "owner-0b1f"

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=60)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | text,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)


def frame_strategy(session_ids: list[str]) -> st.SearchStrategy[str | bytes]:
    ids = st.one_of(
        st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=128),
        st.text(min_size=129, max_size=140),
        json_values,
    )
    client_ids = st.one_of(st.sampled_from(["fuzzer", "x", "a" * 128, "a" * 129]), text,
                           json_values).filter(lambda v: v != OWNER)
    field_values = st.one_of(
        json_values, st.sampled_from(session_ids), client_ids,
        st.integers(min_value=-2, max_value=5),
    )
    parameters = st.one_of(
        st.dictionaries(st.sampled_from(FIELDS) | text, field_values, max_size=5),
        json_values,
    )
    requests = st.fixed_dictionaries(
        {},
        optional={
            "id": ids,
            "command": st.sampled_from(COMMANDS) | json_values,
            "parameters": parameters,
        },
    ).map(lambda frame: json.dumps(frame, ensure_ascii=False))

    # Well-formed envelopes with wrong, missing or foreign parameters: these reach the
    # handlers and the store.
    shaped = st.fixed_dictionaries(
        {
            "id": st.text(alphabet="abcdef0123456789-", min_size=1, max_size=12),
            "command": st.sampled_from(COMMANDS),
            "parameters": st.dictionaries(st.sampled_from(FIELDS), field_values, max_size=4),
        }
    ).map(lambda frame: json.dumps(frame, ensure_ascii=False))

    def mutate(args: tuple[str, int, str]) -> str:
        frame, at, char = args
        at %= len(frame) + 1
        return frame[:at] + char + frame[at + 1:]

    mutated = st.tuples(requests, st.integers(0, 400), st.characters(codec="utf-8")).map(mutate)
    return st.one_of(
        text,
        json_values.map(lambda value: json.dumps(value, ensure_ascii=False)),
        requests,
        shaped,
        shaped,
        shaped,
        mutated,
        st.binary(max_size=80),
    )


def collect(strategy: st.SearchStrategy[Any], count: int = BATCH) -> list[Any]:
    """``count`` examples of ``strategy``, the same on every run."""
    drawn: list[Any] = []

    @settings(max_examples=count, derandomize=True, database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn


def expected_id(frame: str | bytes) -> str | None:
    """The id a correct node answers with (the oracle; see the module docstring)."""
    if isinstance(frame, bytes):
        return None
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict):
        return None
    rid = message.get("id")
    return rid if isinstance(rid, str) and 1 <= len(rid) <= 128 else None


def reaches_a_handler(frame: str | bytes) -> bool:
    """A well-formed envelope naming a real command: its parameters are what gets tested."""
    if expected_id(frame) is None:
        return False
    message = orjson.loads(frame)
    return message.get("command") in COMMANDS and isinstance(
        message.get("parameters", {}), dict | None
    )


async def send_all(client: RawClient, frames: list[str | bytes]) -> dict[str, int]:
    """Send each frame, check its one answer; count outcomes (and frames past the decoder)."""
    outcomes: dict[str, int] = {"handled": 0}
    for n, frame in enumerate(frames):
        response = await client.ask(frame)
        where = f"frame #{n}: {frame!r}\nresponse: {response!r}"
        assert response["id"] == expected_id(frame), where
        assert response["status"] in ("success", "error"), where
        if response["status"] == "error":
            assert response["error_type"] in KNOWN_ERRORS, where  # never an internal "Error"
            assert isinstance(response["error"], str) and response["error"], where
            outcome = response["error_type"]
        else:
            command = orjson.loads(frame)["command"]
            assert command in MAY_SUCCEED, where
            outcome = f"success:{command}"
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        outcomes["handled"] += reaches_a_handler(frame)
    await client.assert_alive("after-the-batch")
    return outcomes


async def test_garbage_frames_each_get_one_answer_and_change_nothing(start_node, redis):
    node = await start_node()
    async with raw_connect(node) as owner:
        created = await owner.call("create_session", {"client_id": OWNER})
        owned = created["result"]["session_id"]
        await owner.call("update_session_state",
                         {"session_id": owned, "state_data": {"precious": [1, 2, 3]}})
    async with raw_connect(node) as fuzzer:
        await fuzzer.call("authenticate", {"client_id": "fuzzer"})
        own = (await fuzzer.call("create_session", {"client_id": "fuzzer"}))["result"]
        frames = collect(frame_strategy([owned, own["session_id"], new_session_id()]))
        before = {k: v for k, v in dump_keys(redis).items() if owned in k}
        assert set(before) >= {keys.SessionKeys(owned).meta, keys.SessionKeys(owned).state}
        outcomes = await send_all(fuzzer, frames)
        after = {k: v for k, v in dump_keys(redis).items() if owned in k}
    assert after == before
    # The batch exercised more than the frame decoder.
    assert outcomes["handled"] > BATCH // 6, outcomes
    assert len([o for o in outcomes if o != "handled"]) >= 4, outcomes
    async with raw_connect(node) as owner:
        restored = await owner.call("restore_session", {"session_id": owned})
    assert restored["result"]["session_state"] == {"precious": [1, 2, 3]}
    assert restored["result"]["version"] == 2


async def test_unauthenticated_garbage_on_a_secret_cluster(start_node, redis):
    # With a secret and no authentication, no frame may reach a session.
    node = await start_node(secret="s3cret")
    from cluster.auth import token_for

    async with raw_connect(node) as owner:
        await owner.call("authenticate", {"client_id": OWNER, "token": token_for("s3cret", OWNER)})
        owned = (await owner.call("create_session", {"client_id": OWNER}))["result"]["session_id"]
    before = dump_keys(redis)
    async with raw_connect(node) as fuzzer:
        frames = collect(frame_strategy([owned, new_session_id()]), count=200)
        outcomes = await send_all(fuzzer, frames)
    assert {o for o in outcomes if o.startswith("success:")} <= {"success:ping",
                                                                "success:authenticate"}
    assert outcomes.get("Unauthorized", 0) > 0
    assert {k: v for k, v in dump_keys(redis).items() if owned in k} == {
        k: v for k, v in before.items() if owned in k
    }


def test_the_frame_batch_is_deterministic():
    strategy = frame_strategy(["a" * 32])
    assert collect(strategy, 50) == collect(strategy, 50)


# -- the fuzz tool (scripts/fuzz) against node processes ---------------------------------------
#
# The tests above fuzz one in-process node from Hypothesis batches; these run the tool
# (cluster/ops/fuzz.py): a launched cluster (node processes that require tokens, Redis with
# ACL users), victims with state and bindings, and seeded hostile frames of every kind over
# several connections. CI runs 1,500 frames; STUI_SLOW=1 runs the 10,000 of the issue.


def _fuzz(frames: int, seed: int, tmp_path):
    from cluster.ops import fuzz

    report = fuzz.run(frames, seed, state_dir=tmp_path / "cluster", out=lambda _text: None)
    assert report.ok, report.table()
    assert report.frames == frames
    assert report.crashes == 0 and report.stored_changes == [] and report.violations == []
    assert set(report.kinds) == {"garbage", "huge", "unauth", "token", "cross", "own"}
    for refusal in ("Unauthorized", "SessionNotFound", "PermissionDenied", "InvalidRequest"):
        assert report.outcomes[refusal] > 0, report.outcomes
    return report


def test_the_fuzz_tool_bounded(tmp_path):
    report = _fuzz(1500, 11, tmp_path)
    assert report.victims_intact


@pytest.mark.slow
def test_the_fuzz_tool_ten_thousand_frames(tmp_path):
    _fuzz(10_000, 1, tmp_path)


def test_the_fuzz_audit_sees_a_changed_victim_and_a_dead_node(tmp_path):
    """The audit is not a formality: a victim key changed behind its back, and a killed
    node, are both reported."""
    import os
    import signal

    import trio

    from cluster.ops import fuzz, launcher, processes

    state = launcher.up(2, state_dir=tmp_path / "cluster", lb_port=0)
    try:
        fuzzer = fuzz.Fuzzer(state, 0, 1, 1 << 20, lambda _text: None)

        async def scenario() -> fuzz.Report:
            await fuzzer.setup_victims()
            before = await fuzzer.snapshot()
            sid = next(iter(fuzzer.victims))
            launcher.redis_server(state).command(
                "HSET", keys.SessionKeys(sid).meta, "client_id", "fuzzer")
            os.kill(state.nodes[0].pid, signal.SIGKILL)
            processes.wait_gone(state.nodes[0].pid, 5)
            await fuzzer.audit(before)
            return fuzzer.report

        report = trio.run(scenario)
    finally:
        launcher.down(tmp_path / "cluster")
    changed = next(iter(fuzzer.victims))
    assert report.stored_changes == [keys.SessionKeys(changed).meta]
    assert report.victims_intact is False
    assert report.dead_nodes == ["node-1"]
    assert not report.ok
