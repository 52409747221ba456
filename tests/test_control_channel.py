"""The node's control subscription survives a Redis restart (gotcha 1 of the Redis notes:
subscriptions must come back by themselves), and still delivers takeover notices.

Rules: a real redis-server on a free port, restarted on the same port; an in-process node;
polling with deadlines.
"""

from __future__ import annotations

import orjson
import trio
from conftest import connect, redis_call

from cluster import keys


async def _subscribers(redis, channel: str) -> int:
    try:
        reply = redis_call(redis, "PUBSUB", "NUMSUB", channel)
        return int(reply[1])
    except (OSError, ValueError, IndexError):
        return 0


async def test_takeover_notice_arrives_after_redis_restart(start_node, redis):
    node = await start_node()
    channel = keys.node_channel(node.node_id)
    async with connect(node) as conn:
        sid = (await conn.request("create_session", client_id="ctl"))["session_id"]
        redis.restart()
        with trio.fail_after(10):
            while await _subscribers(redis, channel) < 1:
                await trio.sleep(0.05)
        notice = {"type": "taken_over", "session_id": sid, "epoch": 99, "by": "elsewhere"}
        assert redis_call(redis, "PUBLISH", channel, orjson.dumps(notice)) == 1
        event = await conn.next_event("session_taken_over", timeout=5)
    assert event["data"]["session_id"] == sid
    assert event["data"]["epoch"] == 99
