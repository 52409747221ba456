"""The store's clients for each topology: the request path's wire, and coredis off the path.

- :func:`wire_for`: one :class:`cluster.wire.WirePool` for a standalone Redis (the request
  path exactly as before), a :class:`cluster.router.WireRouter` for Sentinel and Cluster.
- :func:`coredis_client`: what the node registry, the sweeper, pub/sub and the operator's tools
  use. Standalone: ``coredis.Redis``. Sentinel: ``coredis.Sentinel(...).primary_for(NAME)``
  (coredis 6 has no ``master_for``), which asks the sentinels where the primary is for every
  new connection. Cluster: :class:`FollowingRedisCluster`, ``coredis.RedisCluster`` with one
  repair, below.

The repair (coredis 6.9, pinned in ``pyproject.toml``; ``tests/test_redis_cluster.py`` catches a
regression): a ``RedisCluster``'s slot map is refreshed when a single command fails, but not
when a *pipeline* fails, so a client that only sends pipelines keeps sending to a dead or
demoted primary forever (measured here: never recovered after kill -9 of a primary, nor after
a graceful ``CLUSTER FAILOVER``). Reporting the pipeline's error to the cluster layout
(``connection_pool.cluster_layout.report_errors``, semi-internal) makes the client rediscover
the slots: recovery 2.0-2.6 s after kill -9 of a primary, 0.13 s after a graceful failover.
Single commands have the same gap when they cannot connect at all (the killed primary refuses
connections, and coredis takes the connection outside its error handler): the node registry's
heartbeat and ``get_session_info`` never recovered (40 s measured), so those are reported too
(recovery about 5 s after the kill, at one try a second).

The cluster client is typed as ``coredis.Redis[str]``: the off-path users only call commands
both clients have, with the same signatures.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Any, Self, TypeVar, cast

import coredis
from coredis.commands import CommandRequest
from coredis.exceptions import (
    AskError,
    ClusterDownError,
    ClusterError,
    ClusterResponseError,
    ExecAbortError,
    MovedError,
    RedisClusterError,
)
from coredis.exceptions import ConnectionError as RedisConnectionError
from coredis.patterns.pipeline import ClusterPipeline

from .router import WireRouter
from .settings import Settings
from .topology import CLUSTER, SENTINEL, Topology
from .wire import Endpoint, Wire, WirePool

REPORTED_ERRORS = (
    RedisConnectionError,
    TimeoutError,
    MovedError,
    AskError,
    ClusterDownError,
    ExecAbortError,
    ClusterResponseError,
)
"""Errors of a cluster request that mean the slot map may be stale."""

R = TypeVar("R")


def wire_for(url: str, settings: Settings) -> Wire:
    """The request path's connections to the store at ``url`` (password included)."""
    topology = Topology.from_url(url)
    if topology.standalone:
        return WirePool(Endpoint.from_url(url), timeout=settings.redis_timeout)
    return WireRouter(topology, timeout=settings.redis_timeout)


def _common(settings: Settings) -> dict[str, Any]:
    return {
        "decode_responses": True,
        "stream_timeout": settings.redis_timeout,
        "connect_timeout": settings.redis_timeout,
    }


def coredis_client(url: str, settings: Settings) -> coredis.Redis[str]:
    """A coredis client for the store at ``url``: decoded strings, bounded waits, no retries
    inside the client (a retried EXEC or INCR could run twice)."""
    topology = Topology.from_url(url)
    if topology.kind == SENTINEL:
        sentinel: coredis.Sentinel[str] = coredis.Sentinel(
            [coredis.connection.TCPLocation(a.host, a.port) for a in topology.seeds],
            sentinel_kwargs={"connect_timeout": settings.redis_timeout,
                             "stream_timeout": settings.redis_timeout},
            **_common(settings),
        )
        primary = sentinel.primary_for(
            topology.service,
            redis_class=SentinelPrimary,
            username=topology.username,
            password=topology.password,
            db=topology.db,
            max_connections=64,
        )
        assert isinstance(primary, SentinelPrimary)
        primary.sentinel = sentinel
        return primary
    if topology.kind == CLUSTER:
        cluster = FollowingRedisCluster(
            startup_nodes=[coredis.connection.TCPLocation(a.host, a.port)
                           for a in topology.seeds],
            username=topology.username,
            password=topology.password,
            max_connections=64,
            max_connections_per_node=True,
            pool_timeout=settings.redis_timeout,
            retry_policy=coredis.retry.NoRetryPolicy(),
            **_common(settings),
        )
        return cast("coredis.Redis[str]", cluster)
    client: coredis.Redis[str] = coredis.Redis.from_url(
        url,
        retry_policy=coredis.retry.NoRetryPolicy(),
        pool_timeout=settings.redis_timeout,
        max_connections=64,
        **_common(settings),
    )
    return client


class SentinelPrimary(coredis.Redis[str]):
    """The primary's client that also enters its :class:`coredis.Sentinel` (whose own clients
    answer where the primary is), so ``async with client`` is all a user writes."""

    sentinel: coredis.Sentinel[str] | None = None

    @contextlib.asynccontextmanager
    async def __asynccontextmanager__(self) -> AsyncGenerator[Self]:
        async with contextlib.AsyncExitStack() as stack:
            if self.sentinel is not None:
                await stack.enter_async_context(self.sentinel)
            await stack.enter_async_context(self.connection_pool)
            yield self


def _report(client: coredis.RedisCluster[Any], exc: Exception) -> None:
    """Tell ``client``'s cluster layout that its slot map may be stale."""
    # The layout refreshes after errors of these two kinds only; an aborted transaction (its
    # MOVED hidden inside) or a timeout is reported as one.
    counted = (
        exc if isinstance(exc, RedisClusterError | RedisConnectionError)
        else ClusterError(f"a cluster request failed: {exc!r}")
    )
    client.connection_pool.cluster_layout.report_errors(None, counted)


class _ReportingPipeline(ClusterPipeline[str]):
    """A cluster pipeline that tells the cluster layout about the errors it meets."""

    async def _execute(self) -> None:
        try:
            await super()._execute()
        except REPORTED_ERRORS as exc:
            _report(self.client, exc)
            raise


class FollowingRedisCluster(coredis.RedisCluster[str]):
    """``coredis.RedisCluster`` whose pipelines report their errors (see the module
    docstring): it follows failovers even when a caller only sends pipelines."""

    def pipeline(
        self,
        transaction: bool = False,
        *,
        raise_on_error: bool = True,
        timeout: float | None = None,
    ) -> ClusterPipeline[str]:
        return _ReportingPipeline(
            client=self, raise_on_error=raise_on_error, transaction=transaction, timeout=timeout
        )

    async def execute_command(self, command: CommandRequest[R]) -> R:
        # A single command that cannot even connect (its primary was killed) is not reported
        # by coredis either: the connection is taken outside its error handler.
        try:
            return await super().execute_command(command)
        except REPORTED_ERRORS as exc:
            _report(self, exc)
            raise
