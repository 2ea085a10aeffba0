"""What the clinic use cases share: the clinic access rules, the local day, row readers.

Access to a clinic's own things (its board, its stock) is decided by the
clinic record, a documented rule of these operations (:meth:`Context.grant`):

* the clinic's *staff* (its lead, its board staff, its locations' inventory
  owners) see the board, the stuck list and the stock, and use supplies;
* a location's *stock keepers* (its inventory owner and the clinic's lead)
  receive, adjust and transfer stock, keep the items and order supplies;
* anyone else needs a staff-wide permission (``manage-staff`` by default,
  ``view-metrics`` for waiting-time figures).

A patient's id on a board line or a ledger line is shown only to those who
may read that patient.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from ..access import Permission
from ..clinic import VisitSnapshot
from ..model import NotFoundError, PatientId, StaffId, StaffMember, StorageError, ValidationError
from ..model._base import ensure_aware, instant
from ..model.audit import PurposeOfUse
from ..model.clinic import Clinic, ClinicId, VisitFacts, VisitId, VisitState
from ..model.supplies import SupplyItem, SupplyItemId
from ..model.workforce import LocationId
from ..storage.port import IndexHit
from ..storage.uow import UnitOfWork
from .runner import Context

__all__ = [
    "check_window",
    "clinic_access",
    "get_clinic",
    "get_item",
    "ints",
    "local_today",
    "registered",
    "snapshot",
    "stock_access",
]


def get_clinic(uow: UnitOfWork, clinic_id: ClinicId | str) -> Clinic:
    """The clinic ``clinic_id``; NotFoundError when there is none."""
    found = uow.find(Clinic, str(clinic_id))
    if found is None:
        raise NotFoundError(f"clinic {clinic_id} not found")
    return found


def get_item(uow: UnitOfWork, item_id: SupplyItemId | str) -> SupplyItem:
    """The supply item ``item_id``; NotFoundError when there is none."""
    found = uow.find(SupplyItem, str(item_id))
    if found is None:
        raise NotFoundError(f"supply item {item_id} not found")
    return found


def registered(uow: UnitOfWork, staff_id: StaffId, what: str) -> None:
    """``staff_id`` must be a registered, active staff member (NotFoundError otherwise)."""
    member = uow.find(StaffMember, staff_id)
    if member is None or not member.active:
        raise NotFoundError(f"{what} {staff_id} is not a registered, active staff member")


def clinic_access(
    ctx: Context, clinic: Clinic, otherwise: Permission = Permission.MANAGE_STAFF
) -> None:
    """The clinic's staff (HOPERAT); anyone else needs the staff-wide ``otherwise``."""
    entity = f"Clinic/{clinic.id}"
    if clinic.works_here(ctx.actor_id):
        ctx.grant(PurposeOfUse.HOPERAT, entity=entity)
    else:
        ctx.allow_staff(otherwise, entity=entity)


def stock_access(ctx: Context, clinic: Clinic, location_id: LocationId, entity: str) -> None:
    """The location's inventory owner or the clinic's lead (HOPERAT); else ``manage-staff``."""
    owner = clinic.location(location_id).inventory_owner_id
    if ctx.actor_id in (owner, clinic.lead_id):
        ctx.grant(PurposeOfUse.HOPERAT, entity=entity)
    else:
        ctx.allow_staff(Permission.MANAGE_STAFF, entity=entity)


def local_today(clinic: Clinic, now: datetime) -> date:
    """The clinic's local date at ``now``."""
    return now.astimezone(ZoneInfo(clinic.time_zone)).date()


def snapshot(hit: IndexHit) -> VisitSnapshot:
    """A ``visit`` index row as a :class:`VisitSnapshot`; StorageError when it is damaged."""
    row = hit.row
    try:
        if row.patient_id is None or row.owner_id is None or row.detail is None:
            raise ValueError
        if row.due_at is None or row.changed_at is None:
            raise ValueError
        return VisitSnapshot(
            visit_id=VisitId(row.item_id),
            patient_id=PatientId(row.patient_id),
            clinic_id=ClinicId(row.owner_id),
            state=VisitState(row.status),
            scheduled_start=row.due_at,
            since=row.changed_at,
            facts=VisitFacts.from_detail(row.detail),
        )
    except ValueError as exc:
        raise StorageError(f"index row of Visit {hit.record_id} is invalid") from exc


def ints(detail: str | None, count: int, what: str) -> Sequence[int]:
    """``count`` ``|``-separated integers of a row's ``detail``; StorageError otherwise."""
    try:
        values = [int(x) for x in (detail or "").split("|")[:count]]
        if len(values) != count:
            raise ValueError
    except ValueError as exc:
        raise StorageError(f"index row of {what} is invalid") from exc
    return values


def check_window(start: datetime, end: datetime) -> None:
    """``start`` and ``end`` aware, ``end`` after ``start``."""
    ensure_aware(start, "start")
    ensure_aware(end, "end")
    if instant(end) <= instant(start):
        raise ValidationError("end must be after start", field="end")
