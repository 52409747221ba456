"""`free_port`: the ports the test fixtures, the launcher and the benchmarks start servers on.

A port from the kernel's ephemeral range can be taken by any outgoing connection's local end
between the check and the server's bind, so the picks stay below that range, and one process
never hands out the same port twice (a Redis Cluster asks for twelve before starting any)."""

from __future__ import annotations

import random
import socket

import pytest

from cluster.ops import embedded_redis
from cluster.ops.embedded_redis import _ephemeral_range, free_port


def test_ports_are_distinct_bindable_and_below_the_ephemeral_range() -> None:
    low, _high = _ephemeral_range()
    ports = [free_port() for _ in range(200)]
    assert len(set(ports)) == len(ports)
    assert all(10_000 <= port < low for port in ports)
    for port in ports[:20]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_seeded_global_random_does_not_decide_the_ports() -> None:
    # Chaos runs seed `random`; two processes doing so must not pick the same ports.
    low, _high = _ephemeral_range()
    random.seed(7)
    global_picks = [random.randrange(10_000, low) for _ in range(5)]
    random.seed(7)
    assert [free_port() for _ in range(5)] != global_picks


def test_a_port_something_listens_on_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        busy = next(port for port in range(20_000, 21_000) if _bound(listener, port))
        listener.listen()

        class Picker(random.Random):
            def randrange(self, *args: object, **kwargs: object) -> int:
                return next(choices)

        choices = iter([busy, busy + 1, busy + 2, busy + 3])
        monkeypatch.setattr(embedded_redis, "_PICKER", Picker())
        port = free_port()
        assert port != busy and port in (busy + 1, busy + 2, busy + 3)


def _bound(sock: socket.socket, port: int) -> bool:
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True
