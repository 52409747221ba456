"""Benchmarks of STUI Cluster (``scripts/bench``; results in ``docs/performance.md``).

Suites: ``sessions`` (issues 2 and 9: ping, the session commands and a warm evaluation of a node
process, beside the raw Redis and raw WebSocket floors measured in the same run, with Redis round
trips, commands and node CPU per request against issue 9's budgets, ``bench/budgets.py``;
``--pin``, ``--workers 1,2`` and ``--plots`` are described in ``docs/performance.md``),
``smalltalk`` (``bench/bench_smalltalk.py``), and
five that share :mod:`bench.common` (each measures the same floors in its own run and prints
ratios against them): ``persistence`` (an evaluation's cost as the session's heap grows),
``fairness`` (other clients beside an endless loop), ``failover`` (restore after SIGKILL of a
node, conflict retries, expiry cleanup), ``idle`` (idle connections per node) and ``scaling``
(evaluation throughput on one node and on two). ``--quick`` shrinks any of those five to a
smoke run (``tests/test_bench_smoke.py``).

Everything runs on 127.0.0.1 and is started and stopped by the benchmark itself: a
``redis-server``, a node process, an echo server process. The load generator is this process
(Trio, the project's own client), closed loop: each simulated client keeps one request in flight
on its own WebSocket connection.
"""
