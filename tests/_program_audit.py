"""The programs-and-community-resources operations of the audit table
(tests/test_service_audit.py).

Operation name -> (call as the allowed actor, call as someone denied, or None when every
active staff member may call it). Order matters: later calls use what earlier ones made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carecoord.directory import DirectoryQuery
from carecoord.model.directory import (
    DirectoryService,
    DirectoryServiceId,
    ServiceOrganization,
    ServiceOrganizationId,
)
from carecoord.service import CareCoordinator
from world import COORD, MA, NURSE

__all__ = ["PROGRAM_OPERATIONS"]

Call = Callable[[CareCoordinator, Any], Any]
SERVICE = DirectoryServiceId("audit-pantry")
PANTRY = DirectoryService(
    id=SERVICE,
    name="Audit pantry",
    organization=ServiceOrganization(ServiceOrganizationId("audit-org"), "Audit aid"),
    categories=("food-insecurity",),
)

PROGRAM_OPERATIONS: dict[str, tuple[Call, Call | None]] = {
    "save_directory_service": (
        lambda s, a: s.save_directory_service(PANTRY, actor=a),
        lambda s, a: s.save_directory_service(PANTRY, actor=NURSE),
    ),
    "directory_service": (lambda s, a: s.directory_service(SERVICE, actor=a), None),
    "search_directory": (
        lambda s, a: s.search_directory(DirectoryQuery(("food-insecurity",)), actor=a),
        None,
    ),
    "directory_alerts": (
        lambda s, a: s.directory_alerts(COORD, actor=a),
        lambda s, a: s.directory_alerts(COORD, actor=MA),
    ),
}
