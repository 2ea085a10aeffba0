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
    Address,
    AddressType,
    AddressUse,
    Cadence,
    CadenceUnit,
    ContactChannel,
    ContactPoint,
    ContactPreferences,
    HumanName,
    NameUse,
    Period,
    QuietHours,
    Ref,
    RefKind,
    StaffId,
    Transition,
    current_name,
)
from ._common import cs
from ._import_report import current
from ._read_context import _Ctx
from ._read_tracker import consume_all, peek
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
    not_kept,
    obj,
    req_string,
    string,
    sub_coding,
    sub_dt,
    sub_string,
    to_enum,
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


def _strings(o: Mapping[str, Any], key: str, at: str) -> tuple[str, ...]:
    out = []
    for g, gat in items(o, key, at):
        if not isinstance(g, str):
            fail(gat, "expected a string")
        out.append(g)
    return tuple(out)


def _period_if_started(o: Mapping[str, Any], at: str) -> Period | None:
    """``o.period`` if it has a start; one without is reported (carecoord periods start)."""
    p = peek(o, "period")
    if p is None:
        return None
    if isinstance(p, Mapping) and peek(p, "start") is None:
        current().drop(f"{at}.period", "a period without a start (carecoord periods have one)")
        return None
    return period(o["period"], f"{at}.period")


def human_names(o: Mapping[str, Any], at: str) -> list[HumanName]:
    """Every ``name`` of a person (at least one), with use, period, prefixes and suffixes."""
    names = items(o, "name", at)
    if not names:
        fail(f"{at}.name", "required element missing")
    out = []
    for n, where in names:
        n = obj(n, where)
        use = n.get("use")
        out.append(
            HumanName(
                family=req_string(n, "family", where),
                given=_strings(n, "given", where),
                prefix=_strings(n, "prefix", where),
                suffix=_strings(n, "suffix", where),
                use=None if use is None else to_enum(NameUse, use, f"{where}.use"),
                period=_period_if_started(n, where),
            )
        )
    return out


def human_name(o: Mapping[str, Any], at: str) -> HumanName:
    """The current name of a staff member or contact; their other names are reported."""
    names = human_names(o, at)
    chosen = current_name(names)
    for i, n in enumerate(names):
        if n is not chosen:
            not_kept(f"{at}.name[{i}]", "carecoord keeps one name of staff and contacts")
    return chosen


def address(a: Any, at: str) -> Address | None:
    """A FHIR Address (its ``text`` is not kept); ``None`` (reported) for one with no parts."""
    a = obj(a, at)
    parts = {
        name: string(a, key, at, required=False)
        for key, name in (
            ("city", "city"),
            ("district", "district"),
            ("state", "state"),
            ("postalCode", "postal_code"),
            ("country", "country"),
        )
    }
    lines = _strings(a, "line", at)
    if not lines and all(v is None for v in parts.values()):
        current().drop(at, "an address with no part carecoord keeps (only text, or empty)")
        consume_all(a)
        return None
    use, kind = a.get("use"), a.get("type")
    return Address(
        use=None if use is None else to_enum(AddressUse, use, f"{at}.use"),
        type=None if kind is None else to_enum(AddressType, kind, f"{at}.type"),
        lines=lines,
        period=_period_if_started(a, at),
        **parts,
    )


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
            current().drop(where, "contact point system has no carecoord channel")
            consume_all(t)
            continue
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
    """Whether ``o[key]`` (CodeableConcepts) holds the carecoord record category ``code_``.

    Only looks (marks nothing read): the converter takes what it maps.
    """
    found = peek(o, key)
    if found is None:
        return False
    if not isinstance(found, list):
        fail(f"{at}.{key}", "expected an array")
    for i, cc in enumerate(found):
        if not isinstance(cc, Mapping):
            fail(f"{at}.{key}[{i}]", "expected a JSON object")
        codings = peek(cc, "coding")
        for c in codings if isinstance(codings, list) else ():
            if isinstance(c, Mapping) and (peek(c, "system"), peek(c, "code")) == (
                cs("record-category"),
                code_,
            ):
                return True
    return False
