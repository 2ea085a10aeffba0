"""The importer's record of what it read: every JSON object of a resource, tracked.

Each resource is wrapped in a :class:`_Node` before any converter sees it. A
node is a read-only :class:`~collections.abc.Mapping` over the JSON object that
remembers which keys were read (``node[key]``, ``node.get(key)``); the objects
inside (directly, or as items of an array) are nodes too, made on first read.
Testing membership (``key in node``), iterating and :func:`peek` read nothing.

After the conversion, :func:`unread` walks a resource and yields every element
that is present but was never read: what the import report lists as dropped.
So a converter cannot forget to account for an element: it either reads it
(maps it, or checks that it holds what carecoord derives anyway) or the
element is reported. An object none of whose keys was read is reported as a
whole (``code.coding[1]``), not key by key.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["_Node", "consume", "consume_all", "peek", "raw", "read_keys", "unread", "wrap"]


class _Node(Mapping[str, Any]):
    """A JSON object that records which of its keys were read."""

    __slots__ = ("_kids", "_raw", "_seen")

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._raw = data
        self._seen: set[str] = set()
        self._kids: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        value = self._raw[key]  # KeyError: Mapping.get gives the default
        self._seen.add(key)
        if key not in self._kids:
            self._kids[key] = wrap(value)
        return self._kids[key]

    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:  # never the values (PHI)
        return f"_Node(keys={sorted(map(str, self._raw))})"


def wrap(value: Any) -> Any:
    """``value`` with its JSON objects (directly or as array items) as :class:`_Node` s.

    Arrays become new lists of the wrapped items, one level deep: an array
    inside an array (no FHIR element is one) stays as it is.
    """
    if isinstance(value, _Node):
        return value
    if isinstance(value, Mapping):
        return _Node(value)
    if isinstance(value, list):
        return [
            _Node(v) if isinstance(v, Mapping) and not isinstance(v, _Node) else v for v in value
        ]
    return value


def peek(o: Mapping[str, Any], key: str) -> Any:
    """``o.get(key)`` without marking the key read (to look before deciding to take it)."""
    if isinstance(o, _Node):
        return o._raw.get(key)
    return o.get(key)


def consume(o: Mapping[str, Any], *keys: str) -> None:
    """Mark ``keys`` of ``o`` read (the import accounts for them without a value to take)."""
    for key in keys:
        o.get(key)


def consume_all(o: Any) -> None:
    """Mark every element inside ``o`` read (a Coding taken whole, its display included)."""
    stack = [o]
    while stack:
        item = stack.pop()
        if isinstance(item, _Node):
            stack.extend(item[key] for key in item._raw)
        elif isinstance(item, list):
            stack.extend(item)


def read_keys(node: _Node) -> tuple[str, ...]:
    """The keys of ``node`` that were read, in input order."""
    return tuple(key for key in node._raw if key in node._seen)


def raw(o: Any) -> Any:
    """The plain JSON value under a node (for values handed on whole)."""
    return o._raw if isinstance(o, _Node) else o


def unread(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """``(path, raw value)`` of every element under ``node`` never read, in document order.

    An object with no key read is one element; so is an unread key. Arrays
    are walked item by item. Only what was read is descended into, so the
    depth is the converters' own.
    """
    if isinstance(node, list):
        for i, v in enumerate(node):
            yield from unread(v, f"{path}[{i}]")
        return
    if not isinstance(node, _Node):
        return
    if not node._seen:
        yield path, node._raw
        return
    for key in node._raw:
        where = f"{path}.{key}"
        if key in node._seen:
            yield from unread(node._kids[key], where)
        else:
            yield where, node._raw[key]
