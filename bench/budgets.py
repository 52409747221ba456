"""The request budgets of issue 9 ("the lean request path"), in one place, and their verdicts.

Per request, held by the bench:

- warm ``evaluate`` (``x := x + 1`` on the node and connection that own the session) and
  ``update_session_state``: at most 2 Redis round trips and 12 Redis commands (``INFO
  commandstats``: commands run inside scripts count); ``restore_session`` at most 3 round
  trips; ``ping`` none;
- at 50 connections (one worker, pinned beside the echo floor on the same core): node CPU per
  request at most 400 µs for ``update_session_state`` and 600 µs for the warm evaluation;
  throughput at least 0.25 (update) and 0.20 (evaluate) of the echo floor at the same number of
  connections; p99 at most 50 ms for both.

Per-request counts come from counters over a window, so the node's own background work
(heartbeats, the sweeper: a few round trips and commands a second) lands in them too: a count
is judged over budget only past :data:`COUNT_SLACK` per request.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

COUNT_SLACK = 0.05
"""Round trips or commands per request above a budget that still count as within it
(the node's background traffic spread over the window's requests)."""

LOAD_CLIENTS = 50
"""The connection count at which the CPU, throughput and p99 budgets apply."""


@dataclass(frozen=True)
class Budget:
    """What one operation may cost; None: no budget for that measure."""

    round_trips: float | None = None
    commands: float | None = None
    node_cpu_us: float | None = None
    """At :data:`LOAD_CLIENTS` connections."""
    echo_ratio: float | None = None
    """Minimum ops/s ÷ echo floor ops/s, at :data:`LOAD_CLIENTS` connections."""
    p99_ms: float | None = None
    """At :data:`LOAD_CLIENTS` connections."""


EVALUATE = "evaluate"
BUDGETS: dict[str, Budget] = {
    "ping": Budget(round_trips=0),
    "restore_session": Budget(round_trips=3),
    "update_session_state": Budget(
        round_trips=2, commands=12, node_cpu_us=400, echo_ratio=0.25, p99_ms=50
    ),
    EVALUATE: Budget(round_trips=2, commands=12, node_cpu_us=600, echo_ratio=0.20, p99_ms=50),
}
"""Issue 9's budgets by operation (``evaluate`` is the warm ``x := x + 1``); ``create_session``
has none."""


@dataclass(frozen=True)
class Measured:
    """One cell's per-request numbers (None or NaN: not measured)."""

    operation: str
    clients: int
    round_trips: float | None
    commands: float | None
    node_cpu_us: float | None
    echo_ratio: float | None
    p99_ms: float | None


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def verdict(measured: Measured, *, load_checks: bool = True) -> str:
    """``ok``, ``OVER: <what>``, or ``–`` (no budget); ``(? rt)`` names budgets that could not
    be judged because the measure is missing. ``load_checks`` False skips the CPU, ratio and
    p99 budgets (a cell not measured as the issue measures them: more than one worker)."""
    budget = BUDGETS.get(measured.operation)
    if budget is None:
        return "–"
    over: list[str] = []
    unknown: list[str] = []

    def most(name: str, value: float | None, limit: float | None, slack: float = 0.0,
             fmt: str = "{:.1f}") -> None:
        if limit is None:
            return
        if not _known(value):
            unknown.append(name)
        elif value is not None and value > limit + slack:
            over.append(f"{name} {fmt.format(value)} > {fmt.format(limit)}")

    most("rt", measured.round_trips, budget.round_trips, COUNT_SLACK)
    most("cmd", measured.commands, budget.commands, COUNT_SLACK)
    if load_checks and measured.clients == LOAD_CLIENTS:
        most("cpu µs", measured.node_cpu_us, budget.node_cpu_us, fmt="{:,.0f}")
        most("p99 ms", measured.p99_ms, budget.p99_ms)
        if budget.echo_ratio is not None:
            if not _known(measured.echo_ratio):
                unknown.append("÷ echo")
            elif measured.echo_ratio is not None and measured.echo_ratio < budget.echo_ratio:
                over.append(f"÷ echo {measured.echo_ratio:.2f} < {budget.echo_ratio:.2f}")
    text = "OVER: " + ", ".join(over) if over else "ok"
    if unknown:
        text += f" (? {', '.join(unknown)})"
    return text


def describe() -> str:
    """The budgets as one Markdown paragraph (printed under the summary tables)."""
    parts = []
    for operation, budget in BUDGETS.items():
        limits = []
        if budget.round_trips is not None:
            limits.append(f"≤ {budget.round_trips:g} round trips")
        if budget.commands is not None:
            limits.append(f"≤ {budget.commands:g} commands")
        if budget.node_cpu_us is not None:
            limits.append(f"≤ {budget.node_cpu_us:g} µs node CPU at {LOAD_CLIENTS}")
        if budget.echo_ratio is not None:
            limits.append(f"≥ {budget.echo_ratio:g} of the echo at {LOAD_CLIENTS}")
        if budget.p99_ms is not None:
            limits.append(f"p99 ≤ {budget.p99_ms:g} ms at {LOAD_CLIENTS}")
        name = "warm `x := x + 1`" if operation == EVALUATE else f"`{operation}`"
        parts.append(f"{name}: {', '.join(limits)}")
    return (
        "Budgets (issue 9, `bench/budgets.py`) per request: " + "; ".join(parts) + ". Counts "
        f"may exceed a budget by {COUNT_SLACK} per request (the node's heartbeats and sweeper "
        "share the window). `?`: a budget that could not be judged (no round-trip counter in "
        "this node's /metrics, or no echo floor at that connection count)."
    )
