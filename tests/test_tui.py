"""The terminal client ``stui``, used as a person uses it: in a real terminal (tmux).

Two real node processes on a real redis-server; ``stui`` runs in a detached tmux session of
120x40, keys go in with ``send-keys`` and the screen is read with ``capture-pane``. Every wait
polls the screen with a deadline (no fixed sleeps). Also here: the UI-state model
(``client/tui_state.py``) on its own.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT

from client.tui import Config, parser
from client.tui_state import (
    MAX_STATE_BYTES,
    STATE_KEY,
    History,
    InspectorView,
    ResultEntry,
    UiState,
    load_session_file,
    save_session_file,
)

WIDTH, HEIGHT = 120, 40


def stui_command() -> list[str]:
    script = Path(sys.executable).parent / "stui"
    return [str(script)] if script.exists() else [sys.executable, "-m", "client.tui"]


class Terminal:
    """A private tmux server (its own socket) with one 120x40 window per program run."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.socket = workdir / "tmux.sock"
        self.env = env
        self.target = ""
        self.runs = 0

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(
            ["tmux", "-S", str(self.socket), "-f", "/dev/null", *args],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=10,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {args[0]} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, command: list[str]) -> None:
        """Run ``command`` in a new window; it stays readable after the program exits."""
        self.runs += 1
        self.target = f"run{self.runs}"
        line = " ".join(_quote(part) for part in command)
        if self.runs == 1:
            self.tmux(
                "new-session", "-d", "-s", "stui", "-n", self.target,
                "-x", str(WIDTH), "-y", str(HEIGHT), line,
                ";", "set-option", "-g", "remain-on-exit", "on",
            )
        else:
            self.tmux("new-window", "-d", "-t", "stui", "-n", self.target, line)
        self.target = f"stui:{self.target}"

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.target, *keys)

    def type(self, text: str) -> None:
        self.tmux("send-keys", "-t", self.target, "-l", text)

    def enter(self, text: str) -> None:
        self.type(text)
        self.keys("Enter")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-t", self.target)

    def wait_for(self, pattern: str, timeout: float = 10.0) -> re.Match[str]:
        """Poll the screen until ``pattern`` (a regex) is on it."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern, re.MULTILINE)
        while True:
            screen = self.screen()
            match = regex.search(screen)
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on screen within {timeout} s:\n{screen}")
            time.sleep(0.05)

    def exit_status(self, timeout: float = 10.0) -> int:
        """Wait for the program to end; its exit status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead, _, status = self.tmux(
                "display-message", "-p", "-t", self.target, "#{pane_dead} #{pane_dead_status}"
            ).strip().partition(" ")
            if dead == "1":
                return int(status or 0)
            time.sleep(0.05)
        raise AssertionError(f"stui did not exit within {timeout} s:\n{self.screen()}")

    def close(self) -> None:
        self.tmux("kill-server", check=False)


def _quote(part: str) -> str:
    return "'" + part.replace("'", "'\\''") + "'"


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path / "home"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm-256color",
    }
    (tmp_path / "home").mkdir()
    term = Terminal(tmp_path, env)
    try:
        yield term
    finally:
        term.close()


# The status line: " stui  node: node-a  url: ws://...  state:  connected   session: ..."
def state_is(state: str) -> str:
    return rf"^ stui  node: (?P<node>\S+)  url: \S+  state:\s+{state}\s"


def result_shown(code: str, result: str) -> str:
    """A result in the results pane: '› code' then the result on the next line."""
    return rf"│› {re.escape(code)}\s.*\n│{re.escape(result)}\s"


def transcript_shown(text: str) -> str:
    """A line of the transcript pane (the right column, just after the results pane)."""
    return rf"││{re.escape(text)}\s"


def test_stui_in_a_terminal_survives_a_node_kill_and_a_restart(
    terminal: Terminal, node_process: Any, tmp_path: Path
) -> None:
    started = time.monotonic()
    nodes = {"node-a": node_process("--node-id", "node-a"),
             "node-b": node_process("--node-id", "node-b")}
    session_file = tmp_path / "session.json"
    command = [
        *stui_command(),
        "--url", nodes["node-a"].url,
        "--url", nodes["node-b"].url,
        "--client-id", "tui-test",
        "--session-file", str(session_file),
    ]
    terminal.start(command)
    terminal.wait_for(state_is("connected"))
    terminal.wait_for(r"connected to node-a \(new session\)")

    terminal.enter("3 + 4")
    terminal.wait_for(result_shown("3 + 4", "7"))
    terminal.enter("Transcript show: 'hi'")
    terminal.wait_for(transcript_shown("hi"))
    terminal.enter("x := 41")
    terminal.wait_for(result_shown("x := 41", "41"))

    # Kill the node the status line names; the client fails over to the other one.
    victim = terminal.wait_for(state_is("connected")).group("node")
    survivor = "node-b" if victim == "node-a" else "node-a"
    nodes[victim].kill()
    screen = terminal.wait_for(state_is("restored")).string
    assert f"node: {survivor}" in screen
    assert f"lost {victim}: reconnecting" in screen
    assert f"restored on {survivor}" in screen
    terminal.enter("x + 1")
    terminal.wait_for(result_shown("x + 1", "42"))

    # Inspect the last result (F2), step into its second element (Down, Enter).
    terminal.enter("#(10 20 30)")
    terminal.wait_for(result_shown("#(10 20 30)", "#(10 20 30)"))
    terminal.keys("F2")
    terminal.wait_for(r"││\[3\]: 30  \(SmallInteger\)")
    terminal.keys("Down", "Enter")
    terminal.wait_for(r"││SmallInteger  20\s.*\n.*││self › 2\s")

    # Quit, then start again with the same session file: it comes back as it was.
    terminal.keys("C-q")
    assert terminal.exit_status() == 0
    assert load_session_file(session_file)["client_id"] == "tui-test"
    terminal.start(command)
    screen = terminal.wait_for(state_is("connected")).string
    screen = terminal.wait_for(r"resumed session \S+: 5 results, 5 inputs").string
    for code, result in (("3 + 4", "7"), ("x := 41", "41"), ("x + 1", "42")):
        assert re.search(result_shown(code, result), screen, re.MULTILINE), screen
    assert re.search(r"││SmallInteger  20\s.*\n.*││self › 2\s", screen), screen  # inspector
    assert "▶ Inspector" in screen  # and the pane that had the focus
    terminal.wait_for(transcript_shown("hi"))  # the transcript comes back from the session
    terminal.keys("F3")  # the restored inspector goes on where it was
    terminal.wait_for(r"││\[3\]: 30  \(SmallInteger\)")
    terminal.keys("Tab")  # Inspector -> Workspace (Workspace, Results, Transcript, Inspector)
    terminal.wait_for(r"▶ Workspace")
    terminal.keys("Up")
    terminal.wait_for(r"│» #\(10 20 30\)\s")  # the input history too
    terminal.keys("Up")
    terminal.wait_for(r"│» x \+ 1\s")
    terminal.keys("C-q")
    assert terminal.exit_status() == 0
    assert time.monotonic() - started < 40


def test_two_terminals_on_two_nodes_share_one_workspace_and_survive_a_node_kill(
    terminal: Terminal, node_process: Any, tmp_path: Path
) -> None:
    """Issue 11: alice shares her session with bob; each terminal shows the other's
    evaluations (marked with the client id) and who is attached, and both go on after the
    node of one of them is killed."""
    nodes = {"node-a": node_process("--node-id", "node-a"),
             "node-b": node_process("--node-id", "node-b")}
    alice_file, bob_file = tmp_path / "alice.json", tmp_path / "bob.json"
    terminal.start([*stui_command(), "--url", nodes["node-a"].url, "--url", nodes["node-b"].url,
                    "--client-id", "alice", "--session-file", str(alice_file), "--shared",
                    "--share-with", "bob"])
    alice = terminal.target
    terminal.wait_for(state_is("connected"))
    terminal.wait_for(r"shared with bob \(write\)")
    sid = load_session_file(alice_file)["session_id"]
    terminal.start([*stui_command(), "--url", nodes["node-b"].url, "--url", nodes["node-a"].url,
                    "--client-id", "bob", "--session-file", str(bob_file), "--shared",
                    "--session-id", sid])
    bob = terminal.target
    assert "node: node-b" in terminal.wait_for(state_is("connected")).string
    terminal.wait_for(r"attached: 2 \(alice, bob\)")
    terminal.target = alice
    terminal.wait_for(r"attached: 2 \(alice, bob\)")
    terminal.wait_for(r"bob attached on node-b")

    terminal.enter("x := 6 * 7")
    terminal.wait_for(result_shown("x := 6 * 7", "42"))
    terminal.target = bob
    terminal.wait_for(result_shown("[alice] x := 6 * 7", "42"))
    terminal.enter("x + 1")
    terminal.wait_for(result_shown("x + 1", "43"))
    terminal.target = alice
    terminal.wait_for(result_shown("[bob] x + 1", "43"))

    # Kill bob's node: bob fails over to node-a and both go on, nobody thrown out.
    nodes["node-b"].kill()
    terminal.target = bob
    screen = terminal.wait_for(state_is("restored")).string
    assert "node: node-a" in screen
    terminal.target = alice
    terminal.enter("x * 2")
    terminal.wait_for(result_shown("x * 2", "84"))
    terminal.target = bob
    terminal.wait_for(result_shown("[alice] x * 2", "84"))
    terminal.enter("x - 2")
    terminal.wait_for(result_shown("x - 2", "40"))
    terminal.target = alice
    screen = terminal.wait_for(result_shown("[bob] x - 2", "40")).string
    assert "taken over" not in screen and state_is("connected")
    for target in (alice, bob):
        terminal.target = target
        terminal.keys("C-q")
        assert terminal.exit_status() == 0


def test_stui_starts_a_new_session_when_the_saved_one_is_gone(
    terminal: Terminal, node_process: Any, tmp_path: Path
) -> None:
    node = node_process("--node-id", "node-a")
    session_file = tmp_path / "session.json"
    gone = "G" * 32
    save_session_file(session_file, {"session_id": gone, "client_id": "tui-gone"})
    terminal.start([*stui_command(), "--url", node.url, "--session-file", str(session_file)])
    screen = terminal.wait_for(r"connected to node-a \(new session\)").string
    assert "the saved session GGGGGGGG is gone: new session" in screen
    assert "client: tui-gone" in screen  # the client id came from the session file
    terminal.enter("6 * 7")
    terminal.wait_for(result_shown("6 * 7", "42"))
    terminal.keys("C-q")
    assert terminal.exit_status() == 0
    saved = load_session_file(session_file)
    assert saved["session_id"] != gone and saved["client_id"] == "tui-gone"


def test_stui_help_lists_its_flags() -> None:
    done = subprocess.run(
        [*stui_command(), "--help"], capture_output=True, text=True, cwd=ROOT, timeout=30
    )
    assert done.returncode == 0, done.stderr
    for flag in ("--url", "--client-id", "--token", "--session-id", "--session-file"):
        assert flag in done.stdout
    assert "STUI_TOKEN" in done.stdout


def test_stui_refuses_to_run_without_a_terminal(tmp_path: Path) -> None:
    done = subprocess.run(
        [*stui_command(), "--session-file", str(tmp_path / "s.json")],
        capture_output=True, text=True, cwd=ROOT, timeout=30, stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and "needs a terminal" in done.stderr


# -- configuration and the session file ---------------------------------------------------------


def test_config_resumes_the_session_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STUI_TOKEN", raising=False)
    path = tmp_path / "dir" / "session.json"
    save_session_file(path, {"session_id": "S" * 32, "client_id": "alice", "urls": ["ws://x/"]})
    assert path.stat().st_mode & 0o777 == 0o600
    config = Config.from_args(parser().parse_args(["--session-file", str(path)]))
    assert (config.session_id, config.client_id, config.urls) == ("S" * 32, "alice", ["ws://x/"])
    assert config.session_from_file
    # Another client id does not take alice's session; --new-session ignores the file.
    other = Config.from_args(
        parser().parse_args(["--session-file", str(path), "--client-id", "bob"])
    )
    assert other.session_id is None and other.client_id == "bob"
    fresh = Config.from_args(parser().parse_args(["--session-file", str(path), "--new-session"]))
    assert fresh.session_id is None
    explicit = Config.from_args(
        parser().parse_args(["--session-file", str(path), "--session-id", "T" * 32,
                             "--url", "ws://a/", "--url", "ws://b/"])
    )
    assert explicit.session_id == "T" * 32 and not explicit.session_from_file
    assert explicit.urls == ["ws://a/", "ws://b/"]
    monkeypatch.setenv("STUI_TOKEN", "tok")
    assert Config.from_args(parser().parse_args(["--session-file", str(path)])).token == "tok"


# -- the UI state -------------------------------------------------------------------------------


def test_history_recall_keeps_the_draft() -> None:
    history = History(["a", "b"])
    assert history.up("draft") == "b"
    assert history.up("ignored") == "a"
    assert history.up("ignored") is None  # the oldest
    assert history.down() == "b"
    assert history.down() == "draft"
    assert history.down() is None
    history.add("c")
    history.add("c")
    assert history.entries == ["a", "b", "c"]


def test_ui_state_round_trips_and_reads_leniently() -> None:
    state = UiState(
        history=["3 + 4", "x := 41"],
        draft="x +",
        focus="inspector",
        results=[
            ResultEntry("3 + 4", "7", "ok", "SmallInteger", "r1"),
            ResultEntry("1/0", "ZeroDivide: division by zero", "error"),
            ResultEntry("pending", kind="pending"),
        ],
        inspector=InspectorView(
            "i1", ["items", 1], {"class": "Array", "fields": [{"name": "a", "object_id": "r2"}]}
        ),
        scroll={"results": 1, "bogus": 3},
    )
    data = state.to_json()
    back = UiState.from_json(data)
    assert back is not None
    assert back.history == state.history and back.draft == "x +" and back.focus == "inspector"
    assert [r.code for r in back.results] == ["3 + 4", "1/0"]  # pending ones are not saved
    assert back.inspector is not None and back.inspector.path == ["items", 1]
    assert back.inspector.rows[0][:2] == ("a", "a")
    assert back.scroll == {"results": 1}
    assert UiState.from_json({"schema": 1, "history": "nope", "results": [1, {"x": 2}],
                              "focus": "elsewhere", "scroll": {"results": -1}}) == UiState()
    assert UiState.from_json("garbage") is None


def test_ui_state_fits_the_server_limit() -> None:
    big = "x" * 3000
    state = UiState(history=[big] * 200, results=[ResultEntry(big, big, "ok")] * 100)
    data = state.to_json()
    import json

    assert len(json.dumps(data).encode()) <= MAX_STATE_BYTES
    assert data["results"] and data["history"]  # the newest survive


def test_ui_state_from_a_session_without_one_uses_the_server_history() -> None:
    restored = {
        "session_state": None,
        "workspace_context": {
            "history": [{"code": "1 + 1", "result": "2", "has_error": False}]
        },
    }
    state = UiState.from_session(restored)
    assert state is not None and state.history == ["1 + 1"]
    assert state.results[0].text == "2"
    saved = {"session_state": {STATE_KEY: UiState(history=["a"]).to_json()}}
    assert UiState.from_session(saved) == UiState(history=["a"])
