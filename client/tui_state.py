"""The terminal client's own state: what it saves in the session and how it reads it back.

Kept apart from the widgets (``client/tui.py``) so it is plain data: input history with
up/down recall, the results shown, the inspector (its server-side id, path and the object on
show), which pane has the focus and where each pane is scrolled. It travels as the session's
``state_data`` under the key :data:`STATE_KEY`, bounded to fit the server's limit, and reading
it is lenient: a part that is missing or malformed is left at its default, never an error.

The session file (``~/.stui/session.json`` unless ``--session-file``) remembers which session
to resume; it holds a session id, which is a capability, so it is written private (0600).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_KEY = "stui_tui"
SCHEMA = 1
PANES = ("input", "results", "transcript", "inspector")
MAX_HISTORY = 200
MAX_RESULTS = 100
MAX_TEXT = 4000
MAX_STATE_BYTES = 200_000  # the server takes 256 KiB of state_data; keep a margin
DEFAULT_SESSION_FILE = Path("~/.stui/session.json")


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _opt_text(value: Any, limit: int = 200) -> str | None:
    return None if value is None else _text(value, limit)


class History:
    """Input history with shell-like recall: ``up``/``down`` walk it, the draft is kept."""

    def __init__(self, entries: list[str] | None = None) -> None:
        self.entries: list[str] = list(entries or [])[-MAX_HISTORY:]
        self._cursor: int | None = None  # index into entries while recalling, else None
        self._draft = ""

    def add(self, code: str) -> None:
        """Remember an evaluated input (not twice in a row) and stop recalling."""
        code = _text(code)
        if code and (not self.entries or self.entries[-1] != code):
            self.entries.append(code)
            del self.entries[:-MAX_HISTORY]
        self._cursor = None
        self._draft = ""

    def up(self, current: str) -> str | None:
        """The previous entry (``current`` is kept as the draft); None at the oldest."""
        if not self.entries:
            return None
        if self._cursor is None:
            self._draft = current
            self._cursor = len(self.entries) - 1
        elif self._cursor > 0:
            self._cursor -= 1
        else:
            return None
        return self.entries[self._cursor]

    def down(self) -> str | None:
        """The next entry, then the draft again; None when not recalling."""
        if self._cursor is None:
            return None
        if self._cursor < len(self.entries) - 1:
            self._cursor += 1
            return self.entries[self._cursor]
        self._cursor = None
        return self._draft

    @property
    def recalling(self) -> bool:
        return self._cursor is not None


@dataclass
class ResultEntry:
    """One evaluation as the results pane shows it."""

    code: str
    text: str = ""
    kind: str = "pending"  # pending | ok | error
    result_type: str | None = None
    object_id: str | None = None
    by: str | None = None
    """Another client's evaluation in a shared session: its client id."""

    def fill(self, result: Mapping[str, Any]) -> None:
        """Show an evaluation's answer (or the ``evaluated`` event's data, the same fields)."""
        if result.get("has_error"):
            cls, message = result.get("error_class"), result.get("error_message")
            self.kind = "error"
            self.text = f"{cls}: {message}" if message and message != cls else str(cls)
        else:
            self.kind, self.text = "ok", str(result.get("result"))
            self.result_type = result.get("result_type")
            self.object_id = result.get("object_id")

    def to_json(self) -> dict[str, Any]:
        data = {
            "code": _text(self.code),
            "text": _text(self.text),
            "kind": self.kind if self.kind in ("ok", "error") else "error",
            "result_type": self.result_type,
            "object_id": self.object_id,
        }
        if self.by is not None:
            data["by"] = self.by
        return data

    @classmethod
    def from_json(cls, data: Any) -> ResultEntry | None:
        if not isinstance(data, dict) or not isinstance(data.get("code"), str):
            return None
        kind = data.get("kind")
        return cls(
            code=_text(data["code"]),
            text=_text(data.get("text")),
            kind=kind if kind in ("ok", "error") else "error",
            result_type=_opt_text(data.get("result_type")),
            object_id=_opt_text(data.get("object_id")),
            by=_opt_text(data.get("by")),
        )

    @classmethod
    def from_history(cls, item: Any) -> ResultEntry | None:
        """An entry of ``workspace_context.history`` (what the server kept)."""
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            return None
        return cls(
            code=_text(item["code"]),
            text=_text(item.get("result")),
            kind="error" if item.get("has_error") else "ok",
        )


@dataclass
class InspectorView:
    """The inspector on show: the server's inspector id, the path and the object described."""

    inspector_id: str
    path: list[Any] = field(default_factory=list)
    obj: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> list[tuple[str, Any, dict[str, Any]]]:
        """(label, field key for navigate_inspector, item) for every field and element."""
        rows: list[tuple[str, Any, dict[str, Any]]] = []
        for item in self.obj.get("fields") or []:
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                rows.append((item["name"], item["name"], item))
        for item in self.obj.get("elements") or []:
            if isinstance(item, dict) and isinstance(item.get("index"), int):
                rows.append((f"[{item['index']}]", item["index"], item))
        return rows

    def to_json(self) -> dict[str, Any]:
        def small(item: dict[str, Any]) -> dict[str, Any]:
            return {
                k: _text(v, 500) if isinstance(v, str) else v
                for k, v in item.items()
                if k in ("name", "index", "object_id", "class", "print_string")
            }

        obj = {
            "object_id": self.obj.get("object_id"),
            "class": _opt_text(self.obj.get("class")),
            "print_string": _opt_text(self.obj.get("print_string"), 1000),
            "indexed_size": self.obj.get("indexed_size"),
            "fields": [small(i) for i in self.obj.get("fields") or [] if isinstance(i, dict)],
            "elements": [small(i) for i in self.obj.get("elements") or [] if isinstance(i, dict)],
        }
        return {"inspector_id": self.inspector_id, "path": list(self.path), "object": obj}

    @classmethod
    def from_json(cls, data: Any) -> InspectorView | None:
        if not isinstance(data, dict) or not isinstance(data.get("inspector_id"), str):
            return None
        path = data.get("path")
        obj = data.get("object")
        return cls(
            inspector_id=data["inspector_id"],
            path=[p for p in path if isinstance(p, str | int)] if isinstance(path, list) else [],
            obj=obj if isinstance(obj, dict) else {},
        )

    @classmethod
    def from_response(cls, result: dict[str, Any]) -> InspectorView:
        """From an ``open_inspector``/``navigate_inspector``/``inspector_back`` result."""
        return cls(
            inspector_id=str(result.get("inspector_id")),
            path=list(result.get("path") or []),
            obj=dict(result.get("object") or {}),
        )


@dataclass
class UiState:
    """Everything the terminal client saves, as plain data."""

    history: list[str] = field(default_factory=list)
    draft: str = ""
    focus: str = "input"
    results: list[ResultEntry] = field(default_factory=list)
    inspector: InspectorView | None = None
    scroll: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``state_data`` value, at most :data:`MAX_STATE_BYTES` encoded (oldest go)."""
        history = self.history[-MAX_HISTORY:]
        results = [r for r in self.results if r.kind != "pending"][-MAX_RESULTS:]
        while True:
            data = {
                "schema": SCHEMA,
                "history": [_text(h) for h in history],
                "draft": _text(self.draft),
                "focus": self.focus if self.focus in PANES else "input",
                "results": [r.to_json() for r in results],
                "inspector": self.inspector.to_json() if self.inspector else None,
                "scroll": {k: int(v) for k, v in self.scroll.items() if k in PANES},
            }
            size = len(json.dumps(data, ensure_ascii=False).encode())
            if size <= MAX_STATE_BYTES or not (history or results):
                return data
            if len(results) >= len(history):
                results = results[len(results) // 4 + 1 :]
            else:
                history = history[len(history) // 4 + 1 :]

    @classmethod
    def from_json(cls, data: Any) -> UiState | None:
        """Read a saved state; None when ``data`` is not one."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            return None
        history = data.get("history")
        results = data.get("results")
        scroll = data.get("scroll")
        focus = data.get("focus")
        parsed = [ResultEntry.from_json(r) for r in results] if isinstance(results, list) else []
        return cls(
            history=[h for h in history if isinstance(h, str)][-MAX_HISTORY:]
            if isinstance(history, list)
            else [],
            draft=data["draft"] if isinstance(data.get("draft"), str) else "",
            focus=focus if focus in PANES else "input",
            results=[r for r in parsed if r is not None][-MAX_RESULTS:],
            inspector=InspectorView.from_json(data.get("inspector")),
            scroll={
                k: v
                for k, v in scroll.items()
                if k in PANES and isinstance(v, int) and not isinstance(v, bool) and v >= 0
            }
            if isinstance(scroll, dict)
            else {},
        )

    @classmethod
    def from_session(
        cls, restore_result: dict[str, Any], use_saved: bool = True
    ) -> UiState | None:
        """The state saved in a ``restore_session`` result, else (or with ``use_saved`` False:
        a shared attachment, where the saved state is the owner's own screen) one rebuilt
        from the workspace history the server kept."""
        session_state = restore_result.get("session_state")
        if use_saved and isinstance(session_state, dict):
            saved = cls.from_json(session_state.get(STATE_KEY))
            if saved is not None:
                return saved
        context = restore_result.get("workspace_context")
        items = context.get("history") if isinstance(context, dict) else None
        if not isinstance(items, list) or not items:
            return None
        entries = [ResultEntry.from_history(i) for i in items]
        results = [e for e in entries if e is not None][-MAX_RESULTS:]
        return cls(history=[r.code for r in results], results=results)


# -- the session file -----------------------------------------------------------------------


def session_file_path(value: str | os.PathLike[str] | None) -> Path:
    return Path(value).expanduser() if value else DEFAULT_SESSION_FILE.expanduser()


def load_session_file(path: Path) -> dict[str, Any]:
    """The remembered session (``session_id``, ``client_id``, ``urls``), or {}."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_session_file(path: Path, data: dict[str, Any]) -> None:
    """Write atomically and privately (0600 file, 0700 directory when we create it)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".session-", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=2)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
