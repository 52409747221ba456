"""Helpers the Smalltalk tests share: evaluate and print, and reload an image through JSON."""

from __future__ import annotations

import json
from typing import Any

from nodes.smalltalk import Image, Limits


def ps(code: str, image: Image | None = None, **limits: Any) -> str:
    """printString of `code` in `image` (a fresh one by default) under `limits` (the
    defaults by default); fails the test on an unhandled Smalltalk error."""
    outcome = (image or Image.new()).evaluate(code, limits=Limits(**limits))
    assert not outcome.has_error, f"{code!r}: {outcome.error_class}: {outcome.error_message}"
    return outcome.print_string


def reload(image: Image) -> Image:
    """Dump every object and the workspace through JSON and load a new Image."""
    records = {oid: json.loads(json.dumps(image.dump_object(oid))) for oid in image.object_ids()}
    workspace = json.loads(json.dumps(image.dump_workspace()))
    return Image.load(records, workspace)
