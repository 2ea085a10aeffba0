"""Serialization at the edges: one cattrs converter factory and versioned payloads.

All conversion between model objects and plain JSON-compatible data goes
through :func:`make_converter`. Persisted payloads are wrapped by
:func:`to_payload` with the record type and :data:`SCHEMA_VERSION`.

Rules the converter enforces:

* datetimes are written as ISO 8601 with their UTC offset and, when they carry
  an IANA zone, the zone name in brackets (RFC 9557), e.g.
  ``2026-03-09T09:00:00-04:00[America/New_York]``, so the zone survives a
  round trip; a naive datetime is rejected on the way in and on the way out;
* strings, numbers and booleans are strict: ``1`` is not a string and ``"1"``
  is not a number;
* unknown keys are rejected, and an object is expected wherever the model
  has a record or a part of one (an array, string or number there is a
  :class:`~carecoord.StructureError` naming the path, not a crash);
* every structuring failure raises :class:`~carecoord.StructureError` whose
  message lists the field paths (``$.goals[0].targets[0].due``) and never
  echoes the offending values.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from enum import Enum, StrEnum
from functools import cache
from typing import Any, TypeVar, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import cattrs
from cattrs.cols import homogenous_tuple_structure_factory
from cattrs.errors import ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import _fastcodec, _json
from ._fastcodec._text import encode_text
from .model import CareCoordError, EntityId, NaiveDatetimeError, StructureError, ValidationError
from .model._base import TRANSIENT

__all__ = [
    "SCHEMA_VERSION",
    "dumps",
    "format_datetime",
    "from_payload",
    "loads",
    "make_converter",
    "parse_datetime",
    "structure",
    "to_payload",
    "unstructure",
]

T = TypeVar("T")

SCHEMA_VERSION = 1
"""Version of the payload layout written by :func:`to_payload`."""

_quote: Callable[[str], str] = json.encoder.encode_basestring

_BRACKET = re.compile(r"^(?P<iso>[^\[\]]+)\[(?P<zone>[A-Za-z0-9_+\-/]+)\]$")


def format_datetime(value: datetime) -> str:
    """Write an aware datetime as ISO 8601, with ``[Zone]`` when it has an IANA zone."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError("cannot serialize a naive datetime")
    iso = value.isoformat()
    if isinstance(value.tzinfo, ZoneInfo) and value.tzinfo.key:
        return f"{iso}[{value.tzinfo.key}]"
    return iso


class _OutOfRangeError(ValidationError):
    """A datetime whose UTC instant, or wall time in its zone, is outside years 1-9999."""


def parse_datetime(raw: object) -> datetime:
    """Parse what :func:`format_datetime` writes; naive input is rejected.

    So is a datetime without a UTC instant or a wall time in its zone (an
    offset that moves ``0001-01-01`` or ``9999-12-31`` out of range): every
    failure is a :class:`~carecoord.ValidationError`, never ``OverflowError``.
    """
    if not isinstance(raw, str):
        raise ValidationError("expected an ISO 8601 datetime string")
    zone: ZoneInfo | None = None
    match = _BRACKET.match(raw)
    if match:
        raw = match["iso"]
        try:
            zone = ZoneInfo(match["zone"])
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: name too long
            raise ValidationError("unknown IANA time zone in datetime") from None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValidationError("expected an ISO 8601 datetime string") from None
    if value.tzinfo is None:
        raise NaiveDatetimeError("datetime has no UTC offset (naive datetimes are rejected)")
    try:
        # Every model datetime must have a UTC instant (comparisons go through
        # it); near year 1 or 9999 an offset can push it out of range.
        value.astimezone(UTC)
        if zone is not None:
            # Keep the written wall time when the offset matches it (this preserves
            # fold and wall times in a DST gap); otherwise convert the instant.
            for fold in (0, 1):
                local = value.replace(tzinfo=zone, fold=fold)
                if local.utcoffset() == value.utcoffset():
                    return local
            return value.astimezone(zone)
    except OverflowError:
        raise _OutOfRangeError(
            "datetime out of range (its UTC instant or local time is before year 1 or after 9999)"
        ) from None
    if value.utcoffset() == UTC.utcoffset(None):
        return value.replace(tzinfo=UTC)
    return value


def _structure_date(raw: object, _: type) -> date:
    if not isinstance(raw, str) or len(raw) != 10:
        raise ValidationError("expected an ISO 8601 date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError("expected an ISO 8601 date (YYYY-MM-DD)") from None


def _structure_time(raw: object, _: type) -> time:
    if not isinstance(raw, str):
        raise ValidationError("expected an ISO 8601 time (HH:MM[:SS])")
    try:
        value = time.fromisoformat(raw)
    except ValueError:
        raise ValidationError("expected an ISO 8601 time (HH:MM[:SS])") from None
    if value.tzinfo is not None:
        raise ValidationError("expected a wall-clock time without offset")
    return value


def _structure_str(raw: object, _: type) -> str:
    if not isinstance(raw, str):
        raise ValidationError("expected a string")
    return raw


def _structure_int(raw: object, _: type) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ValidationError("expected an integer")
    return raw


def _structure_float(raw: object, _: type) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValidationError("expected a finite number")
    try:
        value = float(raw)  # an int beyond the float range overflows
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise ValidationError("expected a finite number")
    return value


def _structure_bool(raw: object, _: type) -> bool:
    if not isinstance(raw, bool):
        raise ValidationError("expected true or false")
    return raw


def _structure_enum(raw: object, cls: type[Enum]) -> Enum:
    if not isinstance(raw, str):
        raise ValidationError(f"expected a {cls.__name__} code")
    try:
        return cls(raw)
    except ValueError:
        raise ValidationError(f"not a {cls.__name__} code") from None


def _structure_id(raw: object, cls: type[EntityId]) -> EntityId:
    if not isinstance(raw, str):
        raise ValidationError(f"expected a {cls.__name__}")
    return cls(raw)


def _is_homogeneous_tuple(t: Any) -> bool:
    args = get_args(t)
    return get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis


def _strict_sequence_factory(type_: Any, conv: cattrs.BaseConverter) -> Any:
    # cattrs turns any iterable into a tuple: "abc" would become ("a", "b", "c")
    # and a mapping its keys. Only JSON arrays are accepted.
    inner = homogenous_tuple_structure_factory(type_, conv)

    def structure_sequence(raw: object, t: Any) -> Any:
        if not isinstance(raw, list | tuple):
            raise ValidationError("expected an array")
        return inner(raw, t)

    return structure_sequence


def _is_record_class(t: Any) -> bool:
    return attrs.has(get_origin(t) or t)


def _strict_object_factory(type_: Any, conv: cattrs.Converter) -> Any:
    # cattrs' generated function reads ``o.keys()`` outside its per-field error
    # handling, so an array or a string where an object belongs would escape as
    # AttributeError. Transient fields (a record's revision) are set by the
    # store, never read from a payload.
    inner = make_dict_structure_fn(
        type_,
        conv,
        _cattrs_forbid_extra_keys=True,
        _cattrs_detailed_validation=True,
        **_omit_transient(get_origin(type_) or type_),
    )

    def structure_object(raw: object, t: Any) -> Any:
        if not isinstance(raw, Mapping):
            raise ValidationError("expected an object")
        return inner(raw, t)

    return structure_object


def make_converter() -> cattrs.Converter:
    """Build the carecoord converter (a new instance every call).

    Use :func:`to_payload` / :func:`from_payload` for persisted records; use the
    converter directly for parts of records (it has no payload envelope).
    """
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_unstructure_hook(datetime, format_datetime)
    conv.register_structure_hook(datetime, lambda raw, _: parse_datetime(raw))
    conv.register_unstructure_hook(date, date.isoformat)
    conv.register_structure_hook(date, _structure_date)
    conv.register_unstructure_hook(time, time.isoformat)
    conv.register_structure_hook(time, _structure_time)
    # Class-based (singledispatch) hooks, so the most specific class wins:
    # StrEnum codes and typed ids are subclasses of str, bool of int.
    conv.register_structure_hook(str, _structure_str)
    conv.register_structure_hook(int, _structure_int)
    conv.register_structure_hook(float, _structure_float)
    conv.register_structure_hook(bool, _structure_bool)
    conv.register_structure_hook(Enum, _structure_enum)
    conv.register_structure_hook(StrEnum, _structure_enum)
    conv.register_structure_hook(EntityId, _structure_id)
    conv.register_structure_hook_factory(_is_homogeneous_tuple, _strict_sequence_factory)
    # Class-based so they win over the built-in handling of str subclasses.
    conv.register_unstructure_hook(Enum, lambda e: e.value)
    conv.register_unstructure_hook(StrEnum, lambda e: e.value)
    conv.register_unstructure_hook(EntityId, str)
    # Transient fields (a record's revision) are set by the store, never stored.
    conv.register_unstructure_hook_factory(
        _has_transient,
        lambda cls: make_dict_unstructure_fn(cls, conv, **_omit_transient(cls)),
    )
    conv.register_structure_hook_factory(
        _is_record_class, lambda t: _strict_object_factory(t, conv)
    )
    return conv


def _has_transient(cls: Any) -> bool:
    return attrs.has(cls) and any(f.metadata.get(TRANSIENT) for f in attrs.fields(cls))


def _omit_transient(cls: Any) -> dict[str, Any]:
    if not attrs.has(cls):
        return {}
    return {f.name: override(omit=True) for f in attrs.fields(cls) if f.metadata.get(TRANSIENT)}


@cache
def _default_converter() -> cattrs.Converter:
    return make_converter()


def _describe(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, KeyError):
        return "required field missing"
    if isinstance(exc, ForbiddenExtraKeysError):
        return "unknown field(s): " + ", ".join(sorted(exc.extra_fields))
    if isinstance(exc, CareCoordError):
        return str(exc)  # our messages never carry values
    name = getattr(type_, "__name__", None) or str(type_)
    return f"invalid value (expected {name})"


def _raise_structure_error(exc: Exception, what: str) -> None:
    if isinstance(exc, cattrs.BaseValidationError):
        lines = cattrs.transform_error(exc, path="$", format_exception=_describe)
    else:
        lines = [f"{_describe(exc, None)} @ $"]
    paths = tuple(line.rsplit(" @ ", 1)[-1] for line in lines)
    raise StructureError(f"invalid {what} payload: " + "; ".join(lines), paths=paths) from None


def structure(data: Any, cls: type[T], *, converter: cattrs.Converter | None = None) -> T:
    """Structure plain ``data`` into ``cls``; failures raise :class:`StructureError`."""
    conv = converter or _default_converter()
    try:
        return conv.structure(data, cls)
    except Exception as exc:
        # A converter hook's own exception (cattrs, a host's hook, RecursionError
        # on absurd nesting) may quote the value: only its kind and path are kept.
        _raise_structure_error(exc, cls.__name__)
        raise AssertionError("unreachable") from None


def unstructure(obj: Any, *, converter: cattrs.Converter | None = None) -> Any:
    """Turn a model object into plain JSON-compatible data."""
    return (converter or _default_converter()).unstructure(obj)


_UPGRADES: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}
"""Forward migrations of payload data: version ``n`` -> ``n + 1``."""


def to_payload(obj: Any, *, converter: cattrs.Converter | None = None) -> dict[str, Any]:
    """Wrap ``obj`` as ``{"type", "schema_version", "data"}`` for storage or transport."""
    return {
        "type": type(obj).__name__,
        "schema_version": SCHEMA_VERSION,
        "data": unstructure(obj, converter=converter),
    }


def from_payload(
    payload: Mapping[str, Any], cls: type[T], *, converter: cattrs.Converter | None = None
) -> T:
    """Read a payload written by :func:`to_payload` (upgrading older versions)."""
    if not isinstance(payload, Mapping):
        raise StructureError(
            f"invalid {cls.__name__} payload: expected an object @ $", paths=("$",)
        )
    if payload.get("type") != cls.__name__:
        raise StructureError(
            f"invalid {cls.__name__} payload: wrong or missing type @ $.type", paths=("$.type",)
        )
    version = payload.get("schema_version")
    if (
        isinstance(version, bool)
        or not isinstance(version, int)
        or not 1 <= version <= SCHEMA_VERSION
    ):
        raise StructureError(
            f"invalid {cls.__name__} payload: unsupported schema_version @ $.schema_version",
            paths=("$.schema_version",),
        )
    data: Any = payload.get("data")
    while version < SCHEMA_VERSION:
        data = _UPGRADES[version](data)
        version += 1
    return structure(data, cls, converter=converter)


def _payload_text(obj: Any, *, converter: cattrs.Converter | None = None) -> str:
    """``to_payload(obj)`` as compact, key-sorted JSON text (what stores keep).

    With the default converter, the record's precompiled encoder writes it
    (the same text, faster): with the standard-library backend straight to
    text (:mod:`carecoord._fastcodec._text`), with orjson as data for orjson.
    With a host converter, its ``unstructure`` does.
    """
    if converter is None:
        if _json.backend() == "stdlib":  # its encoder is slow: the text from the fields
            try:
                data_text = encode_text(obj)
            except Exception:  # not covered, or an unexpected value: as below
                pass
            else:
                kind = _quote(type(obj).__name__)
                return _json.escape_surrogates(
                    f'{{"data":{data_text},"schema_version":{SCHEMA_VERSION},"type":{kind}}}'
                )
        try:
            data = _fastcodec.encode(obj)
        except Exception:  # a class the fast codec does not cover; a naive datetime
            pass  # (cattrs then raises what it always raised)
        else:
            envelope = {"data": data, "schema_version": SCHEMA_VERSION, "type": type(obj).__name__}
            return _json.dumps_prepared(envelope)
    return _json.dumps(to_payload(obj, converter=converter))


def dumps(obj: Any) -> str:
    """``obj`` as a JSON payload string (see :func:`to_payload`).

    Compact and key-sorted; non-ASCII characters are written as they are
    (UTF-8), not as ``\\uXXXX`` escapes. The text is the same with and without
    the ``fast`` extra (orjson).
    """
    return _payload_text(obj)


def loads(text: str | bytes, cls: type[T]) -> T:
    """Read a JSON payload string written by :func:`dumps`.

    Anything that is not a payload raises :class:`~carecoord.StructureError`
    (never the decoder's own error, which quotes the text): text that is not
    JSON, bytes that are not UTF-8/16/32, nesting deeper than the interpreter's
    recursion limit, and integers longer than ``sys.get_int_max_str_digits()``.
    The payload is validated in full (see :func:`from_payload`).
    """
    payload = _read_json(text, cls, _json.loads)
    try:
        return from_payload(payload, cls)
    except StructureError:
        if _json.backend() == "stdlib":
            raise
    # orjson reads an integer beyond 64 bits as a float: what the standard
    # library reads decides, so both backends accept and reject alike.
    return from_payload(_read_json(text, cls, _json.stdlib_loads), cls)


def _read_json(text: str | bytes, cls: type, read: Callable[[str | bytes], Any]) -> Any:
    try:
        return read(text)
    except RecursionError:
        problem = "nested too deeply"
    except UnicodeDecodeError:
        problem = "not JSON (bytes that are not UTF-8, UTF-16 or UTF-32 text)"
    except json.JSONDecodeError:
        problem = "not JSON"
    except ValueError:  # an integer with more digits than int() accepts
        problem = "not JSON (a number is too long)"
    except TypeError:
        problem = "not JSON (expected str or bytes)"
    raise StructureError(f"invalid {cls.__name__} payload: {problem} @ $", paths=("$",))
