"""Readers of complex FHIR data types shared by several resources.

Names, contact points and contact preferences, periods, review/task cadences,
carecoord ``Ref`` links, concept codes (``system|code``), record categories
and the status-history extension, each read from FHIR JSON into the carecoord
model type, with path-named :class:`~carecoord.FhirImportError` on a problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import (
    Cadence,
    CadenceUnit,
    ContactChannel,
    ContactPoint,
    ContactPreferences,
    HumanName,
    Period,
    QuietHours,
    Ref,
    RefKind,
    StaffId,
    Transition,
)
from ._common import cs
from ._read_context import _Ctx
from ._read_values import (
    E,
    a_time,
    coding_value,
    dt,
    ev,
    ext_all,
    ext_one,
    fail,
    items,
    obj,
    req_string,
    string,
    sub_coding,
    sub_dt,
    sub_string,
    top_string,
)
from .export import CONTACT_POINT_SYSTEMS
from .valuesets import code_in


def history(
    ctx: _Ctx, o: Mapping[str, Any], at: str, system: str, enum: type[E]
) -> tuple[Transition[E], ...]:
    steps: list[Transition[E]] = []
    for e, where in ext_all(o, "status-history", at):
        by = ext_one(e, "by", where, sub=True, required=True)
        assert by is not None
        steps.append(
            Transition(
                from_status=sub_coding(e, "from", where, system, enum),
                to_status=sub_coding(e, "to", where, system, enum),
                at=sub_dt(e, "at", where),
                by=StaffId(
                    ctx.ref(ev(by[0], by[1], "valueReference"), f"{by[1]}.valueReference", "staff")
                ),
                reason=sub_string(e, "reason", where, required=False),
            )
        )
    return tuple(steps)


def human_name(o: Mapping[str, Any], at: str) -> HumanName:
    names = items(o, "name", at)
    if len(names) != 1:
        fail(f"{at}.name", "expected exactly one name")
    n, where = names[0]
    n = obj(n, where)
    given = []
    for g, gat in items(n, "given", where):
        if not isinstance(g, str):
            fail(gat, "expected a string")
        given.append(g)
    return HumanName(family=req_string(n, "family", where), given=tuple(given))


def telecom(o: Mapping[str, Any], at: str) -> tuple[ContactPoint, ...]:
    back = {v: k for k, v in CONTACT_POINT_SYSTEMS.items()}
    out = []
    for t, where in items(o, "telecom", at):
        t = obj(t, where)
        system = string(t, "system", where)
        if not code_in("contact-point-system", system):
            fail(f"{where}.system", "code not in value set contact-point-system")
        found = ext_one(t, "contact-channel", where)
        if found is not None:
            channel = coding_value(
                ev(found[0], found[1], "valueCoding"),
                f"{found[1]}.valueCoding",
                cs("contact-channel"),
                ContactChannel,
            )
        elif system in back:
            channel = back[str(system)]
        else:
            fail(f"{where}.system", "contact point system has no carecoord channel")
        out.append(ContactPoint(channel=channel, value=req_string(t, "value", where)))
    return tuple(out)


def prefs(o: Mapping[str, Any], at: str) -> ContactPreferences:
    found = ext_one(o, "contact-preferences", at)
    if found is None:
        return ContactPreferences()
    e, where = found
    channels = tuple(
        coding_value(
            ev(c, cat, "valueCoding"), f"{cat}.valueCoding", cs("contact-channel"), ContactChannel
        )
        for c, cat in ext_all(e, "channel", where, sub=True)
    )
    quiet = ext_one(e, "quiet-hours", where, sub=True)
    hours = None
    if quiet is not None:
        q, qat = quiet
        start = ext_one(q, "start", qat, sub=True, required=True)
        end = ext_one(q, "end", qat, sub=True, required=True)
        assert start is not None and end is not None
        hours = QuietHours(
            start=a_time(ev(start[0], start[1], "valueTime"), f"{start[1]}.valueTime"),
            end=a_time(ev(end[0], end[1], "valueTime"), f"{end[1]}.valueTime"),
        )
    return ContactPreferences(channels=channels, quiet_hours=hours)


def period(value: Any, at: str) -> Period:
    p = obj(value, at)
    start = dt(p, "start", at)
    assert start is not None
    return Period(start=start, end=dt(p, "end", at, required=False))


def cadence(e: Mapping[str, Any], at: str) -> Cadence:
    every = ext_one(e, "every", at, sub=True, required=True)
    assert every is not None
    n = ev(every[0], every[1], "valuePositiveInt")
    if isinstance(n, bool) or not isinstance(n, int):
        fail(f"{every[1]}.valuePositiveInt", "expected a positive integer")
    return Cadence(
        every=n,
        unit=sub_coding(e, "unit", at, cs("cadence-unit"), CadenceUnit),
        anchor=sub_dt(e, "anchor", at),
    )


def ref_links(o: Mapping[str, Any], name: str, at: str) -> tuple[Ref, ...]:
    return tuple(
        Ref(
            kind=sub_coding(e, "kind", where, cs("ref-kind"), RefKind),
            id=str(sub_string(e, "id", where)),
        )
        for e, where in ext_all(o, name, at)
    )


def code_text(cc: Mapping[str, Any], o: Mapping[str, Any], at: str) -> str | None:
    """The carecoord ``system|code`` of a concept (or the ``code-text`` extension)."""
    extra = top_string(o, "code-text", at)
    if extra is not None:
        return extra
    codings = items(cc, "coding", at)
    for c, where in codings:
        c = obj(c, where)
        system = c.get("system")
        if isinstance(system, str) and not system.startswith("https://carecoord.dev/"):
            return f"{system}|{req_string(c, 'code', where)}"
    return None


def has_category(o: Mapping[str, Any], at: str, key: str, code_: str) -> bool:
    for cc, where in items(o, key, at):
        for c, cat in items(obj(cc, where), "coding", where):
            c = obj(c, cat)
            if c.get("system") == cs("record-category") and c.get("code") == code_:
                return True
    return False
