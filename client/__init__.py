"""Client library for STUI Cluster, on Trio.

:class:`client.connection.Connection` is one WebSocket to one node: it sends requests, matches
responses by id (they may come out of order) and queues pushed events.
"""

from .connection import Connection as Connection
from .connection import RequestFailed as RequestFailed
from .connection import open_connection as open_connection

__all__ = ["Connection", "RequestFailed", "open_connection"]
