"""Which attrs validators the trusted decoder runs again (see :mod:`carecoord._fastcodec`).

A payload carecoord wrote was validated when its objects were made, so the
trusted decoder does not run every validator again. It skips:

* those the decoding itself guarantees: ``of_type`` / ``tuple_of`` of the
  declared type (the decoder builds exactly that type), ``aware``, ``a_date``,
  ``a_time``, ``finite``, and ``optional`` of any of them;
* the free-text rules (``text``: not blank, at most so many characters) and
  the uniqueness rules (``tuple_of(..., unique=True)``, ``unique_ids``): they
  hold for what carecoord wrote, and nothing breaks when a damaged record
  slips one.

Every other validator runs (``zone_name`` through a table of the names seen
before), as do converters and ``__attrs_post_init__``: a time zone name, a
language tag, a hash's hex digits, a positive sequence number are checked on
every read.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, get_args, get_origin

import attrs

from ..model import _base
from ._values import known_zone_name

__all__ = ["extra_checks"]

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

_BASE = _base.__name__

_IMPLIED_FUNCTIONS: dict[Any, Any] = {
    _base.aware: "datetime",
    _base.a_date: "date",
    _base.a_time: "time",
    _base.finite: "float",
}
"""Module-level validators the decoding guarantees, by the declared type name they need."""

_SKIPPED: frozenset[Any] = frozenset({_base.unique_ids})


def _closure(check: Any) -> dict[str, Any]:
    code = getattr(check, "__code__", None)
    if code is None or check.__closure__ is None:
        return {}
    return {
        name: cell.cell_contents
        for name, cell in zip(code.co_freevars, check.__closure__, strict=True)
    }


def _made_by(check: Any, factory: str) -> bool:
    """Whether ``check`` is the inner function of ``carecoord.model._base.<factory>``."""
    return (
        getattr(check, "__module__", None) == _BASE
        and getattr(check, "__qualname__", None) == f"{factory}.<locals>.check"
    )


def _unwrap_optional(t: Any) -> Any:
    if get_origin(t) in (types.UnionType, typing.Union):
        rest = [a for a in get_args(t) if a is not type(None)]
        if len(rest) == 1:
            return rest[0]
    return t


def _instance_of(t: Any, classes: Any) -> bool:
    """Whether every decoded value of type ``t`` passes ``of_type(*classes)``."""
    t = get_origin(t) or t  # Transition[TaskStatus] is a Transition
    if not isinstance(t, type) or not isinstance(classes, tuple):
        return False
    if t is bool:
        return bool in classes
    return issubclass(t, classes)


def _implied(check: Any, declared: Any) -> bool:
    """Whether ``check`` holds for every value the trusted decoder makes of type ``declared``."""
    declared = _unwrap_optional(declared)
    if check in _SKIPPED:
        return True
    if check in _IMPLIED_FUNCTIONS:
        return bool(getattr(declared, "__name__", None) == _IMPLIED_FUNCTIONS[check])
    cells = _closure(check)
    if _made_by(check, "optional"):
        return _implied(cells.get("validator"), declared)
    if _made_by(check, "text"):
        return declared is str
    if _made_by(check, "of_type"):
        return _instance_of(declared, cells.get("types"))
    if _made_by(check, "tuple_of"):
        args = get_args(declared)
        element = args[0] if get_origin(declared) is tuple and args else None
        return _instance_of(element, cells.get("types"))
    return False


def extra_checks(field: attrs.Attribute[Any], declared: Any) -> list[Validator]:
    """The validators of ``field`` the trusted decoder runs (usually none)."""
    validator = field.validator
    if validator is None:
        return []
    parts = getattr(validator, "_validators", None)  # attrs' and_ (a list of validators)
    checks: list[Validator] = []
    for check in parts if isinstance(parts, tuple) else (validator,):
        if check is _base.zone_name:
            checks.append(known_zone_name)
        elif not _implied(check, declared):
            checks.append(check)
    return checks
