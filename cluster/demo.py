"""The scripted demo: a session survives the SIGKILL of the node serving it.

Starts an embedded Redis and two node processes on free loopback ports, then, as a client:
creates a session on node 1, stores UI state, kills node 1 with SIGKILL, restores the session on
node 2 and shows that nothing was lost. Stops everything it started, whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from client.connection import open_connection

from .embedded_redis import RedisServer


class NodeProcess:
    """A ``stui-node`` child process; its first stdout line tells its ports."""

    def __init__(self, redis_url: str, node_id: str, *extra: str) -> None:
        cmd = [
            sys.executable,
            "-m",
            "nodes",
            "--port",
            "0",
            "--health-port",
            "0",
            "--redis-url",
            redis_url,
            "--node-id",
            node_id,
            "--log-level",
            "WARNING",
            *extra,
        ]
        self.node_id = node_id
        self.process = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parent.parent,
            env=dict(os.environ),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"node {node_id} did not start")
        info = json.loads(line)
        self.port: int = info["port"]
        self.health_port: int = info["health_port"]

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def step(text: str) -> None:
    print(f"  • {text}", flush=True)


def show(label: str, value: Any) -> None:
    print(f"      {label}: {json.dumps(value)}", flush=True)


async def scripted_session(first: NodeProcess, second: NodeProcess) -> bool:
    ui_state = {"open_panes": ["workspace", "inspector"], "cursor": [12, 4], "theme": "dark"}
    async with open_connection(first.url) as conn:
        created = await conn.request("create_session", client_id="demo-user")
        sid = created["session_id"]
        step(f"created session {sid[:12]}… on {first.node_id}")
        updated = await conn.request("update_session_state", session_id=sid, state_data=ui_state)
        step(f"stored the client's UI state (version {updated['version']})")
        show("state", ui_state)
        t_kill = time.perf_counter()
        first.kill()
        step(f"killed {first.node_id} with SIGKILL")
    async with open_connection(second.url) as conn:
        restored = await conn.request("restore_session", session_id=sid)
        elapsed = (time.perf_counter() - t_kill) * 1000
        step(f"restored on {second.node_id} {elapsed:.1f} ms after the kill")
        show("state", restored["session_state"])
        intact = bool(restored["session_state"] == ui_state and restored["version"] == 2)
        step("state intact" if intact else "STATE DIFFERS")
        info = await conn.request("get_session_info", session_id=sid)
        step(f"session expires in {info['time_until_expiry']:.0f} s (sliding)")
        await conn.request("close_session", session_id=sid)
        step("closed the session")
    return intact


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/demo",
        description="Start Redis and two nodes on loopback, run a scripted session that "
        "survives a SIGKILL of its node, print what happened, stop everything.",
    )
    p.parse_args(argv)
    print("STUI Cluster demo", flush=True)
    redis = RedisServer(appendonly=True).start()
    step(f"embedded redis-server on 127.0.0.1:{redis.port}")
    nodes: list[NodeProcess] = []
    try:
        for i in (1, 2):
            nodes.append(NodeProcess(redis.url, f"node-{i}"))
            step(f"node-{i} on ws://127.0.0.1:{nodes[-1].port}/")
        ok = trio.run(scripted_session, nodes[0], nodes[1])
    finally:
        for node in nodes:
            node.stop()
        redis.stop()
        step("stopped every process the demo started")
    print("demo " + ("succeeded" if ok else "FAILED"), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
