"""Command handlers; importing this package registers every command on ``dispatch.commands``."""

from . import session as session
from . import sharing as sharing
from . import workspace as workspace

__all__ = ["session", "sharing", "workspace"]
