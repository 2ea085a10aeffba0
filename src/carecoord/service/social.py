"""Social context and social needs screening: use cases.

The social context (living situation, transport, caregiver availability) is
part of the patient's record (``edit-patient``). A screening
(``record-assessment``) keeps the answers and, under the screening rules
(:data:`carecoord.screening.SCREENING_RULES` unless the host passes its own),
raises a barrier and a need for each answer that calls for one, in the same
unit of work: the needs in one assessment (domain social, the need's code
the Gravity SDOH category), a barrier only where the patient has no open one
of that kind. What the answers say about housing and transport updates the
social context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from .. import events as ev
from ..access import Permission
from ..model import (
    Assessment,
    AssessmentDomain,
    AssessmentId,
    Barrier,
    BarrierId,
    Need,
    NeedId,
    PatientId,
    ValidationError,
)
from ..model.audit import AuditAction
from ..model.social import ScreeningResponse, SocialContext
from ..screening import SCREENING_RULES, ScreeningRule, triggered
from ..storage.port import WorkQuery
from ._admin_util import listed, registered_patient
from ._util import check
from .runner import Context, operation

__all__ = ["record_screening", "screenings_of", "set_social_context", "social_context_of"]


@operation(AuditAction.UPDATE)
def set_social_context(ctx: Context, context: SocialContext) -> SocialContext:
    """Record (or replace) the patient's social context."""
    check(context, SocialContext)
    ctx.allow(context.patient_id, Permission.EDIT_PATIENT, f"SocialContext/{context.id}")
    registered_patient(ctx, context.patient_id)
    _store_context(ctx, context)
    ctx.emit(ev.PatientUpdated(**ctx.common(context.patient_id)))
    return context


def _store_context(ctx: Context, context: SocialContext) -> None:
    if ctx.uow.find(SocialContext, str(context.id)) is None:
        ctx.uow.add(context)
    else:
        ctx.uow.save(context)


@operation(AuditAction.READ)
def social_context_of(ctx: Context, patient_id: PatientId) -> SocialContext | None:
    """The patient's social context, ``None`` when none is recorded."""
    ctx.allow(patient_id, Permission.READ, f"SocialContext/{patient_id}")
    return ctx.uow.find(SocialContext, str(patient_id))


def _open_barrier_kinds(ctx: Context, patient_id: PatientId) -> dict[str, str]:
    query = WorkQuery(category="barrier", patient_ids=(str(patient_id),))
    return {hit.row.detail or "": hit.record_id for hit in ctx.uow.query(query)}


@operation(AuditAction.CREATE)
def record_screening(
    ctx: Context,
    screening: ScreeningResponse,
    rules: Sequence[ScreeningRule] = SCREENING_RULES,
) -> ScreeningResponse:
    """Record a screening; returns it with the barriers and needs its answers raised."""
    check(screening, ScreeningResponse)
    if screening.barrier_ids or screening.need_ids:
        raise ValidationError("the barriers and needs are raised by the service")
    pid = screening.patient_id
    ctx.allow(pid, Permission.RECORD_ASSESSMENT, f"ScreeningResponse/{screening.id}")
    registered_patient(ctx, pid)
    hits = triggered(screening.answers, rules)
    barrier_ids: list[BarrierId] = []
    needs: list[Need] = []
    open_kinds = _open_barrier_kinds(ctx, pid)
    common = ctx.common(pid)
    events: list[ev.DomainEvent] = []
    for n, rule in enumerate(hits, start=1):
        needs.append(
            Need(
                id=NeedId(f"{screening.id}-n{n}"[:64]),
                domain=AssessmentDomain.SOCIAL,
                description=rule.need,
                priority=rule.priority,
                code=rule.category,
            )
        )
        existing = open_kinds.get(rule.barrier.value)
        if existing is not None:
            barrier_ids.append(BarrierId(existing))
            continue
        barrier = Barrier(
            id=BarrierId(f"{screening.id}-b{n}"[:64]),
            patient_id=pid,
            kind=rule.barrier,
            identified_at=screening.at,
            identified_by=ctx.actor_id,
            description=rule.need,
        )
        ctx.uow.add(barrier)
        open_kinds[rule.barrier.value] = str(barrier.id)
        barrier_ids.append(barrier.id)
        events.append(
            ev.BarrierRecorded(**common, barrier_id=str(barrier.id), kind=rule.barrier.value)
        )
    if needs:
        assessment = Assessment(
            id=AssessmentId(f"{screening.id}-a"[:64]),
            patient_id=pid,
            performed_by=ctx.actor_id,
            performed_at=screening.at,
            needs=tuple(needs),
        )
        ctx.uow.add(assessment)
        events.append(
            ev.AssessmentRecorded(
                **common,
                assessment_id=str(assessment.id),
                need_ids=tuple(str(n.id) for n in needs),
            )
        )
    _update_context(ctx, screening, hits)
    stored = attrs.evolve(
        screening,
        barrier_ids=tuple(dict.fromkeys(barrier_ids)),
        need_ids=tuple(n.id for n in needs),
    )
    ctx.uow.add(stored)
    ctx.emit(
        ev.ScreeningRecorded(
            **common,
            screening_id=str(stored.id),
            barrier_ids=tuple(str(b) for b in stored.barrier_ids),
            need_ids=tuple(str(n) for n in stored.need_ids),
        ),
        *events,
    )
    return stored


def _update_context(
    ctx: Context, screening: ScreeningResponse, hits: Sequence[ScreeningRule]
) -> None:
    changes: dict[str, Any] = {}
    for rule in hits:
        if rule.living_situation is not None:
            changes["living_situation"] = rule.living_situation
        if rule.transport is not None:
            changes["transport"] = rule.transport
    if not changes:
        return
    current = ctx.uow.find(SocialContext, str(screening.patient_id)) or SocialContext(
        patient_id=screening.patient_id, recorded_at=screening.at, recorded_by=ctx.actor_id
    )
    _store_context(
        ctx, attrs.evolve(current, recorded_at=screening.at, recorded_by=ctx.actor_id, **changes)
    )


@operation(AuditAction.READ)
def screenings_of(ctx: Context, patient_id: PatientId) -> list[ScreeningResponse]:
    """The patient's screenings, oldest first."""
    return sorted(listed(ctx, ScreeningResponse, "screening", patient_id), key=lambda s: s.at)
