"""Community resource directory use cases: keep directory services, search them.

Directory data is public information about services (no patient data): every active
staff member may read and search it; creating or changing an entry needs the staff-wide
``manage-staff`` permission, like a clinic. A search reads only the index rows of the
need categories asked for (:data:`DIRECTORY_CATEGORY`),
never a service record.
"""

from __future__ import annotations

import attrs

from ..access import Permission
from ..directory import DirectoryMatch, DirectoryQuery, search_facts
from ..model import ConflictError, NotFoundError
from ..model.audit import AuditAction, PurposeOfUse
from ..model.directory import DirectoryFacts, DirectoryService, DirectoryServiceId
from ..storage.port import WorkQuery
from ._util import check
from .runner import Context, operation

__all__ = ["directory_service", "save_directory_service", "search_directory"]

DIRECTORY_CATEGORY = "directory-service"
"""The index category of a service's search rows (as ``storage._program_rows`` writes them)."""


@operation(AuditAction.UPDATE)
def save_directory_service(ctx: Context, service: DirectoryService) -> DirectoryService:
    """Create or replace a directory service (``manage-staff``); a stale copy raises
    ConflictError. Closing one is saving it with ``active=False``."""
    check(service, DirectoryService)
    ctx.allow_staff(Permission.MANAGE_STAFF, entity=f"HealthcareService/{service.id}")
    uow = ctx.uow
    if uow.find(DirectoryService, service.id) is None:
        if service.revision:
            raise ConflictError("DirectoryService", str(service.id), service.revision)
        ctx.action = AuditAction.CREATE
        uow.add(service)
        return attrs.evolve(service, revision=1)
    current = uow.version_of(DirectoryService, service.id)
    if service.revision != current:
        raise ConflictError("DirectoryService", str(service.id), service.revision)
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
    rows = (
        (str(hit.row.owner_id), DirectoryFacts.from_detail(hit.row.detail or "")) for hit in hits
    )
    return search_facts(rows, query)
