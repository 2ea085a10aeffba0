"""Patient records: assessments, barriers, notes, decisions, consents, encounters, surveys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import attrs

from .. import events as ev
from ..access import Permission
from ..model import (
    Assessment,
    Barrier,
    BarrierId,
    Consent,
    ConsentId,
    ConsentStatus,
    Encounter,
    EncounterId,
    Note,
    Patient,
    PatientDecision,
    PatientId,
    SurveyResponse,
    ValidationError,
)
from ..model._base import ensure_aware
from ..model.audit import AuditAction
from ._util import check, update
from .runner import Context, operation

__all__ = [
    "assessments_of",
    "barriers_of",
    "consents_of",
    "decisions_of",
    "notes_of",
    "record_assessment",
    "record_barrier",
    "record_consent",
    "record_decision",
    "record_discharge",
    "record_encounter",
    "record_note",
    "record_survey_response",
    "resolve_barrier",
    "set_consent_status",
]

R = TypeVar("R")


def _add(
    ctx: Context,
    record: R,
    cls: type[R],
    permission: Permission,
    *,
    verify: Callable[[Patient], object] | None = None,
    event: Callable[[dict[str, Any]], ev.DomainEvent] | None = None,
) -> R:
    """Create one new record of a registered patient (the shared shape of ``record_*``)."""
    check(record, cls)
    patient_id: PatientId = record.patient_id  # type: ignore[attr-defined]
    ctx.allow(patient_id, permission, f"{cls.__name__}/{record.id}")  # type: ignore[attr-defined]
    patient = ctx.uow.get(Patient, patient_id)
    if verify is not None:
        verify(patient)
    ctx.uow.add(record)
    if event is not None:
        ctx.emit(event(ctx.common(patient_id)))
    return record


def _list(ctx: Context, cls: type[R], patient_id: PatientId) -> list[R]:
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    return ctx.uow.all(cls, patient_id=str(patient_id))


@operation(AuditAction.CREATE)
def record_assessment(ctx: Context, assessment: Assessment) -> Assessment:
    """Record an assessment and the needs it identified."""
    return _add(
        ctx,
        assessment,
        Assessment,
        Permission.RECORD_ASSESSMENT,
        event=lambda common: ev.AssessmentRecorded(
            **common,
            assessment_id=str(assessment.id),
            need_ids=tuple(str(n.id) for n in assessment.needs),
        ),
    )


@operation(AuditAction.READ)
def assessments_of(ctx: Context, patient_id: PatientId) -> list[Assessment]:
    """Every assessment of a patient, oldest first."""
    return sorted(_list(ctx, Assessment, patient_id), key=lambda a: a.performed_at)


@operation(AuditAction.CREATE)
def record_barrier(ctx: Context, barrier: Barrier) -> Barrier:
    """Record a barrier to care."""
    return _add(
        ctx,
        barrier,
        Barrier,
        Permission.RECORD_BARRIER,
        event=lambda common: ev.BarrierRecorded(
            **common, barrier_id=str(barrier.id), kind=barrier.kind.value
        ),
    )


@operation(AuditAction.UPDATE)
def resolve_barrier(ctx: Context, barrier_id: BarrierId, summary: str) -> Barrier:
    """Resolve a barrier, now."""
    _, new = update(
        ctx,
        Barrier,
        barrier_id,
        Permission.RECORD_BARRIER,
        lambda old: old.resolve(summary, by=ctx.actor_id, at=ctx.now),
    )
    ctx.emit(ev.BarrierResolved(**ctx.common(new.patient_id), barrier_id=str(new.id)))
    return new


@operation(AuditAction.READ)
def barriers_of(ctx: Context, patient_id: PatientId) -> list[Barrier]:
    """Every barrier of a patient."""
    return _list(ctx, Barrier, patient_id)


@operation(AuditAction.CREATE)
def record_note(ctx: Context, note: Note) -> Note:
    """Document an interaction; a note naming a contact must name one of the patient's."""
    return _add(
        ctx,
        note,
        Note,
        Permission.DOCUMENT,
        verify=lambda patient: (
            None if note.contact_id is None else patient.contact(note.contact_id)
        ),
        event=lambda common: ev.NoteRecorded(
            **common, note_id=str(note.id), party=note.party.value, channel=note.channel.value
        ),
    )


@operation(AuditAction.READ)
def notes_of(ctx: Context, patient_id: PatientId) -> list[Note]:
    """Every note of a patient, oldest first."""
    return sorted(_list(ctx, Note, patient_id), key=lambda n: n.at)


@operation(AuditAction.CREATE)
def record_decision(ctx: Context, decision: PatientDecision) -> PatientDecision:
    """Record a patient's decision about a recommendation."""
    return _add(
        ctx,
        decision,
        PatientDecision,
        Permission.DOCUMENT,
        event=lambda common: ev.DecisionRecorded(
            **common, decision_id=str(decision.id), outcome=decision.outcome.value
        ),
    )


@operation(AuditAction.READ)
def decisions_of(ctx: Context, patient_id: PatientId) -> list[PatientDecision]:
    """Every recorded decision of a patient, oldest first."""
    return sorted(_list(ctx, PatientDecision, patient_id), key=lambda d: d.at)


@operation(AuditAction.CREATE)
def record_consent(ctx: Context, consent: Consent) -> Consent:
    """Record a consent; every contact it names must be one of the patient's."""
    return _add(
        ctx,
        consent,
        Consent,
        Permission.RECORD_CONSENT,
        verify=lambda patient: [patient.contact(c) for c in consent.contact_ids],
        event=lambda common: ev.ConsentRecorded(**common, consent_id=str(consent.id)),
    )


@operation(AuditAction.UPDATE)
def set_consent_status(
    ctx: Context, consent_id: ConsentId, status: ConsentStatus | str, reason: str | None = None
) -> Consent:
    """Move a consent through FHIR consent-state (e.g. withdraw: ``inactive``)."""
    old, new = update(
        ctx,
        Consent,
        consent_id,
        Permission.RECORD_CONSENT,
        lambda old: old.transition(status, by=ctx.actor_id, at=ctx.now, reason=reason),
    )
    ctx.emit(
        ev.ConsentStatusChanged(
            **ctx.common(old.patient_id),
            consent_id=str(old.id),
            from_status=old.status.value,
            to_status=new.status.value,
        )
    )
    return new


@operation(AuditAction.READ)
def consents_of(ctx: Context, patient_id: PatientId) -> list[Consent]:
    """Every consent of a patient."""
    return _list(ctx, Consent, patient_id)


@operation(AuditAction.CREATE)
def record_encounter(ctx: Context, encounter: Encounter) -> Encounter:
    """Record a hospital or clinic encounter of a patient (admission, maybe discharge)."""
    return _add(ctx, encounter, Encounter, Permission.DOCUMENT)


@operation(AuditAction.UPDATE)
def record_discharge(ctx: Context, encounter_id: EncounterId, discharged_at: datetime) -> Encounter:
    """Record when an admitted patient was discharged (once)."""

    def discharge(old: Encounter) -> Encounter:
        if old.discharged_at is not None:
            raise ValidationError(
                f"encounter {encounter_id} is already discharged", field="discharged_at"
            )
        return attrs.evolve(old, discharged_at=ensure_aware(discharged_at, "discharged_at"))

    return update(ctx, Encounter, encounter_id, Permission.DOCUMENT, discharge)[1]


@operation(AuditAction.CREATE)
def record_survey_response(ctx: Context, response: SurveyResponse) -> SurveyResponse:
    """Record a patient's satisfaction survey score."""
    return _add(ctx, response, SurveyResponse, Permission.DOCUMENT)
