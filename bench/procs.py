"""The processes a benchmark starts: a redis-server, a node, an echo server; always stopped.

Servers that announce themselves print one JSON line on stdout (``{"port": ...}``) once they
listen; their stderr goes to a log file (never a pipe nobody reads: a full pipe would stall the
server in the middle of a measurement). Stopping is shielded from cancellation and bounded, so
an interrupted or timed-out run still leaves nothing behind.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

import trio

from cluster.ops.embedded_redis import RedisServer

ROOT = Path(__file__).resolve().parent.parent

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0


class StartFailed(RuntimeError):
    """A server exited or stayed silent before announcing its port."""


class ServerProcess:
    """A Python server started as ``python -m <module> <args>``, from the repository root.

    ``prefix`` goes before the command (``taskset -c 0``: :mod:`bench.pinning`); a prefix
    that execs the command (taskset does) keeps the pid the server's."""

    def __init__(self, name: str, module: str, *args: str, prefix: Sequence[str] = ()) -> None:
        self.name = name
        self.command = [*prefix, sys.executable, "-m", module, *args]
        self.process: trio.Process | None = None
        self.announcement: dict[str, Any] = {}
        self._log: IO[bytes] | None = None
        self.log_path: Path | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    async def start(self) -> dict[str, Any]:
        """Start the server and return its announcement line, parsed.

        Raises :class:`StartFailed` (with the end of its log) if it exits or says nothing
        within ``START_TIMEOUT`` seconds. A start that fails (or is cancelled) stops the
        process itself, so callers need no clean-up of their own.
        """
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop)
            prefix=f"stui-bench-{self.name}-", suffix=".log", delete=False
        )
        self.log_path = Path(self._log.name)
        self.process = await trio.lowlevel.open_process(
            self.command, stdout=subprocess.PIPE, stderr=self._log, cwd=ROOT
        )
        try:
            self.announcement = await self._announcement()
        except BaseException:
            await self.stop()
            raise
        return self.announcement

    async def _announcement(self) -> dict[str, Any]:
        """The server's first stdout line, parsed."""
        assert self.process is not None and self.process.stdout is not None
        buffer = b""
        with trio.move_on_after(START_TIMEOUT):
            while b"\n" not in buffer:
                chunk = await self.process.stdout.receive_some(4096)
                if not chunk:
                    break
                buffer += chunk
        if b"\n" not in buffer:
            message = f"{self.name} did not start; the end of its log:\n{self.log_tail()}"
            self.remove_log()
            raise StartFailed(message)
        announcement: dict[str, Any] = json.loads(buffer.split(b"\n", 1)[0])
        return announcement

    def log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:]) or "(empty log)"

    async def stop(self) -> int | None:
        """SIGTERM, wait, then SIGKILL; returns the exit code. Safe to call twice."""
        process, self.process = self.process, None
        code: int | None = None
        with trio.CancelScope(shield=True):
            if process is not None:
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
                    with trio.move_on_after(STOP_TIMEOUT):
                        await process.wait()
                    if process.returncode is None:
                        process.kill()
                        await process.wait()
                code = process.returncode
                if process.stdout is not None:
                    await process.stdout.aclose()
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def remove_log(self) -> None:
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)


async def start_redis(server: RedisServer) -> None:
    """Start ``server`` (:mod:`cluster.ops.embedded_redis`: a free loopback port, no persistence).

    Raises :class:`StartFailed` when redis-server is missing or does not answer.
    """
    try:
        await trio.to_thread.run_sync(server.start)
    except RuntimeError as exc:
        raise StartFailed(str(exc)) from exc


async def stop_redis(server: RedisServer) -> None:
    """Stop ``server`` and remove its scratch directory (shielded: runs even when cancelled)."""
    with trio.CancelScope(shield=True):
        await trio.to_thread.run_sync(server.stop)
    shutil.rmtree(server.dir, ignore_errors=True)
