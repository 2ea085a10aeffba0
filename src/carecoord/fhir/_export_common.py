"""Shared writers of the FHIR export: code tables, datatypes and the Bundle builder.

Used by the per-resource builders (``_export_care``, ``_export_people``) and by
:func:`~carecoord.fhir.export.export_bundle`. The tables that the import reads
too are re-exported by ``export``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from ..model import (
    Cadence,
    ContactChannel,
    ContactPoint,
    ContactPreferences,
    ContactRelationship,
    ExternalRef,
    HumanName,
    Period,
    Ref,
    Transition,
)
from ..serialization import format_datetime
from ._common import cs, ext_url, id_system, stable_uuid

__all__ = [
    "CONTACT_POINT_SYSTEMS",
    "FHIR_ID",
    "KIND_TYPES",
    "STATUS_SYSTEMS",
    "_Bundle",
    "_string_ext",
    "cadence",
    "code_concept",
    "coding",
    "concept",
    "contact_point",
    "decimal",
    "ext_dt",
    "external_ref",
    "history",
    "human_name",
    "links",
    "period",
    "preferences",
    "put_dt",
    "relationship_system",
    "split_datetime",
]

FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")

# carecoord id kind -> FHIR resource type
KIND_TYPES: dict[str, str] = {
    "patient": "Patient",
    "contact": "RelatedPerson",
    "staff": "Practitioner",
    "care-team": "CareTeam",
    "assessment": "ClinicalImpression",
    "need": "Condition",
    "care-plan": "CarePlan",
    "goal": "Goal",
    "intervention": "Task",
    "referral": "ServiceRequest",
    "appointment": "Appointment",
    "barrier": "Condition",
    "health-concern": "Condition",
    "review": "Basic",
    "note": "Communication",
    "decision": "Consent",
    "consent": "Consent",
    "audit-entry": "AuditEvent",
}

STATUS_SYSTEMS: dict[str, str] = {
    "CarePlan": "http://hl7.org/fhir/request-status",
    "Goal": "http://hl7.org/fhir/goal-status",
    "Task": "http://hl7.org/fhir/task-status",
    "CareTeam": "http://hl7.org/fhir/care-team-status",
    "Appointment": "http://hl7.org/fhir/appointmentstatus",
    "Consent": "http://hl7.org/fhir/consent-state-codes",
    "Referral": cs("referral-status"),
}

CONTACT_POINT_SYSTEMS: dict[ContactChannel, str] = {
    ContactChannel.PHONE: "phone",
    ContactChannel.SMS: "sms",
    ContactChannel.EMAIL: "email",
}

ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"


def relationship_system(code: ContactRelationship) -> str:
    """The code system of a contact relationship code."""
    if code is ContactRelationship.OTHER:
        return V2_0131
    if code is ContactRelationship.CAREGIVER:
        return cs("contact-relationship")
    return ROLE_CODE


_CODE_TEXT = re.compile(
    r"(?P<system>[A-Za-z][A-Za-z0-9+.\-]*:[^\s|]+)\|(?P<code>[^\s]+(\s[^\s]+)*)"
)
"""A ``system|code`` code whose system is an absolute URI: written as a Coding."""


# ----------------------------------------------------------------- primitives


_MAX_OFFSET = timedelta(hours=14)


def _offset_text(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    rest = abs(offset)
    hours, rest = divmod(rest, timedelta(hours=1))
    minutes, rest = divmod(rest, timedelta(minutes=1))
    text = f"{sign}{hours:02d}:{minutes:02d}"
    if rest:
        text += f":{rest.seconds:02d}"
        if rest.microseconds:
            text += f".{rest.microseconds:06d}"
    return text


def split_datetime(value: datetime) -> tuple[str, list[tuple[str, str]]]:
    """``value`` as a FHIR dateTime (with offset) and the parts FHIR cannot carry.

    The parts are ``("zone", IANA name)`` for a datetime on an IANA zone and
    ``("utc-offset", "+15:00")`` for a fixed offset FHIR cannot write. FHIR
    offsets are whole minutes up to 14:00: a datetime with another offset
    (local mean time before a zone's first rule, a fixed +15:00) is written as
    its UTC instant, and the import takes it back to its zone or offset.
    """
    text = format_datetime(value)
    zone: str | None = None
    if text.endswith("]"):
        text, zone = text[:-1].split("[", 1)
    offset = value.utcoffset()
    assert offset is not None  # format_datetime rejects naive datetimes
    parts = [] if zone is None else [("zone", zone)]
    if offset % timedelta(minutes=1) or abs(offset) > _MAX_OFFSET:
        text = value.astimezone(UTC).isoformat()  # model datetimes have a UTC instant
        if zone is None:
            parts.append(("utc-offset", _offset_text(offset)))
    return text, parts


def decimal(value: float) -> int | float:
    """``value`` as a canonical JSON number: integral values as integers, others as floats.

    Equal numbers give the same text (``1``, ``1.0`` and ``-0.0`` are all
    written ``1`` or ``0``); the import reads an integer back as a float when
    the float is exact, so the value stays equal.
    """
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def put_dt(target: dict[str, Any], key: str, value: datetime) -> None:
    """Set ``target[key]`` to a FHIR dateTime; the IANA zone goes in ``_key``'s extension."""
    iso, parts = split_datetime(value)
    target[key] = iso
    if parts:
        target["_" + key] = {
            "extension": [{"url": ext_url(name), "valueString": text} for name, text in parts]
        }


def ext_dt(url: str, value: datetime) -> dict[str, Any]:
    """An extension holding a datetime: ``valueDateTime``, or ``dateTime`` + ``zone`` parts."""
    iso, parts = split_datetime(value)
    if not parts:
        return {"url": url, "valueDateTime": iso}
    return {
        "url": url,
        "extension": [
            {"url": "dateTime", "valueDateTime": iso},
            *({"url": name, "valueString": text} for name, text in parts),
        ],
    }


def coding(system: str, code: str) -> dict[str, Any]:
    """A Coding."""
    return {"system": system, "code": code}


def concept(system: str, code: str, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept with one Coding (and an optional text)."""
    cc: dict[str, Any] = {"coding": [coding(system, code)]}
    if text is not None:
        cc["text"] = text
    return cc


def code_concept(code: str | None, text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A free-text concept with a ``system|code`` code as a Coding, else as an extension.

    Only a system that is an absolute URI makes a Coding (``Coding.system`` is
    one); any other code text goes into the ``code-text`` extension as written.
    """
    cc: dict[str, Any] = {"text": text}
    extra: list[dict[str, Any]] = []
    if code is not None:
        match = _CODE_TEXT.fullmatch(code)
        if match:
            cc["coding"] = [coding(match["system"], match["code"])]
        else:
            extra.append({"url": ext_url("code-text"), "valueString": code})
    return cc, extra


def period(value: Period) -> dict[str, Any]:
    """A FHIR Period (zones in ``_start`` / ``_end``)."""
    out: dict[str, Any] = {}
    put_dt(out, "start", value.start)
    if value.end is not None:
        put_dt(out, "end", value.end)
    return out


def human_name(name: HumanName) -> dict[str, Any]:
    """A FHIR HumanName."""
    out: dict[str, Any] = {"family": name.family}
    if name.given:
        out["given"] = list(name.given)
    return out


def contact_point(point: ContactPoint) -> dict[str, Any]:
    """A FHIR ContactPoint; channels FHIR lacks are ``other`` plus an extension."""
    system = CONTACT_POINT_SYSTEMS.get(point.channel)
    out: dict[str, Any] = {"system": system or "other", "value": point.value}
    if system is None:
        out["extension"] = [
            {
                "url": ext_url("contact-channel"),
                "valueCoding": coding(cs("contact-channel"), point.channel.value),
            }
        ]
    return out


def _time(value: time) -> str:
    return value.isoformat()


def preferences(prefs: ContactPreferences) -> list[dict[str, Any]]:
    """The ``contact-preferences`` extension (nothing for the default preferences)."""
    if prefs == ContactPreferences():
        return []
    parts: list[dict[str, Any]] = [
        {"url": "channel", "valueCoding": coding(cs("contact-channel"), c.value)}
        for c in prefs.channels
    ]
    if prefs.quiet_hours is not None:
        parts.append(
            {
                "url": "quiet-hours",
                "extension": [
                    {"url": "start", "valueTime": _time(prefs.quiet_hours.start)},
                    {"url": "end", "valueTime": _time(prefs.quiet_hours.end)},
                ],
            }
        )
    return [{"url": ext_url("contact-preferences"), "extension": parts}]


def cadence(url: str, value: Cadence) -> dict[str, Any]:
    """A cadence as a complex extension (every, unit, anchor with its zone)."""
    return {
        "url": url,
        "extension": [
            {"url": "every", "valuePositiveInt": value.every},
            {"url": "unit", "valueCoding": coding(cs("cadence-unit"), value.unit.value)},
            ext_dt("anchor", value.anchor),
        ],
    }


def links(url: str, refs: Iterable[Ref]) -> list[dict[str, Any]]:
    """carecoord ``Ref`` links as complex extensions (kind, id)."""
    return [
        {
            "url": url,
            "extension": [
                {"url": "kind", "valueCoding": coding(cs("ref-kind"), ref.kind.value)},
                {"url": "id", "valueString": ref.id},
            ],
        }
        for ref in refs
    ]


def external_ref(value: ExternalRef, display: str | None = None) -> dict[str, Any]:
    """A Reference to another system's record, as it was kept (``display`` overrides its own)."""
    out: dict[str, Any] = {}
    if value.reference is not None:
        out["reference"] = value.reference
    if value.resource_type is not None:
        out["type"] = value.resource_type
    if value.identifier is not None:
        out["identifier"] = {"system": value.identifier.system, "value": value.identifier.value}
    shown = display if display is not None else value.display
    if shown is not None:
        out["display"] = shown
    return out


def _string_ext(name: str, value: str | None) -> list[dict[str, Any]]:
    return [] if value is None else [{"url": ext_url(name), "valueString": value}]


# -------------------------------------------------------------------- builder


class _Bundle:
    """Allocates resource ids and full URLs, builds references, collects entries."""

    def __init__(self) -> None:
        self._urls: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._first: dict[tuple[str, str], str] = {}
        self._used: dict[str, set[str]] = {}
        self._plain: dict[tuple[str, str], str] = {}
        self._plain_order: list[tuple[str, str]] = []
        self.entries: list[dict[str, Any]] = []

    def register(self, kind: str, cid: str, scope: str = "", rtype: str | None = None) -> None:
        rtype = rtype or KIND_TYPES[kind]
        key = (kind, scope, cid)
        if key in self._urls:
            return
        url = "urn:uuid:" + stable_uuid(rtype, kind, scope, cid)
        used = self._used.setdefault(rtype, set())
        rid = cid if FHIR_ID.fullmatch(cid) and cid not in used else url.removeprefix("urn:uuid:")
        used.add(rid)
        self._urls[key] = (url, rid)
        self._first.setdefault((kind, cid), url)

    def ref(
        self, kind: str, cid: str, scope: str | None = None, rtype: str | None = None
    ) -> dict[str, Any]:
        """A Reference: the entry's full URL when it is in the Bundle, always the identifier."""
        out: dict[str, Any] = {}
        url: str | None = None
        if scope is not None and (kind, scope, cid) in self._urls:
            url = self._urls[(kind, scope, cid)][0]
        else:
            url = self._first.get((kind, cid))
        if url is not None:
            out["reference"] = url
        out["type"] = rtype or KIND_TYPES[kind]
        out["identifier"] = {"system": id_system(kind), "value": str(cid)}
        return out

    def register_plain(self, rtype: str, key: str) -> None:
        """Register a resource with no carecoord id (a referral target, a goal reading).

        ``key`` is stable for what the resource stands for; its FHIR id is a
        UUID made from it, its ``fullUrl`` the matching ``urn:uuid:``.
        """
        if (rtype, key) in self._plain:
            return
        rid = stable_uuid(rtype, "plain", key)
        self._used.setdefault(rtype, set()).add(rid)
        self._plain[(rtype, key)] = rid
        self._plain_order.append((rtype, key))

    def plain_keys(self, rtype: str) -> list[str]:
        """The keys registered for ``rtype`` with :meth:`register_plain`, in order."""
        return [key for kind, key in self._plain_order if kind == rtype]

    def plain_ref(self, rtype: str, key: str, display: str | None = None) -> dict[str, Any]:
        """A Reference to a resource registered with :meth:`register_plain`."""
        out: dict[str, Any] = {"reference": "urn:uuid:" + self._plain[(rtype, key)], "type": rtype}
        if display is not None:
            out["display"] = display
        return out

    def add_plain(self, rtype: str, key: str, resource: dict[str, Any]) -> dict[str, Any]:
        """Add a resource registered with :meth:`register_plain` (no carecoord identifier)."""
        rid = self._plain[(rtype, key)]
        body: dict[str, Any] = {"resourceType": rtype, "id": rid, **resource}
        self.entries.append({"fullUrl": "urn:uuid:" + rid, "resource": body})
        return body

    def add(
        self, kind: str, cid: str, resource: dict[str, Any], scope: str = "", rtype: str = ""
    ) -> dict[str, Any]:
        url, rid = self._urls[(kind, scope, cid)]
        own = {"system": id_system(kind), "value": str(cid)}
        body: dict[str, Any] = {
            "resourceType": rtype or KIND_TYPES[kind],
            "id": rid,
            "identifier": [own, *resource.pop("identifier", [])],
        }
        body.update(resource)
        self.entries.append({"fullUrl": url, "resource": body})
        return body


def history(b: _Bundle, steps: Iterable[Transition[Any]], system: str) -> list[dict[str, Any]]:
    """The ``status-history`` extensions: one per recorded transition."""
    out = []
    for step in steps:
        parts: list[dict[str, Any]] = [
            {"url": "from", "valueCoding": coding(system, step.from_status.value)},
            {"url": "to", "valueCoding": coding(system, step.to_status.value)},
            ext_dt("at", step.at),
            {"url": "by", "valueReference": b.ref("staff", step.by)},
        ]
        if step.reason is not None:
            parts.append({"url": "reason", "valueString": step.reason})
        out.append({"url": ext_url("status-history"), "extension": parts})
    return out
