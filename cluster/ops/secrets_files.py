"""Files that hold secrets: created with mode 0600 from the start (never world-readable, not
even for an instant), and read back without surrounding blanks."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 (replacing the file atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def read_private(path: Path) -> str:
    return path.read_text(encoding="utf-8").strip()


def ensure_secret(path: Path, given: str = "") -> str:
    """The secret in ``path``: ``given`` if not empty (written there), else the one already
    there, else a new one (32 random bytes, URL-safe)."""
    if given:
        write_private(path, given)
        return given
    if path.exists():
        existing = read_private(path)
        if existing:
            os.chmod(path, 0o600)
            return existing
    secret = secrets.token_urlsafe(32)
    write_private(path, secret)
    return secret
