"""``stui`` while its store fails over: it says so, waits, and goes on (no crash, no error).

A real Sentinel topology (1 primary, 2 replicas, 3 sentinels on free loopback ports), a real
node process on it, ``stui`` in tmux (see ``test_tui.py``). The primary is killed while an
evaluation is on its way: the status line shows ``store_failing_over``, a notice says that
requests wait, and the evaluation's answer arrives once a replica has been promoted.
"""

from __future__ import annotations

from pathlib import Path

from conftest import NodeProcess
from ha_support import local_topology
from test_tui import Terminal, result_shown, state_is, stui_command
from test_tui import terminal as terminal  # the fixture


def test_stui_shows_the_store_failing_over_and_goes_on(terminal: Terminal, tmp_path: Path):
    with local_topology("sentinel", tmp_path) as topology:
        node = NodeProcess(topology.url(), "--node-id", "node-a", "--failover-wait", "20")
        try:
            terminal.start([*stui_command(), "--url", node.url, "--client-id", "tui-ha",
                            "--session-file", str(tmp_path / "session.json")])
            terminal.wait_for(state_is("connected"))
            terminal.enter("x := 41")
            terminal.wait_for(result_shown("x := 41", "41"))
            topology.kill(topology.primaries()[0])
            terminal.enter("x + 1")
            screen = terminal.wait_for(state_is("store_failing_over"), timeout=10).string
            assert "store failing over: requests wait" in screen
            screen = terminal.wait_for(result_shown("x + 1", "42"), timeout=30).string
            terminal.wait_for(state_is("connected"))
            assert "store back: requests answered again" in terminal.screen()
            assert "Error" not in screen
            terminal.keys("C-q")
            assert terminal.exit_status() == 0
        finally:
            node.stop()
