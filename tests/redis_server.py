"""Re-export of :mod:`cluster.ops.embedded_redis` for tests and benchmarks."""

from cluster.ops.embedded_redis import RedisServer as RedisServer
from cluster.ops.embedded_redis import free_port as free_port

__all__ = ["RedisServer", "free_port"]
