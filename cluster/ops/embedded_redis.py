"""An embedded ``redis-server``: a child process on a free loopback port.

Used by the local launcher (``stui-cluster up``), the demo, the tests and the benchmarks, so
none of them assumes a Redis on 6379. Keyspace events (``Ex``) are on, for expiry cleanup.
With ``acl_file`` it enforces those users (the launcher: an admin ``default`` user and the
nodes' restricted user, ``cluster/redis_auth.py``); ``password`` is the ``default`` user's, used
here for the readiness check and :meth:`RedisServer.command`.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

# Ports handed out by this process: a port is free until its server binds it, so the
# same one must not be given twice in the meantime (a cluster asks for twelve at once).
_GIVEN: set[int] = set()
# Its own generator: a caller that seeds `random` (chaos runs do) must not make two
# processes pick the same ports.
_PICKER = random.Random()
_LOWEST = 10_000


def _ephemeral_range() -> tuple[int, int]:
    """The ports the kernel gives to outgoing connections (and to binds of port 0)."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32_768, 60_999


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nothing listens on, for a server this process starts next.

    Picked below the kernel's ephemeral range when there is room: a port from that range
    can become the local end of any outgoing connection between this check and the
    server's bind (a test run opens thousands), and the server then fails to start.
    """
    low, _high = _ephemeral_range()
    if low - _LOWEST >= 1_000:
        for _ in range(100):
            port = _PICKER.randrange(_LOWEST, low)
            if port not in _GIVEN and _bindable(port):
                _GIVEN.add(port)
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    _GIVEN.add(port)
    return port


class RedisServer:
    """Start with :meth:`start`, stop with :meth:`stop`; ``url`` is its address."""

    def __init__(
        self,
        port: int | None = None,
        *,
        appendonly: bool = False,
        data_dir: Path | None = None,
        acl_file: Path | None = None,
        password: str | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.port = port or free_port()
        self._own_dir = data_dir is None  # a temporary dir we made is removed by cleanup()
        self.dir = data_dir or Path(tempfile.mkdtemp(prefix="stui-redis-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.acl_file = acl_file
        self.password = password
        self.extra_args = extra_args
        """More ``redis-server`` flags (replication, cluster mode: :mod:`.redis_topology`)."""
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    def command_line(self, binary: str) -> list[str]:
        """The ``redis-server`` command this server runs."""
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "yes" if self.appendonly else "no",
            "--appendfsync",
            "everysec",
            "--dir",
            str(self.dir),
            "--notify-keyspace-events",
            "Ex",
            "--hz",
            "50",
            "--loglevel",
            "warning",
        ]
        if self.acl_file is not None:
            args += ["--aclfile", str(self.acl_file)]
        return args + list(self.extra_args)

    def start(self, *, detach: bool = False) -> RedisServer:
        """Start and wait until it answers PING; ``detach`` outlives this process."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (scripts/test installs it as root)")
        args = self.command_line(binary)
        if detach:
            with (self.dir / "redis.log").open("ab") as log:
                self.process = subprocess.Popen(
                    args, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
                )
        else:
            self.process = subprocess.Popen(
                args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as sock:
                    if self.password:
                        sock.sendall(f"AUTH default {self.password}\r\n".encode())
                        if not sock.recv(64).startswith(b"+OK"):
                            raise OSError("not ready")
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def cleanup(self) -> None:
        """Stop, and remove the data dir if it was a temporary one of ours."""
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    def restart(self) -> None:
        self.stop()
        self.start()

    def command(self, *args: str) -> str:
        """Run one command with redis-cli (sync; for fixtures and assertions)."""
        auth: list[str] = []
        if self.password:
            auth = ["--user", "default", "--pass", self.password, "--no-auth-warning"]
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), *auth, *args],
            capture_output=True, text=True, check=True,
        )
        return out.stdout.strip()
