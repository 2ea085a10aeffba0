"""R4 (4.0.1) primitive formats for the independent checker of ``_fhir_checks``.

The regexes of the R4 specification for each primitive type carecoord writes
(and ``urn:uuid:`` / ``urn:oid:`` forms of ``uri``, real calendar dates), and
an exact instant key to compare dateTimes across offsets. Nothing here comes
from carecoord.
"""

from __future__ import annotations

import math
import re
from datetime import date
from fractions import Fraction
from typing import Any

__all__ = ["ABSOLUTE", "FORMATS", "instant_key", "primitive_problem"]

# ------------------------------------------------------------ primitive formats

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
FORMATS: dict[str, re.Pattern[str]] = {
    "id": re.compile(r"[A-Za-z0-9\-\.]{1,64}"),
    "code": re.compile(r"[^\s]+(\s[^\s]+)*"),
    "uri": re.compile(r"\S*"),
    "string": re.compile(r"[ \r\n\t\S]+"),
    "date": re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY})?)?"),
    "dateTime": re.compile(rf"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_ZONE})?)?)?"),
    "instant": re.compile(rf"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_ZONE}"),
    "time": re.compile(_TIME),
    "decimal": re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"),
    "positiveInt": re.compile(r"\+?[1-9][0-9]*"),
    "xhtml": re.compile(r"[ \r\n\t\S]+"),
    "base64Binary": re.compile(r"(\s*([0-9a-zA-Z\+\=/]){4}\s*)+"),
}
_OID = re.compile(r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+")
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_INT32 = 2**31 - 1


def _decimal_text(value: float) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def primitive_problem(kind: str, value: Any) -> str | None:
    """Why ``value`` is not a valid R4 JSON ``kind`` primitive, or None."""
    if kind == "boolean":
        return None if isinstance(value, bool) else "expected true or false"
    if kind in ("decimal", "positiveInt"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "expected a JSON number"
        if isinstance(value, float) and not math.isfinite(value):
            return "not a finite number"
        if kind == "positiveInt" and not (isinstance(value, int) and 1 <= value <= _INT32):
            return "expected an integer 1..2^31-1"
        if not FORMATS[kind].fullmatch(_decimal_text(value)):
            return "number not in the R4 decimal format"
        return None
    if not isinstance(value, str):
        return "expected a JSON string"
    if value == "":
        return "empty string (ele-1)"
    if not FORMATS[kind].fullmatch(value):
        return f"not an R4 {kind}"
    if kind == "string" and _CONTROL.search(value):
        return "control character in a string"
    if kind == "uri" and value.startswith("urn:oid:") and not _OID.fullmatch(value):
        return "malformed urn:oid"
    if kind == "uri" and value.startswith("urn:uuid:") and not _UUID.fullmatch(value):
        return "malformed urn:uuid"
    if kind in ("date", "dateTime", "instant") and len(value) >= 10:
        try:
            date.fromisoformat(value[:10])
        except ValueError:
            return "no such calendar date"
    return None


_PARTS = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)T(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
    r"(?P<f>\.\d+)?(?P<z>Z|[+-]\d\d:\d\d)"
)


def instant_key(text: Any) -> Fraction | None:
    """A full R4 dateTime as seconds since 0001-01-01 UTC (exact; no overflow), else None."""
    match = _PARTS.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    days = date(int(match["y"]), int(match["mo"]), int(match["d"])).toordinal()
    seconds = Fraction(days * 86400 + int(match["h"]) * 3600 + int(match["mi"]) * 60)
    seconds += int(match["s"]) + Fraction(match["f"] or ".0")
    if match["z"] != "Z":
        sign = 1 if match["z"][0] == "+" else -1
        seconds -= sign * (int(match["z"][1:3]) * 3600 + int(match["z"][4:6]) * 60)
    return seconds
