"""Command handlers; importing this package registers every command on ``dispatch.commands``."""

from . import session as session

__all__ = ["session"]
