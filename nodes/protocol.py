"""Frames on the wire: decoding requests, encoding responses and events.

One JSON object per text frame (``docs/protocol.md``). Decoding never raises anything but
:class:`cluster.errors.InvalidRequest`, carrying whatever request id could be read, so the
connection can answer the spec's error response and go on.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import attrs
import orjson

from cluster.errors import InvalidRequest, StuiError

MAX_REQUEST_ID = 128

REPLAYED = "replayed"
"""A result carrying this key was stored by an earlier execution of the same request id; the
response envelope gets ``"replayed": true`` (the result keeps it too)."""


@attrs.frozen
class Request:
    """A decoded request: ``id`` is the client's (and the idempotency key)."""

    id: str
    command: str
    parameters: dict[str, Any]


class BadFrame(InvalidRequest):
    """A frame that is not a valid request; ``request_id`` is set when one could be read."""

    def __init__(self, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


def timestamp() -> str:
    """ISO 8601 UTC with millisecond precision (``2025-08-30T10:30:00.123Z``)."""
    return iso(time.time())


_second: tuple[int, str] = (-1, "")


def iso(epoch_seconds: float) -> str:
    """``epoch_seconds`` as ISO 8601 UTC with milliseconds. The part up to the second is
    formatted once per second (every response carries a timestamp: strftime each time cost
    more than the rest of a ``ping``'s own code)."""
    global _second
    whole = int(epoch_seconds // 1)
    millis = int((epoch_seconds - whole) * 1000)
    cached_at, prefix = _second
    if whole != cached_at:
        prefix = datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        if whole >= cached_at:  # keep the newest second (requests are mostly "now")
            _second = (whole, prefix)
    return f"{prefix}{millis:03d}Z"


def decode(frame: str | bytes, max_bytes: int) -> Request:
    """Decode one frame into a :class:`Request`, or raise :class:`BadFrame`."""
    if isinstance(frame, bytes):
        raise BadFrame("binary frames are not accepted: send JSON in a text frame")
    if len(frame) > max_bytes or len(frame.encode("utf-8", "surrogatepass")) > max_bytes:
        raise BadFrame(f"frame is larger than the limit of {max_bytes} bytes")
    try:
        message = orjson.loads(frame)
    except orjson.JSONDecodeError as exc:
        raise BadFrame(f"frame is not valid JSON ({exc.msg})")
    if not isinstance(message, dict):
        raise BadFrame("a request must be a JSON object")
    raw_id = message.get("id")
    request_id = raw_id if isinstance(raw_id, str) and 0 < len(raw_id) <= MAX_REQUEST_ID else None
    if request_id is None:
        raise BadFrame(f"'id' must be a string of 1 to {MAX_REQUEST_ID} characters")
    command = message.get("command")
    if not isinstance(command, str) or not command:
        raise BadFrame("'command' must be a non-empty string", request_id)
    parameters = message.get("parameters", {})
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise BadFrame("'parameters' must be a JSON object", request_id)
    return Request(id=request_id, command=command, parameters=parameters)


def success(request_id: str, result: dict[str, Any], **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = {
        "id": request_id,
        "status": "success",
        "result": result,
        "timestamp": timestamp(),
    }
    response.update(extra)
    if result.get(REPLAYED):
        response[REPLAYED] = True
    return response


def error(request_id: str | None, exc: StuiError) -> dict[str, Any]:
    response: dict[str, Any] = {
        "id": request_id,
        "status": "error",
        "error": exc.message,
        "error_type": exc.error_type,
        "timestamp": timestamp(),
    }
    if exc.details:
        response["details"] = exc.details
    return response


def event(name: str, data: dict[str, Any], seq: int | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"event": name, "data": data, "timestamp": timestamp()}
    if seq is not None:
        message["seq"] = seq
    return message


def encode(message: dict[str, Any]) -> str:
    return orjson.dumps(message).decode()
