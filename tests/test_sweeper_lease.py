"""The sweeper lease: one sweeper at a time, fenced by an epoch, released on drain.

Rules: a real redis-server on a free port; two sweepers with their own store clients.
"""

from __future__ import annotations

from conftest import redis_call

from cluster import keys
from cluster.expiry import Sweeper
from cluster.settings import Settings
from cluster.store import SessionStore, connect


async def test_one_holder_a_new_epoch_after_expiry_and_release(redis):
    settings = Settings.from_env({}, redis_url=redis.url, cleanup_interval=1)
    first_client, second_client = connect(settings), connect(settings)
    async with first_client, second_client:
        first = Sweeper(SessionStore(first_client, settings, "a"), "a")
        second = Sweeper(SessionStore(second_client, settings, "b"), "b")
        assert await first.acquire_lease()
        assert not await second.acquire_lease(), "one sweeper at a time"
        assert await first.acquire_lease(), "the holder keeps its lease"
        held_epoch = first.epoch

        # The holder pauses past its lease: the next sweeper gets a higher epoch, and the
        # paused one can tell it lost the lease.
        redis_call(redis, "PEXPIRE", keys.SWEEPER_LEASE, "1")
        redis_call(redis, "DEL", keys.SWEEPER_LEASE)
        assert await second.acquire_lease()
        assert second.epoch == held_epoch + 1
        assert not await first.holds_lease()
        assert await second.holds_lease()

        # A draining holder gives the lease up; a non-holder's release changes nothing.
        await first.release_lease()
        assert await second.holds_lease()
        await second.release_lease()
        assert redis_call(redis, "EXISTS", keys.SWEEPER_LEASE) == 0
        assert await first.acquire_lease()
        assert first.epoch == held_epoch + 2
