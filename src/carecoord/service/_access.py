"""Loading what an access decision needs, from indexed rows only.

A decision about one patient reads the memberships of the patient's care
teams from the ``member`` index rows (never whole care teams), the reporting
lines of the active members (staff records, each decoded at most once per
unit of work), and the actor's unexpired emergency grants from the
``emergency`` rows. Every lookup is an index search, so its cost does not
grow with the number of patients in the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, overload

from ..access import AccessDecision, AccessPolicy, AccessRequest, Permission, TeamMembership
from ..model import (
    CareCoordError,
    CareTeamRole,
    CareTeamStatus,
    Membership,
    PatientId,
    Period,
    StaffId,
    StaffMember,
    StorageError,
    supervision_chain,
)
from ..model.access import EmergencyAccess
from ..model.audit import PurposeOfUse
from ..storage.port import IndexHit, WorkQuery
from ..storage.uow import UnitOfWork

if TYPE_CHECKING:
    from .runner import Context

__all__ = [
    "Readable",
    "caseload_access",
    "decide",
    "load_line",
    "memberships_of",
    "readable",
    "self_or_report",
]

_MAX_LINE = 50
"""A reporting line longer than this is a data error; walking stops there."""
_CHUNK = 500
"""Patients per membership query when a worklist checks many at once (bounded ``IN`` lists)."""


def memberships_of(uow: UnitOfWork, patient_id: str) -> tuple[TeamMembership, ...]:
    """The memberships on every care team of ``patient_id``, from the ``member`` index rows."""
    hits = uow.query(WorkQuery(category="member", patient_ids=(patient_id,), open_only=False))
    return tuple(_membership(hit) for hit in hits)


def _membership(hit: IndexHit) -> TeamMembership:
    row = hit.row
    if row.owner_id is None or row.detail is None or row.changed_at is None:
        raise StorageError(f"index row of CareTeam {hit.record_id} is incomplete")
    try:
        return TeamMembership(
            team_id=hit.record_id,
            patient_id=PatientId(row.patient_id or ""),
            team_status=CareTeamStatus(row.status),
            membership=Membership(
                staff_id=StaffId(row.owner_id),
                role=CareTeamRole(row.detail),
                period=Period(start=row.changed_at, end=row.due_at),
            ),
        )
    except (ValueError, CareCoordError) as exc:
        raise StorageError(f"index row of CareTeam {hit.record_id} is invalid") from exc


def load_line(uow: UnitOfWork, staff_id: StaffId, staff: dict[StaffId, StaffMember]) -> None:
    """Add ``staff_id`` and everyone above them on the reporting line to ``staff``."""
    current: StaffId | None = staff_id
    for _ in range(_MAX_LINE):
        if current is None or current in staff:
            return
        member = uow.find(StaffMember, current)
        if member is None:
            return
        staff[current] = member
        current = member.supervisor_id


class _StaffDirectory(Mapping[StaffId, StaffMember]):
    """The staff entries a decision may need, read (and decoded) only when asked for.

    Holds the actor, and can reach the active members of the patient's teams
    and everyone above them on their reporting lines. A policy that decides
    from the memberships alone never makes it read a staff record.
    """

    def __init__(self, uow: UnitOfWork, actor: StaffMember, roots: Iterable[StaffId]) -> None:
        self._uow = uow
        self._known: dict[StaffId, StaffMember] = {actor.id: actor}
        self._roots = tuple(dict.fromkeys(roots))
        self._reachable: set[StaffId] | None = None

    def _load(self) -> dict[StaffId, StaffMember]:
        if self._reachable is None:
            for root in self._roots:
                load_line(self._uow, root, self._known)
            self._reachable = set(self._known)
        return self._known

    def __getitem__(self, staff_id: StaffId) -> StaffMember:
        found = self._known.get(staff_id)
        if found is not None:
            return found
        if self._reachable is None and staff_id in self._load():
            return self._known[staff_id]
        raise KeyError(staff_id)

    def __contains__(self, staff_id: object) -> bool:
        return staff_id in self._known or (
            self._reachable is None and isinstance(staff_id, str) and staff_id in self._load()
        )

    def __iter__(self) -> Iterator[StaffId]:
        return iter(dict(self._load()))

    def __len__(self) -> int:
        return len(self._load())


class _Grants(Sequence[EmergencyAccess]):
    """The actor's unexpired emergency grants for one patient, read on first use."""

    def __init__(self, uow: UnitOfWork, actor: StaffId, patient_id: PatientId, now: datetime):
        self._uow = uow
        self._ask = (actor, patient_id, now)  # the query is built on first use only
        self._found: tuple[EmergencyAccess, ...] | None = None

    def _load(self) -> tuple[EmergencyAccess, ...]:
        if self._found is None:
            actor, patient_id, now = self._ask
            query = WorkQuery(
                category="emergency",
                owner_ids=(str(actor),),
                patient_ids=(str(patient_id),),
                due_from=now,
            )
            hits = self._uow.query(query)
            found = (self._uow.find(EmergencyAccess, hit.record_id) for hit in hits)
            self._found = tuple(grant for grant in found if grant is not None)
        return self._found

    @overload
    def __getitem__(self, index: int) -> EmergencyAccess: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[EmergencyAccess]: ...

    def __getitem__(self, index: int | slice) -> EmergencyAccess | Sequence[EmergencyAccess]:
        return self._load()[index]

    def __len__(self) -> int:
        return len(self._load())


def decide(
    uow: UnitOfWork,
    policy: AccessPolicy,
    actor: StaffMember,
    permission: Permission,
    patient_id: PatientId | None,
    now: datetime,
    *,
    memberships: tuple[TeamMembership, ...] | None = None,
) -> AccessDecision:
    """Ask ``policy`` about one access, with what it needs loaded from indexed rows.

    Staff records beyond the actor (the members' reporting lines, for the
    supervisor rule) are read only if the policy looks them up. ``memberships``
    are the patient's, when the caller has read them already (a batch).
    """
    roots: list[StaffId] = []
    grants: Sequence[EmergencyAccess] = ()
    if patient_id is None:
        memberships = ()
    else:
        if memberships is None:
            memberships = memberships_of(uow, str(patient_id))
        roots = [m.staff_id for m in memberships if m.active_at(now)]
        grants = _Grants(uow, actor.id, patient_id, now)
    request = AccessRequest(
        actor=actor,
        permission=permission,
        at=now,
        patient_id=patient_id,
        memberships=memberships,
        staff=_StaffDirectory(uow, actor, roots),
        emergency=grants,
    )
    return policy.decide(request)


def self_or_report(
    ctx: Context,
    staff_id: StaffId,
    otherwise: Permission,
    *,
    own: PurposeOfUse = PurposeOfUse.TREAT,
) -> None:
    """Access to a staff member's own things: oneself (audited with ``own``), one's direct
    or indirect report (HOPERAT); anyone else needs the staff-wide ``otherwise``."""
    entity = f"StaffMember/{staff_id}"
    if staff_id == ctx.actor_id:
        ctx.grant(own, entity=entity)
        return
    directory: dict[StaffId, StaffMember] = {}
    load_line(ctx.uow, staff_id, directory)
    try:
        above = supervision_chain(staff_id, directory) if staff_id in directory else []
    except CareCoordError:  # a broken reporting line grants nothing
        above = []
    if ctx.actor_id in above:
        ctx.grant(PurposeOfUse.HOPERAT, entity=entity)
    else:
        ctx.allow_staff(otherwise, entity=entity)


def caseload_access(ctx: Context, staff_id: StaffId) -> None:
    """Own worklist: allowed; a report's: the supervisor; anyone else's: ``view-caseloads``."""
    self_or_report(ctx, staff_id, Permission.VIEW_CASELOADS)


class Readable:
    """A cached per-patient READ check for the actor (used to filter worklists).

    Call it with a patient id. :meth:`prefetch` reads the care-team memberships
    of many patients in a few index queries (rather than one query per patient)
    before they are asked about; the decisions are the same either way.
    """

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._cache: dict[str, bool] = {}
        self._memberships: dict[str, tuple[TeamMembership, ...]] = {}

    def prefetch(self, patient_ids: Iterable[str | None]) -> None:
        """Read the memberships of ``patient_ids`` not decided yet, ``_CHUNK`` per query."""
        wanted = sorted(
            {p for p in patient_ids if p and p not in self._cache and p not in self._memberships}
        )
        for start in range(0, len(wanted), _CHUNK):
            chunk = tuple(wanted[start : start + _CHUNK])
            found: dict[str, list[TeamMembership]] = {p: [] for p in chunk}
            query = WorkQuery(category="member", patient_ids=chunk, open_only=False)
            for hit in self._ctx.uow.query(query):
                found[hit.row.patient_id or ""].append(_membership(hit))
            self._memberships.update((p, tuple(ms)) for p, ms in found.items())

    def __call__(self, patient_id: str) -> bool:
        cached = self._cache.get(patient_id)
        if cached is None:
            ctx = self._ctx
            decision = decide(
                ctx.uow,
                ctx.policy,
                ctx.actor,
                Permission.READ,
                PatientId(patient_id),
                ctx.now,
                memberships=self._memberships.pop(patient_id, None),
            )
            cached = self._cache[patient_id] = decision.allowed
        return cached


def readable(ctx: Context) -> Readable:
    """A cached per-patient READ check for the actor (see :class:`Readable`)."""
    return Readable(ctx)
