"""Measurement use cases: record a vital sign or point-of-care result, feed goals, review.

Recording a measurement (``record-progress`` on the patient) flags its values
against their ranges (the catalogue's default action limits where none is
given), puts an out-of-range result on its reviewer's worklist (by default
the lead of the patient's active care team: the coordinator) and turns every
value whose LOINC code a goal target names into a reading of that goal, in the
same unit of work: the goal's achievement is derived again without anyone
typing the value twice.
"""

from __future__ import annotations

import attrs

from .. import events as ev
from ..access import Permission
from ..clinic import MeasurementAlert, MeasurementReport, goal_readings, with_defaults
from ..model import (
    CarePlan,
    CareTeam,
    CareTeamStatus,
    GoalAchievementStatus,
    Patient,
    PatientGoal,
    PatientId,
    StaffId,
    StorageError,
    ValidationError,
)
from ..model._base import instant
from ..model.audit import AuditAction
from ..model.clinic import Visit
from ..model.measurements import Interpretation, LoincCode, Measurement, MeasurementId
from ..storage.port import WorkQuery
from . import _access
from ._clinic_access import registered
from ._util import check, update
from .runner import Context, operation

__all__ = [
    "acknowledge_measurement",
    "measurement_alerts",
    "measurements_of",
    "record_measurement",
]

_ACHIEVED = {GoalAchievementStatus.ACHIEVED, GoalAchievementStatus.SUSTAINING}


def _reviewer(ctx: Context, patient_id: PatientId) -> StaffId | None:
    """The lead of the patient's active care team (the first by team id), if any."""
    teams = ctx.uow.all(CareTeam, patient_id=str(patient_id))
    leads = [t.lead_id for t in teams if t.status is CareTeamStatus.ACTIVE]
    return leads[0] if leads else None


@operation(AuditAction.CREATE)
def record_measurement(ctx: Context, measurement: Measurement) -> MeasurementReport:
    """Record a measurement and make the goal readings it stands for.

    Needs ``record-progress`` on the patient. ``taken_by`` must be registered
    staff and ``taken_at`` not in the future; a linked visit must be the
    patient's. ``review_by`` defaults to the lead of the patient's active care
    team.
    """
    check(measurement, Measurement)
    uow = ctx.uow
    ctx.allow(measurement.patient_id, Permission.RECORD_PROGRESS, f"Measurement/{measurement.id}")
    uow.get(Patient, measurement.patient_id)
    registered(uow, measurement.taken_by, "taken_by")
    if instant(measurement.taken_at) > instant(ctx.now):
        raise ValidationError("taken_at must not be in the future", field="taken_at")
    if measurement.acknowledged_at is not None:
        raise ValidationError("a new measurement is not acknowledged yet", field="acknowledged")
    if measurement.visit_id is not None:
        seen = uow.get(Visit, measurement.visit_id)
        if seen.patient_id != measurement.patient_id:
            raise ValidationError("the measurement's visit belongs to another patient")
    made = with_defaults(measurement)
    if made.out_of_range and made.review_by is None:
        made = attrs.evolve(made, review_by=_reviewer(ctx, made.patient_id))
    uow.add(made)
    plans = uow.all(CarePlan, patient_id=str(made.patient_id))
    own = uow.all(PatientGoal, patient_id=str(made.patient_id))
    readings, skipped = goal_readings(made, plans, own)
    common = ctx.common(made.patient_id)
    changed: dict[str, CarePlan] = {}
    mine: dict[str, PatientGoal] = {}
    for found in readings:
        if found.plan_id is None:  # a goal of the patient's own (as record_patient_goal_progress)
            held = mine.get(found.goal_id) or next(g for g in own if g.id == found.goal_id)
            mine[found.goal_id] = held.with_reading(found.reading)
            continue
        plan = changed.get(found.plan_id) or next(p for p in plans if p.id == found.plan_id)
        goal = plan.goal(found.goal_id)
        new_goal = goal.with_reading(found.reading)
        changed[found.plan_id] = plan.with_goal(new_goal)
        ctx.emit(
            ev.ProgressRecorded(
                **common,
                plan_id=str(plan.id),
                goal_id=str(goal.id),
                achievement=str(new_goal.achievement_status),
            )
        )
        if new_goal.achievement_status in _ACHIEVED and goal.achievement_status not in _ACHIEVED:
            ctx.emit(ev.GoalAchieved(**common, plan_id=str(plan.id), goal_id=str(goal.id)))
    for plan in changed.values():
        uow.save(plan)
    for held in mine.values():
        uow.save(held)
    ctx.emit(
        ev.MeasurementRecorded(
            **common, measurement_id=str(made.id), code=str(made.code), readings=len(readings)
        )
    )
    if made.out_of_range:
        ctx.emit(
            ev.MeasurementOutOfRange(
                **common,
                measurement_id=str(made.id),
                code=str(made.code),
                interpretation=_worst(made).value,
                owner_id=None if made.review_by is None else str(made.review_by),
            )
        )
    return MeasurementReport(measurement=made, readings=readings, skipped=skipped)


def _worst(made: Measurement) -> Interpretation:
    flags = [made.interpretation, *(c.interpretation for c in made.components)]
    return next(f for f in flags if f is not None and f.out_of_range)


@operation(AuditAction.READ)
def measurements_of(
    ctx: Context, patient_id: PatientId, code: LoincCode | None = None
) -> list[Measurement]:
    """A patient's measurements (of one LOINC code when given), oldest first."""
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    found = ctx.uow.all(Measurement, patient_id=str(patient_id))
    if code is not None:
        found = [m for m in found if m.code == code]
    return sorted(found, key=lambda m: (instant(m.taken_at), m.id))


@operation(AuditAction.READ)
def measurement_alerts(
    ctx: Context, staff_id: StaffId, include_acknowledged: bool = False
) -> list[MeasurementAlert]:
    """Out-of-range results on ``staff_id``'s review worklist (own, a report's, or with
    ``view-caseloads``), newest first; only of patients the actor may read."""
    _access.caseload_access(ctx, staff_id)
    query = WorkQuery(
        category="measurement-review",
        owner_ids=(str(staff_id),),
        open_only=not include_acknowledged,
    )
    hits = list(ctx.uow.query(query))
    can_read = _access.readable(ctx)
    can_read.prefetch(h.row.patient_id for h in hits)
    alerts = []
    for hit in hits:
        row = hit.row
        if row.patient_id is None or not can_read(row.patient_id):
            continue
        try:
            if row.changed_at is None or row.detail is None:
                raise ValueError
            alerts.append(
                MeasurementAlert(
                    measurement_id=MeasurementId(row.item_id),
                    patient_id=PatientId(row.patient_id),
                    code=LoincCode(row.detail),
                    interpretation=Interpretation(row.status),
                    taken_at=row.changed_at,
                    review_by=staff_id,
                    acknowledged=not row.is_open,
                )
            )
        except ValueError as exc:
            raise StorageError(f"index row of Measurement {hit.record_id} is invalid") from exc
    return sorted(alerts, key=lambda a: (-instant(a.taken_at).timestamp(), a.measurement_id))


@operation(AuditAction.UPDATE)
def acknowledge_measurement(ctx: Context, measurement_id: MeasurementId) -> Measurement:
    """Take an out-of-range result off the review worklist (``document`` on the patient)."""

    def acknowledge(old: Measurement) -> Measurement:
        if not old.out_of_range:
            raise ValidationError("the measurement is not out of range", field="interpretation")
        return old.acknowledged(by=ctx.actor_id, at=ctx.now)

    return update(ctx, Measurement, measurement_id, Permission.DOCUMENT, acknowledge)[1]
