"""``stui``: the terminal client of STUI Cluster (urwid on Trio).

Screens: a status line (node id, URL, connection state), a notice line (what just happened to
the connection), the results pane (print-it results and errors), the transcript pane
(``transcript`` events), the inspector pane (fields of an object, with their printStrings;
navigate in and back), the workspace input (with history) and a footer with the keys.

The session is a :class:`client.session.SessionClient`: it reconnects and fails over by itself
and retries requests with their ids, so an evaluation typed while a node dies is answered once
the session is restored. The client's own UI state (history, results, inspector, focus,
scroll) is saved in the session with ``update_session_state`` (debounced) and read back when
``stui`` resumes the session (``--session-id``, or the session file).

Shared sessions (``--shared``, issue 11): several terminals, on any nodes, on one workspace.
Others' evaluations appear in the results pane marked with their client id, the status line
shows who is attached, and the UI state is not saved (each terminal has its own screen; the
results come back from the workspace's history).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import math
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trio
import urwid

from . import credentials
from .connection import RequestFailed
from .session import (
    CLOSED,
    CONNECTED,
    CONNECTING,
    FAILED,
    FINAL_STATES,
    RECONNECTING,
    RESTORED,
    STORE_FAILING_OVER,
    SessionClient,
    SessionLost,
    open_session,
)
from .tui_state import (
    PANES,
    STATE_KEY,
    History,
    InspectorView,
    ResultEntry,
    UiState,
    load_session_file,
    save_session_file,
    session_file_path,
)

log = logging.getLogger("stui.tui")

DEFAULT_URL = "ws://127.0.0.1:8765/"
SAVE_DELAY = 0.4  # seconds of quiet before the UI state is saved
SAVE_MAX_DELAY = 3.0  # ... but no later than this after the first change
FINAL_SAVE_TIMEOUT = 3.0
MAX_TRANSCRIPT_CHARS = 100_000
MAX_NOTICES = 2

KEYS = [
    ("Enter/^D", "evaluate"),
    ("↑↓", "history"),
    ("F2", "inspect"),
    ("F3", "back"),
    ("Tab", "pane"),
    ("^Q", "quit"),
    ("^C", "interrupt"),
    ("F5", "reconnect"),
    ("Alt-Enter", "newline"),
]

PALETTE = [
    ("status", "black", "light gray"),
    ("status_state", "black,bold", "light gray"),
    ("state_good", "white,bold", "dark green"),
    ("state_busy", "black,bold", "yellow"),
    ("state_bad", "white,bold", "dark red"),
    ("notice", "yellow", "default"),
    ("pane", "default", "default"),
    ("pane_focus", "light cyan,bold", "default"),
    ("code", "light cyan", "default"),
    ("ok", "default", "default"),
    ("error", "light red", "default"),
    ("pending", "dark gray", "default"),
    ("dim", "dark gray", "default"),
    ("selected", "black", "light gray"),
    ("footer", "white", "dark blue"),
    ("footer_key", "yellow,bold", "dark blue"),
]

STATE_ATTR = {
    CONNECTING: "state_busy",
    CONNECTED: "state_good",
    RECONNECTING: "state_busy",
    RESTORED: "state_good",
    STORE_FAILING_OVER: "state_busy",
    FAILED: "state_bad",
    CLOSED: "state_bad",
}

Size = tuple[()] | tuple[int] | tuple[int, int]
Walker = urwid.SimpleFocusListWalker[Any]
NAV_KEYS = {"up", "down", "left", "right", "page up", "page down", "home", "end"}


# -- configuration ------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="stui",
        description="The STUI terminal client: a Smalltalk workspace, transcript and "
        "inspector in a session that lives in the cluster. It reconnects and fails over "
        "by itself, and remembers its session (and how the screen looked) across restarts.",
        epilog="Keys: " + ", ".join(f"{k} {what}" for k, what in KEYS) + ". "
        "Tab switches between the workspace input and the results, transcript and inspector "
        "panes; in a pane, arrows and PgUp/PgDn scroll and Enter picks (inspect a result, "
        "step into a field).\n\nexamples:\n  stui --url ws://127.0.0.1:8765/\n"
        "  stui --url wss://127.0.0.1:8765/ --ca .stui/cluster/tls/ca.pem --client-id ada\n"
        "  STUI_TOKEN=$(stui-cluster token ada) stui --url ws://node:8765/ --client-id ada",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--url",
        action="append",
        metavar="URL",
        help="a node or load balancer to connect to; repeat for failover "
        f"(default: the URLs in the session file, else {DEFAULT_URL})",
    )
    p.add_argument(
        "--client-id",
        help="client id (letters, digits, _.:@-; default: the session file's, else USER@HOST)",
    )
    p.add_argument(
        "--token",
        default=os.environ.get("STUI_TOKEN"),
        help="authentication token when the cluster has a secret (env STUI_TOKEN; "
        "'stui-cluster token CLIENT_ID' prints it). Default: stui makes its own from the "
        "cluster secret when it can read it (env STUI_SECRET, or the state dir's 'secret')",
    )
    p.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="a local cluster's state dir, where stui finds its secret and CA (env "
        f"STUI_STATE_DIR, default {credentials.DEFAULT_STATE_DIR})",
    )
    p.add_argument(
        "--ca",
        metavar="FILE",
        help="CA certificate (PEM) that signs the cluster's wss:// certificate (default: the "
        "state dir's tls/ca.pem if there is one, else the system's CAs)",
    )
    p.add_argument(
        "--session-id", help="resume this session (default: the one in the session file)"
    )
    p.add_argument(
        "--session-file",
        help="where stui remembers its session (default ~/.stui/session.json)",
    )
    p.add_argument(
        "--new-session",
        action="store_true",
        help="start a new session even when the session file names one",
    )
    p.add_argument(
        "--shared",
        action="store_true",
        help="attach to the session shared: beside its other terminals, closing none (without "
        "it the owner's terminal takes the session over; another client's is always shared)",
    )
    p.add_argument(
        "--share-with",
        action="append",
        metavar="CLIENT[:read|write]",
        default=[],
        help="let another client id attach to this session (write rights by default); repeat "
        "for more",
    )
    return p


def share_grants(values: Sequence[str]) -> list[tuple[str, str]]:
    """``--share-with`` values as (client id, rights); raises ValueError on a bad one."""
    grants = []
    for value in values:
        client, _, rights = value.partition(":")
        rights = rights or "write"
        if not CLIENT_ID_RE.match(client) or rights not in ("read", "write"):
            raise ValueError(f"--share-with {value!r}: give CLIENT_ID, CLIENT_ID:read or "
                             "CLIENT_ID:write")
        grants.append((client, rights))
    return grants


CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$")


def default_client_id() -> str:
    try:
        user = getpass.getuser()
    except Exception:
        user = "user"
    raw = f"{user}@{socket.gethostname()}"
    cleaned = re.sub(r"[^A-Za-z0-9_.:@-]", "-", raw).lstrip("_.:@-")[:128]
    return cleaned or "stui"


@dataclass
class Config:
    urls: list[str]
    client_id: str
    token: str | Callable[[], str] | None
    session_id: str | None
    session_from_file: bool
    session_file: Path
    reconnect_timeout: float = 60.0
    request_timeout: float = 60.0
    ca: str | None = None
    shared: bool = False
    share_with: list[tuple[str, str]] | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Config:
        path = session_file_path(args.session_file)
        saved = {} if args.new_session else load_session_file(path)
        session_id: str | None = None
        from_file = False
        client_id = args.client_id
        if args.session_id:
            session_id = args.session_id
        elif isinstance(saved.get("session_id"), str) and (
            client_id is None or saved.get("client_id") == client_id
        ):
            session_id = saved["session_id"]
            from_file = True
        if client_id is None:
            saved_client = saved.get("client_id")
            client_id = saved_client if isinstance(saved_client, str) else default_client_id()
        saved_urls = saved.get("urls")
        urls = args.url or (
            [u for u in saved_urls if isinstance(u, str)] if isinstance(saved_urls, list) else []
        ) or [DEFAULT_URL]
        state_dir = args.state_dir or credentials.state_dir()
        ca = args.ca
        if ca is None and any(url.startswith("wss://") for url in urls):
            ca = credentials.find_ca(state_dir)
        return cls(
            urls=urls,
            client_id=client_id,
            token=credentials.token_for(client_id, token=args.token, directory=state_dir),
            session_id=session_id,
            session_from_file=from_file,
            session_file=path,
            ca=ca,
            shared=bool(getattr(args, "shared", False)),
            share_with=share_grants(getattr(args, "share_with", None) or []),
        )


# -- widgets ------------------------------------------------------------------------------------


class Row(urwid.Text):
    """A line of a pane that can hold the focus, so a pane scrolls and a row can be picked."""

    _selectable = True

    def __init__(self, markup: Any, data: Any = None) -> None:
        super().__init__(markup)
        self.data = data

    def keypress(self, size: Size, key: str) -> str | None:
        return key


def row(markup: Any, data: Any = None) -> urwid.AttrMap[Row]:
    return urwid.AttrMap(Row(markup, data), None, focus_map="selected")


class Pane(urwid.WidgetWrap[urwid.Widget]):
    """A bordered pane; navigation keys stay inside it (they never move the focus away)."""

    def __init__(self, body: urwid.Widget, title: str) -> None:
        self.line_box = urwid.LineBox(body, title=title, title_align="left")
        super().__init__(urwid.AttrMap(self.line_box, "pane", "pane_focus"))

    def set_title(self, title: str) -> None:
        self.line_box.set_title(title)

    def keypress(self, size: Size, key: str) -> str | None:
        unhandled: str | None = super().keypress(size, key)
        return None if unhandled in NAV_KEYS else unhandled


class WorkspaceInput(urwid.Edit):
    """The workspace input: Enter or Ctrl-D evaluates, Alt-Enter inserts a newline, up/down
    recall the history (on the first/last line of the input)."""

    def __init__(self, app: App) -> None:
        super().__init__(caption="» ", multiline=True)
        self.app = app

    def keypress(self, size: tuple[int], key: str) -> str | None:  # type: ignore[override]
        if key in ("enter", "ctrl d"):
            self.app.evaluate_input()
            return None
        if key in ("meta enter", "shift enter", "ctrl enter"):
            return super().keypress(size, "enter")
        text, pos = self.edit_text, self.edit_pos
        if key == "up" and "\n" not in text[:pos]:
            recalled = self.app.history.up(text)
            if recalled is not None:
                self.set_edit_text(recalled)
                self.set_edit_pos(len(recalled))
            self.app.mark_dirty()
            return None
        if key == "down" and "\n" not in text[pos:]:
            recalled = self.app.history.down()
            if recalled is not None:
                self.set_edit_text(recalled)
                self.set_edit_pos(len(recalled))
            self.app.mark_dirty()
            return None
        result: str | None = super().keypress(size, key)
        self.app.mark_dirty()
        return result


class AppFrame(urwid.Frame[Any, Any, Any]):
    """The top widget: global keys first, then the focused pane."""

    def __init__(self, app: App, body: urwid.Widget, header: urwid.Widget, footer: urwid.Widget):
        super().__init__(body, header=header, footer=footer)
        self.app = app

    def keypress(self, size: tuple[int, int], key: str) -> str | None:  # type: ignore[override]
        app = self.app
        handlers: dict[str, Callable[[], None]] = {
            "tab": lambda: app.cycle_pane(1),
            "shift tab": lambda: app.cycle_pane(-1),
            "f2": app.inspect_selected,
            "f3": app.inspector_back,
            "f5": app.retry,
            "ctrl q": app.request_quit,
            "ctrl c": app.interrupt,
        }
        handler = handlers.get(key)
        if handler is not None:
            handler()
            return None
        unhandled: str | None = super().keypress(size, key)
        if unhandled is not None and len(unhandled) == 1 and unhandled.isprintable():
            # Typing in another pane: go to the workspace input and type there.
            app.focus_pane("input")
            app.input.insert_text(unhandled)
            app.mark_dirty()
            return None
        if unhandled == "enter":
            pane = app.current_pane()
            if pane == "inspector":
                app.inspect_field()
                return None
            if pane == "results":
                app.inspect_selected()
                return None
        app.mark_dirty()  # the scroll position may have moved
        return unhandled


# -- the application ----------------------------------------------------------------------------


class App:
    """The terminal client: widgets, the session, the evaluation queue and the saver."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.session_id = config.session_id
        self.session_from_file = config.session_from_file
        self.client: SessionClient | None = None
        self.conn_state = CONNECTING
        self.node_id: str | None = None
        self.url: str | None = None
        self.reconnects = 0
        self.last_seq = 0
        self.lost: SessionLost | None = None
        self.ui_restored = False
        self.history = History()
        self.results: list[ResultEntry] = []
        self.inspector: InspectorView | None = None
        self.transcript = ""
        self.notices: list[str] = []
        self.pending_scroll: dict[str, int] = {}
        self.evaluating = 0
        self.shared = config.shared
        """Attached shared (asked for, or the server's choice for another client's session)."""
        self.presence: dict[str, str] = {}
        """Attachment id -> client id of everyone attached (shared sessions)."""
        self._history_seq = 0
        self.saves = 0
        self._last_saved: dict[str, Any] | None = None
        self._dirty = trio.Event()
        self._quit = trio.Event()
        self._retry = trio.Event()
        self._client_changed = trio.Event()
        self._client_over = trio.Event()
        self._inspector_lock = trio.Lock()
        self._save_lock = trio.Lock()
        self._starting_over = False
        self._eval_send, self._eval_recv = trio.open_memory_channel[ResultEntry](math.inf)
        self._nursery: trio.Nursery | None = None
        self._build()

    # -- widgets ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.status = urwid.Text("", wrap="clip")
        self.notice_lines = [urwid.Text("", wrap="clip") for _ in range(MAX_NOTICES)]
        self.results_walker: Walker = urwid.SimpleFocusListWalker([])
        self.results_list: urwid.ListBox[int] = urwid.ListBox(self.results_walker)
        self.transcript_walker: Walker = urwid.SimpleFocusListWalker([])
        self.transcript_list: urwid.ListBox[int] = urwid.ListBox(self.transcript_walker)
        self.inspector_walker: Walker = urwid.SimpleFocusListWalker([])
        self.inspector_list: urwid.ListBox[int] = urwid.ListBox(self.inspector_walker)
        self.inspector_header = urwid.Text(("dim", "F2 inspects the last result"))
        inspector_body: urwid.Frame[Any, Any, Any] = urwid.Frame(
            self.inspector_list, header=urwid.Pile([self.inspector_header, urwid.Divider("┄")])
        )
        self.input = WorkspaceInput(self)
        self.panes: dict[str, Pane] = {
            "results": Pane(self.results_list, "Results"),
            "transcript": Pane(self.transcript_list, "Transcript"),
            "inspector": Pane(inspector_body, "Inspector"),
            "input": Pane(urwid.Filler(self.input, valign="top"), "Workspace"),
        }
        self.right = urwid.Pile([self.panes["transcript"], self.panes["inspector"]])
        self.columns = urwid.Columns(
            [("weight", 3, self.panes["results"]), ("weight", 2, self.right)]
        )
        self.body = urwid.Pile([self.columns, (6, self.panes["input"])])
        footer_markup: list[Any] = []
        for key, what in KEYS:
            footer_markup += [("footer_key", f" {key}"), ("footer", f" {what} ")]
        header = urwid.Pile([urwid.AttrMap(self.status, "status"), *self.notice_lines])
        footer = urwid.AttrMap(urwid.Text(footer_markup, wrap="clip"), "footer")
        self.frame = AppFrame(self, self.body, header, footer)
        self.focus_pane("input")
        self.render_status()

    def current_pane(self) -> str:
        if self.body.focus_position == 1:
            return "input"
        if self.columns.focus_position == 0:
            return "results"
        return "transcript" if self.right.focus_position == 0 else "inspector"

    def focus_pane(self, name: str) -> None:
        if name == "input":
            self.body.focus_position = 1
        else:
            self.body.focus_position = 0
            if name == "results":
                self.columns.focus_position = 0
            else:
                self.columns.focus_position = 1
                self.right.focus_position = 0 if name == "transcript" else 1
        for pane, widget in self.panes.items():
            title = {"input": "Workspace", "results": "Results", "transcript": "Transcript",
                     "inspector": "Inspector"}[pane]
            widget.set_title(f"▶ {title}" if pane == name else title)

    def cycle_pane(self, step: int) -> None:
        index = PANES.index(self.current_pane())
        self.focus_pane(PANES[(index + step) % len(PANES)])
        self.mark_dirty()

    # -- status and notices ----------------------------------------------------------------

    def render_status(self) -> None:
        session = f"{self.session_id[:8]}…" if self.session_id else "-"
        state = self.conn_state
        markup: list[Any] = [
            " stui  ",
            f"node: {self.node_id or '-'}  ",
            f"url: {self.url or '-'}  ",
            "state: ",
            (STATE_ATTR.get(state, "status_state"), f" {state} "),
        ]
        if self.shared or len(self.presence) > 1:  # who is here, before it gets clipped
            names = sorted(set(self.presence.values()))
            markup.append(f"  attached: {len(self.presence)} ({', '.join(names)})")
        markup.append(f"  session: {session}  client: {self.config.client_id}")
        if self.reconnects:
            markup.append(f"  reconnects: {self.reconnects}")
        if self.evaluating:
            markup.append(f"  evaluating: {self.evaluating}")
        self.status.set_text(markup)

    def say(self, text: str) -> None:
        """Add a notice (a timestamped line, the newest last)."""
        self.notices.append(f"{time.strftime('%H:%M:%S')} {text}")
        del self.notices[:-MAX_NOTICES]
        shown = ([""] * MAX_NOTICES + self.notices)[-MAX_NOTICES:]
        for line, notice in zip(self.notice_lines, shown, strict=True):
            line.set_text(("notice", f" {notice}" if notice else ""))

    def on_state(self, state: str, info: dict[str, Any]) -> None:
        self.conn_state = state
        self.node_id = info.get("node_id") or self.node_id
        self.url = info.get("url") or self.url
        if info.get("store_recovered"):
            self.say("store back: requests answered again")
        if state == CONNECTING:
            if not self._starting_over:  # (then the notice before says what happens)
                self.say("connecting to " + ", ".join(self.config.urls))
            self._starting_over = False
        elif state == CONNECTED:
            what = "new session" if info.get("created") else "session resumed"
            self.say(f"connected to {self.node_id} ({what})")
        elif state == RECONNECTING:
            self.say(f"lost {self.node_id}: reconnecting")
        elif state == STORE_FAILING_OVER:
            self.say("store failing over: requests wait and are sent again")
        elif state == RESTORED:
            self.reconnects += 1
            self.mark_dirty()  # a save that did not land before the loss goes out again
            missed = info.get("missed") or 0
            self.say(f"restored on {self.node_id} ({missed} missed events)")
            if self.client is not None:
                self.spawn(self._refresh_presence, self.client)
        elif state in FINAL_STATES:
            if not self._starts_over(info.get("reason")):
                self.say(f"{state}: {info.get('error')}  (F5 reconnects)")
            self._client_over.set()
        self.render_status()

    # -- results, transcript, inspector ----------------------------------------------------

    def _result_widget(self, index: int, entry: ResultEntry) -> urwid.Widget:
        attr = {"ok": "ok", "error": "error"}.get(entry.kind, "pending")
        text = entry.text if entry.kind != "pending" else "… evaluating"
        suffix = f"   ({entry.result_type})" if entry.kind == "ok" and entry.result_type else ""
        who = f"[{entry.by}] " if entry.by else ""
        return row([("code", f"› {who}{entry.code}\n"), (attr, text), ("dim", suffix)], index)

    def render_results(self, follow: bool = True) -> None:
        self.results_walker[:] = [self._result_widget(i, e) for i, e in enumerate(self.results)]
        if follow and self.results:
            self.results_walker.set_focus(len(self.results) - 1)

    def update_result(self, entry: ResultEntry) -> None:
        for index, shown in enumerate(self.results):
            if shown is entry:
                self.results_walker[index] = self._result_widget(index, entry)
                return

    def add_transcript(self, text: str) -> None:
        at_end = self._at_end(self.transcript_list, self.transcript_walker)
        old = self.transcript_list.focus_position if self.transcript_walker else None
        self.transcript = (self.transcript + text)[-MAX_TRANSCRIPT_CHARS:]
        lines = self.transcript.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        self.transcript_walker[:] = [row(line or " ") for line in lines]
        position = self.pending_scroll.get("transcript")
        if position is not None and position < len(lines):
            del self.pending_scroll["transcript"]
            self.transcript_walker.set_focus(position)
        elif at_end and lines:
            self.transcript_walker.set_focus(len(lines) - 1)
        elif old is not None and old < len(lines):
            self.transcript_walker.set_focus(old)  # the reader scrolled back: stay there

    @staticmethod
    def _at_end(listbox: urwid.ListBox[int], walker: Walker) -> bool:
        return not walker or listbox.focus_position == len(walker) - 1

    def render_inspector(self) -> None:
        view = self.inspector
        if view is None:
            self.inspector_header.set_text(("dim", "F2 inspects the last result"))
            self.inspector_walker[:] = []
            return
        obj = view.obj
        path = " › ".join(["self", *(str(p) for p in view.path)])
        size = obj.get("indexed_size")
        self.inspector_header.set_text(
            [
                ("code", f"{obj.get('class', '?')}"),
                f"  {obj.get('print_string', '')}\n",
                ("dim", f"{path}" + (f"   ({size} elements)" if size else "")),
            ]
        )
        rows: list[urwid.Widget] = []
        for label, key, item in view.rows:
            rows.append(
                row(
                    [
                        ("code", f"{label}: "),
                        f"{item.get('print_string', '')}",
                        ("dim", f"  ({item.get('class', '?')})"),
                    ],
                    key,
                )
            )
        if not rows:
            rows.append(urwid.Text(("dim", "(no fields)")))
        self.inspector_walker[:] = rows
        self.inspector_walker.set_focus(0)

    # -- UI state: snapshot, restore, save -------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        scroll = {}
        for name, listbox, walker in (
            ("results", self.results_list, self.results_walker),
            ("transcript", self.transcript_list, self.transcript_walker),
            ("inspector", self.inspector_list, self.inspector_walker),
        ):
            if walker:
                scroll[name] = int(listbox.focus_position)
        state = UiState(
            history=list(self.history.entries),
            draft=self.input.edit_text if not self.history.recalling else "",
            focus=self.current_pane(),
            results=list(self.results),
            inspector=self.inspector,
            scroll=scroll,
        )
        return state.to_json()

    def restore_ui(self, restore_result: dict[str, Any]) -> None:
        """Show the session as this client left it (its saved UI state; shared: the
        workspace's history, which others' evaluations are part of)."""
        last_seq = restore_result.get("last_seq")
        self._history_seq = last_seq if isinstance(last_seq, int) else 0
        state = UiState.from_session(restore_result, use_saved=not self.shared)
        if state is None:
            return
        self.history = History(state.history)
        self.results = state.results
        self.input.set_edit_text(state.draft)
        self.input.set_edit_pos(len(state.draft))
        self.render_results()
        position = state.scroll.get("results")
        if position is not None and position < len(self.results):
            self.results_walker.set_focus(position)
        if state.inspector is not None:
            self.inspector = state.inspector
            self._check_inspector(restore_result, state.inspector)
        self.render_inspector()
        position = state.scroll.get("inspector")
        if position is not None and position < len(self.inspector_walker):
            self.inspector_walker.set_focus(position)
        if "transcript" in state.scroll:
            self.pending_scroll["transcript"] = state.scroll["transcript"]
        self.focus_pane(state.focus)
        self._last_saved = state.to_json()
        self.say(
            f"resumed session {self.session_id and self.session_id[:8]}: "
            f"{len(self.results)} results, {len(self.history.entries)} inputs"
        )

    def _check_inspector(self, restore_result: dict[str, Any], view: InspectorView) -> None:
        """The saved inspector still open on the server, at the same path? Else refresh it."""
        state = restore_result.get("inspector_state") or {}
        server = next(
            (
                i
                for i in state.get("inspectors") or []
                if isinstance(i, dict) and i.get("inspector_id") == view.inspector_id
            ),
            None,
        )
        if server is None:
            self.inspector = None
            self.say("the inspector was closed on the server")
        elif list(server.get("path") or []) != view.path:
            self.spawn(self._inspector_call, "select_field", {"field": None})

    def mark_dirty(self) -> None:
        self._dirty.set()

    async def _saver(self) -> None:
        """Save the UI state once it has been quiet for SAVE_DELAY (debounced), or at the
        latest SAVE_MAX_DELAY after the first change."""
        while True:
            await self._dirty.wait()
            deadline = trio.current_time() + SAVE_MAX_DELAY
            while True:
                self._dirty = trio.Event()
                with trio.move_on_at(min(trio.current_time() + SAVE_DELAY, deadline)) as quiet:
                    await self._dirty.wait()
                if quiet.cancelled_caught:
                    break
            await self.save()

    async def save(self) -> bool:
        """Send the UI state if it changed since the last save (one save at a time)."""
        async with self._save_lock:
            client = self.client
            if client is None or client.state in FINAL_STATES or not self.ui_restored:
                return False
            if self.shared:
                return True  # one screen per terminal: a shared session keeps nobody's
            data = self.snapshot()
            if data == self._last_saved:
                return True
            try:
                await client.update_state({STATE_KEY: data})
            except (RequestFailed, SessionLost, trio.TooSlowError) as exc:
                self.say(f"could not save the UI state: {exc}")
                return False
            self._last_saved = data
            self.saves += 1
            return True

    # -- the session -----------------------------------------------------------------------

    async def _session_loop(self) -> None:
        """Open the session; after it fails, wait for F5 and open it again."""
        while True:
            self._client_over = trio.Event()
            try:
                async with open_session(
                    self.config.urls,
                    self.config.client_id,
                    token=self.config.token,
                    ca=self.config.ca,
                    session_id=self.session_id,
                    last_seq=self.last_seq,
                    on_state=self.on_state,
                    reconnect_timeout=self.config.reconnect_timeout,
                    request_timeout=self.config.request_timeout,
                    attach="shared" if self.config.shared else None,
                ) as client:
                    await self._use(client)
            except SessionLost as exc:
                self.lost = exc
                if self._starts_over(exc.reason):
                    self.say(f"the saved session {str(self.session_id)[:8]} is gone: new session")
                    self._starting_over = True
                    self.session_id = None
                    self.session_from_file = False
                    self.last_seq = 0
                    continue
            self.client = None
            self._client_changed.set()
            self._client_changed = trio.Event()
            await self._retry.wait()
            self._retry = trio.Event()
            if self.lost is not None and self.lost.reason in ("not_found", "expired", "closed"):
                self.say("starting a new session")
                self.session_id = None
                self.last_seq = 0
            self.lost = None

    def _starts_over(self, reason: str | None) -> bool:
        """A remembered session that is gone at start-up is replaced by a new one."""
        return reason == "not_found" and self.session_from_file and not self.ui_restored

    async def _use(self, client: SessionClient) -> None:
        self.client = client
        self.session_id = client.session_id
        self.shared = self.config.shared or client.restore_result.get("attach") == "shared"
        self.render_status()
        self._remember_session(client)
        if not self.ui_restored:
            self.restore_ui(client.restore_result)
            self.ui_restored = True
        self.mark_dirty()  # changes made while there was no client get saved now
        self._client_changed.set()
        self._client_changed = trio.Event()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._pump_events, client)
            nursery.start_soon(self._share, client)
            await self._client_over.wait()
            nursery.cancel_scope.cancel()
        self.last_seq = client.last_seq
        if client.state == FAILED and self.lost is None:
            self.lost = client.lost

    def _remember_session(self, client: SessionClient) -> None:
        try:
            save_session_file(
                self.config.session_file,
                {
                    "session_id": client.session_id,
                    "client_id": self.config.client_id,
                    "urls": self.config.urls,
                    "saved_at": time.time(),
                },
            )
        except OSError as exc:
            self.say(f"could not write {self.config.session_file}: {exc}")

    async def _share(self, client: SessionClient) -> None:
        """Grant ``--share-with`` (once per run), then show who is attached."""
        grants, self.config.share_with = self.config.share_with or [], []
        for other, rights in grants:
            try:
                await client.request("share_session", client_id=other, rights=rights)
            except (RequestFailed, SessionLost, trio.TooSlowError) as exc:
                self.say(f"could not share with {other}: {exc}")
        await self._refresh_presence(client)

    async def _refresh_presence(self, client: SessionClient) -> None:
        try:
            listed = await client.request("list_attached")
        except (RequestFailed, SessionLost, trio.TooSlowError) as exc:
            self.say(f"could not list who is attached: {exc}")
            return
        self.presence = {
            str(row.get("attachment_id")): str(row.get("client_id"))
            for row in listed.get("attached") or []
        }
        self.render_status()

    def show_evaluation(self, client: SessionClient, event: dict[str, Any]) -> None:
        """Another connection's evaluation (in a shared session) in the results pane."""
        data = event.get("data") or {}
        seq = event.get("seq")
        if client.sent(data.get("request_id")) or (
            isinstance(seq, int) and seq <= self._history_seq
        ):
            return  # our own (answered already), or part of the history shown at restore
        entry = ResultEntry(code=str(data.get("code", "")), by=str(data.get("client_id")))
        entry.fill(data)
        self._add_result(entry)

    async def _pump_events(self, client: SessionClient) -> None:
        async for event in client.events:
            name = event.get("event")
            data = event.get("data") or {}
            if name == "transcript":
                self.add_transcript(str(data.get("text", "")))
            elif name == "evaluated":
                self.show_evaluation(client, event)
            elif name == "attached":
                self.presence[str(data.get("attachment_id"))] = str(data.get("client_id"))
                if data.get("mode") == "shared" and len(self.presence) > 1:
                    # Someone joined: from now on this terminal too rejoins shared after a
                    # failover, rather than taking the session from them.
                    self.shared = True
                    client.attach = "shared"
                self.say(f"{data.get('client_id')} attached on {data.get('node_id')}")
                self.render_status()
            elif name == "detached":
                self.presence.pop(str(data.get("attachment_id")), None)
                self.say(f"{data.get('client_id')} left ({data.get('reason')})")
                self.render_status()
            elif name == "shared_with":
                self.say(f"shared with {data.get('client_id')} ({data.get('rights')})")
            elif name == "share_revoked":
                self.say(f"share revoked for {data.get('client_id')}")
            elif name == "server_draining":
                self.say(f"{data.get('node_id', 'the node')} is draining: moving on")
            elif name == "error":
                self.say(f"server: {data.get('error')}")
            elif name == "session_rolled_back":
                lost = client.lost_requests()
                self.say(
                    f"the store lost acknowledged work (failover): version "
                    f"{data.get('acknowledged_version')} was acknowledged, "
                    f"{data.get('stored_version')} is stored; resending {len(lost)} request(s)"
                )
                self.spawn(self._resend_lost, client)
            self.last_seq = client.last_seq

    async def _resend_lost(self, client: SessionClient) -> None:
        """Send again what a rollback lost (the client library keeps the requests)."""
        try:
            results = await client.resend_lost()
        except (RequestFailed, SessionLost, trio.TooSlowError) as exc:
            self.say(f"could not resend the lost requests: {exc}")
            return
        if results:
            self.say(f"resent {len(results)} lost request(s)")

    async def _client(self) -> SessionClient:
        """The live client, waiting while there is none."""
        while True:
            client = self.client
            if client is not None and client.state not in FINAL_STATES:
                return client
            await self._client_changed.wait()

    def spawn(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run an action in the background; its failure is a notice, not the end of stui."""
        if self._nursery is not None:
            self._nursery.start_soon(self._guarded, fn, *args)

    async def _guarded(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            await fn(*args)
        except Exception as exc:
            log.exception("%s failed", getattr(fn, "__name__", fn))
            self.say(f"internal error in {getattr(fn, '__name__', 'an action')}: {exc!r}")

    # -- actions ---------------------------------------------------------------------------

    def _add_result(self, entry: ResultEntry) -> None:
        """Show ``entry`` last in the results pane, which keeps the newest 100."""
        self.results.append(entry)
        del self.results[:-100]
        self.render_results()

    def evaluate_input(self) -> None:
        code = self.input.edit_text.strip()
        if not code:
            return
        self.history.add(code)
        self.input.set_edit_text("")
        entry = ResultEntry(code=code)
        self._add_result(entry)
        self._eval_send.send_nowait(entry)
        self.evaluating += 1
        self.render_status()
        self.mark_dirty()

    async def _evaluator(self) -> None:
        """Evaluate in the order typed, one at a time (the workspace is sequential)."""
        async for entry in self._eval_recv:
            try:
                client = await self._client()
                result = await client.evaluate(entry.code)
            except RequestFailed as exc:
                entry.kind, entry.text = "error", _error_text(exc)
            except SessionLost as exc:
                entry.kind, entry.text = "error", f"session lost: {exc}"
            except trio.TooSlowError:
                entry.kind = "error"
                entry.text = f"no answer within {self.config.request_timeout:g} s"
            except Exception as exc:  # a bug here must not stop the evaluation queue
                log.exception("evaluation failed")
                entry.kind, entry.text = "error", f"internal error: {exc!r}"
            else:
                entry.fill(result)
            self.evaluating -= 1
            self.update_result(entry)
            self.render_status()
            self.mark_dirty()

    def inspect_selected(self) -> None:
        """F2: inspect the result selected in the results pane, else the last one."""
        entry = None
        if self.current_pane() == "results" and self.results_walker:
            index = self.results_list.focus_position
            if index < len(self.results):
                entry = self.results[index]
        if entry is None or not entry.object_id:
            entry = next((e for e in reversed(self.results) if e.object_id), None)
        if entry is None or not entry.object_id:
            self.say("nothing to inspect yet: evaluate something first")
            return
        self.spawn(self._open_inspector, entry.object_id)

    async def _open_inspector(self, object_id: str) -> None:
        async with self._inspector_lock:
            client = self.client
            if client is None:
                self.say("not connected")
                return
            old = self.inspector
            try:
                result = await client.request("open_inspector", object_id=object_id)
            except (RequestFailed, SessionLost, trio.TooSlowError) as exc:
                self.say(f"inspect failed: {exc}")
                return
            self.inspector = InspectorView.from_response(result)
            self.render_inspector()
            self.focus_pane("inspector")
            self.mark_dirty()
            if old is not None and old.inspector_id != self.inspector.inspector_id:
                try:
                    await client.request("close_inspector", inspector_id=old.inspector_id)
                except (RequestFailed, SessionLost, trio.TooSlowError):
                    pass

    def inspect_field(self) -> None:
        """Enter in the inspector: step into the selected field or element."""
        if self.inspector is None or not self.inspector_walker:
            return
        widget = self.inspector_walker.get_focus()[0]
        key = getattr(getattr(widget, "base_widget", None), "data", None)
        if key is None:
            return
        self.spawn(self._inspector_call, "navigate_inspector", {"field": key})

    def inspector_back(self) -> None:
        if self.inspector is None:
            return
        if not self.inspector.path:
            self.say("the inspector is at its root")
            return
        self.spawn(self._inspector_call, "inspector_back", {})

    async def _inspector_call(self, command: str, parameters: dict[str, Any]) -> None:
        async with self._inspector_lock:
            view = self.inspector
            if view is None:
                return
            came_from = view.path[-1] if command == "inspector_back" and view.path else None
            try:
                client = await self._client()
                result = await client.request(
                    command, inspector_id=view.inspector_id, **parameters
                )
            except (RequestFailed, SessionLost, trio.TooSlowError) as exc:
                self.say(f"{command} failed: {exc}")
                if isinstance(exc, RequestFailed) and exc.error_type == "InvalidRequest":
                    self.inspector = None  # the server no longer has this inspector
                    self.render_inspector()
                return
            self.inspector = InspectorView.from_response(result)
            self.render_inspector()
            if came_from is not None:  # select the field we came back from
                for index, (_, key, _) in enumerate(self.inspector.rows):
                    if key == came_from:
                        self.inspector_walker.set_focus(index)
            self.mark_dirty()

    def interrupt(self) -> None:
        if not self.evaluating:
            self.say("nothing is running (Ctrl-Q quits)")
            return
        self.spawn(self._interrupt)

    async def _interrupt(self) -> None:
        client = self.client
        if client is None:
            return
        try:
            answer = await client.request("interrupt")
            self.say(f"interrupt: {answer.get('where')}")
        except (RequestFailed, SessionLost, trio.TooSlowError) as exc:
            self.say(f"interrupt failed: {exc}")

    def retry(self) -> None:
        """F5: after the session client failed, open the session again."""
        if self.conn_state not in FINAL_STATES:
            self.say(f"{self.conn_state}: nothing to retry")
            return
        self._retry.set()

    def request_quit(self) -> None:
        self._quit.set()

    # -- running ---------------------------------------------------------------------------

    async def run(self) -> None:
        event_loop = urwid.TrioEventLoop()
        loop = urwid.MainLoop(
            self.frame, PALETTE, event_loop=event_loop, handle_mouse=False
        )
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            with loop.start():
                # Ctrl-C, Ctrl-Q and Ctrl-S are keys here, not signals or flow control.
                screen = loop.screen
                if isinstance(screen, urwid.display.raw.Screen):
                    screen.tty_signal_keys(intr="undefined", start="undefined", stop="undefined")
                nursery.start_soon(self._session_loop)
                nursery.start_soon(self._evaluator)
                nursery.start_soon(self._saver)
                nursery.start_soon(self._signals)
                async with trio.open_nursery() as ui:
                    ui.start_soon(self._run_loop, event_loop)
                    await self._quit.wait()
                    self.say("saving…")
                    with trio.move_on_after(FINAL_SAVE_TIMEOUT):
                        await self.save()
                    ui.cancel_scope.cancel()
            nursery.cancel_scope.cancel()

    async def _run_loop(self, event_loop: urwid.TrioEventLoop) -> None:
        await event_loop.run_async()
        self._quit.set()

    async def _signals(self) -> None:
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGHUP) as signals:
            async for _ in signals:
                self.request_quit()


def _error_text(exc: RequestFailed) -> str:
    """``Type: message`` of an error answer (once, if the message already names its type)."""
    message = str(exc.response.get("error") or "")
    if message.startswith(f"{exc.error_type}:"):
        return message
    return f"{exc.error_type}: {message}"


def _log_to_file(path: Path) -> None:
    """Warnings and errors go to a file: anything written to the terminal would tear the
    screen apart."""
    root = logging.getLogger()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(path)
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        config = Config.from_args(args)
    except ValueError as exc:
        print(f"stui: {exc}", file=sys.stderr)
        return 2
    if not CLIENT_ID_RE.match(config.client_id):
        print(f"stui: invalid client id {config.client_id!r}", file=sys.stderr)
        return 2
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print("stui: needs a terminal (stdin and stdout)", file=sys.stderr)
        return 2
    _log_to_file(config.session_file.parent / "stui.log")
    app = App(config)
    try:
        trio.run(app.run)
    except KeyboardInterrupt:
        return 130
    if app.session_id:
        print(
            f"stui: session {app.session_id} is kept in the cluster "
            f"(resume: stui --session-file {config.session_file}, "
            f"or --session-id {app.session_id})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
