"""The request path's Redis client (cluster/wire.py), against a real redis-server.

What it promises: a batch of commands is one network round trip whose replies come back in
order, error replies as values; a WATCH belongs to the task that holds the connection until its
EXEC, and a holder that leaves without EXEC cannot spoil the next holder's transaction; a round
trip that does not complete never leaves a connection in the pool; logins come from the URL.

Rules: loopback only, the shared test redis-server on a free port, a time cap per test.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import trio
from conftest import redis_call

from cluster.ops.embedded_redis import RedisServer
from cluster.wire import Endpoint, ReplyError, WireError, WirePool, WireRedirect

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def pool(redis):
    wire = WirePool(Endpoint.from_url(redis.url), timeout=2)
    yield wire
    await wire.aclose()


async def test_a_batch_is_one_round_trip_with_replies_in_order(pool):
    replies = await pool.roundtrip(
        [("SET", "k", "v"), ("GET", "k"), ("INCR", "k"), ("HSET", "h", "a", 1), ("HGETALL", "h")]
    )
    assert replies[:2] == ["OK", "v"]
    assert isinstance(replies[2], ReplyError)  # "v" is not an integer: a value, not raised
    assert replies[3:] == [1, ["a", "1"]]
    assert pool.stats.round_trips == 1
    assert pool.stats.commands == 5


async def test_a_watch_lasts_until_exec_on_the_holders_connection(pool, redis):
    async with pool.connection() as connection:
        await connection.roundtrip([("WATCH", "w"), ("GET", "w")])
        redis_call(redis, "SET", "w", "changed by someone else")
        replies = await connection.roundtrip([("MULTI",), ("SET", "w", "mine"), ("EXEC",)])
    assert replies[-1] is None  # EXEC refused: the watched key changed
    assert redis_call(redis, "GET", "w") == b"changed by someone else"


async def test_a_holder_that_leaves_mid_watch_cannot_spoil_the_next_transaction(pool, redis):
    async with pool.connection() as first:
        await first.roundtrip([("WATCH", "x")])
        first.unwatch_next = True  # leaves without EXEC (as a replayed request does)
    redis_call(redis, "SET", "x", "changed")
    async with pool.connection() as second:
        assert second is first  # the same pooled connection
        replies = await second.roundtrip([("MULTI",), ("SET", "y", "1"), ("EXEC",)])
    assert replies[-1] == ["OK"]
    assert pool.stats.commands == 1 + 4  # the UNWATCH rode along with the second batch


async def test_a_cancelled_round_trip_breaks_its_connection(pool, redis):
    async with pool.connection() as connection:
        with trio.move_on_after(0.2):
            await connection.roundtrip([("BLPOP", "never", 5)])  # blocks in Redis
        assert connection.broken
        with pytest.raises(WireError):
            await connection.roundtrip([("PING",)])
    async with pool.connection() as fresh:
        assert fresh is not connection
        assert await fresh.roundtrip([("PING",)]) == ["PONG"]


async def test_pool_waits_for_a_free_connection_then_gives_up(redis):
    wire = WirePool(Endpoint.from_url(redis.url), timeout=0.3, max_connections=1)
    try:
        async with wire.connection():
            with pytest.raises(WireError, match="no free redis connection"):
                await wire.checkout()
        async with wire.connection() as again:
            assert await again.roundtrip([("PING",)]) == ["PONG"]
    finally:
        await wire.aclose()


async def test_login_and_database_come_from_the_url(redis):
    redis_call(redis, "ACL", "SETUSER", "wiretest", "on", ">s3cret", "~*", "+@all")
    try:
        good = WirePool(Endpoint.from_url(f"redis://wiretest:s3cret@127.0.0.1:{redis.port}/3"))
        assert await good.roundtrip([("SET", "in-db-3", "yes")]) == ["OK"]
        await good.aclose()
        assert redis_call(redis, "GET", "in-db-3") is None  # not in db 0
        bad = WirePool(Endpoint.from_url(f"redis://wiretest:wrong@127.0.0.1:{redis.port}/0"))
        with pytest.raises(WireError, match="refused the login"):
            await bad.roundtrip([("PING",)])
    finally:
        redis_call(redis, "ACL", "DELUSER", "wiretest")
        db3 = WirePool(Endpoint.from_url(f"redis://127.0.0.1:{redis.port}/3"))
        await db3.roundtrip([("FLUSHDB",)])
        await db3.aclose()


async def test_redis_away_is_a_wire_error_not_a_hang(redis):
    from cluster.ops.embedded_redis import free_port

    wire = WirePool(Endpoint(port=free_port()), timeout=1)
    with pytest.raises(WireError, match="cannot connect"):
        await wire.roundtrip([("PING",)])


def test_endpoint_parses_password_only_urls():
    endpoint = Endpoint.from_url("redis://:p%40ss@10.0.0.1:7000/2")
    assert (endpoint.host, endpoint.port, endpoint.db) == ("10.0.0.1", 7000, 2)
    assert endpoint.username is None and endpoint.password == "p@ss"
    assert endpoint.login() == [("AUTH", "p@ss"), ("SELECT", 2)]
    with pytest.raises(ValueError):
        Endpoint.from_url("redis+sentinel://h:1/name")


async def test_the_watchdog_ends_a_round_trip_that_outlives_its_deadline(redis, nursery):
    """With the watchdog running, a round trip carries a deadline instead of a cancel scope;
    one that Redis does not answer in time ends with an error and leaves no connection
    behind."""
    wire = WirePool(Endpoint.from_url(redis.url), timeout=0.3)
    await nursery.start(wire.watchdog.run)
    try:
        started = trio.current_time()
        with pytest.raises(WireError, match=r"did not answer within 0\.3 s"):
            await wire.roundtrip([("BLPOP", "never", 5)])
        assert 0.3 <= trio.current_time() - started < 1.5
        assert not wire.watchdog.active
        assert await wire.roundtrip([("PING",)]) == ["PONG"]
    finally:
        await wire.aclose()


async def test_without_the_watchdog_a_round_trip_is_still_bounded(redis):
    wire = WirePool(Endpoint.from_url(redis.url), timeout=0.3)
    try:
        assert not wire.watchdog.running
        with pytest.raises(WireError, match=r"did not answer within 0\.3 s"):
            await wire.roundtrip([("BLPOP", "never", 5)])
    finally:
        await wire.aclose()


async def test_a_redis_still_loading_its_data_raises_instead_of_answering_values(tmp_path):
    # A real restart: a server saves a million keys, and a new one on the same dir loads
    # them, answering clients between chunks (-LOADING) while it does. A reply list with
    # -LOADING in it would reach code that parses replies (an HGETALL answered -LOADING is
    # not a hash); it must raise WireRedirect (a WireError: the store's "unavailable",
    # which requests wait out) and leave the connection usable.
    first = RedisServer(data_dir=tmp_path, extra_args=("--enable-debug-command", "local"))
    first.start()
    try:
        first.command("DEBUG", "POPULATE", "1000000")
        first.command("SAVE")
    finally:
        first.stop()
    second = RedisServer(
        port=first.port, data_dir=tmp_path,
        extra_args=("--loading-process-events-interval-bytes", "1024"),
    )
    binary = shutil.which("redis-server")
    assert binary is not None
    second.process = subprocess.Popen(
        second.command_line(binary), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wire = WirePool(Endpoint.from_url(second.url), timeout=2)
    loading = answered = 0
    try:
        with trio.fail_after(20):
            while not answered:
                try:
                    replies = await wire.roundtrip([("GET", "key:1"), ("DBSIZE",)])
                except WireRedirect as exc:
                    assert exc.kind == "LOADING"
                    loading += 1
                    await trio.sleep(0.001)
                except WireError:  # not listening yet
                    await trio.sleep(0.01)
                else:
                    assert not any(isinstance(reply, ReplyError) for reply in replies), replies
                    assert replies == ["value:1", 1_000_000]
                    answered += 1
        assert loading > 0, "the server finished loading before it was asked: not a test"
    finally:
        await wire.aclose()
        second.stop()
