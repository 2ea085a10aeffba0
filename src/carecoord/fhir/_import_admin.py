"""FHIR R4 import of insurance coverage: a Coverage as a
:class:`~carecoord.model.administration.Coverage`.

Reads what :func:`~carecoord.fhir._export_admin.coverage_resource` writes (losslessly)
and Coverages other systems write. The patient is the caller's: ``patient_id``
(a beneficiary named by another carecoord patient identifier is refused). What
is read:

* the id: the carecoord identifier, else the resource id, else a stable UUID
  made from the patient, payer, member id and period start;
* the member id: the identifier of type ``MB`` (v2-0203); without one, the
  ``subscriberId`` of a coverage whose patient is the subscriber;
* ``subscriberId`` as the subscriber's id (not when it stood in for the member id);
* ``status`` (financial resource status), ``relationship``
  (subscriber-relationship; ``self`` when absent), ``period`` (required, with a
  start), the first ``payor``'s display as the payer, the ``class`` of type
  ``plan`` (its name, else its value) as the plan, ``order`` (1 when absent);
* the ``recorded-at`` and ``recorded-by`` extensions, else the ``recorded_at``
  and ``recorded_by`` the caller gives (one or the other is required).

Other elements (type, policyHolder, network, costToBeneficiary, further payors
and classes, ...) are not kept. An element that is present but wrong (an
unknown code, a malformed date, a blank name) raises
:class:`~carecoord.FhirImportError` naming its path, never its value.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from ..model import EntityId, FhirImportError, PatientId, StaffId, ValidationError
from ..model.administration import Coverage, CoverageId, CoverageStatus, SubscriberRelationship
from ..model.people import Period
from ..serialization import format_datetime
from ._common import id_system, stable_uuid
from ._export_admin import COVERAGE_CLASS, IDENTIFIER_TYPE, MEMBER_NUMBER, SUBSCRIBER_RELATIONSHIP
from ._read_values import (
    dt,
    ev,
    ev_dt,
    ext_one,
    fail,
    items,
    obj,
    req_coded,
    req_dt,
    req_string,
    string,
    to_enum,
)

__all__ = ["coverage_from_resource"]

_Id = TypeVar("_Id", bound=EntityId)
_PRACTITIONER = "Practitioner/"
_MB = (IDENTIFIER_TYPE, MEMBER_NUMBER)


def _has_code(cc: Any, at: str, system: str, code: str) -> bool:
    """Whether CodeableConcept ``cc`` (if present) has a Coding ``system`` / ``code``."""
    if cc is None:
        return False
    for c, where in items(obj(cc, at), "coding", at):
        c = obj(c, where)
        if c.get("system") == system and c.get("code") == code:
            return True
    return False


def _entity(cls: type[_Id], value: str, at: str) -> _Id:
    """``value`` as a carecoord id of ``cls``, or a path-named error."""
    try:
        return cls(value)
    except ValidationError:
        fail(at, f"not a carecoord {cls.__name__}")


def _identifiers(r: Mapping[str, Any], at: str) -> tuple[CoverageId | None, str | None]:
    """The carecoord id and the member id among the identifiers (either may be absent)."""
    own: CoverageId | None = None
    member: str | None = None
    for i, where in items(r, "identifier", at):
        i = obj(i, where)
        if i.get("system") == id_system("coverage"):
            if own is not None:
                fail(where, "more than one carecoord coverage identifier")
            own = _entity(CoverageId, req_string(i, "value", where), f"{where}.value")
        elif member is None and _has_code(i.get("type"), f"{where}.type", *_MB):
            member = req_string(i, "value", where)
    return own, member


def _check_patient(r: Mapping[str, Any], at: str, patient_id: PatientId) -> None:
    """Refuse a beneficiary or subscriber named by another carecoord patient's identifier."""
    for key in ("beneficiary", "subscriber"):
        if key not in r:
            continue
        ref = obj(r[key], f"{at}.{key}")
        ident = ref.get("identifier")
        if ident is None:
            continue
        ident = obj(ident, f"{at}.{key}.identifier")
        if ident.get("system") == id_system("patient") and ident.get("value") != str(patient_id):
            fail(f"{at}.{key}.identifier.value", "names another carecoord patient")


def _staff(value: Any, at: str) -> StaffId:
    """A staff member named by carecoord identifier or ``Practitioner/<id>``."""
    ref = obj(value, at)
    ident = ref.get("identifier")
    if ident is not None:
        ident = obj(ident, f"{at}.identifier")
        if ident.get("system") == id_system("staff"):
            value = req_string(ident, "value", f"{at}.identifier")
            return _entity(StaffId, value, f"{at}.identifier.value")
    text = string(ref, "reference", at, required=False)
    if text is not None and text.startswith(_PRACTITIONER):
        return _entity(StaffId, text.removeprefix(_PRACTITIONER), f"{at}.reference")
    fail(at, "names no carecoord staff member")


def _recorded(
    r: Mapping[str, Any], at: str, recorded_at: datetime | None, recorded_by: StaffId | None
) -> tuple[datetime, StaffId]:
    when = ext_one(r, "recorded-at", at)
    who = ext_one(r, "recorded-by", at)
    if when is not None:
        recorded_at = ev_dt(*when)
    if who is not None:
        recorded_by = _staff(ev(who[0], who[1], "valueReference"), f"{who[1]}.valueReference")
    if recorded_at is None:
        fail(f"{at}.extension", "required extension recorded-at missing (or pass recorded_at)")
    if recorded_by is None:
        fail(f"{at}.extension", "required extension recorded-by missing (or pass recorded_by)")
    return recorded_at, recorded_by


def _period(r: Mapping[str, Any], at: str) -> Period:
    if "period" not in r:
        fail(f"{at}.period", "required element missing (a coverage period with a start)")
    where = f"{at}.period"
    p = obj(r["period"], where)
    start = req_dt(p, "start", where)
    end = dt(p, "end", where, required=False)
    try:
        return Period(start=start, end=end)
    except ValidationError:
        fail(where, "the period ends before it starts")


def _payer(r: Mapping[str, Any], at: str) -> str:
    payors = items(r, "payor", at)
    if not payors:
        fail(f"{at}.payor", "required element missing")
    first, where = payors[0]
    return req_string(obj(first, where), "display", where)


def _plan(r: Mapping[str, Any], at: str) -> str | None:
    for c, where in items(r, "class", at):
        c = obj(c, where)
        if _has_code(c.get("type"), f"{where}.type", COVERAGE_CLASS, "plan"):
            name = string(c, "name", where, required=False)
            return name if name is not None else req_string(c, "value", where)
    return None


def _order(r: Mapping[str, Any], at: str) -> int:
    value = r.get("order")
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        fail(f"{at}.order", "expected a positive integer")
    return value


def coverage_from_resource(
    resource: Mapping[str, Any],
    *,
    patient_id: PatientId,
    recorded_at: datetime | None = None,
    recorded_by: StaffId | None = None,
    path: str = "Coverage",
) -> Coverage:
    """The :class:`~carecoord.model.administration.Coverage` of FHIR R4 Coverage ``resource``.

    ``patient_id`` is the patient it belongs to. ``recorded_at`` and ``recorded_by``
    stand in when the resource lacks carecoord's ``recorded-at`` / ``recorded-by``
    extensions (another system's Coverage). ``path`` prefixes the element paths of
    errors (``Bundle.entry[2].resource``). Raises :class:`~carecoord.FhirImportError`
    for anything it cannot read.
    """
    r = obj(resource, path)
    if r.get("resourceType") != "Coverage":
        fail(f"{path}.resourceType", "not a Coverage")
    own, member_id = _identifiers(r, path)
    status = to_enum(CoverageStatus, req_string(r, "status", path), f"{path}.status")
    relationship = SubscriberRelationship.SELF
    if "relationship" in r:
        relationship = req_coded(
            r["relationship"],
            f"{path}.relationship",
            SUBSCRIBER_RELATIONSHIP,
            SubscriberRelationship,
        )
    subscriber_id = string(r, "subscriberId", path, required=False)
    if member_id is None:
        if relationship is not SubscriberRelationship.SELF or subscriber_id is None:
            fail(f"{path}.identifier", "no member id (an identifier of type MB)")
        member_id, subscriber_id = subscriber_id, None
    _check_patient(r, path, patient_id)
    covered = _period(r, path)
    payer = _payer(r, path)
    plan_name = _plan(r, path)
    order = _order(r, path)
    when, who = _recorded(r, path, recorded_at, recorded_by)
    if own is None:
        own = _fallback_id(r, patient_id, payer, member_id, covered)
    fields = {
        "payer": f"{path}.payor[0].display",
        "member_id": f"{path}.identifier",
        "plan_name": f"{path}.class",
        "subscriber_id": f"{path}.subscriberId",
    }
    try:
        return Coverage(
            id=own,
            patient_id=patient_id,
            payer=payer,
            member_id=member_id,
            period=covered,
            recorded_at=when,
            recorded_by=who,
            plan_name=plan_name,
            relationship=relationship,
            subscriber_id=subscriber_id,
            status=status,
            order=order,
        )
    except ValidationError as exc:
        where = fields.get(exc.field or "", path)
        raise FhirImportError(
            f"not a valid coverage ({exc.field or 'value'})", path=where
        ) from None


def _fallback_id(
    r: Mapping[str, Any], patient_id: PatientId, payer: str, member_id: str, covered: Period
) -> CoverageId:
    """The resource id when it is a carecoord id, else a stable UUID of what identifies it."""
    rid = r.get("id")
    if isinstance(rid, str):
        try:
            return CoverageId(rid)
        except ValidationError:
            pass
    key = (str(patient_id), payer, member_id, format_datetime(covered.start))
    return CoverageId(stable_uuid("Coverage", *key))
