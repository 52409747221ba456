"""A Pharo Smalltalk evaluator for STUI sessions (see docs/helpers/smalltalk-api.md).

The host runs `Image.evaluate` in a worker thread and persists what the Outcome
reports; this package imports neither Trio nor Redis.
"""

from .describing import Description as Description
from .errors import CorruptRecord as CorruptRecord
from .errors import LimitExceeded as LimitExceeded
from .errors import SmalltalkSyntaxError as SmalltalkSyntaxError
from .image import Image as Image
from .image import Outcome as Outcome
from .limits import Limits as Limits
from .runtime import SupportsIsSet as SupportsIsSet

__all__ = [
    "CorruptRecord",
    "Description",
    "Image",
    "LimitExceeded",
    "Limits",
    "Outcome",
    "SmalltalkSyntaxError",
    "SupportsIsSet",
]
