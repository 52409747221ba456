"""Pinning: the server under test on one core, the load generator on another.

Issue 9 measures a node "pinned beside the echo on the same core": the node under test and
the echo floor's server each run alone (one after the other) on core A, the load generator
(this process) on core B. Then a ratio to the echo floor compares two servers that had the
same single core, and the load generator cannot take CPU from the server it measures.
``redis-server`` goes with the load generator (it is started by this process and inherits its
affinity): the server's core serves the server only.

Servers are started under ``taskset -c A`` (the affinity is set before ``exec``, so every
thread the server later starts inherits it); this process and redis-server are pinned with
``sched_setaffinity`` on each of their threads. Cells that must not be pinned (the 2-worker
cells of ``--workers``) call :meth:`Pinning.release` first, which gives this process and
redis-server every CPU back.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field


def usable_cpus() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return list(range(os.cpu_count() or 1))


def can_pin() -> bool:
    """``taskset`` is installed and this process may use two CPUs or more."""
    return shutil.which("taskset") is not None and len(usable_cpus()) >= 2


def set_affinity(pid: int, cpus: Iterable[int]) -> None:
    """Every thread of ``pid`` (``/proc/<pid>/task``) on ``cpus``; threads that end meanwhile
    are skipped."""
    allowed = set(cpus)
    try:
        tasks = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        tasks = [pid]
    for tid in tasks:
        try:
            os.sched_setaffinity(tid, allowed)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class Pinning:
    """Where the run's processes go. ``enabled`` False: nothing is pinned."""

    enabled: bool
    server_cpu: int = 0
    client_cpu: int = 1
    all_cpus: list[int] = field(default_factory=usable_cpus)
    pinned_now: bool = False

    @classmethod
    def choose(cls, mode: str) -> Pinning:
        """``on``, ``off`` or ``auto`` (on when :func:`can_pin`). ``on`` without taskset or a
        second CPU raises ``RuntimeError``."""
        cpus = usable_cpus()
        if mode == "off" or (mode == "auto" and not can_pin()):
            return cls(enabled=False, all_cpus=cpus)
        if not can_pin():
            raise RuntimeError("--pin on needs taskset and at least two usable CPUs")
        return cls(enabled=True, server_cpu=cpus[0], client_cpu=cpus[1], all_cpus=cpus)

    def server_prefix(self) -> list[str]:
        """The command prefix of a pinned server (empty when pinning is off or released)."""
        return ["taskset", "-c", str(self.server_cpu)] if self.pinned_now else []

    def pin(self, redis_pid: int | None = None) -> None:
        """This process (and redis-server, if given) on the client CPU."""
        if not self.enabled:
            return
        set_affinity(os.getpid(), [self.client_cpu])
        if redis_pid is not None:
            set_affinity(redis_pid, [self.client_cpu])
        self.pinned_now = True

    def release(self, redis_pid: int | None = None) -> None:
        """This process (and redis-server) back on every CPU; later servers unpinned."""
        if not self.enabled:
            return
        set_affinity(os.getpid(), self.all_cpus)
        if redis_pid is not None:
            set_affinity(redis_pid, self.all_cpus)
        self.pinned_now = False

    def describe(self) -> str:
        if not self.enabled:
            reason = "" if can_pin() else " (no taskset, or fewer than two usable CPUs)"
            return f"Nothing pinned{reason}: every process may run on every CPU."
        return (
            f"Pinned: the node under test (one worker) and the echo floor's server on CPU "
            f"{self.server_cpu} (`taskset -c {self.server_cpu}`, one after the other); the load "
            f"generator (this process) and redis-server on CPU {self.client_cpu}. Cells with "
            "more than one worker run unpinned (every process on every CPU)."
        )
