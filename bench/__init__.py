"""Benchmarks of STUI Cluster (``scripts/bench``; results in ``docs/performance.md``).

Suites: ``sessions`` (issue 2: the session commands of a node process, beside the raw Redis and
raw WebSocket floors measured in the same run) and ``smalltalk`` (``bench/bench_smalltalk.py``).

Everything runs on 127.0.0.1 and is started and stopped by the benchmark itself: a
``redis-server``, a node process, an echo server process. The load generator is this process
(Trio, the project's own client), closed loop: each simulated client keeps one request in flight
on its own WebSocket connection.
"""
