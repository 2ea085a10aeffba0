"""Readers of what the import keeps of other systems: references outside the input, identifiers.

:func:`outside_of` tells (looking only) whether a Reference names something
the input does not hold; :func:`external` keeps such a Reference as an
:class:`~carecoord.model.ExternalRef` (reported as external and kept), so that the
export writes it back as it came. :func:`identifiers` reads a resource's
identifiers from its source system (those besides carecoord's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import CareCoordError, ExternalRef, FhirImportError, Identifier
from ._common import ID_SYSTEM_BASE, id_system
from ._import_report import current
from ._read_context import _Ctx, _Outside
from ._read_tracker import peek
from ._read_values import fail, items, obj, req_string, string

__all__ = ["external", "identifiers", "outside_of", "type_of"]


def outside_of(ctx: _Ctx, value: Any, at: str) -> bool:
    """Whether Reference ``value`` names something outside the input (looks only).

    A literal ``Type/id`` or URL that no resource of the input has (not a
    contained one), or an identifier alone whose system is not one of
    carecoord's id systems.
    """
    if not isinstance(value, Mapping):
        return False
    target = peek(value, "reference")
    if isinstance(target, str):
        found = ctx.locate(target, at)
        return isinstance(found, _Outside) and not found.contained
    ident = peek(value, "identifier")
    system = peek(ident, "system") if isinstance(ident, Mapping) else None
    return isinstance(system, str) and not system.startswith(ID_SYSTEM_BASE)


def type_of(ctx: _Ctx, value: Any, at: str) -> str | None:
    """The resource type Reference ``value`` names: stated, else its target's (looks only)."""
    if not isinstance(value, Mapping):
        return None
    stated = peek(value, "type")
    if isinstance(stated, str):
        return stated
    target = peek(value, "reference")
    found = ctx.locate(target, at) if isinstance(target, str) else None
    return None if found is None else found.rtype


def external(
    ctx: _Ctx, value: Any, at: str, types: tuple[str, ...] | None = None
) -> ExternalRef | None:
    """Reference ``value`` to something outside the input, kept as an :class:`ExternalRef`.

    For a reference :func:`outside_of` accepts. Its target type (stated, or
    named by a ``Type/id``) must be one of ``types`` (``None``: any): one
    carecoord cannot hold there is reported as dropped and gives ``None``. A kept one is
    reported as external (and kept).
    """
    r = obj(value, at)
    stated = ctx._typed(r, at)
    ident = r.get("identifier")
    where = f"{at}.identifier"
    identifier = None if ident is None else _identifier(obj(ident, where), where)
    try:
        kept = ExternalRef(
            resource_type=stated,
            reference=string(r, "reference", at, required=False),
            identifier=identifier,
            display=string(r, "display", at, required=False),
        )
    except CareCoordError as exc:  # the rule broken, never the value
        fail(at, f"not a reference carecoord can keep: {exc}")
    if types is not None and kept.target_type is not None and kept.target_type not in types:
        current().drop(at, f"refers to a {kept.target_type}, which carecoord cannot hold here")
        return None
    target = None if kept.reference is None else ctx.locate(kept.reference, at)
    ctx._outside(r, at, target, kept.target_type, kept=True)
    return kept


def _identifier(ident: Mapping[str, Any], at: str) -> Identifier:
    try:
        system = req_string(ident, "system", at)
        return Identifier(system=system, value=req_string(ident, "value", at))
    except FhirImportError:
        raise
    except CareCoordError as exc:  # the rule broken, never the value
        fail(at, f"not an identifier carecoord can keep: {exc}")


def identifiers(resource: Mapping[str, Any], at: str, kind: str) -> tuple[Identifier, ...]:
    """A resource's identifiers other than its carecoord one (which :func:`own_id` reads)."""
    out = []
    for ident, where in items(resource, "identifier", at):
        ident = obj(ident, where)
        if peek(ident, "system") == id_system(kind):
            continue
        out.append(_identifier(ident, where))
    return tuple(out)
