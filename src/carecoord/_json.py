"""JSON text for stored payloads and index details: one encoder and one decoder.

Every payload carecoord writes goes through :func:`dumps` and every stored text
it reads through :func:`loads`, so the two stay consistent everywhere.

Two backends give the same text, byte for byte: :mod:`orjson` when it is
installed (the ``carecoord[fast]`` extra) and the standard library otherwise.
The text is compact and key-sorted (by code point), with non-ASCII characters
written as UTF-8 characters rather than ``\\uXXXX`` escapes (a lone surrogate,
which has no UTF-8 form, is still escaped, as the standard library's ASCII
mode writes it); text written by earlier versions, ASCII-escaped, reads the
same. Where orjson would write something else, the standard library writes it:

* floats are written as :func:`repr` writes them (``1.5e-05``, not orjson's
  ``0.000015``): :func:`dumps` checks the floats of what it is given, and
  :func:`dumps_prepared` trusts its caller to have wrapped every float outside
  ``1e-4 <= |x| < 1e16`` in :class:`ExactFloat` (:func:`prepare_float`; the
  model encoder does);
* integers beyond 64 bits, strings with lone surrogates, non-string keys and
  anything that is not plain JSON data (the standard library's rules apply,
  including its ``TypeError`` for what it cannot write).

:func:`loads` reads with orjson first; text orjson rejects (``NaN``, lone
surrogate escapes, UTF-16 bytes, nesting beyond 1024 levels, ...) is read by
the standard library, whose value or error is the result. One difference
remains: orjson reads an integer outside the 64-bit range as a float. Callers
that must tell (the model decoders, which check their integers) read such text
again with :func:`stdlib_loads`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

__all__ = [
    "ExactFloat",
    "backend",
    "dumps",
    "dumps_prepared",
    "escape_surrogates",
    "loads",
    "prepare_float",
    "stdlib_dumps",
    "stdlib_loads",
    "use_orjson",
]

try:  # the ``fast`` extra
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised where orjson is not installed
    _orjson = None  # type: ignore[assignment]


class ExactFloat(float):
    """A float the orjson backend writes through :func:`repr`, as the standard library does."""

    __slots__ = ()


_SAFE_LOW: Final = 1e-4
_SAFE_HIGH: Final = 1e16
"""orjson writes a float as :func:`repr` does when ``1e-4 <= |x| < 1e16`` (or it is 0)."""

_SURROGATE = re.compile("[\ud800-\udfff]")

_stdlib_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode
_presorted_encoder = json.JSONEncoder(
    ensure_ascii=False, separators=(",", ":"), sort_keys=False, check_circular=False
).encode
"""The same text for data whose dicts are key-sorted already, without sorting them again
and without the circular-reference check (for the model encoder's output)."""

_usable = _orjson is not None
"""Whether orjson is installed (and writes what the standard library writes: see the probe)."""

_enabled = _usable


def backend() -> str:
    """``"orjson"`` or ``"stdlib"``: the backend :func:`dumps` and :func:`loads` use now."""
    return "orjson" if _enabled else "stdlib"


def use_orjson(enabled: bool) -> bool:
    """Use orjson (when installed) or the standard library; returns the previous setting.

    For tests and benchmarks: both backends give the same text. Enabling it
    without orjson installed leaves the standard library in use.
    """
    global _enabled
    previous = _enabled
    _enabled = enabled and _usable
    return previous


def prepare_float(value: Any) -> Any:
    """``value``, as :class:`ExactFloat` when it is a float orjson would write unlike :func:`repr`.

    For encoders whose output goes to :func:`dumps_prepared`.
    """
    if value.__class__ is float and not (_SAFE_LOW <= abs(value) < _SAFE_HIGH or value == 0.0):
        return ExactFloat(value)
    return value


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def stdlib_dumps(obj: Any, *, _encode: Callable[[Any], str] = _stdlib_encoder) -> str:
    """:func:`dumps` with the standard library only (the reference text)."""
    return escape_surrogates(_encode(obj))


def escape_surrogates(text: str) -> str:
    """JSON ``text`` written with ``ensure_ascii=False``, its lone surrogates escaped.

    A lone surrogate has no UTF-8 form; ``ensure_ascii=True`` escapes it like
    this, so the text stays storable and reads back the same.
    """
    if not text.isascii() and _SURROGATE.search(text):
        return _SURROGATE.sub(_escape_surrogate, text)
    return text


def _float_text(value: float) -> str:
    return _stdlib_encoder(float(value))


def _default(value: object) -> Any:
    if isinstance(value, ExactFloat) and _orjson is not None:
        return _orjson.Fragment(_float_text(value).encode())
    raise TypeError  # not plain JSON data: the standard library decides


if _orjson is not None:
    _PRESORTED = _orjson.OPT_PASSTHROUGH_DATETIME | _orjson.OPT_PASSTHROUGH_DATACLASS
    _OPTIONS = _orjson.OPT_SORT_KEYS | _PRESORTED
    _EncodeError: type[Exception] = _orjson.JSONEncodeError
    _DecodeError: type[Exception] = _orjson.JSONDecodeError


def _plain(value: Any) -> bool:
    """Whether orjson writes ``value`` exactly as the standard library does."""
    cls = value.__class__
    if cls is str or cls is int or cls is bool or value is None or cls is ExactFloat:
        return True
    if cls is float:
        size: float = abs(value)
        return _SAFE_LOW <= size < _SAFE_HIGH or size == 0.0
    if cls is dict:
        return all(isinstance(key, str) and _plain(item) for key, item in value.items())
    if cls is list or cls is tuple:
        return all(_plain(item) for item in value)
    return isinstance(value, str)  # typed ids and StrEnum codes: their text either way


def dumps(obj: Any) -> str:
    """``obj`` as compact, key-sorted JSON text (the same text on both backends)."""
    if _enabled:
        try:
            plain = _plain(obj)
        except RecursionError:  # the standard library decides what deep nesting gives
            plain = False
        if plain:
            return _dumps_orjson(obj)
    return stdlib_dumps(obj)


def dumps_prepared(obj: Any) -> str:
    """:func:`dumps` for plain data whose inexact floats are already :class:`ExactFloat`
    and whose dicts hold their keys in sorted order (they are written in that order).

    The model encoder's output qualifies; anything else goes through :func:`dumps`.
    """
    if _enabled:
        return _dumps_orjson(obj, _PRESORTED)
    return stdlib_dumps(obj, _encode=_presorted_encoder)


def _dumps_orjson(obj: Any, options: int | None = None) -> str:
    try:
        return _orjson.dumps(obj, default=_default, option=options or _OPTIONS).decode()
    except _EncodeError:  # a 65-bit integer, a lone surrogate, a non-str key, ...
        return stdlib_dumps(obj)


_PROBE: Final = {
    "floats": [0.1, 1e-4, 0.00012345678901234, 1.0, -2.5, 123456.789, 1e15, 9999999999999998.0],
    "zeros": [0.0, -0.0, 0, -1, 2**63 - 1, 2**64 - 1, -(2**63)],
    "exact": [ExactFloat(1.5e-05), ExactFloat(1e16), ExactFloat(1e-07)],
    "text": ['é\u2028\x7f\x1f"\\/ 😀', True, False, None],
    "keys": {"b": 1, "a": 2, "é": 3, "😀": 4, "Z": 5, "": 6},
}
"""Values whose text the orjson backend must write as the standard library does."""

if _usable and _dumps_orjson(_PROBE) != stdlib_dumps(_PROBE):  # pragma: no cover
    _usable = _enabled = False  # an orjson that writes something else: not used


def stdlib_loads(text: str | bytes) -> Any:
    """The value of JSON ``text`` as the standard library reads it (its errors pass through)."""
    return json.loads(text)


def loads(text: str | bytes) -> Any:
    """The value of JSON ``text`` (the standard library's errors pass through).

    With orjson, an integer outside the 64-bit range reads as a float (see the
    module documentation).
    """
    if _enabled and (text.__class__ is str or text.__class__ is bytes):
        try:
            return _orjson.loads(text)
        except _DecodeError:
            pass  # outside the except block: orjson's error is not chained
    return json.loads(text)
