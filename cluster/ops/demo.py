"""The scripted demo: a Smalltalk session survives the SIGKILL of the node serving it.

``scripts/demo`` runs this: ``stui-cluster up`` with 3 nodes (embedded Redis, HAProxy in front
when installed), then, as a client through the load balancer: define a class, evaluate, inspect,
store the client's UI state, kill the serving node with SIGKILL, resume on another node, and
show the state intact with the timings. The cluster is left running with the commands to try
it by hand (``--stop`` stops it at the end instead).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import trio

from client.credentials import minter
from client.session import open_session

from . import launcher

DEFINE = (
    "Object subclass: #Account instanceVariableNames: 'owner balance' "
    "classVariableNames: '' package: 'Demo'. "
    "Account compile: 'owner: aString owner := aString. balance := 0'. "
    "Account compile: 'deposit: amount balance := balance + amount'. "
    "Account compile: 'balance ^balance'. "
    "Account compile: 'printOn: aStream aStream nextPutAll: owner; nextPutAll: '': ''; "
    "print: balance'. "
    "acct := Account new owner: 'ada'; yourself. acct deposit: 100. acct"
)


CLIENT_ID = "demo-user"


def step(text: str) -> None:
    print(f"  • {text}", flush=True)


def show(label: str, value: Any) -> None:
    print(f"      {label}: {value if isinstance(value, str) else json.dumps(value)}", flush=True)


async def scripted_session(state: launcher.ClusterState) -> bool:
    ui_state = {"panes": ["workspace", "inspector", "transcript"], "cursor": [3, 14]}
    states: list[str] = []
    secret = state.secret  # the cluster's, from the state dir (mode 0600)
    async with open_session(
        state.urls or [n.url for n in state.nodes],
        CLIENT_ID,
        token=minter(secret, CLIENT_ID) if secret else None,
        ca=state.ca_file,
        on_state=lambda s, _info: states.append(s),
        reconnect_timeout=20,
    ) as client:
        step(f"session {str(client.session_id)[:12]}… on {client.node_id} via {client.url}")
        defined = await client.evaluate(DEFINE)
        step("defined class Account, made acct and deposited 100")
        show("print-it", defined["result"])
        more = await client.evaluate(
            "acct deposit: 23. Transcript show: 'saved!'; cr. acct balance"
        )
        show("acct balance", more["result"])
        inspected = await client.request("inspect", object_id=defined["object_id"])
        fields = {f["name"]: f["print_string"] for f in inspected["fields"]}
        show("inspect acct", fields)
        await client.update_state(ui_state)
        step("stored the client's UI state")
        serving = client.node_id
        t_kill = time.perf_counter()
        launcher.kill_node(Path(state.state_dir), str(serving))
        step(f"killed {serving} with SIGKILL")
        after = await client.evaluate("acct balance")
        resumed_ms = (time.perf_counter() - t_kill) * 1000
        step(f"resumed on {client.node_id} {resumed_ms:.0f} ms after the kill")
        show("acct balance", after["result"])
        restored = client.restore_result
        show("session_state", restored.get("session_state"))
        show("variables", restored.get("workspace_context", {}).get("variables"))
        intact = after["result"] == "123" and restored.get("session_state") == ui_state
        step("state intact" if intact else "STATE DIFFERS")
        show("connection states", " -> ".join(states))
        sid = client.session_id
    ca = f" --ca {state.ca_file}" if state.ca_file else ""
    print(
        "\nTry it by hand (stui finds the cluster's secret in the state dir):\n"
        f"  .venv/bin/stui --state-dir {state.state_dir} --url {' --url '.join(state.urls)}"
        f"{ca} --client-id {CLIENT_ID} --session-id {sid}\n"
        f"  .venv/bin/stui-cluster --state-dir {state.state_dir} sessions\n"
        f"  .venv/bin/stui-cluster --state-dir {state.state_dir} logs node-1\n"
        f"  .venv/bin/stui-cluster --state-dir {state.state_dir} status\n"
        f"  .venv/bin/stui-cluster --state-dir {state.state_dir} kill-node node-2\n"
        f"  .venv/bin/stui-cluster --state-dir {state.state_dir} down",
        flush=True,
    )
    return bool(intact)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/demo",
        description="Start a local cluster (embedded Redis, 3 nodes, HAProxy when installed), "
        "run a scripted Smalltalk session that survives a SIGKILL of its node, and leave the "
        "cluster running to try by hand.",
        epilog="examples:\n  scripts/demo\n  scripts/demo --stop      # stop the cluster at the "
        "end\n  scripts/demo --tls       # wss:// through HAProxy, verified with a local CA",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--nodes", type=int, default=3, help="nodes to start (default %(default)s)")
    p.add_argument("--port", type=int, default=0, help="load balancer port (default: a free one)")
    p.add_argument("--state-dir", type=Path, default=launcher.DEFAULT_STATE_DIR,
                   help="where the cluster lives (default %(default)s)")
    p.add_argument("--stop", action="store_true", help="stop the cluster when the script ends")
    p.add_argument("--tls", action="store_true", help="serve wss:// with a local CA")
    args = p.parse_args(argv)
    print("STUI Cluster demo", flush=True)
    if (args.state_dir / "cluster.json").exists():
        step("stopping the cluster a previous demo left running")
        try:
            launcher.down(args.state_dir)
        except (FileNotFoundError, ValueError):
            pass
    state = launcher.up(args.nodes, state_dir=args.state_dir, lb_port=args.port, tls=args.tls)
    ok = False
    try:
        ok = trio.run(scripted_session, state)
    finally:
        if args.stop or not ok:
            launcher.down(args.state_dir)
            step("stopped everything the demo started")
    print("demo " + ("succeeded" if ok else "FAILED"), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
