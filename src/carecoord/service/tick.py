"""Time-driven work: overdue and escalated interventions, reviews due, stalled referrals.

Each announcement is its own small unit of work that leaves a
:class:`~carecoord.model.outbox.TimedEventMarker` with a stable id: creating
the marker is what makes the announcement happen once, even when several
hosts call ``tick`` at the same time (the second create of the same marker
conflicts and announces nothing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from .. import events as ev
from ..model import CarePlan, CarePlanStatus, ConflictError, InterventionId, Referral
from ..model.audit import AuditAction, AuditEntry, AuditOutcome, PurposeOfUse
from ..model.outbox import TimedEventMarker, stable_id
from ..storage.port import Store, WorkQuery
from ..storage.uow import UnitOfWork
from . import _outbox
from .runner import SYSTEM_ACTOR, OperationRunner, Settings

__all__ = ["Make", "TickReport", "announce_once", "run_tick"]

Make = Callable[[UnitOfWork], ev.DomainEvent | None]
"""Builds the event to announce from a unit of work (``None``: nothing to announce)."""


@attrs.frozen
class TickReport:
    """What one :meth:`CareCoordinator.tick` announced (each thing only once, ever)."""

    overdue: int = 0
    escalated: int = 0
    reviews_due: int = 0
    referrals_stalled: int = 0
    sealed: int = 0
    """Audit entries the tick sealed into the chain (not an announcement)."""

    @property
    def total(self) -> int:
        """Everything announced in this tick."""
        return self.overdue + self.escalated + self.reviews_due + self.referrals_stalled


def announce_once(
    runner: OperationRunner,
    store: Store,
    settings: Settings,
    moment: datetime,
    event_name: str,
    key: tuple[str, ...],
    make: Make,
) -> bool:
    """Announce the event ``make`` builds, once ever for ``(event_name, key)``.

    One unit of work writes a :class:`TimedEventMarker` (whose id is derived from
    the name and key), the event's notifications (the outbox) and nothing else;
    a marker already there, ``make`` returning ``None``, or a concurrent run
    writing the same marker first (a conflict) announce nothing. Events are
    dispatched after the commit. Returns whether this call announced it.
    """
    marker_id = stable_id(event_name, *key)
    try:
        with UnitOfWork(store) as uow:
            if uow.find(TimedEventMarker, marker_id) is not None:
                return False
            event = make(uow)
            if event is None:
                return False
            uow.add(
                TimedEventMarker(
                    id=marker_id,
                    event=event_name,
                    subject_id="/".join(key),
                    at=moment,
                    patient_id=event.patient_id,
                )
            )
            uow.collect(event)
            _outbox.plan(uow, moment, settings.notification_rules)
    except ConflictError:
        return False  # a concurrent run announced it first
    runner.dispatch(uow.events)
    return True


def run_tick(
    runner: OperationRunner, store: Store, settings: Settings, moment: datetime
) -> TickReport:
    """Announce everything due at ``moment`` once; audit the tick as one entry."""
    counts = {"overdue": 0, "escalated": 0, "reviews_due": 0, "referrals_stalled": 0}

    def announce(event_name: str, key: tuple[str, ...], make: Make) -> bool:
        return announce_once(runner, store, settings, moment, event_name, key, make)

    try:
        for hit in store.query(WorkQuery(category="intervention", due_before=moment)):
            due = hit.row.due_at
            assert due is not None
            key = (hit.record_id, hit.row.item_id, due.isoformat())
            if announce(
                "InterventionOverdue", key, _overdue(hit.record_id, hit.row.item_id, moment, None)
            ):
                counts["overdue"] += 1
            escalate = settings.escalate_after
            if moment - due >= escalate and announce(
                "InterventionEscalated",
                key,
                _overdue(hit.record_id, hit.row.item_id, moment, escalate),
            ):
                counts["escalated"] += 1
        for hit in store.query(WorkQuery(category="review", due_before=moment)):
            due = hit.row.due_at
            assert due is not None
            if announce(
                "ReviewDue", (hit.record_id, due.isoformat()), _review_due(hit.record_id, moment)
            ):
                counts["reviews_due"] += 1
        stall = settings.stalled_referral_after
        stalled_before = _stall_cutoff(moment, stall)
        referrals = (
            ()
            if stalled_before is None
            else store.query(WorkQuery(category="referral", changed_before=stalled_before))
        )
        for hit in referrals:
            changed = hit.row.changed_at
            assert changed is not None
            if announce(
                "ReferralStalled",
                (hit.record_id, changed.isoformat()),
                _stalled(hit.record_id, moment, stall),
            ):
                counts["referrals_stalled"] += 1
    except BaseException as exc:
        runner.audit_failure(moment, SYSTEM_ACTOR, "tick", None, exc)
        raise
    report = TickReport(**counts)
    with UnitOfWork(store) as uow:
        uow.add(
            AuditEntry.create(
                at=moment,
                actor=SYSTEM_ACTOR,
                action=AuditAction.EXECUTE,
                operation="tick",
                outcome=AuditOutcome.SUCCESS,
                purpose=PurposeOfUse.HOPERAT,
                detail=f"announced={report.total}",
            )
        )
    return report


def _stall_cutoff(moment: datetime, stall: timedelta) -> datetime | None:
    """``moment - stall``: referrals unchanged since before it are stalled.

    ``None`` when that is before the earliest representable time (no referral
    can have been unchanged since then); the last representable instant when a
    negative ``stall`` runs past the latest one.
    """
    try:
        return moment - stall
    except OverflowError:
        return None if stall > timedelta(0) else datetime.max.replace(tzinfo=UTC)


def _overdue(plan_id: str, item_id: str, now: datetime, escalation: timedelta | None) -> Make:
    def make(uow: UnitOfWork) -> ev.DomainEvent | None:
        plan = uow.find(CarePlan, plan_id)
        if plan is None or plan.status is not CarePlanStatus.ACTIVE:
            return None
        item = plan.intervention(InterventionId(item_id))
        due = item.due_at
        if due is None or not item.is_overdue(now):
            return None
        common: dict[str, Any] = {
            "at": now,
            "actor": SYSTEM_ACTOR,
            "patient_id": str(plan.patient_id),
        }
        assignee = None if item.assignee_id is None else str(item.assignee_id)
        if escalation is None:
            return ev.InterventionOverdue(
                **common, plan_id=plan_id, intervention_id=item_id, assignee_id=assignee, due_at=due
            )
        if now - due < escalation:
            return None
        return ev.InterventionEscalated(
            **common,
            plan_id=plan_id,
            intervention_id=item_id,
            assignee_id=assignee,
            due_at=due,
            days_overdue=(now - due).days,
        )

    return make


def _review_due(plan_id: str, now: datetime) -> Make:
    def make(uow: UnitOfWork) -> ev.DomainEvent | None:
        plan = uow.find(CarePlan, plan_id)
        if plan is None or plan.status is not CarePlanStatus.ACTIVE:
            return None
        if plan.next_review_at is None or plan.next_review_at > now:
            return None
        return ev.ReviewDue(
            at=now,
            actor=SYSTEM_ACTOR,
            patient_id=str(plan.patient_id),
            plan_id=plan_id,
            owner_id=str(plan.author_id),
            due_at=plan.next_review_at,
        )

    return make


def _stalled(referral_id: str, now: datetime, stall: timedelta) -> Make:
    def make(uow: UnitOfWork) -> ev.DomainEvent | None:
        referral = uow.find(Referral, referral_id)
        if referral is None or referral.is_closed:
            return None
        if now - referral.last_changed_at < stall:
            return None
        return ev.ReferralStalled(
            at=now,
            actor=SYSTEM_ACTOR,
            patient_id=str(referral.patient_id),
            referral_id=referral_id,
            owner_id=str(referral.requested_by),
            last_changed_at=referral.last_changed_at,
            days_without_change=(now - referral.last_changed_at).days,
        )

    return make
