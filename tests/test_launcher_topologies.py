"""``stui-cluster up --redis-topology sentinel|cluster``: secure by default, like standalone.

The launcher starts the topology with AOF and the same ACL users on every data node, the nodes
on a ``redis+sentinel://`` or ``redis+cluster://`` URL with the restricted user; a workload
runs, and no data node's ``ACL LOG`` shows a denial (the nodes' user has every command it
needs, including the router's). ``status --json`` shows the topology, the primaries and their
replicas' lag; ``down`` stops every process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trio
from conftest import cluster_cli
from test_launcher import _read, _work

from cluster.ops import launcher, processes


@pytest.mark.parametrize("kind", ["sentinel", "cluster"])
def test_up_status_down_with_a_redis_that_fails_over(kind: str, tmp_path: Path):
    state_dir = tmp_path / "cluster"
    try:
        up = cluster_cli("up", "--nodes", "1", "--port", "0", "--workers", "1",
                         "--redis-topology", kind, "--detach", state=state_dir)
        assert up.returncode == 0, up.stderr[-2000:]
        state = launcher.ClusterState.load(state_dir)
        assert state.redis_url.startswith(f"redis+{kind}://stui@")
        topology = launcher.local_topology(state)
        assert topology is not None and topology.kind == kind
        secret = state.secret
        ids = trio.run(_work, state.urls[0], 4, secret)
        for i, sid in enumerate(ids):
            got = trio.run(_read, state.urls[0], sid, f"ops-{i}", secret)
            assert got == ({"i": i}, str(i * 10))
        denied = {m.port: topology.command(m.port, "ACL", "LOG") for m in topology.data_members}
        assert all(text == "" for text in denied.values()), denied
        status = cluster_cli("status", "--json", state=state_dir)
        assert status.returncode == 0, status.stderr
        store = json.loads(status.stdout)["store"]
        assert store["topology"] == kind
        expected = (1, 2) if kind == "sentinel" else (3, 1)
        assert len(store["shards"]) == expected[0]
        assert all(len(s["replicas"]) == expected[1] for s in store["shards"]), store
        text = cluster_cli("status", state=state_dir).stdout
        assert f"store     {kind}" in text and "B behind" in text
        listed = cluster_cli("sessions", "--json", state=state_dir)
        assert listed.returncode == 0, listed.stderr
        assert {row["session_id"] for row in json.loads(listed.stdout)} == set(ids)
        pids = [m.pid for m in topology.members]
    finally:
        if (state_dir / "cluster.json").exists():
            down = cluster_cli("down", state=state_dir)
            assert down.returncode == 0, down.stderr
    assert not any(processes.alive(pid) for pid in pids)
