"""``stui-cluster logs NODE [--follow]``: a node's JSON log, readable.

Nodes started by the launcher log one JSON object per line to ``<state dir>/<node id>.log``
(``cluster/logs.py``). This shows the last lines as ``time level logger message key=value...``
(``--raw``: as stored) and, with ``--follow``, keeps printing what is appended, across a
restart of the node (the launcher appends to the same file).
"""

from __future__ import annotations

import json
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

from .launcher import ClusterState

_SHOWN = ("ts", "level", "logger", "msg", "node_id", "exc")


def log_path(state: ClusterState, name: str) -> Path:
    """The file of ``name``: a node id, ``redis`` or ``haproxy``."""
    directory = Path(state.state_dir)
    if name == "redis":
        return directory / "redis" / "redis.log"
    if name == "haproxy":
        return directory / "haproxy.cfg"
    known = [n.node_id for n in state.nodes]
    path = directory / f"{name}.log"
    if name not in known and not path.exists():
        raise KeyError(f"no node {name!r} in this cluster (nodes: {', '.join(known) or 'none'})")
    return path


def pretty(line: str) -> str:
    """One JSON log line as ``time level logger message key=value ...`` (others as they are)."""
    try:
        entry: Any = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict) or "msg" not in entry:
        return line
    extras = " ".join(f"{k}={v}" for k, v in entry.items() if k not in _SHOWN)
    text = (
        f"{entry.get('ts', '')} {str(entry.get('level', '')).upper():<7} "
        f"{entry.get('logger', '')}: {entry.get('msg', '')}"
    )
    if extras:
        text += "  " + extras
    if entry.get("exc"):
        text += "\n" + str(entry["exc"])
    return text


def show(state: ClusterState, name: str, *, lines: int = 100, follow: bool = False,
         raw: bool = False, poll: float = 0.25) -> int:
    path = log_path(state, name)
    render = (lambda text: text) if raw else pretty
    if not path.exists():
        print(f"(no log yet at {path})", file=sys.stderr)
        if not follow:
            return 0
        while not path.exists():
            time.sleep(poll)
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        for line in deque(handle, maxlen=max(0, lines)):
            print(render(line.rstrip("\n")), flush=True)
        if not follow:
            return 0
        try:
            while True:
                line = handle.readline()
                if line:
                    print(render(line.rstrip("\n")), flush=True)
                    continue
                if path.stat().st_size < handle.tell():  # truncated: start over
                    handle.seek(0)
                time.sleep(poll)
        except KeyboardInterrupt:
            return 0
