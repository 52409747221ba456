"""Command handlers; importing this package registers every command on ``dispatch.commands``."""

from . import session as session
from . import workspace as workspace

__all__ = ["session", "workspace"]
