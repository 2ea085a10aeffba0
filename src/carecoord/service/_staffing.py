"""What the staffing use cases share: who may manage a member, and the index-row readers.

Every reader here runs indexed queries (see
:mod:`carecoord.storage._workforce_rows` for the rows) and builds the pure
rules' values (:class:`~carecoord.workforce.DutySpan`,
:class:`~carecoord.workforce.Absence`, :class:`~carecoord.workforce.Credential`)
from the rows, so no shift, time off or training record is decoded to answer
who is on duty or who is qualified.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from ..access import Permission
from ..model import (
    CareCoordError,
    CarePlanId,
    CareTeamRole,
    InterventionId,
    InterventionKind,
    NotFoundError,
    PatientId,
    StaffId,
    StaffMember,
    StorageError,
    ValidationError,
    supervision_chain,
)
from ..model._base import instant
from ..model.audit import PurposeOfUse
from ..model.training import STAFFING_POLICY_ID, CompetencyId, StaffingPolicy, TrainingRecordId
from ..model.workforce import MAX_SHIFT, LocationId, ShiftId, ShiftKind
from ..storage.port import IndexHit, WorkQuery
from ..storage.uow import UnitOfWork
from ..workforce import Absence, Credential, DutySpan
from ..workforce._views import OpenItem
from . import _access
from .runner import Context

__all__ = [
    "TICK",
    "absences_of",
    "credentials_of",
    "duty_spans",
    "manage_member",
    "open_items",
    "policy_of",
    "registered",
    "reports_of",
    "shift_query",
    "spans_of_staff",
]

TICK = timedelta(microseconds=1)
"""The smallest step: ``due_from=t + TICK`` keeps rows that end strictly after ``t``."""

_ROLES = tuple(CareTeamRole)


def policy_of(uow: UnitOfWork) -> StaffingPolicy:
    """The stored staffing policy, or the default one (no rules) when none is stored."""
    found = uow.find(StaffingPolicy, STAFFING_POLICY_ID)
    return StaffingPolicy() if found is None else found


def registered(uow: UnitOfWork, staff_id: StaffId, what: str = "staff member") -> StaffMember:
    """The active staff member ``staff_id``; :class:`NotFoundError` otherwise."""
    member = uow.find(StaffMember, staff_id)
    if member is None or not member.active:
        raise NotFoundError(f"{what} {staff_id} is not a registered, active staff member")
    return member


def manage_member(ctx: Context, staff_id: StaffId, *, owner: StaffId | None = None) -> None:
    """Access to a member's rota, time off and training: their leads and supervisors.

    Allowed for anyone above ``staff_id`` on the reporting line (audited
    HOPERAT), for ``owner`` (the lead who owns the rota concerned) when that
    is someone else, and otherwise for the staff-wide ``manage-staff``
    permission.
    """
    entity = f"StaffMember/{staff_id}"
    if owner is not None and owner == ctx.actor_id and staff_id != ctx.actor_id:
        ctx.grant(PurposeOfUse.HOPERAT, entity=entity)
        return
    directory: dict[StaffId, StaffMember] = {}
    _access.load_line(ctx.uow, staff_id, directory)
    try:
        above = supervision_chain(staff_id, directory) if staff_id in directory else []
    except CareCoordError:  # a broken reporting line grants nothing
        above = []
    if ctx.actor_id in above:
        ctx.grant(PurposeOfUse.HOPERAT, entity=entity)
    else:
        ctx.allow_staff(Permission.MANAGE_STAFF, entity=entity)


def reports_of(uow: UnitOfWork, staff_id: StaffId) -> list[StaffId]:
    """Everyone reporting to ``staff_id``, directly or not (from the ``staff`` rows)."""
    found: dict[str, None] = {str(staff_id): None}
    frontier = [str(staff_id)]
    while frontier:
        hits = uow.query(WorkQuery(category="staff", owner_ids=tuple(frontier), open_only=False))
        frontier = [h.row.item_id for h in hits if h.row.item_id not in found]
        found.update(dict.fromkeys(frontier))
    return [StaffId(s) for s in list(found)[1:]]


def _bad(hit: IndexHit) -> StorageError:
    return StorageError(f"index row of {hit.kind} {hit.record_id} is invalid")


def _span(hit: IndexHit, staff: str, role: str, location: str) -> DutySpan:
    row = hit.row
    if row.changed_at is None or row.due_at is None:
        raise _bad(hit)
    try:
        return DutySpan(
            StaffId(staff),
            ShiftId(row.item_id),
            CareTeamRole(role),
            LocationId(location),
            ShiftKind(row.status),
            row.changed_at,
            row.due_at,
        )
    except (ValueError, CareCoordError) as exc:
        raise _bad(hit) from exc


def shift_query(
    category: str,
    lo: datetime,
    hi: datetime,
    owners: tuple[str, ...] | None = None,
    statuses: tuple[str, ...] | None = None,
    *,
    open_only: bool = True,
) -> WorkQuery:
    """Rows of shifts overlapping ``[lo, hi)``: ending after ``lo``, starting before ``hi``
    (so ending at most :data:`MAX_SHIFT` after it): one due range of the index."""
    return WorkQuery(
        category=category,
        owner_ids=owners,
        statuses=statuses,
        open_only=open_only,
        due_from=lo + TICK,
        due_before=hi + MAX_SHIFT + TICK,
        changed_before=hi,
    )


def duty_spans(
    uow: UnitOfWork,
    lo: datetime,
    hi: datetime,
    *,
    location_id: LocationId | None = None,
    role: CareTeamRole | None = None,
    kind: ShiftKind | None = None,
) -> list[DutySpan]:
    """Standing shifts overlapping ``[lo, hi)`` (of a location, role and kind when given).

    With a location, one query per role reads that location's ``duty`` rows
    in the due range; without one, a single query reads the range for all.
    """
    statuses = None if kind is None else (kind.value,)
    if location_id is None:
        hits = uow.query(shift_query("duty", lo, hi, statuses=statuses))
        spans = []
        for hit in hits:
            location, _, code = (hit.row.owner_id or "").partition("|")
            if role is None or code == role.value:
                spans.append(_span(hit, hit.row.detail or "", code, location))
        return spans
    spans = []
    for each in (role,) if role is not None else _ROLES:
        query = shift_query("duty", lo, hi, (f"{location_id}|{each.value}",), statuses)
        for hit in uow.query(query):
            spans.append(_span(hit, hit.row.detail or "", each.value, str(location_id)))
    return spans


def spans_of_staff(
    uow: UnitOfWork, staff_ids: Sequence[StaffId], lo: datetime, hi: datetime
) -> list[DutySpan]:
    """The standing shifts of ``staff_ids`` overlapping ``[lo, hi)``."""
    if not staff_ids:
        return []
    spans = []
    for hit in uow.query(shift_query("shift", lo, hi, tuple(map(str, staff_ids)))):
        role, _, location = (hit.row.detail or "").partition("|")
        spans.append(_span(hit, hit.row.owner_id or "", role, location))
    return spans


def absences_of(
    uow: UnitOfWork, staff_ids: Iterable[StaffId | str], lo: datetime, hi: datetime
) -> list[Absence]:
    """Standing time off of ``staff_ids`` overlapping ``[lo, hi)``."""
    owners = tuple(dict.fromkeys(map(str, staff_ids)))
    if not owners:
        return []
    query = WorkQuery(category="time-off", owner_ids=owners, due_from=lo + TICK, changed_before=hi)
    found = []
    for hit in uow.query(query):
        row = hit.row
        if row.changed_at is None or row.due_at is None or row.owner_id is None:
            raise _bad(hit)
        found.append(Absence(StaffId(row.owner_id), row.changed_at, row.due_at))
    return found


def credentials_of(
    uow: UnitOfWork,
    staff_ids: Iterable[StaffId | str],
    competency_ids: Iterable[CompetencyId] | None = None,
) -> list[Credential]:
    """The training records of ``staff_ids`` (in ``competency_ids`` when given) as credentials."""
    owners = tuple(dict.fromkeys(map(str, staff_ids)))
    wanted = None if competency_ids is None else tuple(dict.fromkeys(map(str, competency_ids)))
    if not owners or wanted == ():
        return []
    query = WorkQuery(category="training", owner_ids=owners, statuses=wanted, open_only=False)
    found = []
    for hit in uow.query(query):
        row = hit.row
        if row.changed_at is None or row.owner_id is None:
            raise _bad(hit)
        try:
            found.append(
                Credential(
                    TrainingRecordId(hit.record_id),
                    StaffId(row.owner_id),
                    CompetencyId(row.status),
                    row.changed_at,
                    row.due_at,
                    row.is_open,
                )
            )
        except CareCoordError as exc:
            raise _bad(hit) from exc
    return found


def open_items(
    uow: UnitOfWork, staff_id: StaffId, lo: datetime | None = None, hi: datetime | None = None
) -> list[OpenItem]:
    """Open interventions assigned to ``staff_id`` (due in ``[lo, hi)`` when given)."""
    if lo is not None and hi is not None and instant(hi) <= instant(lo):
        raise ValidationError("the end must be after the start", field="end")
    hits = uow.query(
        WorkQuery(category="intervention", owner_ids=(str(staff_id),), due_from=lo, due_before=hi)
    )
    items = []
    for hit in hits:
        row = hit.row
        try:
            items.append(
                OpenItem(
                    patient_id=PatientId(row.patient_id or ""),
                    plan_id=CarePlanId(hit.record_id),
                    intervention_id=InterventionId(row.item_id),
                    kind=InterventionKind(row.detail or ""),
                    due_at=row.due_at,
                    priority=row.priority,
                )
            )
        except (ValueError, CareCoordError) as exc:
            raise _bad(hit) from exc
    return items
