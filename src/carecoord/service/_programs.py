"""The programs-and-community-resources part of the :class:`~carecoord.CareCoordinator`
facade: the community resource directory (:mod:`.directory`). Each method runs one
handler through the operation runner, like every other facade method."""

from __future__ import annotations

from ..directory import DirectoryMatch, DirectoryQuery
from ..model import StaffId
from ..model.directory import DirectoryService, DirectoryServiceId
from . import directory
from .directory import DirectoryAlert
from .runner import OperationRunner

__all__ = ["ProgramMethods"]


class ProgramMethods:
    """Programs and community resources use cases (mixed into
    :class:`~carecoord.CareCoordinator`)."""

    _runner: OperationRunner

    def save_directory_service(
        self, service: DirectoryService, *, actor: StaffId
    ) -> DirectoryService:
        """Create or replace a community directory service (``manage-staff``); returns the
        stored copy with its new ``revision`` (a stale copy raises ConflictError)."""
        return self._runner.run(directory.save_directory_service, actor, service)

    def directory_service(
        self, service_id: DirectoryServiceId, *, actor: StaffId
    ) -> DirectoryService:
        """Read a directory service (shared with every active staff member)."""
        return self._runner.run(directory.directory_service, actor, service_id)

    def search_directory(
        self, query: DirectoryQuery, *, actor: StaffId
    ) -> tuple[DirectoryMatch, ...]:
        """Search the directory by need, language, opening time and distance; each match
        says why it matched (shared with every active staff member)."""
        return self._runner.run(directory.search_directory, actor, query)

    def directory_alerts(self, staff_id: StaffId, *, actor: StaffId) -> list[DirectoryAlert]:
        """The open referrals ``staff_id`` requested whose directory service closed or
        changed its needs, locations or hours since (access as the caseload worklist)."""
        return self._runner.run(directory.directory_alerts, actor, staff_id)
