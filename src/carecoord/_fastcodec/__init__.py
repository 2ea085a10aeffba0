"""The fast model codec: precompiled per-class encoders and trusted decoders.

Used for the payloads carecoord writes and reads itself (see
:mod:`carecoord.storage._codec` and :func:`carecoord.serialization.dumps`);
the public :func:`~carecoord.serialization.from_payload` keeps cattrs' full
validation. For every attrs class (and every parametrisation of a generic one,
``Transition[TaskStatus]``) one encoder and one decoder are generated from the
field types, once, on first use.

:func:`encode` gives what the default cattrs converter's ``unstructure`` gives
(same keys, transient fields left out, the same datetime, date, time, code and
id forms), except that typed ids stay ``str`` subclasses and floats the orjson
backend would write differently come as :class:`~carecoord._json.ExactFloat`:
equal values, the same JSON text.

:func:`decode_trusted` builds objects without ``__init__`` (as a mutable twin
whose slots are assigned directly, then given the real class: see
:mod:`carecoord._fastcodec._build`), runs converters and ``__attrs_post_init__``
(the cross-field rules), reads datetimes without a regular expression (see
:mod:`carecoord._fastcodec._values`) and looks codes and ids up in tables. The
attrs validators are not run again, except those that guard more than the JSON
type and are not free-text or uniqueness rules (see
:mod:`carecoord._fastcodec._rules`). What it checks, cheaply, is the shape: JSON
types (a string is not an integer, ``true`` is not a number), known keys only,
finite numbers, codes that exist, ids of the id syntax, zone names that exist,
datetimes with an offset inside years 2-9998. Anything else raises
:class:`Declined`, and the caller reads the payload through the validated
path, which gives the object or the path-named
:class:`~carecoord.StructureError` it always gave.

:mod:`carecoord._fastcodec._text` writes the JSON text of what :func:`encode`
gives straight from the objects, for the standard-library backend (whose
JSON encoder is the slow part of writing a record without orjson).

:func:`field_decoder` reads one field (or one element of a tuple field) of a
payload on its own, for :class:`~carecoord.storage._codec.PartReader`;
:func:`builder` makes objects of any attrs class from values already known to
be valid (the index rows of :mod:`carecoord.storage.records`).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import date, datetime, time
from enum import Enum
from typing import Any, TypeVar

import attrs

from ..model._base import TRANSIENT, EntityId
from ._build import Compiled, Namespace, Unsupported, assembly, builder
from ._rules import extra_checks
from ._types import is_class, is_record, optional_arg, record_fields, tuple_arg
from ._values import (
    DECODED_DATETIMES,
    WRITTEN_DATETIMES,
    Declined,
    all_str,
    decode_date,
    decode_datetime,
    decode_time,
    encode_datetime,
    encode_float,
    id_maker,
    int_to_float,
)

__all__ = [
    "Declined",
    "Unsupported",
    "builder",
    "decode_trusted",
    "decoder",
    "encode",
    "encoder",
    "field_decoder",
    "supports",
]

T = TypeVar("T")

Decoder = Callable[[Any], Any]
Encoder = Callable[[Any], Any]


# ---------------------------------------------------------------- codegen


_DECODER_FUNCTIONS: Compiled[Decoder] = Compiled()
_ENCODER_FUNCTIONS: Compiled[Encoder] = Compiled()
_DECODERS = _DECODER_FUNCTIONS.table
_ENCODERS = _ENCODER_FUNCTIONS.table


def _enum_table(cls: type[Enum]) -> dict[str, Enum]:
    # ``cls(raw)`` accepts a member's value; a class with ``_missing_`` may
    # accept more, and then the validated path decides.
    return {m.value: m for m in cls.__members__.values() if isinstance(m.value, str)}


def _decode_lines(t: Any, ns: Namespace, indent: str, v: str = "v") -> list[str]:
    """Lines that turn the stored value in variable ``v`` into the model value of type ``t``."""
    inner = optional_arg(t)
    if inner is not None:
        return [f"{indent}if {v} is not None:", *_decode_lines(inner, ns, indent + "    ", v)]
    if t is str:
        return [f"{indent}if {v}.__class__ is not str: raise _D"]
    if t is bool:
        return [f"{indent}if {v} is not True and {v} is not False: raise _D"]
    if t is int:
        return [f"{indent}if {v}.__class__ is not int: raise _D"]
    if t is float:
        return [
            f"{indent}if {v}.__class__ is not float: {v} = {ns.add(int_to_float)}({v})",
            f"{indent}elif {v} - {v} != 0.0: raise _D",  # inf or nan (the stdlib reads them)
        ]
    if is_class(t, Enum):
        return [f"{indent}{v} = {ns.add(_enum_table(t))}[{v}]"]  # KeyError, TypeError: declined
    if is_class(t, EntityId):
        table, make = id_maker(t)
        return [f"{indent}{v} = {ns.add(table)}.get({v}) or {ns.add(make)}({v})"]
    if t is datetime:
        table_name = ns.add(DECODED_DATETIMES)
        return [f"{indent}{v} = {table_name}.get({v}) or {ns.add(decode_datetime)}({v})"]
    element = tuple_arg(t)
    if element is not None:
        checks: list[str] = []
        if element is str:
            checks.append(f"{indent}    if not {ns.add(all_str)}({v}): raise _D")
            items = f"tuple({v})"
        elif is_class(element, Enum):
            items = f"tuple(map({ns.add(_enum_table(element))}.__getitem__, {v}))"
        else:
            items = f"tuple(map({ns.add(decoder(element))}, {v}))"
        return [
            f"{indent}if {v}.__class__ is not list: raise _D",
            f"{indent}if {v}:",  # most lists are empty: () without a call
            *checks,
            f"{indent}    {v} = {items}",
            f"{indent}else:",
            f"{indent}    {v} = ()",
        ]
    if t in _SCALAR_DECODERS or is_record(t):
        return [f"{indent}{v} = {ns.add(decoder(t))}({v})"]
    raise Unsupported(t)


_SCALAR_DECODERS: dict[Any, Decoder] = {date: decode_date, time: decode_time}


def decoder(t: Any) -> Decoder:
    """The trusted decoder of type ``t`` (compiled once); raises :class:`Unsupported`."""
    found = _DECODERS.get(t) or _SCALAR_DECODERS.get(t)
    if found is not None:
        return found
    return _DECODER_FUNCTIONS.build(t, lambda: _compile_decoder(t))


def _compile_decoder(t: Any) -> Decoder:
    if is_record(t):
        return _record_decoder(t)
    ns = Namespace()
    lines = ["def decode(v):", *_decode_lines(t, ns, "    "), "    return v"]
    return ns.compile(lines, "decode", t)


def _record_decoder(t: Any) -> Decoder:
    cls, fields = record_fields(t)
    ns = Namespace()
    stored = [(f, ft) for f, ft in fields if f.init and not f.metadata.get(TRANSIENT)]
    slot = {f.name: f"v{i}" for i, (f, _) in enumerate(stored)}
    partial = ns.add(_partial_decoder(cls, stored))
    made = assembly(cls, ns, [f.name for f, _ in fields])
    lines = [
        "def decode(d):",
        f"    if d.__class__ is not dict or len(d) != {len(stored)}: return {partial}(d)",
    ]
    if len(stored) == 1:
        lines.append(f"    v0 = d[{stored[0][0].name!r}]")
    elif stored:  # one C call reads every value (KeyError for an unknown key: declined)
        names = ", ".join(slot.values())
        lines.append(f"    {names}, = {ns.add(operator.itemgetter(*slot))}(d)")
    lines.append(made.create("    "))
    checks: list[str] = []
    for f, ft in fields:
        v = slot.get(f.name)
        if v is not None:
            lines += _decode_lines(ft, ns, "    ", v)
            if f.converter is not None:
                if isinstance(f.converter, attrs.Converter) or not callable(f.converter):
                    raise Unsupported(t)
                lines.append(f"    {v} = {ns.add(f.converter)}({v})")
            for check in extra_checks(f, ft):
                checks.append(f"    {ns.add(check)}(o, {ns.add(f)}, {v})")
        elif isinstance(f.default, attrs.Factory):  # type: ignore[arg-type]
            factory: Any = f.default
            if factory.takes_self:
                raise Unsupported(t)
            v = f"{ns.add(factory.factory)}()"
        elif f.default is not attrs.NOTHING:
            v = ns.add(f.default)
        else:
            continue
        lines.append(made.assign("    ", f.name, v))
    lines += made.finish("    ")
    lines += checks
    if hasattr(cls, "__attrs_post_init__"):
        lines.append("    o.__attrs_post_init__()")
    lines.append("    return o")
    return ns.compile(lines, "decode", t)


def _partial_decoder(
    cls: type, stored: list[tuple[attrs.Attribute[Any], Any]]
) -> Callable[[dict[str, Any]], Any]:
    """A payload with keys missing (fields with defaults): decoded, then built by ``__init__``."""
    known = {f.name: (f.alias or f.name, ft) for f, ft in stored}
    required = {f.name for f, _ in stored if f.default is attrs.NOTHING}

    def decode(d: dict[str, Any]) -> Any:
        if d.__class__ is not dict:
            raise Declined
        keys = d.keys()
        if not keys <= known.keys() or not required <= keys:
            raise Declined
        kwargs: dict[str, Any] = {}
        for name, raw in d.items():
            alias, ft = known[name]
            kwargs[alias] = _value_decoder(ft)(raw)
        return cls(**kwargs)  # runs the validators: a rare, slower path

    return decode


def _value_decoder(t: Any) -> Decoder:
    found = _DECODERS.get(("value", t))
    if found is not None:
        return found

    def make() -> Decoder:
        ns = Namespace()
        lines = ["def decode(v):", *_decode_lines(t, ns, "    "), "    return v"]
        made: Decoder = ns.compile(lines, "decode", t)
        return made

    return _DECODER_FUNCTIONS.build(("value", t), make)


# ------------------------------------------------------------------ encoders


def _plain_value(t: Any) -> bool:
    """Values that cattrs writes as they are (typed ids too: they stay ``str``)."""
    return t in (str, int, bool) or is_class(t, EntityId)


def _encode_expr(t: Any, value: str, ns: Namespace) -> str:
    """An expression giving what cattrs' ``unstructure`` gives for ``value`` of type ``t``."""
    inner = optional_arg(t)
    if inner is not None:
        if _plain_value(inner):
            return value  # None or the value: written as it is either way
        return f"(None if {value} is None else {_encode_expr(inner, value, ns)})"
    if _plain_value(t):
        return value
    if t is float:  # encode_float(value), its common case without the call
        v = ns.local()
        return f"({v} if 1e-4 <= abs({v} := {value}) < 1e16 else {ns.add(encode_float)}({v}))"
    if is_class(t, Enum):
        return f"{value}._value_"
    if t is datetime:  # encode_datetime(value), its table lookup without the call
        w = ns.local()
        return (
            f"({w}[1] if ({w} := {ns.add(WRITTEN_DATETIMES)}.get(id({value}))) is not None"
            f" and {w}[0] is {value} else {ns.add(encode_datetime)}({value}))"
        )
    if t is date or t is time:
        return f"{value}.isoformat()"
    element = tuple_arg(t)
    if element is not None:
        if _plain_value(element):
            return f"list({value})"
        return f"(list(map({ns.add(encoder(element))}, {value})) if {value} else [])"
    if is_record(t):
        return f"{ns.add(encoder(t))}({value})"
    raise Unsupported(t)


def encoder(t: Any) -> Encoder:
    """The encoder of type ``t`` (compiled once); raises :class:`Unsupported`."""
    found = _ENCODERS.get(t)
    if found is not None:
        return found
    return _ENCODER_FUNCTIONS.build(t, lambda: _compile_encoder(t))


def _compile_encoder(t: Any) -> Encoder:
    ns = Namespace()
    if is_record(t):
        _, fields = record_fields(t)
        items = [  # in key order: sorting the keys for the text is then cheap
            f"        {f.name!r}: {_encode_expr(ft, f'o.{f.name}', ns)},"
            for f, ft in sorted(fields, key=lambda field: field[0].name)
            if not f.metadata.get(TRANSIENT)
        ]
        lines = ["def encode(o):", "    return {", *items, "    }"]
    else:
        lines = ["def encode(v):", f"    return {_encode_expr(t, 'v', ns)}"]
    made: Encoder = ns.compile(lines, "encode", t)
    return made


# -------------------------------------------------------------------- entry


def supports(cls: type) -> bool:
    """Whether records of ``cls`` have a fast encoder and a trusted decoder."""
    try:
        encoder(cls)
        decoder(cls)
    except Unsupported:
        return False
    return True


def encode(obj: Any) -> Any:
    """``obj`` as the default converter unstructures it.

    Raises :class:`Unsupported` for a class the codec cannot compile and any
    error of an unexpected value (a naive datetime): the caller then uses cattrs.
    """
    cls = obj.__class__
    return (_ENCODERS.get(cls) or encoder(cls))(obj)


def field_decoder(cls: type, name: str, *, element: bool = False) -> Decoder:
    """The trusted decoder of field ``name`` of record class ``cls`` (compiled once).

    With ``element``, of one element of it (the field is a ``tuple[X, ...]``).
    For reading a part of a payload on its own; raises :class:`Unsupported`
    for a field with a converter or a validator the decoder would run.
    Its other errors mean what :class:`Declined` means.
    """
    key = ("field", cls, name, element)
    found = _DECODERS.get(key)
    if found is not None:
        return found
    return _DECODER_FUNCTIONS.build(key, lambda: _compile_field_decoder(cls, name, element))


def _compile_field_decoder(cls: type, name: str, element: bool) -> Decoder:
    for f, ft in record_fields(cls)[1]:
        if f.name != name or f.metadata.get(TRANSIENT):
            continue
        if f.converter is not None or extra_checks(f, ft):
            break
        if not element:
            return _value_decoder(ft)
        if (inner := tuple_arg(ft)) is not None:
            return decoder(inner)
        break
    raise Unsupported(cls, name)


def decode_trusted(data: Any, cls: type[T]) -> T:
    """``cls`` from payload data carecoord wrote; :class:`Declined` if anything is off."""
    try:
        return (_DECODERS.get(cls) or decoder(cls))(data)  # type: ignore[no-any-return]
    except Exception:
        raise Declined from None
