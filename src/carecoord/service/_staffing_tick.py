"""Time-driven staffing announcements: shift reminders, expiring and expired competencies.

Like :mod:`.tick`: each announcement is a small unit of work that leaves a
:class:`~carecoord.model.outbox.TimedEventMarker` with a stable id, so it
happens once however often (and from however many hosts) this runs; its
notifications go through the outbox. One audit entry records the run.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from .. import events as ev
from ..model import StaffId
from ..model._base import instant
from ..model.audit import AuditAction, AuditEntry, AuditOutcome, PurposeOfUse
from ..model.training import StaffingPolicy, TrainingRecord
from ..model.workforce import MAX_SHIFT, Shift
from ..storage.port import Store, WorkQuery
from ..storage.uow import UnitOfWork
from ._staffing import TICK, credentials_of, policy_of
from .runner import SYSTEM_ACTOR, OperationRunner, Settings
from .tick import Make, announce_once

__all__ = ["StaffingReport", "announce_staffing"]


@attrs.frozen
class StaffingReport:
    """What one :meth:`CareCoordinator.announce_staffing` announced (each thing once, ever)."""

    shift_reminders: int = 0
    competencies_expiring: int = 0
    competencies_expired: int = 0

    @property
    def total(self) -> int:
        """Everything announced."""
        return self.shift_reminders + self.competencies_expiring + self.competencies_expired


def announce_staffing(
    runner: OperationRunner,
    store: Store,
    settings: Settings,
    moment: datetime,
    *,
    remind_before: timedelta,
    expired_within: timedelta,
) -> StaffingReport:
    """Announce shifts starting within ``remind_before`` of ``moment``, competencies in their
    warning window, and competencies that expired within ``expired_within`` and were not
    renewed; each once."""
    counts = {"shift_reminders": 0, "competencies_expiring": 0, "competencies_expired": 0}

    def announce(event_name: str, key: tuple[str, ...], make: Make) -> bool:
        return announce_once(runner, store, settings, moment, event_name, key, make)

    try:
        horizon = moment + remind_before
        query = WorkQuery(
            category="shift",
            due_from=moment + TICK,
            due_before=horizon + MAX_SHIFT + TICK,
            changed_before=horizon + TICK,
        )
        for hit in store.query(query):
            start = hit.row.changed_at
            if start is None or instant(start) <= instant(moment):
                continue
            if announce(
                "ShiftReminder",
                (hit.record_id, start.isoformat()),
                _reminder(hit.record_id, moment),
            ):
                counts["shift_reminders"] += 1
        with UnitOfWork(store) as uow:
            policy = policy_of(uow)
        warn = max((timedelta(days=c.warn_days) for c in policy.competencies), default=timedelta(0))
        query = WorkQuery(
            category="training",
            due_from=moment - expired_within,
            due_before=moment + warn + TICK,
        )
        for hit in store.query(query):
            expires = hit.row.due_at
            if expires is None:
                continue
            expired = instant(expires) <= instant(moment)
            name = "CompetencyExpired" if expired else "CompetencyExpiring"
            make = _competency(hit.record_id, moment, policy, expired)
            if announce(name, (hit.record_id, expires.isoformat()), make):
                counts["competencies_expired" if expired else "competencies_expiring"] += 1
    except BaseException as exc:
        runner.audit_failure(moment, SYSTEM_ACTOR, "announce_staffing", None, exc)
        raise
    report = StaffingReport(**counts)
    with UnitOfWork(store) as uow:
        uow.add(
            AuditEntry.create(
                at=moment,
                actor=SYSTEM_ACTOR,
                action=AuditAction.EXECUTE,
                operation="announce_staffing",
                outcome=AuditOutcome.SUCCESS,
                purpose=PurposeOfUse.HOPERAT,
                detail=f"announced={report.total}",
            )
        )
    return report


def _reminder(shift_id: str, now: datetime) -> Make:
    def make(uow: UnitOfWork) -> ev.DomainEvent | None:
        shift = uow.find(Shift, shift_id)
        if shift is None or not shift.is_planned or instant(shift.start) <= instant(now):
            return None
        return ev.ShiftReminder(
            at=now,
            actor=SYSTEM_ACTOR,
            patient_id=None,
            shift_id=str(shift.id),
            owner_id=str(shift.staff_id),
            role=shift.role.value,
            location_id=str(shift.location_id),
            kind=shift.kind.value,
            start=shift.start,
            end=shift.end,
        )

    return make


def _competency(record_id: str, now: datetime, policy: StaffingPolicy, expired: bool) -> Make:
    def make(uow: UnitOfWork) -> ev.DomainEvent | None:
        record = uow.find(TrainingRecord, record_id)
        if record is None or not record.is_signed_off or record.expires_at is None:
            return None
        try:
            entry = policy.competency(record.competency_id)
        except LookupError:
            return None  # no longer catalogued: nothing to renew
        expires = record.expires_at
        if expired != (instant(expires) <= instant(now)):
            return None
        if not expired and instant(expires) - instant(now) > timedelta(days=entry.warn_days):
            return None
        later = [
            c
            for c in credentials_of(uow, [record.staff_id], [record.competency_id])
            if c.signed_off
            and c.record_id != record.id
            and (c.expires_at is None or instant(c.expires_at) > instant(expires))
        ]
        if later:
            return None  # renewed
        owner = str(StaffId(record.staff_id))
        if expired:
            return ev.CompetencyExpired(
                at=now,
                actor=SYSTEM_ACTOR,
                patient_id=None,
                competency_id=str(entry.id),
                owner_id=owner,
                expired_at=expires,
            )
        return ev.CompetencyExpiring(
            at=now,
            actor=SYSTEM_ACTOR,
            patient_id=None,
            competency_id=str(entry.id),
            owner_id=owner,
            expires_at=expires,
        )

    return make
