"""Readers of FHIR JSON values for the importer: the building blocks.

Each reader takes the JSON object, the key and the element path ``at`` and
either returns a typed value or raises :class:`~carecoord.FhirImportError`
through :func:`fail`, naming the path and the rule broken (never the value):

* JSON shapes: :func:`obj`, :func:`items`, :func:`string`, :func:`boolean`,
  :func:`number`;
* codes and codings: :func:`code` (a ``code`` in a value set),
  :func:`coded` (a CodeableConcept), :func:`coding_value` (one Coding);
* dates and times: :func:`dt` (a dateTime with offset, and its ``zone``
  extension), :func:`a_date`, :func:`a_time`;
* extensions: :func:`ext_all` / :func:`ext_one` find them, ``ev_*`` read their
  ``value[x]``, ``sub_*`` read sub-extensions and ``top_*`` read a top-level
  carecoord extension of a resource.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from ..model import CareCoordError, FhirImportError, NaiveDatetimeError
from ..serialization import _OutOfRangeError, parse_datetime
from ._common import ext_url
from ._import_report import current
from ._read_tracker import consume, consume_all, peek
from .valuesets import code_in

E = TypeVar("E", bound=StrEnum)

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(?P<offset>Z|[+-]\d{2}:\d{2})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(\.\d+)?")


# ------------------------------------------------------------------- readers


def fail(at: str, message: str) -> NoReturn:
    """Raise :class:`FhirImportError` for element ``at``."""
    raise FhirImportError(message, path=at)


def obj(value: Any, at: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        fail(at, "expected a JSON object")
    return value


def items(o: Mapping[str, Any], key: str, at: str) -> list[tuple[Any, str]]:
    value = o.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        fail(f"{at}.{key}", "expected an array")
    return [(v, f"{at}.{key}[{i}]") for i, v in enumerate(value)]


def string(o: Mapping[str, Any], key: str, at: str, *, required: bool = True) -> str | None:
    value = o.get(key)
    if value is None:
        if required:
            fail(f"{at}.{key}", "required element missing")
        return None
    if not isinstance(value, str):
        fail(f"{at}.{key}", "expected a string")
    if not value:
        fail(f"{at}.{key}", "empty string (FHIR JSON has no empty values)")
    return value


def req_string(o: Mapping[str, Any], key: str, at: str) -> str:
    value = string(o, key, at)
    assert value is not None
    return value


def boolean(o: Mapping[str, Any], key: str, at: str) -> bool:
    value = o.get(key)
    if not isinstance(value, bool):
        fail(f"{at}.{key}", "expected true or false")
    return value


def number(value: Any, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        fail(at, "expected a number")
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an integer beyond the float range
        finite = False
    if not finite:
        fail(at, "expected a finite number")
    if isinstance(value, int) and float(value) == value:
        return float(value)  # the export writes integral floats as integers
    return value


def to_enum(enum: type[E], code: Any, at: str) -> E:
    if not isinstance(code, str):
        fail(at, "expected a code")
    try:
        return enum(code)
    except ValueError:
        fail(at, f"code not supported for {enum.__name__}")


def code(o: Mapping[str, Any], key: str, at: str, value_set: str, enum: type[E]) -> E:
    value = o.get(key)
    if value is None:
        fail(f"{at}.{key}", "required element missing")
    if not isinstance(value, str):
        fail(f"{at}.{key}", "expected a code")
    if not code_in(value_set, value):
        fail(f"{at}.{key}", f"code not in value set {value_set}")
    return to_enum(enum, value, f"{at}.{key}")


def dt_from(text: Any, zone: str | None, at: str, offset: timezone | None = None) -> datetime:
    """The datetime of FHIR dateTime ``text``, on ``zone`` (IANA) or fixed ``offset`` if given."""
    if not isinstance(text, str):
        fail(at, "expected a dateTime string")
    match = _DATETIME.fullmatch(text)
    if match is None:
        if _DATE.fullmatch(text) and zone is None and offset is None:
            # a day without a time (valid FHIR): its start in UTC, reported
            current().default(at, "a date without a time: 00:00 UTC assumed", "T00:00:00Z")
            return _parsed(f"{text}T00:00:00+00:00", None, at, None)
        if _DATE.fullmatch(text) or re.fullmatch(r"\d{4}(-\d{2})?", text):
            fail(at, "partial dateTime (a time with offset is required)")
        fail(at, "not a FHIR dateTime")
    if match["offset"] is None:
        fail(at, "naive datetime")
    return _parsed(text, zone, at, offset)


def _parsed(text: str, zone: str | None, at: str, offset: timezone | None) -> datetime:
    raw = text[:-1] + "+00:00" if text.endswith("Z") else text
    try:
        value = parse_datetime(raw if zone is None else f"{raw}[{zone}]")
        return value if offset is None else value.astimezone(offset)
    except NaiveDatetimeError:
        fail(at, "naive datetime")
    except (_OutOfRangeError, OverflowError):
        fail(at, "dateTime out of range (before year 1 or after 9999 in UTC or its time zone)")
    except CareCoordError:
        fail(at, "invalid dateTime or unknown time zone")


_OFFSET = re.compile(
    r"(?P<sign>[+-])(?P<h>\d\d):(?P<m>[0-5]\d)(:(?P<s>[0-5]\d)(\.(?P<us>\d{6}))?)?"
)


def fixed_offset(text: str, at: str) -> timezone:
    """A fixed UTC offset written ``+HH:MM[:SS[.ffffff]]`` (less than 24 hours)."""
    match = _OFFSET.fullmatch(text)
    if match is None or int(match["h"]) > 23:
        fail(at, "expected a UTC offset (+HH:MM[:SS[.ffffff]], under 24 hours)")
    delta = timedelta(
        hours=int(match["h"]),
        minutes=int(match["m"]),
        seconds=int(match["s"] or 0),
        microseconds=int(match["us"] or 0),
    )
    return timezone(-delta if match["sign"] == "-" else delta)


def dt_parts(
    holder: Mapping[str, Any], at: str, *, sub: bool
) -> tuple[str | None, timezone | None]:
    """The ``zone`` (IANA) and ``utc-offset`` extensions of a datetime: at most one of them."""
    zone = ext_one(holder, "zone", at, sub=sub)
    offset = ext_one(holder, "utc-offset", at, sub=sub)
    if zone is not None and offset is not None:
        fail(offset[1], "a datetime has a zone or a UTC offset, not both")
    return (
        None if zone is None else ev_string(*zone),
        None if offset is None else fixed_offset(ev_string(*offset), f"{offset[1]}.valueString"),
    )


def dt(o: Mapping[str, Any], key: str, at: str, *, required: bool = True) -> datetime | None:
    if key not in o:
        if required:
            fail(f"{at}.{key}", "required element missing")
        return None
    zone = offset = None
    if o.get("_" + key) is not None:
        zone, offset = dt_parts(obj(o["_" + key], f"{at}._{key}"), f"{at}._{key}", sub=False)
    return dt_from(o[key], zone, f"{at}.{key}", offset)


def req_dt(o: Mapping[str, Any], key: str, at: str) -> datetime:
    value = dt(o, key, at)
    assert value is not None
    return value


def a_date(o: Mapping[str, Any], key: str, at: str, *, required: bool = False) -> date | None:
    value = o.get(key)
    if value is None:
        if required:
            fail(f"{at}.{key}", "required element missing")
        return None
    if not isinstance(value, str):
        fail(f"{at}.{key}", "expected a date string")
    if not _DATE.fullmatch(value):
        fail(f"{at}.{key}", "expected a full date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{at}.{key}", "invalid date")


def a_time(value: Any, at: str) -> time:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        fail(at, "expected a FHIR time (HH:MM:SS)")
    try:
        return time.fromisoformat(value)
    except ValueError:
        fail(at, "invalid time")


def coded(cc: Any, at: str, system: str, enum: type[E], *, required: bool = True) -> E | None:
    """The code of the Coding with ``system`` in CodeableConcept ``cc``."""
    if cc is None:
        if required:
            fail(at, "required element missing")
        return None
    cc = obj(cc, at)
    for c, where in items(cc, "coding", at):
        c = obj(c, where)
        if peek(c, "system") == system:
            found = to_enum(enum, c.get("code"), f"{where}.code")
            consume_all(c)
            consume(cc, "text")  # a rendering of the coded concept
            return found
    if required:
        fail(at, f"no coding from {system}")
    return None


def req_coded(cc: Any, at: str, system: str, enum: type[E]) -> E:
    value = coded(cc, at, system, enum)
    assert value is not None
    return value


def coding_value(c: Any, at: str, system: str, enum: type[E]) -> E:
    c = obj(c, at)
    if c.get("system") != system:
        fail(f"{at}.system", f"expected a coding from {system}")
    found = to_enum(enum, c.get("code"), f"{at}.code")
    consume(c, "display")
    return found


# ---------------------------------------------------------------- extensions


def ext_all(
    o: Mapping[str, Any], name: str, at: str, *, sub: bool = False
) -> list[tuple[Mapping[str, Any], str]]:
    """The extensions of ``o`` with url ``name`` (a sub-extension name when ``sub``)."""
    url = name if sub else ext_url(name)
    found = []
    for e, where in items(o, "extension", at):
        e = obj(e, where)
        if not isinstance(peek(e, "url"), str):
            fail(f"{where}.url", "extension without a url")
        if peek(e, "url") == url:
            consume(e, "url")
            found.append((e, where))
    return found


def ext_one(
    o: Mapping[str, Any], name: str, at: str, *, sub: bool = False, required: bool = False
) -> tuple[Mapping[str, Any], str] | None:
    found = ext_all(o, name, at, sub=sub)
    if len(found) > 1:
        fail(found[1][1], "extension may occur only once")
    if not found:
        if required:
            fail(f"{at}.extension", f"required extension {name} missing")
        return None
    return found[0]


def ev(e: Mapping[str, Any], at: str, key: str) -> Any:
    if key not in e:
        fail(f"{at}.{key}", "required element missing")
    return e[key]


def ev_string(e: Mapping[str, Any], at: str) -> str:
    return req_string(e, "valueString", at)


def ev_bool(e: Mapping[str, Any], at: str) -> bool:
    return boolean(e, "valueBoolean", at)


def ev_dt(e: Mapping[str, Any], at: str) -> datetime:
    """A datetime extension: ``valueDateTime``, or ``dateTime`` + ``zone`` / ``utc-offset``."""
    if "valueDateTime" in e:
        return dt_from(e["valueDateTime"], None, f"{at}.valueDateTime")
    part = ext_one(e, "dateTime", at, sub=True, required=True)
    assert part is not None
    zone, offset = dt_parts(e, at, sub=True)
    return dt_from(ev(part[0], part[1], "valueDateTime"), zone, f"{part[1]}.valueDateTime", offset)


def sub_string(e: Mapping[str, Any], name: str, at: str, *, required: bool = True) -> str | None:
    found = ext_one(e, name, at, sub=True, required=required)
    return None if found is None else ev_string(*found)


def sub_coding(e: Mapping[str, Any], name: str, at: str, system: str, enum: type[E]) -> E:
    found = ext_one(e, name, at, sub=True, required=True)
    assert found is not None
    return coding_value(
        ev(found[0], found[1], "valueCoding"), f"{found[1]}.valueCoding", system, enum
    )


def sub_dt(e: Mapping[str, Any], name: str, at: str) -> datetime:
    found = ext_one(e, name, at, sub=True, required=True)
    assert found is not None
    return ev_dt(*found)


def top_string(o: Mapping[str, Any], name: str, at: str) -> str | None:
    found = ext_one(o, name, at)
    return None if found is None else ev_string(*found)


def top_dt(o: Mapping[str, Any], name: str, at: str) -> datetime | None:
    found = ext_one(o, name, at)
    return None if found is None else ev_dt(*found)


def top_bool(o: Mapping[str, Any], name: str, at: str, default: bool) -> bool:
    """A top-level boolean carecoord extension; ``default`` when absent (reported)."""
    found = ext_one(o, name, at)
    if found is None:
        current().default(f"{at}.extension({name})", "extension absent", str(default).lower())
        return default
    return ev_bool(*found)


def top_coding(o: Mapping[str, Any], name: str, at: str, system: str, enum: type[E]) -> E:
    found = ext_one(o, name, at, required=True)
    assert found is not None
    return coding_value(
        ev(found[0], found[1], "valueCoding"), f"{found[1]}.valueCoding", system, enum
    )


# ------------------------------------------------------------ known content


def take(cc: Any, at: str, *known: tuple[str, str]) -> bool:
    """Mark read every Coding of CodeableConcept ``cc`` that is one of ``known`` (system, code).

    For content carecoord derives from the record (a fixed category, a status
    that follows from the record): taken when it says what carecoord would
    write, reported as dropped otherwise. Returns whether any Coding was taken.
    """
    if not isinstance(cc, Mapping):
        return False
    hit = False
    for c, _ in items(cc, "coding", at):
        if isinstance(c, Mapping) and (peek(c, "system"), peek(c, "code")) in known:
            consume_all(c)
            hit = True
    if hit:
        consume(cc, "text")
    return hit


def take_code(o: Mapping[str, Any], key: str, at: str, value_set: str) -> str | None:
    """Mark ``o[key]`` read after checking it is a code of ``value_set`` (``None`` if absent)."""
    value = o.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        fail(f"{at}.{key}", "expected a code")
    if not code_in(value_set, value):
        fail(f"{at}.{key}", f"code not in value set {value_set}")
    return value


def not_kept(at: str, why: str) -> None:
    """Report element ``at`` as dropped although it was read (what carecoord does not keep)."""
    current().drop(at, why)
