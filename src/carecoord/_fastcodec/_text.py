"""JSON text written straight from model objects, for the standard-library backend.

Without orjson, writing a record as :mod:`carecoord._fastcodec` encodes it and
then :mod:`json` writes the text spends most of its time in the JSON encoder.
:func:`encode_text` writes, for the classes the model encoder covers, the text
``carecoord._json.stdlib_dumps`` gives for what the model encoder gives (compact,
keys in sorted order, non-ASCII characters as they are, lone surrogates still
unescaped), from the object's fields directly: per class one generated
function builds one f-string, with the standard library's own string quoting
(:func:`json.encoder.encode_basestring`) and number forms (``int.__repr__``,
``float.__repr__``); other values are written by the standard library encoder.

Any exception (an unsupported class, a value of the wrong type, a naive
datetime) means: write the record the usual way, which gives the text or the
error it always gave. The orjson backend does not use this (its encoder is
faster than building the text in Python).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from ..model._base import TRANSIENT, EntityId
from ._build import Compiled, Namespace, Unsupported
from ._types import is_class, is_record, optional_arg, record_fields, tuple_arg
from ._values import _TABLE_SIZE, encode_datetime

__all__ = ["encode_text", "text_encoder"]

TextEncoder = Callable[[Any], str]

_quote: Callable[[str], str] = json.encoder.encode_basestring
_other = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
"""The standard library's text for any other value (``TypeError`` for what it cannot write)."""

_FUNCTIONS: Compiled[TextEncoder] = Compiled()
_ENCODERS = _FUNCTIONS.table


def _constants(ns: Namespace) -> None:
    ns.values.update(
        _q=_quote,
        _o=_other,
        _NULL="null",
        _TRUE="true",
        _FALSE="false",
        _EMPTY="[]",
        _LB="[",
        _RB="]",
        _join=",".join,
        _int=int,
        _float=float,
        _int_repr=int.__repr__,
        _float_repr=float.__repr__,
    )


def _element(t: Any, ns: Namespace) -> str:
    """A name bound to a function giving the text of one value of type ``t``."""
    if t is str or is_class(t, EntityId):
        return "_q"
    if is_class(t, Enum) and all(isinstance(m.value, str) for m in t.__members__.values()):
        return ns.add(_enum_texts(t).__getitem__)
    return ns.add(text_encoder(t))


def _enum_texts(cls: type[Enum]) -> dict[Enum, str]:
    """The JSON text of each member of ``cls`` (whose values are all strings)."""
    return {m: _quote(m.value) for m in cls.__members__.values()}


_DATETIMES: dict[int, tuple[datetime, str]] = {}
"""``id(value)`` to ``(value, JSON text)`` for datetimes written before (as
:data:`~carecoord._fastcodec._values.WRITTEN_DATETIMES`, with the quotes)."""


def _datetime_text(value: datetime) -> str:
    text = _quote(encode_datetime(value))  # ValueError for a naive datetime
    if len(_DATETIMES) >= _TABLE_SIZE:
        _DATETIMES.clear()
    _DATETIMES[id(value)] = (value, text)
    return text


def _expr(t: Any, value: str, ns: Namespace) -> str:
    """An expression (names and operators only) giving the JSON text of ``value`` of type ``t``."""
    inner = optional_arg(t)
    if inner is not None:
        v = ns.local()
        return f"(_NULL if ({v} := {value}) is None else {_expr(inner, v, ns)})"
    if t is str or is_class(t, EntityId):
        return f"_q({value})"
    if t is bool:
        v = ns.local()
        return f"(_TRUE if ({v} := {value}) is True else _FALSE if {v} is False else _o({v}))"
    if t is int:
        v = ns.local()
        return f"(_int_repr({v}) if ({v} := {value}).__class__ is _int else _o({v}))"
    if t is float:  # json writes a finite float as repr does
        v = ns.local()
        return (
            f"(_float_repr({v}) if ({v} := {value}).__class__ is _float and {v} - {v} == 0.0"
            f" else _o({v}))"
        )
    if is_class(t, Enum):
        if all(isinstance(m.value, str) for m in t.__members__.values()):
            return f"{ns.add(_enum_texts(t))}[{value}]"  # KeyError for a non-member: the usual way
        return f"_o({value}._value_)"
    if t is datetime:  # _datetime_text(value), its table lookup without the call
        v, w = ns.local(), ns.local()
        return (
            f"({w}[1] if ({w} := {ns.add(_DATETIMES)}.get(id({v} := {value})))"
            f" is not None and {w}[0] is {v} else {ns.add(_datetime_text)}({v}))"
        )
    if t is date or t is time:
        return f"_q({value}.isoformat())"
    element = tuple_arg(t)
    if element is not None:
        one, v = _element(element, ns), ns.local()
        # most are empty or hold one value: neither needs map and join
        items = (
            f"(_LB + {one}({v}[0]) + _RB if len({v}) == 1 else _LB + _join(map({one}, {v})) + _RB)"
        )
        if is_record(element):  # as the model encoder: an empty value is []
            return f"({items} if ({v} := {value}) else _EMPTY)"
        # as the model encoder's ``list(value)``: () is [], None raises
        return f"(_EMPTY if ({v} := {value}) == () else {items})"
    if is_record(t):
        return f"{ns.add(text_encoder(t))}({value})"
    raise Unsupported(t)


def _literal(text: str) -> str:
    """``text`` as the literal part of a single-quoted f-string."""
    if "'" in text or "\\" in text or "\n" in text:
        raise Unsupported(text)
    return text.replace("{", "{{").replace("}", "}}")


def text_encoder(t: Any) -> TextEncoder:
    """The text encoder of type ``t`` (compiled once); raises :class:`Unsupported`."""
    found = _ENCODERS.get(t)
    if found is not None:
        return found
    return _FUNCTIONS.build(t, lambda: _compile(t))


def _compile(t: Any) -> TextEncoder:
    ns = Namespace()
    _constants(ns)
    if is_record(t):
        _, fields = record_fields(t)
        parts: list[str] = []
        for f, ft in sorted(fields, key=lambda field: field[0].name):
            if not f.metadata.get(TRANSIENT):
                key = json.dumps(f.name, ensure_ascii=False)
                parts.append(("," if parts else "{{") + _literal(key) + ":")
                parts.append(f"{{{_expr(ft, f'o.{f.name}', ns)}}}")
        body = "f'" + "".join(parts) + ("}}'" if parts else "{{}}'")
        lines = ["def encode_text(o):", f"    return {body}"]
    else:
        lines = ["def encode_text(v):", f"    return {_expr(t, 'v', ns)}"]
    made: TextEncoder = ns.compile(lines, "encode_text", t)
    return made


def encode_text(obj: Any) -> str:
    """The JSON text of ``obj`` as the model encoder and the standard library write it.

    Raises :class:`Unsupported` for a class it cannot compile, and whatever a
    value it does not expect raises: the caller then writes ``obj`` the usual way.
    """
    cls = obj.__class__
    return (_ENCODERS.get(cls) or text_encoder(cls))(obj)
