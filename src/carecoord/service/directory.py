"""Community resource directory use cases: keep directory services, search them.

Directory data is public information about services (no patient data): every active
staff member may read and search it; creating or changing an entry needs the staff-wide
``manage-staff`` permission, like a clinic. A search reads only the index rows of the
need categories asked for (:data:`DIRECTORY_CATEGORY`),
never a service record.

Referrals to a directory service (``target`` = ``HealthcareService/<id>``) are watched:
saving a service that closes or changes its needs, locations or hours stamps its
``changed_at``, and :func:`directory_alerts` lists a coordinator's open referrals made
before that stamp (or to a closed service), from index rows only.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from ..access import Permission
from ..directory import DirectoryMatch, DirectoryQuery, search_details
from ..model import ConflictError, NotFoundError, PatientId, ReferralId, StaffId
from ..model.audit import AuditAction, PurposeOfUse
from ..model.directory import DirectoryService, DirectoryServiceId
from ..storage.port import WorkQuery
from . import _access
from ._util import check
from .runner import Context, operation

__all__ = [
    "DirectoryAlert",
    "directory_alerts",
    "directory_service",
    "save_directory_service",
    "search_directory",
]

DIRECTORY_CATEGORY = "directory-service"
"""The index category of a service's search rows (as ``storage._program_rows`` writes them)."""
DIRECTORY_CHANGE = "directory-change"
"""The index category of a service's change row (its status and ``changed_at``)."""


@attrs.frozen
class DirectoryAlert:
    """An open referral whose directory service closed (``closed``) or changed its needs,
    locations or hours at ``changed_at``, after the referral was made."""

    referral_id: ReferralId
    patient_id: PatientId
    service_id: DirectoryServiceId
    closed: bool
    changed_at: datetime | None


def _offer(service: DirectoryService) -> tuple[object, ...]:
    """What a referral relies on: open or closed, the needs met, the locations and hours."""
    return (service.active, service.categories, service.locations)


@operation(AuditAction.UPDATE)
def save_directory_service(ctx: Context, service: DirectoryService) -> DirectoryService:
    """Create or replace a directory service (``manage-staff``); a stale copy raises
    ConflictError. Closing one is saving it with ``active=False``. ``changed_at`` is
    the store's: ``None`` on creation, ``now`` when an update closes the service or
    changes its needs, locations or hours, else kept."""
    check(service, DirectoryService)
    ctx.allow_staff(Permission.MANAGE_STAFF, entity=f"HealthcareService/{service.id}")
    uow = ctx.uow
    if uow.find(DirectoryService, service.id) is None:
        service = attrs.evolve(service, changed_at=None)
        if service.revision:
            raise ConflictError("DirectoryService", str(service.id), service.revision)
        ctx.action = AuditAction.CREATE
        uow.add(service)
        return attrs.evolve(service, revision=1)
    old = uow.get(DirectoryService, service.id)
    current = uow.version_of(DirectoryService, service.id)
    if service.revision != current:
        raise ConflictError("DirectoryService", str(service.id), service.revision)
    changed_at = ctx.now if _offer(old) != _offer(service) else old.changed_at
    service = attrs.evolve(service, changed_at=changed_at)
    uow.save(service)
    return attrs.evolve(service, revision=current + 1)


@operation(AuditAction.READ)
def directory_service(ctx: Context, service_id: DirectoryServiceId) -> DirectoryService:
    """Read a directory service (no patient data: shared with every active staff member)."""
    ctx.grant(PurposeOfUse.HOPERAT, entity=f"HealthcareService/{service_id}")
    found = ctx.uow.find(DirectoryService, str(service_id))
    if found is None:
        raise NotFoundError(f"directory service {service_id} not found")
    return found


@operation(AuditAction.READ)
def search_directory(ctx: Context, query: DirectoryQuery) -> tuple[DirectoryMatch, ...]:
    """Active services meeting ``query``'s needs, filtered and ranked with the reasons
    (see :func:`carecoord.directory.search_facts`); reads the asked categories' rows only."""
    check(query, DirectoryQuery)
    ctx.grant(PurposeOfUse.HOPERAT, entity="HealthcareService")
    hits = ctx.uow.query(
        WorkQuery(category=DIRECTORY_CATEGORY, owner_ids=query.categories, open_only=True)
    )
    return search_details(((str(hit.row.owner_id), hit.row.detail or "") for hit in hits), query)


@operation(AuditAction.READ)
def directory_alerts(ctx: Context, staff_id: StaffId) -> list[DirectoryAlert]:
    """The open referrals requested by ``staff_id`` whose directory service closed, or
    changed its needs, locations or hours after the referral was made (the service's
    ``changed_at`` is later than the referral's ``created_at``). Access as the caseload
    worklist; referrals of patients the actor may not read are left out.

    Three index queries, none decoding a record: the staff member's open ``referral``
    rows (``detail`` = the service), the services' ``directory-change`` rows, and the
    ``referral-target`` rows of those services and patients (``changed_at`` = when made).
    """
    _access.caseload_access(ctx, staff_id)
    uow = ctx.uow
    mine = {
        hit.row.item_id: hit.row
        for hit in uow.query(WorkQuery(category="referral", owner_ids=(str(staff_id),)))
        if hit.row.detail
    }
    if not mine:
        return []
    services = tuple(sorted({row.detail or "" for row in mine.values()}))
    patients = tuple(sorted({row.patient_id or "" for row in mine.values()}))
    changes = {
        hit.row.item_id: hit.row
        for hit in uow.query(
            WorkQuery(category=DIRECTORY_CHANGE, owner_ids=services, open_only=False)
        )
    }
    made = {
        hit.row.item_id: hit.row.changed_at
        for hit in uow.query(
            WorkQuery(category="referral-target", owner_ids=services, patient_ids=patients)
        )
    }
    can_read = _access.readable(ctx)
    can_read.prefetch(patients)
    alerts = []
    for referral_id, row in mine.items():
        change = changes.get(row.detail or "")
        created = made.get(referral_id)
        if change is None or created is None or not can_read(row.patient_id or ""):
            continue
        closed = change.status == "closed"
        if closed or (change.changed_at is not None and change.changed_at > created):
            alerts.append(
                DirectoryAlert(
                    ReferralId(referral_id),
                    PatientId(row.patient_id or ""),
                    DirectoryServiceId(row.detail or ""),
                    closed,
                    change.changed_at,
                )
            )
    return alerts
