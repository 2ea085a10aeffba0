"""JSON text for stored payloads and index details: one encoder and one decoder.

Every payload carecoord writes goes through :func:`dumps` and every stored text
it reads through :func:`loads`, so the two stay consistent everywhere.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps", "loads"]


def dumps(obj: Any) -> str:
    """``obj`` as compact, key-sorted JSON text."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def loads(text: str | bytes) -> Any:
    """The value of JSON ``text`` (the decoder's errors pass through)."""
    return json.loads(text)
