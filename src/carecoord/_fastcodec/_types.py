"""Type analysis of the fast model codec: optional, tuple and record field types."""

from __future__ import annotations

import types
import typing
from typing import Any, TypeVar, get_args, get_origin

import attrs

from ._build import Unsupported

__all__ = ["is_class", "is_record", "optional_arg", "record_fields", "substitute", "tuple_arg"]


def optional_arg(t: Any) -> Any | None:
    """``X`` for ``X | None`` (``Optional[X]``), else ``None``."""
    if get_origin(t) in (types.UnionType, typing.Union):
        args = get_args(t)
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2:
            return rest[0]
        raise Unsupported(t)
    return None


def tuple_arg(t: Any) -> Any | None:
    """``X`` for ``tuple[X, ...]``, else ``None``."""
    args = get_args(t)
    if get_origin(t) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None


def substitute(t: Any, mapping: dict[Any, Any]) -> Any:
    """``t`` with its type variables replaced as ``mapping`` says."""
    if isinstance(t, TypeVar):
        if t not in mapping:
            raise Unsupported(t)
        return mapping[t]
    args = get_args(t)
    if not mapping or not args:
        return t
    new = tuple(a if a is Ellipsis else substitute(a, mapping) for a in args)
    origin = get_origin(t)
    if origin in (types.UnionType, typing.Union):
        return typing.Union[new]  # noqa: UP007 - built from a tuple
    if origin is None:
        raise Unsupported(t)
    return origin[new]


def is_class(t: Any, base: type) -> bool:
    """Whether ``t`` is a class derived from ``base``."""
    return isinstance(t, type) and issubclass(t, base)


def is_record(t: Any) -> bool:
    """Whether ``t`` is an attrs class (or a parametrisation of one)."""
    return attrs.has(get_origin(t) or t)


def record_fields(t: Any) -> tuple[type, list[tuple[attrs.Attribute[Any], Any]]]:
    """The attrs class of ``t`` and its fields with their types (type variables resolved)."""
    cls = get_origin(t) or t
    if not attrs.has(cls) or cls.__new__ is not object.__new__:
        raise Unsupported(t)
    if hasattr(cls, "__attrs_pre_init__"):
        raise Unsupported(t)
    try:
        hints = typing.get_type_hints(cls)
        parameters = getattr(cls, "__parameters__", ()) if cls is not t else ()
        mapping = dict(zip(parameters, get_args(t), strict=True))
    except Exception as exc:  # an unresolvable annotation; a malformed alias
        raise Unsupported(t) from exc
    return cls, [(f, substitute(hints.get(f.name, f.type), mapping)) for f in attrs.fields(cls)]
