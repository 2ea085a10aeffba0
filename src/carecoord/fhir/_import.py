"""FHIR R4 JSON Bundle -> carecoord objects, with typed, path-named errors.

Every problem raises :class:`~carecoord.FhirImportError` naming the entry,
resource and element (``Bundle.entry[3].resource(Task/t-1).restriction.period.end``)
and what is wrong; values are never echoed. Nothing is returned unless the
whole Bundle converts.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, NoReturn, TypeVar

from ..model import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Assessment,
    AssessmentDomain,
    AssessmentId,
    AuditAction,
    AuditEntry,
    AuditOutcome,
    Barrier,
    BarrierId,
    BarrierKind,
    BarrierResolution,
    Cadence,
    CadenceUnit,
    CareCoordError,
    CarePlan,
    CarePlanId,
    CarePlanIntent,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    CommunicationStatus,
    Comparator,
    Consent,
    ConsentId,
    ConsentStatus,
    Contact,
    ContactChannel,
    ContactId,
    ContactPoint,
    ContactPreferences,
    ContactRelationship,
    DecisionId,
    DecisionOutcome,
    Direction,
    EntityId,
    FhirImportError,
    Finding,
    FindingId,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalLifecycleStatus,
    GoalOutcome,
    GoalPriority,
    HumanName,
    Identifier,
    InteractionParty,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    NaiveDatetimeError,
    Need,
    NeedId,
    NeedPriority,
    NeedStatus,
    Note,
    NoteId,
    Patient,
    PatientDecision,
    PatientId,
    Period,
    ProgressReading,
    PurposeOfUse,
    Quantity,
    QuietHours,
    Range,
    Ref,
    Referral,
    ReferralId,
    ReferralStatus,
    ReferralTargetKind,
    RefKind,
    Review,
    ReviewDecision,
    ReviewId,
    StaffId,
    StaffMember,
    Target,
    TaskPriority,
    TaskStatus,
    Transition,
)
from ..serialization import _OutOfRangeError, parse_datetime
from ._common import cs, ext_url, id_system
from .export import (
    CONTACT_POINT_SYSTEMS,
    FHIR_ID,
    KIND_TYPES,
    STATUS_SYSTEMS,
    relationship_system,
)
from .record import ImportedRecord, PatientRecord
from .valuesets import R4_RESOURCE_TYPES, code_in

__all__ = ["import_bundle"]

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

SUPPORTED = frozenset(
    {
        "Patient",
        "RelatedPerson",
        "Practitioner",
        "PractitionerRole",
        "CareTeam",
        "ClinicalImpression",
        "Condition",
        "Goal",
        "CarePlan",
        "Task",
        "ServiceRequest",
        "Appointment",
        "Communication",
        "Consent",
        "Basic",
        "AuditEvent",
    }
)
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(?P<offset>Z|[+-]\d{2}:\d{2})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(\.\d+)?")
_REL_REF = re.compile(r"(?P<type>[A-Z][A-Za-z]+)/(?P<id>[A-Za-z0-9\-.]{1,64})")
_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
_GOAL_PRIORITY = "http://terminology.hl7.org/CodeSystem/goal-priority"
_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
_ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
_SEALING = ("audit-sequence", "audit-previous-hash", "audit-hash", "audit-sealed-at")
_SEQUENCE = re.compile(r"[1-9][0-9]*")
_HEX64 = re.compile(r"[0-9a-f]{64}")


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


def dt_from(text: Any, zone: str | None, at: str) -> datetime:
    if not isinstance(text, str):
        fail(at, "expected a dateTime string")
    match = _DATETIME.fullmatch(text)
    if match is None:
        if _DATE.fullmatch(text) or re.fullmatch(r"\d{4}(-\d{2})?", text):
            fail(at, "partial dateTime (a time with offset is required)")
        fail(at, "not a FHIR dateTime")
    if match["offset"] is None:
        fail(at, "naive datetime")
    raw = text[:-1] + "+00:00" if text.endswith("Z") else text
    try:
        return parse_datetime(raw if zone is None else f"{raw}[{zone}]")
    except NaiveDatetimeError:
        fail(at, "naive datetime")
    except _OutOfRangeError:
        fail(at, "dateTime out of range (before year 1 or after 9999 in UTC or its time zone)")
    except CareCoordError:
        fail(at, "invalid dateTime or unknown time zone")


def zone_of(o: Mapping[str, Any], key: str, at: str) -> str | None:
    meta = o.get("_" + key)
    if meta is None:
        return None
    meta = obj(meta, f"{at}._{key}")
    found = [e for e, _ in ext_all(meta, "zone", f"{at}._{key}")]
    if not found:
        return None
    if len(found) > 1:
        fail(f"{at}._{key}", "more than one zone extension")
    return ev_string(found[0], f"{at}._{key}.extension")


def dt(o: Mapping[str, Any], key: str, at: str, *, required: bool = True) -> datetime | None:
    if key not in o:
        if required:
            fail(f"{at}.{key}", "required element missing")
        return None
    return dt_from(o[key], zone_of(o, key, at), f"{at}.{key}")


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
    for c, where in items(obj(cc, at), "coding", at):
        c = obj(c, where)
        if c.get("system") == system:
            return to_enum(enum, c.get("code"), f"{where}.code")
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
    return to_enum(enum, c.get("code"), f"{at}.code")


# ---------------------------------------------------------------- extensions


def ext_all(
    o: Mapping[str, Any], name: str, at: str, *, sub: bool = False
) -> list[tuple[Mapping[str, Any], str]]:
    """The extensions of ``o`` with url ``name`` (a sub-extension name when ``sub``)."""
    url = name if sub else ext_url(name)
    found = []
    for e, where in items(o, "extension", at):
        e = obj(e, where)
        if not isinstance(e.get("url"), str):
            fail(f"{where}.url", "extension without a url")
        if e["url"] == url:
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
    value = ev(e, at, "valueString")
    if not isinstance(value, str):
        fail(f"{at}.valueString", "expected a string")
    return value


def ev_bool(e: Mapping[str, Any], at: str) -> bool:
    return boolean(e, "valueBoolean", at)


def ev_dt(e: Mapping[str, Any], at: str) -> datetime:
    """A datetime extension: ``valueDateTime``, or ``dateTime`` + ``zone`` sub-extensions."""
    if "valueDateTime" in e:
        return dt_from(e["valueDateTime"], None, f"{at}.valueDateTime")
    part = ext_one(e, "dateTime", at, sub=True, required=True)
    assert part is not None
    zone = ext_one(e, "zone", at, sub=True)
    zone_name = None if zone is None else ev_string(*zone)
    return dt_from(ev(part[0], part[1], "valueDateTime"), zone_name, f"{part[1]}.valueDateTime")


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
    found = ext_one(o, name, at)
    return default if found is None else ev_bool(*found)


def top_coding(o: Mapping[str, Any], name: str, at: str, system: str, enum: type[E]) -> E:
    found = ext_one(o, name, at, required=True)
    assert found is not None
    return coding_value(
        ev(found[0], found[1], "valueCoding"), f"{found[1]}.valueCoding", system, enum
    )


# ------------------------------------------------------------------- context


class _Entry:
    __slots__ = ("index", "path", "resource", "rtype", "used")

    def __init__(self, index: int, rtype: str, resource: Mapping[str, Any], path: str) -> None:
        self.index = index
        self.rtype = rtype
        self.resource = resource
        self.path = path
        self.used = False


class _Ctx:
    def __init__(self, bundle: Any) -> None:
        bundle = obj(bundle, "Bundle")
        if bundle.get("resourceType") != "Bundle":
            fail("Bundle.resourceType", "expected a Bundle")
        btype = bundle.get("type")
        if btype is not None and not code_in("bundle-type", btype):
            fail("Bundle.type", "code not in value set bundle-type")
        self.entries: list[_Entry] = []
        self.by_url: dict[str, _Entry] = {}
        self.by_type_id: dict[tuple[str, str], _Entry] = {}
        for raw, at in items(bundle, "entry", "Bundle"):
            entry = obj(raw, at)
            resource = obj(entry.get("resource"), f"{at}.resource")
            rtype = resource.get("resourceType")
            if not isinstance(rtype, str):
                fail(f"{at}.resource.resourceType", "missing resource type")
            if rtype not in SUPPORTED:
                named = rtype if rtype in R4_RESOURCE_TYPES else "?"
                fail(f"{at}.resource({named}).resourceType", "unsupported resource type")
            rid = resource.get("id")
            if rid is not None and not (isinstance(rid, str) and FHIR_ID.fullmatch(rid)):
                fail(f"{at}.resource({rtype}).id", "not a valid FHIR id")
            path = f"{at}.resource({rtype}/{rid})" if rid else f"{at}.resource({rtype})"
            item = _Entry(len(self.entries), rtype, resource, path)
            self.entries.append(item)
            url = entry.get("fullUrl")
            if url is not None:
                if not isinstance(url, str):
                    fail(f"{at}.fullUrl", "expected a string")
                if url in self.by_url:
                    fail(f"{at}.fullUrl", "duplicate fullUrl")
                self.by_url[url] = item
            if rid is not None:
                if (rtype, rid) in self.by_type_id:
                    fail(f"{path}.id", "duplicate resource id")
                self.by_type_id[(rtype, rid)] = item

    def of_type(self, rtype: str) -> list[_Entry]:
        return [e for e in self.entries if e.rtype == rtype]

    def resolve(self, ref: Mapping[str, Any], at: str) -> _Entry | None:
        target = ref.get("reference")
        if target is None:
            return None
        if not isinstance(target, str):
            fail(f"{at}.reference", "expected a string")
        if target in self.by_url:
            return self.by_url[target]
        match = _REL_REF.fullmatch(target)
        if match and (match["type"], match["id"]) in self.by_type_id:
            return self.by_type_id[(match["type"], match["id"])]
        fail(f"{at}.reference", "missing reference (target not in the Bundle)")

    def ref(self, value: Any, at: str, kind: str, rtype: str | None = None) -> str:
        """The carecoord id a Reference points at (by identifier, else by its target)."""
        r = obj(value, at)
        target = self.resolve(r, at)
        expected = rtype or KIND_TYPES[kind]
        if target is not None and target.rtype != expected:
            fail(f"{at}.reference", f"reference to the wrong resource type (expected {expected})")
        if "identifier" in r:
            ident = obj(r["identifier"], f"{at}.identifier")
            if ident.get("system") != id_system(kind):
                fail(f"{at}.identifier.system", f"expected a {kind} identifier")
            value = req_string(ident, "value", f"{at}.identifier")
            return carecoord_id(value, f"{at}.identifier.value")
        if target is not None:
            return own_id(target.resource, target.path, kind)
        fail(at, "reference has neither a target nor an identifier")


def carecoord_id(value: str, at: str) -> str:
    """``value`` (element ``at``) if it can be a carecoord id (see :class:`EntityId`)."""
    try:
        EntityId(value)
    except CareCoordError as exc:  # the rule broken, never the value
        fail(at, f"not a valid carecoord id: {exc}")
    return value


def own_id(resource: Mapping[str, Any], at: str, kind: str) -> str:
    """The carecoord id of a resource: its carecoord identifier, else its FHIR id."""
    for ident, where in items(resource, "identifier", at):
        ident = obj(ident, where)
        if ident.get("system") == id_system(kind):
            return carecoord_id(req_string(ident, "value", where), f"{where}.value")
    rid = resource.get("id")
    if isinstance(rid, str):
        return carecoord_id(rid, f"{at}.id")
    fail(f"{at}.identifier", f"no {kind} identifier and no id")


# ---------------------------------------------------------------- converters


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


def ext_refs(ctx: _Ctx, o: Mapping[str, Any], name: str, at: str, kind: str) -> list[str]:
    return [
        ctx.ref(ev(e, where, "valueReference"), f"{where}.valueReference", kind)
        for e, where in ext_all(o, name, at)
    ]


def ext_ref(ctx: _Ctx, o: Mapping[str, Any], name: str, at: str, kind: str) -> str | None:
    found = ext_one(o, name, at)
    if found is None:
        return None
    return ctx.ref(ev(found[0], found[1], "valueReference"), f"{found[1]}.valueReference", kind)


def has_category(o: Mapping[str, Any], at: str, key: str, code_: str) -> bool:
    for cc, where in items(o, key, at):
        for c, cat in items(obj(cc, where), "coding", where):
            c = obj(c, cat)
            if c.get("system") == cs("record-category") and c.get("code") == code_:
                return True
    return False


def audit_id(o: Mapping[str, Any], at: str) -> str:
    """An audit entry's id: its ``audit-id`` identifier extension, else its FHIR id."""
    found = ext_one(o, "audit-id", at)
    if found is None:
        rid = o.get("id")
        if not isinstance(rid, str):
            fail(f"{at}.extension", "required extension audit-id missing and no id")
        return rid
    where = f"{found[1]}.valueIdentifier"
    ident = obj(ev(found[0], found[1], "valueIdentifier"), where)
    if ident.get("system") != id_system("audit-entry"):
        fail(f"{where}.system", "expected an audit-entry identifier")
    return req_string(ident, "value", where)


def audit_sealing(o: Mapping[str, Any], at: str) -> dict[str, Any]:
    """The sealing fields of an AuditEvent: none (an unsealed entry) or all four."""
    found = [ext_one(o, name, at) for name in _SEALING]
    present = [f for f in found if f is not None]
    if not present:
        return {}
    if len(present) != len(_SEALING):
        missing = ", ".join(name for name, f in zip(_SEALING, found, strict=True) if f is None)
        fail(f"{at}.extension", f"incomplete audit sealing extensions ({missing} missing)")
    sequence, previous, hash_, sealed_at = present
    number = ev_string(*sequence)
    if not _SEQUENCE.fullmatch(number):
        fail(f"{sequence[1]}.valueString", "expected a positive integer")
    hashes = []
    for e, where in (previous, hash_):
        if not _HEX64.fullmatch(value := ev_string(e, where)):
            fail(f"{where}.valueString", "expected 64 lowercase hex digits")
        hashes.append(value)
    return {
        "sequence": int(number),
        "previous_hash": hashes[0],
        "hash": hashes[1],
        "sealed_at": ev_dt(*sealed_at),
    }


# --------------------------------------------------------------------- import


class _Importer:
    def __init__(self, bundle: Any) -> None:
        self.ctx = _Ctx(bundle)
        self.patient_id = PatientId("x")

    def use(self, entry: _Entry) -> None:
        if entry.used:
            fail(entry.path, "resource is used twice")
        entry.used = True

    def subject(self, entry: _Entry, key: str) -> None:
        r = entry.resource
        at = entry.path
        if key not in r:
            fail(f"{at}.{key}", "required element missing")
        if self.ctx.ref(r[key], f"{at}.{key}", "patient") != self.patient_id:
            fail(f"{at}.{key}", "refers to another patient")

    def run(self) -> ImportedRecord:
        patients = self.ctx.of_type("Patient")
        if len(patients) != 1:
            fail("Bundle.entry", "expected exactly one Patient")
        # the patient id first: everything else must refer to it
        first = patients[0]
        try:
            self.patient_id = PatientId(own_id(first.resource, first.path, "patient"))
        except FhirImportError:
            raise
        except CareCoordError as exc:  # id messages name the rule, never the value
            fail(first.path, f"not a valid carecoord record: {exc}")
        parts: dict[str, Any] = {}
        parts["patient"] = self.guard(patients[0], self.patient)
        parts["staff"] = tuple(
            self.guard(e, self.practitioner) for e in self.ctx.of_type("Practitioner")
        )
        for e in self.ctx.of_type("PractitionerRole"):
            if not e.used:
                fail(e.path, "PractitionerRole of no Practitioner in the Bundle")
        parts["care_teams"] = tuple(
            self.guard(e, self.care_team) for e in self.ctx.of_type("CareTeam")
        )
        parts["assessments"] = tuple(
            self.guard(e, self.assessment) for e in self.ctx.of_type("ClinicalImpression")
        )
        conditions = self.ctx.of_type("Condition")
        parts["barriers"] = tuple(
            self.guard(e, self.barrier)
            for e in conditions
            if has_category(e.resource, e.path, "category", "barrier")
        )
        parts["plans"] = tuple(self.guard(e, self.care_plan) for e in self.ctx.of_type("CarePlan"))
        parts["referrals"] = tuple(
            self.guard(e, self.referral) for e in self.ctx.of_type("ServiceRequest")
        )
        parts["appointments"] = tuple(
            self.guard(e, self.appointment) for e in self.ctx.of_type("Appointment")
        )
        parts["reviews"] = tuple(self.guard(e, self.review) for e in self.ctx.of_type("Basic"))
        parts["notes"] = tuple(self.guard(e, self.note) for e in self.ctx.of_type("Communication"))
        decisions, consents = [], []
        for e in self.ctx.of_type("Consent"):
            scope = coded(e.resource.get("scope"), f"{e.path}.scope", _SCOPE, _Scope)
            if scope is _Scope.TREATMENT:
                decisions.append(self.guard(e, self.decision))
            elif scope is _Scope.PRIVACY:
                consents.append(self.guard(e, self.consent))
            else:
                fail(f"{e.path}.scope", "consent scope has no carecoord equivalent")
        parts["decisions"] = tuple(decisions)
        parts["consents"] = tuple(consents)
        parts["audit_entries"] = tuple(
            self.guard(e, self.audit) for e in self.ctx.of_type("AuditEvent")
        )
        for e in self.ctx.entries:
            if not e.used:
                fail(e.path, "resource is not part of the record (not linked from a parent)")
        try:
            record = PatientRecord(**parts)
        except CareCoordError as exc:
            fail("Bundle", f"the record is inconsistent: {exc}")
        return ImportedRecord(record=record)

    def guard(self, entry: _Entry, convert: Callable[[_Entry], T]) -> T:
        self.use(entry)
        try:
            return convert(entry)
        except FhirImportError:
            raise
        except CareCoordError as exc:
            # model messages name fields and codes, never values
            fail(entry.path, f"not a valid carecoord record: {exc}")

    # -- people
    def patient(self, e: _Entry) -> Patient:
        r, at = e.resource, e.path
        identifiers = []
        own_seen = False
        for ident, where in items(r, "identifier", at):
            ident = obj(ident, where)
            if ident.get("system") == id_system("patient") and not own_seen:
                own_seen = True
                continue
            identifiers.append(
                Identifier(
                    system=req_string(ident, "system", where),
                    value=req_string(ident, "value", where),
                )
            )
        language = "en"
        comms = items(r, "communication", at)
        if comms:
            c, where = comms[0]
            lang = obj(obj(c, where).get("language"), f"{where}.language")
            codings = items(lang, "coding", f"{where}.language")
            if codings:
                language = req_string(obj(*codings[0]), "code", codings[0][1])
        zone = top_string(r, "time-zone", at)
        contacts = []
        for rp in self.ctx.of_type("RelatedPerson"):
            self.use(rp)
            contacts.append(self.related_person(rp))
        return Patient(
            id=self.patient_id,
            name=human_name(r, at),
            birth_date=a_date(r, "birthDate", at, required=True),  # type: ignore[arg-type]
            time_zone=zone if zone is not None else "UTC",
            language=language,
            identifiers=tuple(identifiers),
            telecom=telecom(r, at),
            preferences=prefs(r, at),
            contacts=tuple(contacts),
            enrolled_at=top_dt(r, "enrolled-at", at),
        )

    def related_person(self, e: _Entry) -> Contact:
        try:
            r, at = e.resource, e.path
            self.subject(e, "patient")
            rels = items(r, "relationship", at)
            if not rels:
                fail(f"{at}.relationship", "required element missing")
            relationship: ContactRelationship | None = None
            for c, where in items(obj(*rels[0]), "coding", rels[0][1]):
                c = obj(c, where)
                raw = c.get("code")
                if not isinstance(raw, str):  # str() of any JSON value could recurse
                    continue
                try:
                    candidate = ContactRelationship(raw)
                except ValueError:
                    continue
                if c.get("system") == relationship_system(candidate):
                    relationship = candidate
                    break
            if relationship is None:
                fail(rels[0][1], "relationship has no carecoord equivalent")
            return Contact(
                id=ContactId(own_id(r, at, "contact")),
                name=human_name(r, at),
                relationship=relationship,
                may_receive_information=top_bool(r, "may-receive-information", at, False),
                is_caregiver=top_bool(r, "is-caregiver", at, False),
                telecom=telecom(r, at),
                preferences=prefs(r, at),
            )
        except FhirImportError:
            raise
        except CareCoordError as exc:
            fail(e.path, f"not a valid carecoord record: {exc}")

    def practitioner(self, e: _Entry) -> StaffMember:
        r, at = e.resource, e.path
        staff_id = StaffId(own_id(r, at, "staff"))
        roles: list[CareTeamRole] = []
        for pr in self.ctx.of_type("PractitionerRole"):
            if (
                self.ctx.ref(pr.resource.get("practitioner"), f"{pr.path}.practitioner", "staff")
                != staff_id
            ):
                continue
            self.use(pr)
            for cc, where in items(pr.resource, "code", pr.path):
                roles.append(req_coded(cc, where, cs("care-team-role"), CareTeamRole))
        zone = top_string(r, "time-zone", at)
        active = r.get("active", True)
        if not isinstance(active, bool):
            fail(f"{at}.active", "expected true or false")
        supervisor = ext_ref(self.ctx, r, "supervisor", at, "staff")
        return StaffMember(
            id=staff_id,
            name=human_name(r, at),
            roles=tuple(roles),
            time_zone=zone if zone is not None else "UTC",
            supervisor_id=None if supervisor is None else StaffId(supervisor),
            telecom=telecom(r, at),
            preferences=prefs(r, at),
            active=active,
        )

    def care_team(self, e: _Entry) -> CareTeam:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        members = []
        for p, where in items(r, "participant", at):
            p = obj(p, where)
            roles = items(p, "role", where)
            if len(roles) != 1:
                fail(f"{where}.role", "expected exactly one role")
            members.append(
                Membership(
                    staff_id=StaffId(self.ctx.ref(p.get("member"), f"{where}.member", "staff")),
                    role=req_coded(roles[0][0], roles[0][1], cs("care-team-role"), CareTeamRole),
                    period=period(p.get("period"), f"{where}.period"),
                )
            )
        lead = ext_ref(self.ctx, r, "care-team-lead", at, "staff")
        if lead is None:
            fail(f"{at}.extension", "required extension care-team-lead missing")
        return CareTeam(
            id=CareTeamId(own_id(r, at, "care-team")),
            patient_id=self.patient_id,
            lead_id=StaffId(lead),
            members=tuple(members),
            status=code(r, "status", at, "care-team-status", CareTeamStatus),
            name=string(r, "name", at, required=False),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["CareTeam"], CareTeamStatus),
        )

    # -- assessments and needs
    def assessment(self, e: _Entry) -> Assessment:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        findings = []
        for f, where in items(r, "finding", at):
            f = obj(f, where)
            cc = obj(f.get("itemCodeableConcept"), f"{where}.itemCodeableConcept")
            fid = top_string(f, "finding-id", where)
            if fid is None:
                fail(f"{where}.extension", "required extension finding-id missing")
            findings.append(
                Finding(
                    id=FindingId(fid),
                    domain=top_coding(
                        f, "assessment-domain", where, cs("assessment-domain"), AssessmentDomain
                    ),
                    text=req_string(cc, "text", f"{where}.itemCodeableConcept"),
                    code=code_text(cc, f, where),
                )
            )
        needs = []
        for p, where in items(r, "problem", at):
            target = self.ctx.resolve(obj(p, where), where)
            if target is None or target.rtype != "Condition":
                fail(f"{where}.reference", "problem must reference a Condition in the Bundle")
            needs.append(self.guard(target, self.need))
        return Assessment(
            id=AssessmentId(own_id(r, at, "assessment")),
            patient_id=self.patient_id,
            performed_by=StaffId(self.ctx.ref(r.get("assessor"), f"{at}.assessor", "staff")),
            performed_at=req_dt(r, "effectiveDateTime", at),
            findings=tuple(findings),
            needs=tuple(needs),
        )

    def need(self, e: _Entry) -> Need:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        cc = obj(r.get("code"), f"{at}.code")
        domain = None
        for c, where in items(r, "category", at):
            domain = (
                coded(c, where, cs("assessment-domain"), AssessmentDomain, required=False) or domain
            )
        if domain is None:
            fail(f"{at}.category", "no assessment-domain category")
        status = coded(
            r.get("clinicalStatus"), f"{at}.clinicalStatus", _CLINICAL, NeedStatus, required=False
        )
        return Need(
            id=NeedId(own_id(r, at, "need")),
            domain=domain,
            description=req_string(cc, "text", f"{at}.code"),
            priority=top_coding(r, "need-priority", at, cs("need-priority"), NeedPriority),
            status=status or NeedStatus.ACTIVE,
            finding_ids=tuple(FindingId(ev_string(x, w)) for x, w in ext_all(r, "finding-id", at)),
            code=code_text(cc, r, at),
        )

    # -- plans
    def care_plan(self, e: _Entry) -> CarePlan:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        plan_id = CarePlanId(own_id(r, at, "care-plan"))
        goals = []
        for g, where in items(r, "goal", at):
            target = self.ctx.resolve(obj(g, where), where)
            if target is None or target.rtype != "Goal":
                fail(f"{where}.reference", "goal must reference a Goal in the Bundle")
            goals.append(self.guard(target, self.goal))
        tasks = []
        for a, where in items(r, "activity", at):
            ref = obj(obj(a, where).get("reference"), f"{where}.reference")
            target = self.ctx.resolve(ref, f"{where}.reference")
            if target is None or target.rtype != "Task":
                fail(f"{where}.reference.reference", "activity must reference a Task in the Bundle")
            tasks.append(self.guard(target, self.task))
        review = ext_one(r, "review-cadence", at)
        return CarePlan(
            id=plan_id,
            patient_id=self.patient_id,
            author_id=StaffId(self.ctx.ref(r.get("author"), f"{at}.author", "staff")),
            created_at=req_dt(r, "created", at),
            title=req_string(r, "title", at),
            status=code(r, "status", at, "request-status", CarePlanStatus),
            intent=code(r, "intent", at, "care-plan-intent", CarePlanIntent),
            period=None if r.get("period") is None else period(r["period"], f"{at}.period"),
            addresses=tuple(
                NeedId(self.ctx.ref(x, w, "need")) for x, w in items(r, "addresses", at)
            ),
            goals=tuple(goals),
            interventions=tuple(tasks),
            review_cadence=None if review is None else cadence(*review),
            next_review_at=top_dt(r, "next-review-at", at),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["CarePlan"], CarePlanStatus),
        )

    def goal(self, e: _Entry) -> Goal:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        targets = []
        for t, where in items(r, "target", at):
            t = obj(t, where)
            measure = req_string(
                obj(t.get("measure"), f"{where}.measure"), "text", f"{where}.measure"
            )
            quantity = rng = None
            if "detailQuantity" in t:
                q = obj(t["detailQuantity"], f"{where}.detailQuantity")
                comparator = q.get("comparator")
                if comparator is not None and not code_in("quantity-comparator", comparator):
                    fail(
                        f"{where}.detailQuantity.comparator",
                        "code not in value set quantity-comparator",
                    )
                quantity = Quantity(
                    value=number(q.get("value"), f"{where}.detailQuantity.value"),
                    unit=req_string(q, "unit", f"{where}.detailQuantity"),
                    comparator=None if comparator is None else Comparator(comparator),
                )
            elif "detailRange" in t:
                q = obj(t["detailRange"], f"{where}.detailRange")
                bounds: dict[str, float | None] = {"low": None, "high": None}
                units = []
                for side in ("low", "high"):
                    if side in q:
                        s = obj(q[side], f"{where}.detailRange.{side}")
                        bounds[side] = number(s.get("value"), f"{where}.detailRange.{side}.value")
                        units.append(req_string(s, "unit", f"{where}.detailRange.{side}"))
                if len(set(units)) != 1:
                    fail(f"{where}.detailRange", "range needs a bound, and both bounds one unit")
                rng = Range(low=bounds["low"], high=bounds["high"], unit=units[0])
            else:
                fail(where, "target needs detailQuantity or detailRange")
            targets.append(
                Target(
                    measure=measure, quantity=quantity, range=rng, due=a_date(t, "dueDate", where)
                )
            )
        readings = []
        for x, where in ext_all(r, "progress-reading", at):
            value = ext_one(x, "value", where, sub=True, required=True)
            by = ext_one(x, "recorded-by", where, sub=True, required=True)
            assert value is not None and by is not None
            readings.append(
                ProgressReading(
                    measure=str(sub_string(x, "measure", where)),
                    value=number(
                        ev(value[0], value[1], "valueDecimal"), f"{value[1]}.valueDecimal"
                    ),
                    unit=str(sub_string(x, "unit", where)),
                    at=sub_dt(x, "at", where),
                    recorded_by=StaffId(
                        self.ctx.ref(
                            ev(by[0], by[1], "valueReference"), f"{by[1]}.valueReference", "staff"
                        )
                    ),
                )
            )
        return Goal(
            id=GoalId(own_id(r, at, "goal")),
            description=req_string(
                obj(r.get("description"), f"{at}.description"), "text", f"{at}.description"
            ),
            priority=coded(
                r.get("priority"), f"{at}.priority", _GOAL_PRIORITY, GoalPriority, required=False
            )
            or GoalPriority.MEDIUM,
            lifecycle_status=code(r, "lifecycleStatus", at, "goal-status", GoalLifecycleStatus),
            achievement_status=coded(
                r.get("achievementStatus"),
                f"{at}.achievementStatus",
                _ACHIEVEMENT,
                GoalAchievementStatus,
                required=False,
            ),
            targets=tuple(targets),
            readings=tuple(readings),
            addresses=tuple(
                NeedId(self.ctx.ref(x, w, "need")) for x, w in items(r, "addresses", at)
            ),
            start=a_date(r, "startDate", at),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["Goal"], GoalLifecycleStatus),
        )

    def task(self, e: _Entry) -> Intervention:
        r, at = e.resource, e.path
        self.subject(e, "for")
        if not code_in("task-intent", r.get("intent")):
            fail(f"{at}.intent", "code not in value set task-intent")
        due = window = None
        restriction = r.get("restriction")
        if restriction is not None:
            p = obj(obj(restriction, f"{at}.restriction").get("period"), f"{at}.restriction.period")
            if "start" in p:
                window = period(p, f"{at}.restriction.period")
            else:
                due = dt(p, "end", f"{at}.restriction.period")
        priority = r.get("priority", "routine")
        if not code_in("request-priority", priority):
            fail(f"{at}.priority", "code not in value set request-priority")
        cad = ext_one(r, "cadence", at)
        owner = r.get("owner")
        return Intervention(
            id=InterventionId(own_id(r, at, "intervention")),
            kind=req_coded(r.get("code"), f"{at}.code", cs("intervention-kind"), InterventionKind),
            description=req_string(r, "description", at),
            created_at=req_dt(r, "authoredOn", at),
            assignee_id=None
            if owner is None
            else StaffId(self.ctx.ref(owner, f"{at}.owner", "staff")),
            priority=TaskPriority(priority),
            status=code(r, "status", at, "task-status", TaskStatus),
            due=due,
            window=window,
            cadence=None if cad is None else cadence(*cad),
            goal_ids=tuple(GoalId(x) for x in ext_refs(self.ctx, r, "goal", at, "goal")),
            barrier_ids=tuple(
                BarrierId(x) for x in ext_refs(self.ctx, r, "barrier", at, "barrier")
            ),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["Task"], TaskStatus),
        )

    # -- referrals, appointments
    def referral(self, e: _Entry) -> Referral:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        referral_id = ReferralId(own_id(r, at, "referral"))
        task: _Entry | None = None
        for t in self.ctx.of_type("Task"):
            focus = t.resource.get("focus")
            if focus is None:
                continue
            target = self.ctx.resolve(obj(focus, f"{t.path}.focus"), f"{t.path}.focus")
            if target is e or (
                target is None and self.ctx.ref(focus, f"{t.path}.focus", "referral") == referral_id
            ):
                if task is not None:
                    fail(t.path, "a second Task for one referral")
                task = t
        status_sr = code(r, "status", at, "request-status", _RequestStatus)
        if not code_in("request-intent", r.get("intent")):
            fail(f"{at}.intent", "code not in value set request-intent")
        status: ReferralStatus
        hist: tuple[Transition[ReferralStatus], ...] = ()
        outcome = None
        if task is not None:
            self.use(task)
            self.subject(task, "for")
            tr, tat = task.resource, task.path
            code(tr, "status", tat, "task-status", TaskStatus)
            found = coded(
                tr.get("businessStatus"),
                f"{tat}.businessStatus",
                cs("referral-status"),
                ReferralStatus,
                required=False,
            )
            task_status = tr.get("status")
            status = (
                found
                if found is not None
                else _FROM_TASK.get(task_status, ReferralStatus.SENT)
                if isinstance(task_status, str)
                else ReferralStatus.SENT
            )
            hist = history(self.ctx, tr, tat, STATUS_SYSTEMS["Referral"], ReferralStatus)
            for o, where in items(tr, "output", tat):
                o = obj(o, where)
                outcome = req_string(o, "valueString", where)
        else:
            status = _FROM_SR[status_sr]
        priority = r.get("priority", "routine")
        if not code_in("request-priority", priority):
            fail(f"{at}.priority", "code not in value set request-priority")
        performers = items(r, "performer", at)
        if len(performers) != 1:
            fail(f"{at}.performer", "expected exactly one performer")
        based = items(r, "basedOn", at)
        reasons = items(r, "reasonCode", at)
        intervention = ext_ref(self.ctx, r, "intervention", at, "intervention")
        return Referral(
            id=referral_id,
            patient_id=self.patient_id,
            requested_by=StaffId(self.ctx.ref(r.get("requester"), f"{at}.requester", "staff")),
            created_at=req_dt(r, "authoredOn", at),
            target_kind=req_coded(
                r.get("performerType"),
                f"{at}.performerType",
                cs("referral-target-kind"),
                ReferralTargetKind,
            ),
            target_name=req_string(obj(*performers[0]), "display", performers[0][1]),
            service=req_string(obj(r.get("code"), f"{at}.code"), "text", f"{at}.code"),
            reason=None if not reasons else req_string(obj(*reasons[0]), "text", reasons[0][1]),
            priority=TaskPriority(priority),
            status=status,
            plan_id=None
            if not based
            else CarePlanId(self.ctx.ref(based[0][0], based[0][1], "care-plan")),
            intervention_id=None if intervention is None else InterventionId(intervention),
            goal_ids=tuple(GoalId(x) for x in ext_refs(self.ctx, r, "goal", at, "goal")),
            outcome=outcome,
            history=hist,
        )

    def appointment(self, e: _Entry) -> Appointment:
        r, at = e.resource, e.path
        provider = location = None
        patient_seen = False
        for p, where in items(r, "participant", at):
            p = obj(p, where)
            if not code_in("participationstatus", p.get("status")):
                fail(f"{where}.status", "code not in value set participationstatus")
            actor = obj(p.get("actor"), f"{where}.actor")
            kinds = [
                c.get("code")
                for cc, w in items(p, "type", where)
                for c, _ in items(obj(cc, w), "coding", w)
                if isinstance(c, Mapping)
            ]
            if "PPRF" in kinds:
                provider = req_string(actor, "display", f"{where}.actor")
            elif "LOC" in kinds or actor.get("type") == "Location":
                location = req_string(actor, "display", f"{where}.actor")
            elif actor.get("type") == "Patient" or "identifier" in actor or "reference" in actor:
                if self.ctx.ref(actor, f"{where}.actor", "patient") != self.patient_id:
                    fail(f"{where}.actor", "refers to another patient")
                patient_seen = True
        if not patient_seen:
            fail(f"{at}.participant", "the patient is not a participant")
        if provider is None or location is None:
            fail(f"{at}.participant", "needs a provider (PPRF) and a location (LOC) participant")
        based = items(r, "basedOn", at)
        booked = ext_ref(self.ctx, r, "booked-by", at, "staff")
        intervention = ext_ref(self.ctx, r, "intervention", at, "intervention")
        return Appointment(
            id=AppointmentId(own_id(r, at, "appointment")),
            patient_id=self.patient_id,
            start=req_dt(r, "start", at),
            end=req_dt(r, "end", at),
            provider=provider,
            location=location,
            status=code(r, "status", at, "appointmentstatus", AppointmentStatus),
            transport_needed=top_bool(r, "transport-needed", at, False),
            referral_id=None
            if not based
            else ReferralId(self.ctx.ref(based[0][0], based[0][1], "referral")),
            intervention_id=None if intervention is None else InterventionId(intervention),
            booked_by=None if booked is None else StaffId(booked),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["Appointment"], AppointmentStatus),
        )

    # -- barriers, reviews, notes, decisions, consents
    def barrier(self, e: _Entry) -> Barrier:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        cc = obj(r.get("code"), f"{at}.code")
        resolution = None
        found = ext_one(r, "barrier-resolution", at)
        if found is not None:
            x, where = found
            by = ext_one(x, "by", where, sub=True, required=True)
            assert by is not None
            resolution = BarrierResolution(
                at=sub_dt(x, "at", where),
                by=StaffId(
                    self.ctx.ref(
                        ev(by[0], by[1], "valueReference"), f"{by[1]}.valueReference", "staff"
                    )
                ),
                summary=str(sub_string(x, "summary", where)),
            )
        return Barrier(
            id=BarrierId(own_id(r, at, "barrier")),
            patient_id=self.patient_id,
            kind=req_coded(cc, f"{at}.code", cs("barrier-kind"), BarrierKind),
            identified_at=req_dt(r, "recordedDate", at),
            identified_by=StaffId(self.ctx.ref(r.get("recorder"), f"{at}.recorder", "staff")),
            description=string(cc, "text", f"{at}.code", required=False),
            blocks=ref_links(r, "blocks", at),
            resolution=resolution,
        )

    def review(self, e: _Entry) -> Review:
        r, at = e.resource, e.path
        if not isinstance(r.get("code"), Mapping) or not has_category(
            {"code": [r["code"]]}, at, "code", "care-plan-review"
        ):
            fail(f"{at}.code", "Basic resource is not a care-plan-review")
        self.subject(e, "subject")
        plan = ext_ref(self.ctx, r, "care-plan", at, "care-plan")
        if plan is None:
            fail(f"{at}.extension", "required extension care-plan missing")
        outcomes = []
        for x, where in ext_all(r, "goal-outcome", at):
            goal = ext_one(x, "goal", where, sub=True, required=True)
            assert goal is not None
            outcomes.append(
                GoalOutcome(
                    goal_id=GoalId(
                        self.ctx.ref(
                            ev(goal[0], goal[1], "valueReference"),
                            f"{goal[1]}.valueReference",
                            "goal",
                        )
                    ),
                    achievement=sub_coding(
                        x, "achievement", where, _ACHIEVEMENT, GoalAchievementStatus
                    ),
                    decision=sub_coding(
                        x, "decision", where, cs("review-decision"), ReviewDecision
                    ),
                    comment=sub_string(x, "comment", where, required=False),
                )
            )
        reviewed_at = top_dt(r, "reviewed-at", at)
        next_at = top_dt(r, "next-review-at", at)
        if reviewed_at is None or next_at is None:
            fail(f"{at}.extension", "required extensions reviewed-at and next-review-at")
        return Review(
            id=ReviewId(own_id(r, at, "review")),
            plan_id=CarePlanId(plan),
            patient_id=self.patient_id,
            reviewed_at=reviewed_at,
            reviewed_by=StaffId(self.ctx.ref(r.get("author"), f"{at}.author", "staff")),
            next_review_at=next_at,
            participants=tuple(
                StaffId(x) for x in ext_refs(self.ctx, r, "participant", at, "staff")
            ),
            patient_participated=top_bool(r, "patient-participated", at, False),
            contact_participants=tuple(
                ContactId(x) for x in ext_refs(self.ctx, r, "contact-participant", at, "contact")
            ),
            goal_outcomes=tuple(outcomes),
            summary=top_string(r, "summary", at),
            due_at=top_dt(r, "due-at", at),
        )

    def note(self, e: _Entry) -> Note:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        categories = items(r, "category", at)
        media = items(r, "medium", at)
        if len(categories) != 1 or len(media) != 1:
            fail(at, "expected exactly one category and one medium")
        contact_id = None
        staff = []
        for x, where in items(r, "recipient", at):
            x = obj(x, where)
            if x.get("type") == "RelatedPerson":
                if contact_id is not None:
                    fail(where, "more than one contact recipient")
                contact_id = ContactId(self.ctx.ref(x, where, "contact"))
            else:
                staff.append(StaffId(self.ctx.ref(x, where, "staff")))
        payload = items(r, "payload", at)
        if len(payload) != 1:
            fail(f"{at}.payload", "expected exactly one payload")
        author = ext_ref(self.ctx, r, "author", at, "staff")
        if author is None:
            fail(f"{at}.extension", "required extension author missing")
        return Note(
            id=NoteId(own_id(r, at, "note")),
            patient_id=self.patient_id,
            at=req_dt(r, "sent", at),
            author_id=StaffId(author),
            channel=req_coded(media[0][0], media[0][1], cs("contact-channel"), ContactChannel),
            direction=top_coding(r, "direction", at, cs("direction"), Direction),
            party=req_coded(
                categories[0][0], categories[0][1], cs("interaction-party"), InteractionParty
            ),
            summary=req_string(obj(*payload[0]), "contentString", payload[0][1]),
            status=code(r, "status", at, "event-status", CommunicationStatus),
            contact_id=contact_id,
            staff_ids=tuple(staff),
            links=ref_links(r, "link", at),
        )

    def decision(self, e: _Entry) -> PatientDecision:
        r, at = e.resource, e.path
        self.subject(e, "patient")
        code(r, "status", at, "consent-state-codes", ConsentStatus)
        recorded_by = ext_ref(self.ctx, r, "recorded-by", at, "staff")
        recommendation = top_string(r, "recommendation", at)
        if recorded_by is None or recommendation is None:
            fail(f"{at}.extension", "required extensions recorded-by and recommendation")
        return PatientDecision(
            id=DecisionId(own_id(r, at, "decision")),
            patient_id=self.patient_id,
            at=req_dt(r, "dateTime", at),
            recorded_by=StaffId(recorded_by),
            recommendation=recommendation,
            outcome=top_coding(r, "decision-outcome", at, cs("decision-outcome"), DecisionOutcome),
            patient_words=top_string(r, "patient-words", at),
            about=ref_links(r, "about", at),
        )

    def consent(self, e: _Entry) -> Consent:
        r, at = e.resource, e.path
        self.subject(e, "patient")
        provision = obj(r.get("provision"), f"{at}.provision")
        pat = f"{at}.provision"
        if provision.get("type") is not None and not code_in(
            "consent-provision-type", provision["type"]
        ):
            fail(f"{pat}.type", "code not in value set consent-provision-type")
        contacts = []
        for a, where in items(provision, "actor", pat):
            contacts.append(
                ContactId(
                    self.ctx.ref(obj(a, where).get("reference"), f"{where}.reference", "contact")
                )
            )
        categories = [req_string(obj(c, w), "text", w) for c, w in items(provision, "code", pat)]
        recorded_by = ext_ref(self.ctx, r, "recorded-by", at, "staff")
        if recorded_by is None:
            fail(f"{at}.extension", "required extension recorded-by missing")
        return Consent(
            id=ConsentId(own_id(r, at, "consent")),
            patient_id=self.patient_id,
            recorded_at=req_dt(r, "dateTime", at),
            recorded_by=StaffId(recorded_by),
            contact_ids=tuple(contacts),
            status=code(r, "status", at, "consent-state-codes", ConsentStatus),
            categories=tuple(categories),
            period=None
            if provision.get("period") is None
            else period(provision["period"], f"{pat}.period"),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["Consent"], ConsentStatus),
        )

    def audit(self, e: _Entry) -> AuditEntry:
        r, at = e.resource, e.path
        agents = items(r, "agent", at)
        if len(agents) != 1:
            fail(f"{at}.agent", "expected exactly one agent")
        who = obj(obj(*agents[0]).get("who"), f"{agents[0][1]}.who")
        ident = obj(who.get("identifier"), f"{agents[0][1]}.who.identifier")
        patient_id = None
        for x, where in items(r, "entity", at):
            patient_id = self.ctx.ref(obj(x, where).get("what"), f"{where}.what", "patient")
            if patient_id != self.patient_id:
                fail(f"{where}.what", "refers to another patient")
        purposes = items(r, "purposeOfEvent", at)
        if len(purposes) != 1:
            fail(f"{at}.purposeOfEvent", "expected exactly one purpose")
        operation = top_string(r, "audit-operation", at)
        if operation is None:
            fail(f"{at}.extension", "required extension audit-operation missing")
        return AuditEntry(
            id=audit_id(r, at),
            at=req_dt(r, "recorded", at),
            actor=req_string(ident, "value", f"{agents[0][1]}.who.identifier"),
            action=code(r, "action", at, "audit-event-action", AuditAction),
            operation=operation,
            outcome=code(r, "outcome", at, "audit-event-outcome", AuditOutcome),
            purpose=req_coded(purposes[0][0], purposes[0][1], _ACT_REASON, PurposeOfUse),
            patient_id=patient_id,
            entity=top_string(r, "audit-entity", at),
            detail=string(r, "outcomeDesc", at, required=False),
            **audit_sealing(r, at),
        )


class _Scope(StrEnum):
    ADR = "adr"
    RESEARCH = "research"
    PRIVACY = "patient-privacy"
    TREATMENT = "treatment"


class _RequestStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    REVOKED = "revoked"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"


# Without a carecoord businessStatus (a foreign Bundle), the closest referral state.
_FROM_TASK: dict[str, ReferralStatus] = {
    "draft": ReferralStatus.DRAFT,
    "requested": ReferralStatus.SENT,
    "received": ReferralStatus.RECEIVED,
    "accepted": ReferralStatus.ACCEPTED,
    "ready": ReferralStatus.ACCEPTED,
    "in-progress": ReferralStatus.IN_PROGRESS,
    "on-hold": ReferralStatus.IN_PROGRESS,
    "completed": ReferralStatus.COMPLETED,
    "rejected": ReferralStatus.DECLINED,
    "cancelled": ReferralStatus.CANCELLED,
    "failed": ReferralStatus.FAILED,
    "entered-in-error": ReferralStatus.ENTERED_IN_ERROR,
}
_FROM_SR: dict[_RequestStatus, ReferralStatus] = {
    _RequestStatus.DRAFT: ReferralStatus.DRAFT,
    _RequestStatus.ACTIVE: ReferralStatus.SENT,
    _RequestStatus.ON_HOLD: ReferralStatus.SENT,
    _RequestStatus.UNKNOWN: ReferralStatus.SENT,
    _RequestStatus.REVOKED: ReferralStatus.CANCELLED,
    _RequestStatus.COMPLETED: ReferralStatus.COMPLETED,
    _RequestStatus.ENTERED_IN_ERROR: ReferralStatus.ENTERED_IN_ERROR,
}


def import_bundle(bundle: Mapping[str, Any]) -> ImportedRecord:
    """Import a FHIR R4 JSON Bundle (as written by :func:`export_bundle`) into carecoord objects.

    Returns an immutable :class:`ImportedRecord` holding the whole record, or
    raises :class:`~carecoord.FhirImportError` naming the resource and element
    path of the first problem (unknown resource types, references to resources
    missing from the Bundle, codes outside their value set, naive or partial
    datetimes, wrong JSON types, ...). Nothing is stored: see
    :func:`~carecoord.fhir.save_imported`.
    """
    return _Importer(bundle).run()
