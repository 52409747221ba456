"""The inspector (the original plan's T3.2): describe objects and keep open inspectors.

Inspecting an object answers its class, printString, named fields and a page of indexed
elements, each with its own registry id so the client can navigate. Open inspectors (root
object, navigation path, selected field, view kind) are session state, stored in the
session's ``inspectors`` record and returned by ``restore_session`` as ``inspector_state``.
"""

from __future__ import annotations

from typing import Any

from cluster.errors import InvalidRequest, ObjectNotFound
from cluster.model import Inspector, InspectorState, to_record

from .workspace import Workspace, register, resolve

VIEWS = ("raw", "print", "tree")
MAX_PAGE = 500


def describe(
    entry: Workspace, object_id: str, *, offset: int = 0, limit: int = 50
) -> dict[str, Any]:
    """Describe a registered object, registering each field (in ``entry.registry``)."""
    if offset < 0 or not 0 < limit <= MAX_PAGE:
        raise InvalidRequest(f"offset must be >= 0 and limit 1..{MAX_PAGE}")
    record = resolve(entry, object_id)
    value = entry.image.decode(record.value)
    description = entry.image.describe(value, offset=offset, limit=limit)
    fields = []
    for name, encoded in description.named:
        fields.append({"name": name, **_registered(entry, encoded)})
    elements = []
    for index, encoded in enumerate(description.indexed, start=offset + 1):
        elements.append({"index": index, **_registered(entry, encoded)})
    return {
        "object_id": object_id,
        "class": description.class_name,
        "print_string": description.print_string,
        "fields": fields,
        "indexed_size": description.indexed_size,
        "elements": elements,
        "offset": offset,
        "limit": limit,
    }


def _registered(entry: Workspace, encoded: Any) -> dict[str, Any]:
    class_name, print_string = entry.image.summarize(encoded)
    rid, record = register(entry, encoded, class_name, print_string)
    entry.registry[rid] = record
    return {"object_id": rid, "class": class_name, "print_string": print_string}


def follow(entry: Workspace, root: str, path: list[Any]) -> str:
    """The registry id of the object reached from ``root`` along ``path`` (names/indexes)."""
    current = root
    for step in path:
        current = child(entry, current, step)
    return current


def child(entry: Workspace, object_id: str, field: Any) -> str:
    """The registry id of field ``field`` (an instance variable name or a 1-based index)."""
    if isinstance(field, bool) or not isinstance(field, (str, int)):
        raise InvalidRequest("field must be an instance variable name or a 1-based index")
    if isinstance(field, int):
        page = describe(entry, object_id, offset=max(field - 1, 0), limit=1)
        if field < 1 or not page["elements"]:
            raise ObjectNotFound(f"object {object_id} has no element {field}")
        return str(page["elements"][0]["object_id"])
    page = describe(entry, object_id, offset=0, limit=1)
    for item in page["fields"]:
        if item["name"] == field:
            return str(item["object_id"])
    raise ObjectNotFound(f"object {object_id} has no field {field!r}")


def open_on(state: InspectorState, root: str, view: str) -> Inspector:
    """Open an inspector on the registered object ``root``; it becomes the selection."""
    check_view(view)
    inspector = Inspector(inspector_id=f"i{state.next_id}", root=root, view=view)
    state.next_id += 1
    state.inspectors[inspector.inspector_id] = inspector
    state.selected_object = root
    return inspector


def get(state: InspectorState, inspector_id: str) -> Inspector:
    inspector = state.inspectors.get(inspector_id)
    if inspector is None:
        raise InvalidRequest(f"no open inspector {inspector_id!r} in this session")
    return inspector


def wire_state(state: InspectorState) -> dict[str, Any]:
    """``inspector_state`` as restore_session answers it."""
    return {
        "selected_object": state.selected_object,
        "inspectors": [to_record(inspector) for inspector in state.inspectors.values()],
    }


def check_view(view: str) -> None:
    if view not in VIEWS:
        raise InvalidRequest(f"view must be one of {', '.join(VIEWS)}")
