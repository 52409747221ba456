"""Local Redis topologies on loopback: standalone, Sentinel, Redis Cluster.

Used by ``stui-cluster up --redis-topology``, the tests, the bench and chaos, so each runs
against real ``redis-server`` processes on free ports (never 6379):

- ``standalone``: one server (what the launcher always started);
- ``sentinel``: 1 primary, 2 replicas (``--replicaof``) and 3 sentinels (Debian ships no
  ``redis-sentinel`` binary: ``redis-server sentinel.conf --sentinel`` is the same program),
  quorum 2, ``down-after-milliseconds`` 2000 (at 1000 a healthy new primary was once marked
  down again and a second failover followed);
- ``cluster``: 3 primaries and 3 replicas, ``cluster-node-timeout`` 1000 and
  ``cluster-require-full-coverage no`` (the healthy shards keep answering while one fails
  over), made with ``redis-cli --cluster create ... --cluster-replicas 1``.

Every data node has AOF on and keyspace events (``Ex``) in its configuration: ``CONFIG SET``
is not replicated, so a promoted replica must have them from its own start. With ``acl_file``
every data node enforces the same ACL users; replicas log in to their primary and sentinels
to the data nodes as the admin (``default``) user.

The layout is plain data (:meth:`LocalTopology.to_state`), so another process (``stui-cluster
status``, ``down``, chaos) can find, signal and restart the members.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import attrs

from ..topology import CLUSTER, KINDS, SENTINEL, STANDALONE
from ..wire import parse_info
from .embedded_redis import RedisServer, free_port
from .processes import alive, wait_gone

SERVICE = "stui"
NODE_TIMEOUT_MS = 1000
DOWN_AFTER_MS = 2000
FAILOVER_TIMEOUT_MS = 10000


@attrs.define
class Member:
    """One process of a topology: a data node (``primary``/``replica``, its role at start)
    or a ``sentinel``."""

    role: str
    port: int
    pid: int = 0
    extra_args: list[str] = attrs.field(factory=list)

    @property
    def data(self) -> bool:
        return self.role != "sentinel"


class SentinelServer(RedisServer):
    """``redis-server sentinel.conf --sentinel``: the config file is the sentinel's own (it
    rewrites it with what it learns)."""

    def __init__(self, port: int, data_dir: Path, primary_port: int, quorum: int,
                 admin_password: str | None) -> None:
        super().__init__(port, data_dir=data_dir)
        self.primary_port = primary_port
        self.quorum = quorum
        self.admin_password = admin_password

    def command_line(self, binary: str) -> list[str]:
        conf = self.dir / "sentinel.conf"
        if not conf.exists():
            lines = [
                f"port {self.port}",
                "bind 127.0.0.1",
                f"dir {self.dir}",
                f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary_port} {self.quorum}",
                f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}",
                f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}",
                f"sentinel parallel-syncs {SERVICE} 1",
            ]
            if self.admin_password:
                lines += [
                    f"sentinel auth-user {SERVICE} default",
                    f"sentinel auth-pass {SERVICE} {self.admin_password}",
                ]
            conf.write_text("\n".join(lines) + "\n")
        return [binary, str(conf), "--sentinel", "--loglevel", "warning"]


class LocalTopology:
    """Start with :meth:`start`, stop with :meth:`stop`; :meth:`url` is what nodes connect to."""

    def __init__(
        self,
        kind: str,
        base_dir: Path,
        *,
        acl_file: Path | None = None,
        admin_password: str | None = None,
        members: list[Member] | None = None,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown Redis topology {kind!r} (one of {', '.join(KINDS)})")
        self.kind = kind
        self.base_dir = base_dir
        self.acl_file = acl_file
        self.admin_password = admin_password
        self.members = members if members is not None else self._plan()
        self._servers: dict[int, RedisServer] = {}

    # -- layout ----------------------------------------------------------------------------

    def _plan(self) -> list[Member]:
        if self.kind == STANDALONE:
            return [Member("primary", free_port())]
        if self.kind == SENTINEL:
            primary = free_port()
            auth = self._replica_auth()
            members = [Member("primary", primary)]
            members += [
                Member("replica", free_port(), extra_args=[
                    "--replicaof", "127.0.0.1", str(primary), *auth,
                    "--repl-diskless-sync-delay", "0",
                ])
                for _ in range(2)
            ]
            members[0].extra_args = [*auth, "--repl-diskless-sync-delay", "0"]
            members += [Member("sentinel", free_port()) for _ in range(3)]
            return members
        members = []
        for index in range(6):
            port = free_port()
            members.append(Member(
                "primary" if index < 3 else "replica", port,
                extra_args=[
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", "nodes.conf",
                    # The bus port, explicitly: the default (port + 10000) does not exist for
                    # the high ports free_port() gives.
                    "--cluster-port", str(free_port()),
                    "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                    "--cluster-require-full-coverage", "no",
                    "--repl-diskless-sync-delay", "0",
                    *self._replica_auth(),
                ],
            ))
        return members

    def _replica_auth(self) -> list[str]:
        if not self.admin_password:
            return []
        return ["--masteruser", "default", "--masterauth", self.admin_password]

    @property
    def data_members(self) -> list[Member]:
        return [m for m in self.members if m.data]

    @property
    def sentinel_members(self) -> list[Member]:
        return [m for m in self.members if not m.data]

    def member(self, port: int) -> Member:
        for member in self.members:
            if member.port == port:
                return member
        raise KeyError(f"no Redis process on port {port} in this topology")

    def url(self, user: str | None = None) -> str:
        """The store URL nodes are given (with ``user`` and no password: the nodes read it
        from ``--redis-password-file``)."""
        login = f"{user}@" if user else ""
        if self.kind == STANDALONE:
            return f"redis://{login}127.0.0.1:{self.data_members[0].port}/0"
        if self.kind == SENTINEL:
            hosts = ",".join(f"127.0.0.1:{m.port}" for m in self.sentinel_members)
            return f"redis+sentinel://{login}{hosts}/{SERVICE}"
        hosts = ",".join(f"127.0.0.1:{m.port}" for m in self.data_members)
        return f"redis+cluster://{login}{hosts}"

    def to_state(self) -> dict[str, Any]:
        return {"kind": self.kind, "members": [attrs.asdict(m) for m in self.members]}

    @classmethod
    def from_state(
        cls, raw: dict[str, Any], base_dir: Path, *, acl_file: Path | None = None,
        admin_password: str | None = None,
    ) -> LocalTopology:
        members = [Member(**m) for m in raw.get("members", [])]
        return cls(str(raw["kind"]), base_dir, acl_file=acl_file,
                   admin_password=admin_password, members=members)

    # -- processes -------------------------------------------------------------------------

    def server(self, member: Member) -> RedisServer:
        """The :class:`RedisServer` of ``member`` (its data dir and flags; not started)."""
        server = self._servers.get(member.port)
        if server is not None:
            return server
        data_dir = self.base_dir / f"redis-{member.port}"
        if member.data:
            server = RedisServer(
                member.port, appendonly=True, data_dir=data_dir, acl_file=self.acl_file,
                password=self.admin_password, extra_args=tuple(member.extra_args),
            )
        else:
            primary = next(m.port for m in self.members if m.role == "primary")
            server = SentinelServer(member.port, data_dir, primary, 2, self.admin_password)
        self._servers[member.port] = server
        return server

    def start(self, *, detach: bool = False, timeout: float = 30.0) -> LocalTopology:
        """Start every member and wait until the topology is whole (replicas in sync, the
        cluster's slots covered, sentinels agreeing on the primary)."""
        self.base_dir.mkdir(parents=True, exist_ok=True)
        try:
            for member in self.data_members:
                self.start_member(member, detach=detach)
            if self.kind == CLUSTER:
                self._create_cluster()
            for member in self.sentinel_members:
                self.start_member(member, detach=detach)
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def start_member(self, member: Member, *, detach: bool = False) -> None:
        server = self.server(member)
        server.start(detach=detach)
        member.pid = server.pid

    def _create_cluster(self) -> None:
        addresses = [f"127.0.0.1:{m.port}" for m in self.data_members]
        done = subprocess.run(
            ["redis-cli", *self._cli_auth(), "--cluster", "create", *addresses,
             "--cluster-replicas", "1", "--cluster-yes"],
            capture_output=True, text=True, timeout=60,
        )
        if done.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {done.stdout[-800:]}"
                               f"{done.stderr[-400:]}")

    def _cli_auth(self) -> list[str]:
        if not self.admin_password:
            return []
        return ["--user", "default", "--pass", self.admin_password, "--no-auth-warning"]

    def command(self, port: int, *args: str, timeout: float = 5.0) -> str:
        """One command to the member on ``port`` (as the admin user), via ``redis-cli``."""
        auth = self._cli_auth() if self.member(port).data else []
        done = subprocess.run(
            ["redis-cli", "-p", str(port), *auth, *args],
            capture_output=True, text=True, timeout=timeout,
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip() or f"redis-cli exited {done.returncode}")
        return done.stdout.strip()

    def info(self, port: int, section: str = "replication") -> dict[str, str]:
        """``INFO section`` of a data node as a dict (empty if it does not answer)."""
        try:
            text = self.command(port, "INFO", section, timeout=2.0)
        except (RuntimeError, subprocess.TimeoutExpired, OSError):
            return {}
        return parse_info(text)

    def role(self, port: int) -> str:
        """``master``, ``slave`` or ``""`` (down, loading or not answering)."""
        return self.info(port).get("role", "")

    def primaries(self) -> list[int]:
        """Ports of the data nodes that are primaries now."""
        return [m.port for m in self.data_members if self.alive(m) and self.role(m.port) ==
                "master"]

    def replicas_of(self, primary: int) -> list[int]:
        """Ports of the replicas attached to the primary on ``primary``."""
        info = self.info(primary)
        ports = []
        for key, value in info.items():
            if key.startswith("slave") and key[5:].isdigit():
                fields = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
                if "port" in fields:
                    ports.append(int(fields["port"]))
        return ports

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until every data node answers, every replica's link is up, the cluster is ``ok``
        on every node and every sentinel names the same primary."""
        deadline = time.monotonic() + timeout
        why = "?"
        while time.monotonic() < deadline:
            why = self._not_ready()
            if not why:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the {self.kind} Redis topology did not become ready: {why}")

    def _not_ready(self) -> str:
        for member in self.data_members:
            info = self.info(member.port)
            if not info:
                return f"{member.port} does not answer"
            if info.get("role") == "slave" and info.get("master_link_status") != "up":
                return f"replica {member.port} is not in sync"
            if self.kind == CLUSTER:
                cluster = self.command(member.port, "CLUSTER", "INFO")
                if "cluster_state:ok" not in cluster:
                    return f"cluster not ok on {member.port}"
        if self.kind == CLUSTER:
            primaries = self.primaries()
            if len(primaries) != 3 or any(not self.replicas_of(p) for p in primaries):
                return f"cluster primaries {primaries} without replicas"
        if self.kind == SENTINEL:
            primaries = self.primaries()
            if len(primaries) != 1:
                return f"{len(primaries)} primaries (a failover in progress?)"
            primary = primaries[0]
            for member in self.sentinel_members:
                if not self.alive(member):
                    continue
                try:
                    answer = self.command(member.port, "SENTINEL", "get-master-addr-by-name",
                                          SERVICE)
                    replicas = self.command(member.port, "SENTINEL", "replicas", SERVICE)
                except (RuntimeError, subprocess.TimeoutExpired):
                    return f"sentinel {member.port} does not answer"
                if str(primary) not in answer.split():
                    return f"sentinel {member.port} does not name the primary {primary} yet"
                if replicas.count("name") < 2:
                    return f"sentinel {member.port} does not know both replicas yet"
                sentinels = self.command(member.port, "SENTINEL", "sentinels", SERVICE)
                if sentinels.count("name") < 2:
                    return f"sentinel {member.port} does not know the other sentinels yet"
        return ""

    def alive(self, member: Member) -> bool:
        return alive(member.pid)

    def signal(self, port: int, signum: int) -> None:
        member = self.member(port)
        if self.alive(member):
            os.kill(member.pid, signum)

    def kill(self, port: int) -> None:
        """SIGKILL the member on ``port`` (a crash: no AOF flush) and reap it."""
        member = self.member(port)
        self.signal(port, signal.SIGKILL)
        self._wait_gone(member, 10)

    def restart(self, port: int, *, detach: bool = False) -> None:
        """Start a stopped member again with its data dir and flags (it reloads its AOF)."""
        member = self.member(port)
        if self.alive(member):
            return
        server = self.server(member)
        server.process = None
        self.start_member(member, detach=detach)

    def _wait_gone(self, member: Member, timeout: float) -> None:
        server = self._servers.get(member.port)
        process = server.process if server is not None else None
        wait_gone(member.pid, timeout, interval=0.02,
                  reap=process.poll if process is not None else None)

    def stop(self) -> None:
        """Stop every member (SIGCONT first: a frozen one must wake to exit), sentinels
        first so they start no failover while the data nodes go."""
        order = self.sentinel_members + self.data_members
        for member in order:
            if self.alive(member):
                os.kill(member.pid, signal.SIGCONT)
                os.kill(member.pid, signal.SIGTERM)
        for member in order:
            self._wait_gone(member, 10)
            if self.alive(member):
                os.kill(member.pid, signal.SIGKILL)
                self._wait_gone(member, 5)
        for server in self._servers.values():
            server.process = None
