"""``scripts/fuzz``: hostile frames at real nodes over real WebSockets, then an audit.

A local cluster (``launcher.up``: embedded Redis with its ACL users, N node processes that
require tokens) gets a few *victim* clients, each with a session holding state and Smalltalk
bindings. Then one fuzzing client sends ``--frames`` frames, drawn from a seeded generator
(``--seed``: the same frames every time), one at a time over a few connections to every node:

- ``garbage``: binary frames, random text, truncated and mutated requests, JSON that is not an
  object, envelopes with ids, commands and parameters of every wrong type;
- ``huge``: strings up to past the frame limit, numbers past 64 bits, nesting thousands deep,
  ``state_data`` over its size and depth limits, and (rarely) a frame over 4x the limit, which
  the node answers by closing the connection (1009): the fuzzer checks the code and reconnects;
- ``unauth``: every command on a connection that never authenticated;
- ``token``: ``authenticate`` with expired, forged, unsigned (``alg: none``), truncated and
  other clients' tokens;
- ``cross``: every session command naming a victim's session, and ``create``/``list`` for a
  victim's client id, while authenticated as the fuzzer (also with a token of its own limited
  to a victim's session id);
- ``own``: commands on the fuzzer's own sessions with random parameters (these may succeed).

The oracle for every frame does not depend on the node's code: exactly one answer, whose
``id`` is the frame's if the frame is a text frame holding a JSON object with a string ``id`` of
1 to 128 characters (else ``null``); never the internal ``Error``; ``cross`` and ``unauth``
frames never succeed. At the end: every node process is alive and answers ``ping``, no node
logged an exception, and every victim key (``DUMP``) is byte-for-byte what it was, and each
victim still restores its session intact.

Exit 0 only with 0 crashes, 0 stored changes and 0 oracle violations.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import coredis
import orjson
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

from client.connection import RequestFailed, open_connection

from .. import auth, keys, tokens
from ..auth import new_session_id
from . import launcher, processes

SESSION_COMMANDS = [
    "restore_session", "update_session_state", "close_session", "get_session_info",
    "evaluate", "inspect", "open_inspector", "navigate_inspector", "inspector_back",
    "select_field", "set_inspector_view", "close_inspector", "release_object", "interrupt",
]
CLIENT_COMMANDS = ["create_session", "list_client_sessions"]
OTHER_COMMANDS = ["ping", "authenticate", "get_session_statistics"]
ALL_COMMANDS = SESSION_COMMANDS + CLIENT_COMMANDS + OTHER_COMMANDS
PARAMS = ["session_id", "client_id", "state_data", "expected_version", "token", "last_seq",
          "code", "object_id", "inspector_id", "field", "view", "offset", "limit"]
KNOWN_ERRORS = {
    "InvalidRequest", "SessionError", "SessionNotFound", "PermissionDenied", "Unauthorized",
    "SessionConflict", "RateLimited", "EvaluationError", "Timeout", "ResourceLimit",
    "ObjectNotFound", "Unavailable",
}
CODE = [
    "3 + 4", "x := 42", "x", "Transcript show: 'hi'", "1/0", "Object new", "#(1 2 3) reverse",
    "'abc' , 'def'", "[:a | a] value: 1", "(1 to: 10) inject: 0 into: [:a :b | a + b]",
    "nil foo", "Smalltalk at: #Foo put: 3", "self", "thisContext", "^^^", "[", "'unterminated",
    "x := x + 1", "Object subclass: #Fuzz instanceVariableNames: 'a' classVariableNames: '' "
    "package: 'F'", "1 to: 100 do: [:i | i]",
]
VICTIMS = 3
FUZZER = "fuzzer"


@attrs.define
class Report:
    frames: int = 0
    kinds: Counter[str] = attrs.field(factory=Counter)
    outcomes: Counter[str] = attrs.field(factory=Counter)
    violations: list[str] = attrs.field(factory=list)
    internal_errors: int = 0
    closes_1009: int = 0
    dead_nodes: list[str] = attrs.field(factory=list)
    logged_exceptions: int = 0
    stored_changes: list[str] = attrs.field(factory=list)
    victims_intact: bool = False
    seconds: float = 0.0

    @property
    def crashes(self) -> int:
        return len(self.dead_nodes) + self.internal_errors + self.logged_exceptions

    @property
    def ok(self) -> bool:
        return (self.crashes == 0 and not self.stored_changes and not self.violations
                and self.victims_intact)

    def summary(self) -> dict[str, Any]:
        return {
            "frames": self.frames,
            "seconds": round(self.seconds, 1),
            "frames_per_second": round(self.frames / self.seconds, 1) if self.seconds else None,
            "crashes": self.crashes,
            "dead_nodes": self.dead_nodes,
            "internal_errors": self.internal_errors,
            "logged_exceptions": self.logged_exceptions,
            "stored_changes": len(self.stored_changes),
            "violations": len(self.violations),
            "victims_intact": self.victims_intact,
            "closes_1009": self.closes_1009,
            "kinds": dict(sorted(self.kinds.items())),
            "outcomes": dict(sorted(self.outcomes.items())),
        }

    def table(self) -> str:
        s = self.summary()
        lines = [
            f"frames            {s['frames']} in {s['seconds']} s ({s['frames_per_second']}/s)",
            f"crashes           {s['crashes']} (dead nodes {len(self.dead_nodes)}, internal "
            f"errors {self.internal_errors}, logged exceptions {self.logged_exceptions})",
            f"stored changes    {s['stored_changes']} (victims' keys, DUMP before/after)",
            f"oracle violations {s['violations']}",
            f"victims intact    {'yes' if self.victims_intact else 'NO'}",
            f"1009 closes       {self.closes_1009} (frames over 4x the limit)",
            "kinds             " + ", ".join(f"{k} {v}" for k, v in s["kinds"].items()),
            "outcomes          " + ", ".join(f"{k} {v}" for k, v in s["outcomes"].items()),
        ]
        lines += [f"  violation: {v}" for v in self.violations[:10]]
        lines += [f"  changed: {c}" for c in self.stored_changes[:10]]
        lines.append("fuzz " + ("PASSED" if self.ok else "FAILED"))
        return "\n".join(lines)


# -- the frame generator -------------------------------------------------------------------


class Frames:
    """Seeded hostile frames; ``next()`` -> (kind, frame, connection role)."""

    def __init__(self, seed: int, secret: str, victims: dict[str, str], own: list[str],
                 max_frame: int) -> None:
        self.rng = random.Random(seed)
        self.secret = secret
        self.victims = victims  # session id -> client id
        self.own = own  # the fuzzer's own session ids (kept current by the runner)
        self.max_frame = max_frame
        self.counter = 0

    def rid(self) -> str:
        self.counter += 1
        return f"f{self.counter}"

    def text(self, size: int = 20) -> str:
        r = self.rng
        alphabet = "ab\u00e9\u65e5\U0001f600\"\\{}[]:,\x00\n\t '"
        return "".join(r.choice(alphabet) for _ in range(r.randint(0, size)))

    def value(self, depth: int = 0) -> Any:
        r = self.rng
        pick = r.randrange(10 if depth < 3 else 6)
        if pick == 0:
            return None
        if pick == 1:
            return r.choice([True, False])
        if pick == 2:
            return r.choice([0, -1, 1, 2**31, -(2**63), 2**63 - 1, r.randint(-1000, 1000)])
        if pick == 3:
            return r.choice([0.5, -1e308, 1e-308, 3.14])
        if pick in (4, 5):
            return self.text()
        if pick in (6, 7):
            return [self.value(depth + 1) for _ in range(r.randint(0, 4))]
        return {self.text(8): self.value(depth + 1) for _ in range(r.randint(0, 4))}

    def some_session(self) -> str:
        r = self.rng
        choices = [*self.victims, *self.own, new_session_id(), "x" * 32, ""]
        return str(r.choice(choices))

    def params(self, command: str, session_id: str | None) -> dict[str, Any]:
        r = self.rng
        params: dict[str, Any] = {}
        if session_id is not None:
            params["session_id"] = session_id
        for name in r.sample(PARAMS, r.randint(0, 4)):
            params[name] = self.param_value(name)
        if command == "evaluate" and r.random() < 0.7:
            params["code"] = r.choice(CODE) if r.random() < 0.8 else self.text(40)
        return params

    def param_value(self, name: str) -> Any:
        r = self.rng
        if r.random() < 0.5:
            return self.value()
        if name == "session_id":
            return self.some_session()
        if name == "client_id":
            return r.choice([FUZZER, *set(self.victims.values()), "a" * 129, "ok-id", ""])
        if name == "state_data":
            return self.value()
        if name in ("expected_version", "last_seq", "offset", "limit"):
            return r.choice([-1, 0, 1, 2, 10**6, 2**63, -(2**63)])
        if name == "object_id":
            return r.choice(["r1", "r2", "r999", "", "r-1"])
        if name == "view":
            return r.choice(["raw", "print", "tree", "nope"])
        return self.text()

    def frame(self, command: str, params: Any, rid: Any = None) -> str:
        message: dict[str, Any] = {"id": self.rid() if rid is None else rid, "command": command}
        if params is not None:
            message["parameters"] = params
        return json.dumps(message, ensure_ascii=self.rng.random() < 0.5)

    def next(self) -> tuple[str, str | bytes, str]:
        r = self.rng
        kind = r.choices(
            ["garbage", "huge", "unauth", "token", "cross", "own"],
            weights=[30, 6, 12, 10, 25, 17],
        )[0]
        return kind, getattr(self, f"_{kind}")(), "anon" if kind == "unauth" else "fuzzer"

    def _garbage(self) -> str | bytes:
        r = self.rng
        pick = r.randrange(9)
        if pick == 0:
            return r.randbytes(r.randint(0, 200))
        if pick == 1:
            return self.text(80)
        if pick == 2:
            frame = self.frame(r.choice(ALL_COMMANDS), self.params("x", self.some_session()))
            return frame[: r.randint(0, len(frame))]
        if pick == 3:
            frame = self.frame(r.choice(ALL_COMMANDS), self.params("x", None))
            at = r.randrange(len(frame))
            return frame[:at] + r.choice("{}[]\",:\\x") + frame[at + 1:]
        if pick == 4:
            return json.dumps(self.value())
        if pick == 5:  # wrong id
            return self.frame("ping", {}, rid=r.choice([None, 1, "", "x" * 129, [], {}, True]))
        if pick == 6:  # wrong command
            return json.dumps({"id": self.rid(), "command": self.value()})
        if pick == 7:  # wrong parameters
            return json.dumps({"id": self.rid(), "command": r.choice(ALL_COMMANDS),
                               "parameters": r.choice([[], "x", 1, True])})
        return self.frame(self.text(12) or "nope", self.params("x", None))

    def _huge(self) -> str | bytes:
        r = self.rng
        pick = r.randrange(8)
        if pick == 0:  # just under, and just over, the frame limit
            size = r.choice([self.max_frame // 2, self.max_frame + 10])
            return self.frame("ping", {"pad": "x" * size})
        if pick == 1:
            return "[" * 100_000 + "]" * 100_000
        if pick == 2:
            digits = "9" * r.choice([20, 400, 5000])
            return f'{{"id": "{self.rid()}", "command": "ping", "parameters": {{"n": {digits}}}}}'
        if pick == 3:
            depth = r.choice([33, 200, 1000, 5000])
            session = r.choice(self.own or [new_session_id()])
            return (f'{{"id": "{self.rid()}", "command": "update_session_state", "parameters": '
                    f'{{"session_id": "{session}", "state_data": {"[" * depth}1{"]" * depth}}}}}')
        if pick == 4:
            session = r.choice(self.own or [new_session_id()])
            return self.frame("update_session_state", {
                "session_id": session, "state_data": "y" * r.choice([300_000, 900_000])})
        if pick == 5:
            return self.frame("evaluate", {"session_id": r.choice(self.own or ["x"]),
                                           "code": "'" + "z" * 200_000 + "'"})
        if pick == 6 and r.random() < 0.15:  # over 4x the limit: the node closes (1009)
            return "x" * (self.max_frame * 4 + 100)
        return self.frame(r.choice(ALL_COMMANDS), {"k" * 1000: "v" * 100_000})

    def _unauth(self) -> str | bytes:
        r = self.rng
        command = r.choice(SESSION_COMMANDS + CLIENT_COMMANDS + ["get_session_statistics"])
        params = self.params(command, None)
        params["session_id"] = r.choice([*self.victims, *self.own])
        return self.frame(command, params)

    def _token(self) -> str | bytes:
        r = self.rng
        victim = r.choice(list(set(self.victims.values())))
        head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
        body = base64.urlsafe_b64encode(
            json.dumps({"sub": victim, "exp": time.time() + 600}).encode()
        ).rstrip(b"=").decode()
        token = r.choice([
            tokens.issue(self.secret, FUZZER, ttl=60, now=time.time() - 3600),  # expired
            tokens.issue("not-the-secret", victim, ttl=600),  # forged
            f"{head}.{body}.",  # unsigned
            tokens.issue(self.secret, FUZZER, ttl=600)[:-3],  # truncated
            auth.token_for("not-the-secret", victim),  # forged legacy
            tokens.issue(self.secret, FUZZER, ttl=600),  # the fuzzer's own, as a victim
            self.text(30),
            "a.b.c",
        ])
        return self.frame("authenticate", {"client_id": r.choice([victim, FUZZER]),
                                           "token": token})

    def _cross(self) -> str | bytes:
        r = self.rng
        if r.random() < 0.2:
            command = r.choice(CLIENT_COMMANDS)
            return self.frame(command, {"client_id": r.choice(list(set(self.victims.values())))})
        command = r.choice(SESSION_COMMANDS)
        params = self.params(command, None)
        params["session_id"] = r.choice(list(self.victims))  # random fields must not undo it
        return self.frame(command, params)

    def _own(self) -> str | bytes:
        r = self.rng
        command = r.choices(ALL_COMMANDS, weights=[3] * len(SESSION_COMMANDS) + [1, 1, 2, 1, 1])[0]
        if command == "create_session":
            return self.frame(command, {"client_id": FUZZER})
        if command == "list_client_sessions":
            return self.frame(command, {"client_id": FUZZER})
        if command == "authenticate":
            return self.frame(command, {"token": tokens.issue(self.secret, FUZZER, ttl=600)})
        session = r.choice(self.own or [new_session_id()])
        return self.frame(command, self.params(command, session))


def expected_id(frame: str | bytes, max_frame: int = 1 << 20) -> str | None:
    """The id a correct node answers with: none for a binary frame, one over the size limit
    (not parsed at all) or one that is not JSON by orjson's reading (which, like many
    parsers, refuses numbers past 64 bits and nesting past 1,024 levels)."""
    if isinstance(frame, bytes) or len(frame.encode("utf-8", "surrogatepass")) > max_frame:
        return None
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(message, dict):
        return None
    rid = message.get("id")
    return rid if isinstance(rid, str) and 1 <= len(rid) <= 128 else None


# -- the run -------------------------------------------------------------------------------


class Fuzzer:
    def __init__(self, state: launcher.ClusterState, frames: int, seed: int,
                 max_frame: int, out: Callable[[str], None]) -> None:
        self.state = state
        self.count = frames
        self.seed = seed
        self.max_frame = max_frame
        self.out = out
        self.secret = state.secret
        self.report = Report()
        self.victims: dict[str, str] = {}  # session id -> client id
        self.own: list[str] = []

    def token(self, client_id: str) -> str:
        return tokens.issue(self.secret, client_id, ttl=3600)

    async def setup_victims(self) -> None:
        url = self.state.nodes[0].url
        for i in range(VICTIMS):
            client = f"victim-{i}"
            async with open_connection(url) as conn:
                await conn.request("authenticate", token=self.token(client))
                sid = (await conn.request("create_session", client_id=client))["session_id"]
                await conn.request("update_session_state", session_id=sid,
                                   state_data={"precious": [i, "data"]})
                await conn.request("evaluate", session_id=sid, code=f"kept := {i} * 7")
                self.victims[str(sid)] = client

    async def snapshot(self) -> dict[str, bytes]:
        redis = coredis.Redis.from_url(self.state.admin_redis_url, decode_responses=False)
        names: list[str] = []
        for sid, client in self.victims.items():
            k = keys.SessionKeys(sid)
            names += [*k.all_keys(), k.quarantine]
            names += [keys.client_sessions(client), keys.client_creates(client)]
        async with redis:
            dumps = {}
            for name in names:
                dumped = await redis.dump(name)
                if dumped is not None:
                    dumps[name] = bytes(dumped)
        return dumps

    async def run(self) -> Report:
        await self.setup_victims()
        before = await self.snapshot()
        started = time.monotonic()
        frames = Frames(self.seed, self.secret, self.victims, self.own, self.max_frame)
        urls = [n.url for n in self.state.nodes]
        per_connection = 250
        sent = 0
        while sent < self.count:
            url = urls[(sent // per_connection) % len(urls)]
            batch = min(per_connection, self.count - sent)
            sent += await self.connection(url, frames, batch)
        self.report.seconds = time.monotonic() - started
        self.report.frames = sent
        await self.audit(before)
        return self.report

    async def connection(self, url: str, frames: Frames, batch: int) -> int:
        """Send up to ``batch`` frames on one authenticated and one anonymous connection;
        how many were sent (fewer when a 1009 close ends them early)."""
        sent = 0
        async with open_websocket_url(url, max_message_size=64 << 20) as fuzz, \
                open_websocket_url(url) as anon:
            await self.ask(fuzz, json.dumps({"id": "login", "command": "authenticate",
                                             "parameters": {"token": self.token(FUZZER)}}))
            await self.refresh_own(fuzz)
            while sent < batch:
                kind, frame, role = frames.next()
                self.report.kinds[kind] += 1
                sent += 1
                ws = anon if role == "anon" else fuzz
                try:
                    answer = await self.ask(ws, frame)
                except ConnectionClosed as closed:
                    code = closed.reason.code if closed.reason else None
                    big = not isinstance(frame, bytes) and len(frame) > self.max_frame * 4
                    if code == 1009 and big:
                        self.report.closes_1009 += 1
                        self.report.outcomes["closed:1009"] += 1
                    else:
                        self.violation(f"connection closed ({code}) after {kind} frame "
                                       f"{_show(frame)}")
                    return sent
                self.check(kind, frame, answer)
                if sent % 50 == 0:
                    await self.refresh_own(fuzz)
        return sent

    async def ask(self, ws: Any, frame: str | bytes, timeout: float = 60) -> dict[str, Any]:
        await ws.send_message(frame)
        with trio.fail_after(timeout):
            while True:
                message = json.loads(await ws.get_message())
                if isinstance(message, dict) and "event" in message and "id" not in message:
                    continue
                return dict(message)

    async def refresh_own(self, ws: Any) -> None:
        """Keep the fuzzer's own sessions current (it may have closed some)."""
        listed = await self.ask(ws, json.dumps({"id": "own-list", "command":
                                                "list_client_sessions",
                                                "parameters": {"client_id": FUZZER}}))
        sessions = [s["session_id"] for s in (listed.get("result") or {}).get("sessions", [])]
        if not sessions:
            created = await self.ask(ws, json.dumps({"id": f"own-{time.monotonic()}",
                                                     "command": "create_session",
                                                     "parameters": {"client_id": FUZZER}}))
            if created.get("status") == "success":
                sessions = [created["result"]["session_id"]]
        self.own[:] = sessions

    def violation(self, text: str) -> None:
        self.report.violations.append(text)

    def check(self, kind: str, frame: str | bytes, answer: dict[str, Any]) -> None:
        where = f"{kind} frame {_show(frame)} -> {_show(json.dumps(answer))}"
        if answer.get("id") != expected_id(frame, self.max_frame):
            self.violation(f"answer id {answer.get('id')!r}: {where}")
        status = answer.get("status")
        if status == "error":
            error_type = str(answer.get("error_type"))
            self.report.outcomes[error_type] += 1
            if error_type == "Error":
                self.report.internal_errors += 1
                self.violation(f"internal error: {where}")
            elif error_type not in KNOWN_ERRORS:
                self.violation(f"unknown error type: {where}")
            return
        if status != "success":
            self.violation(f"no status: {where}")
            return
        command = orjson.loads(frame).get("command") if isinstance(frame, str) else None
        self.report.outcomes[f"success:{command}"] += 1
        if kind == "cross" or (kind == "unauth" and command not in ("ping", "authenticate")):
            self.violation(f"a {kind} frame succeeded: {where}")
        if kind == "token" and command == "authenticate":
            client = (answer.get("result") or {}).get("client_id")
            if client != FUZZER:
                self.violation(f"a forged token authenticated {client!r}: {where}")

    async def audit(self, before: dict[str, bytes]) -> None:
        for info in self.state.nodes:
            if not processes.alive(info.pid):
                self.report.dead_nodes.append(info.node_id)
                continue
            try:
                async with open_connection(info.url) as conn:
                    await conn.request("ping")
            except Exception as exc:  # a node that does not answer counts as crashed
                self.report.dead_nodes.append(f"{info.node_id} ({exc!r})")
        for info in self.state.nodes:
            log = Path(self.state.state_dir) / f"{info.node_id}.log"
            for line in log.read_text(errors="replace").splitlines():
                if '"exc"' in line or "Traceback" in line:
                    self.report.logged_exceptions += 1
                    self.violation(f"{info.node_id} logged an exception: {line[:300]}")
        after = await self.snapshot()
        for name in sorted(set(before) | set(after)):
            if before.get(name) != after.get(name):
                self.report.stored_changes.append(name)
        self.report.victims_intact = await self.victims_restore()

    async def victims_restore(self) -> bool:
        try:
            return await self._victims_restore()
        except RequestFailed:
            return False

    async def _victims_restore(self) -> bool:
        async with open_connection(self.state.nodes[-1].url) as conn:
            for sid, client in self.victims.items():
                await conn.request("authenticate", token=self.token(client))
                restored = await conn.request("restore_session", session_id=sid)
                index = int(client.rsplit("-", 1)[1])
                if restored["session_state"] != {"precious": [index, "data"]}:
                    return False
                kept = restored["workspace_context"]["bindings"].get("kept", {})
                if kept.get("print_string") != str(index * 7):
                    return False
        return True


def _show(frame: str | bytes, limit: int = 160) -> str:
    text = repr(frame)
    return text if len(text) <= limit else text[:limit] + f"... ({len(frame)} chars)"


def run(frames: int, seed: int, *, nodes: int = 2, state_dir: Path | None = None,
        out: Callable[[str], None] = print) -> Report:
    """Start a cluster in ``state_dir`` (a temporary one by default), fuzz it, stop it."""
    own_dir = state_dir is None
    state_dir = state_dir or Path(tempfile.mkdtemp(prefix="stui-fuzz-"))
    max_frame = 1 << 20
    saved = {k: os.environ.get(k) for k in ("STUI_CLIENT_RATE", "STUI_EVAL_MAX_SECONDS")}
    # No rate limit (it would answer most frames RateLimited) and short evaluations.
    os.environ.update({"STUI_CLIENT_RATE": "0", "STUI_EVAL_MAX_SECONDS": "2"})
    report: Report | None = None
    try:
        state = launcher.up(nodes, state_dir=state_dir, lb_port=0)
        report = trio.run(Fuzzer(state, frames, seed, max_frame, out).run)
        return report
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        if (state_dir / "cluster.json").exists():
            launcher.down(state_dir)
        if own_dir and report is not None and report.ok:
            shutil.rmtree(state_dir, ignore_errors=True)
        elif report is not None:
            out(f"fuzz: state dir kept: {state_dir} (node logs)")


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="scripts/fuzz",
        description="Send hostile frames (malformed JSON, wrong types, huge and deeply nested "
        "values, unauthenticated, forged-token and cross-client requests) to real nodes over "
        "real WebSockets; then check: no crash, no internal error, no stored change to other "
        "clients' sessions. Exit 0 only if all hold.",
        epilog="examples:\n  scripts/fuzz                      # 10,000 frames, seed 1\n"
        "  scripts/fuzz --frames 100000 --seed 7 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--frames", type=int, default=10_000, help="frames to send (default "
                   "%(default)s)")
    p.add_argument("--seed", type=int, default=1, help="generator seed (default %(default)s)")
    p.add_argument("--nodes", type=int, default=2, help="node processes (default %(default)s)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = p.parse_args(argv)
    report = run(args.frames, args.seed, nodes=args.nodes,
                 out=lambda text: print(text, file=sys.stderr, flush=True))
    print(json.dumps(report.summary(), indent=2) if args.json else report.table())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
