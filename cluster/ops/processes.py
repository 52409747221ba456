"""Local processes by pid: whether one is alive, and waiting for one to be gone."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie does not)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0): check its state.
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
        return status != "Z"
    except OSError:
        return True


def wait_gone(
    pid: int, timeout: float, *, interval: float = 0.05, reap: Callable[[], object] | None = None
) -> bool:
    """Wait for ``pid`` to be gone, reaping it if it is our child (``reap``: how its owner
    reaps it, such as ``Popen.poll``); whether it is."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reap is not None:
            reap()
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not alive(pid):
            return True
        time.sleep(interval)
    return not alive(pid)
