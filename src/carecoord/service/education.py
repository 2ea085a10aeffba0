"""Patient education use cases: the materials catalogue, education given with teach-back,
the follow-up when it was not understood, and the teach-back success metric.

The catalogue is kept by administrators (``manage-staff``) and read by all
staff. Education given is recorded with ``record-progress`` (it serves the
patient's goals); a teach-back result of *not understood* adds a follow-up
intervention (kind ``education``, assigned to the educator) to the care plan
in the same unit of work, announced like any assignment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from .. import events as ev
from ..access import Permission
from ..model import (
    CarePlan,
    CarePlanStatus,
    Intervention,
    InterventionId,
    InterventionKind,
    NotFoundError,
    PatientId,
    ValidationError,
)
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction, PurposeOfUse
from ..model.education import EducationMaterial, EducationSession, TeachBackResult
from ..storage.port import WorkQuery
from ._admin_util import listed, registered_patient
from ._assignment import check_assignment
from ._util import assigned, check
from .runner import Context, operation

__all__ = [
    "FOLLOW_UP_TEXT",
    "TeachBackMetric",
    "education_of",
    "materials",
    "record_education",
    "save_material",
    "teach_back_success",
]

FOLLOW_UP_TEXT = "Repeat the education: teach-back showed it was not understood"
"""The description of a teach-back follow-up (no clinical detail: the session says what)."""


@operation(AuditAction.UPDATE)
def save_material(ctx: Context, material: EducationMaterial) -> EducationMaterial:
    """Add a material to the catalogue or replace it (staff-wide ``manage-staff``)."""
    check(material, EducationMaterial)
    ctx.allow_staff(Permission.MANAGE_STAFF, f"EducationMaterial/{material.id}")
    if ctx.uow.find(EducationMaterial, str(material.id)) is None:
        ctx.action = AuditAction.CREATE
        ctx.uow.add(material)
    else:
        ctx.uow.save(material)
    return material


@operation(AuditAction.READ)
def materials(
    ctx: Context, language: str | None = None, include_retired: bool = False
) -> list[EducationMaterial]:
    """The catalogue (shared with all staff), of one language when given, by id."""
    ctx.grant(PurposeOfUse.HOPERAT, entity="EducationMaterial")
    query = WorkQuery(
        category="material",
        statuses=None if language is None else (language,),
        open_only=not include_retired,
    )
    found = [ctx.uow.get(EducationMaterial, hit.record_id) for hit in ctx.uow.query(query)]
    return sorted(found, key=lambda m: m.id)


def _follow_up(session: EducationSession, due_in: timedelta, now: datetime) -> Intervention:
    raw = f"teach-back-{session.id}"
    return Intervention(
        id=InterventionId(raw) if len(raw) <= 64 else InterventionId.new(),
        kind=InterventionKind.EDUCATION,
        description=FOLLOW_UP_TEXT,
        created_at=now,
        assignee_id=session.given_by,
        due=now + due_in,
        goal_ids=session.goal_ids,
    )


@operation(AuditAction.CREATE)
def record_education(
    ctx: Context, session: EducationSession, follow_up_in: timedelta = timedelta(days=7)
) -> EducationSession:
    """Record education given and its teach-back result.

    The material must be in the catalogue, a contact taught must be one of
    the patient's, goals must be in ``session.plan_id``. When the result is
    *not understood*, a follow-up intervention due ``follow_up_in`` from now
    is added to that plan (which is then required) and named in the stored
    session's ``follow_up_id``.
    """
    check(session, EducationSession)
    if session.follow_up_id is not None:
        raise ValidationError("the follow-up is scheduled by the service", field="follow_up_id")
    if follow_up_in <= timedelta(0):
        raise ValidationError("follow_up_in must be positive", field="follow_up_in")
    ctx.allow(session.patient_id, Permission.RECORD_PROGRESS, f"EducationSession/{session.id}")
    patient = registered_patient(ctx, session.patient_id)
    if ctx.uow.find(EducationMaterial, str(session.material_id)) is None:
        raise NotFoundError(f"material {session.material_id} is not in the catalogue")
    if session.contact_id is not None:
        patient.contact(session.contact_id)
    if instant(session.given_at) > instant(ctx.now):
        raise ValidationError("education cannot be given in the future", field="given_at")
    plan = None
    if session.plan_id is not None:
        plan = ctx.uow.find(CarePlan, str(session.plan_id))
        if plan is None or plan.patient_id != session.patient_id:
            raise NotFoundError(f"care plan {session.plan_id} not found for the patient")
        for goal_id in session.goal_ids:
            plan.goal(goal_id)
    stored = session
    happened: list[ev.DomainEvent] = []
    common = ctx.common(session.patient_id)
    if session.result is TeachBackResult.NOT_UNDERSTOOD:
        if plan is None:
            raise ValidationError(
                "a teach-back that was not understood needs a care plan for its follow-up",
                field="plan_id",
            )
        item = _follow_up(session, follow_up_in, ctx.now)
        check_assignment(ctx, plan, item)
        ctx.uow.save(plan.with_intervention(item))
        stored = attrs.evolve(session, follow_up_id=item.id)
        happened.append(
            ev.InterventionAdded(**common, plan_id=str(plan.id), intervention_id=str(item.id))
        )
        if plan.status is CarePlanStatus.ACTIVE:
            happened.append(assigned(common, plan, item))
    ctx.uow.add(stored)
    happened.insert(
        0,
        ev.EducationRecorded(
            **common,
            education_id=str(stored.id),
            material_id=str(stored.material_id),
            result=stored.result.value,
            follow_up_id=None if stored.follow_up_id is None else str(stored.follow_up_id),
        ),
    )
    ctx.emit(*happened)
    return stored


@operation(AuditAction.READ)
def education_of(ctx: Context, patient_id: PatientId) -> list[EducationSession]:
    """Education given to the patient and their contacts, oldest first."""
    found = listed(ctx, EducationSession, "education", patient_id)
    return sorted(found, key=lambda s: (instant(s.given_at), s.id))


@attrs.frozen
class TeachBackMetric:
    """Teach-back success: sessions understood (``numerator``) of sessions with a teach-back
    result (``denominator``), given in ``[start, end)``."""

    start: datetime
    end: datetime
    numerator: int
    denominator: int

    @property
    def rate(self) -> float | None:
        """``numerator / denominator``; ``None`` when nothing was taught."""
        return None if self.denominator == 0 else self.numerator / self.denominator


@operation(AuditAction.READ)
def teach_back_success(ctx: Context, start: datetime, end: datetime) -> TeachBackMetric:
    """The teach-back success metric of a period, from index rows (``view-metrics``)."""
    ensure_aware(start, "start")
    ensure_aware(end, "end")
    if instant(end) <= instant(start):
        raise ValidationError("end must be after start", field="end")
    ctx.allow_staff(Permission.VIEW_METRICS, "TeachBackMetric")
    hits = ctx.uow.query(WorkQuery(category="education", open_only=False))
    rows = [
        hit.row
        for hit in hits
        if hit.row.changed_at is not None
        and instant(start) <= instant(hit.row.changed_at) < instant(end)
    ]
    understood = sum(1 for row in rows if row.status == TeachBackResult.UNDERSTOOD.value)
    return TeachBackMetric(start=start, end=end, numerator=understood, denominator=len(rows))
