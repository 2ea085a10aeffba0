"""The demo's patient administration part: a Spanish-speaking patient with an interpreter
need, a pending prior authorisation and a Spanish appointment reminder.

All invented; printed as identifiers, codes and times only (and the reminder's subject).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from ..model import Appointment, AppointmentId, Notification, PatientId, Period, StaffId
from ..model.administration import Coverage, CoverageId, PriorAuthorization, PriorAuthorizationId
from ..model.social import CommunicationNeeds
from ..service import CareCoordinator
from ..storage.uow import UnitOfWork

__all__ = ["show_administration"]


def show_administration(
    service: CareCoordinator,
    now: datetime,
    *,
    coordinator: StaffId,
    nurse: StaffId,
    patient: PatientId,
    out: Callable[[str], None],
) -> None:
    """Make ``patient`` Spanish-speaking with an interpreter need, request a prior
    authorisation under their coverage (submitted, waiting for the payer), book an
    appointment, and print the pending authorisation and the Spanish reminder."""
    record = service.patient(patient, actor=coordinator)
    service.update_patient(attrs.evolve(record, language="es"), actor=coordinator)
    service.set_communication_needs(
        CommunicationNeeds(
            patient_id=patient, recorded_at=now, recorded_by=coordinator, interpreter_needed=True
        ),
        actor=coordinator,
    )
    coverage = CoverageId(f"{patient}-medicaid")
    service.record_coverage(
        Coverage(
            id=coverage,
            patient_id=patient,
            payer="State Medicaid",
            member_id="DEMO-0001",
            period=Period(start=now - timedelta(days=365)),
            recorded_at=now,
            recorded_by=coordinator,
        ),
        actor=coordinator,
    )
    authorization = PriorAuthorizationId(f"{patient}-pa-1")
    service.request_authorization(
        PriorAuthorization(
            id=authorization,
            patient_id=patient,
            coverage_id=coverage,
            service="Home oxygen",
            requested_by=nurse,
            created_at=now,
            submit_by=now + timedelta(days=2),
        ),
        actor=nurse,
    )
    service.submit_authorization(authorization, actor=nurse, decision_due=now + timedelta(days=10))
    start = now + timedelta(days=3)
    appointment = AppointmentId(f"{patient}-pulmonology")
    service.schedule_appointment(
        Appointment(
            id=appointment,
            patient_id=patient,
            start=start,
            end=start + timedelta(hours=1),
            provider="Pulmonology clinic",
            location="Main street",
        ),
        actor=nurse,
        status="booked",
    )
    worklist = service.administration_worklist(actor=coordinator)
    out(f"Administration worklist of {coordinator}:")
    for item in worklist.authorizations_pending:
        due = item.due_at.isoformat(timespec="minutes") if item.due_at else "-"
        out(f"  authorisation {item.item_id} {item.status} (decision due {due})")
    with UnitOfWork(service.store) as uow:
        reminders = [
            n
            for n in uow.all(Notification, patient_id=str(patient))
            if n.event == "AppointmentBooked" and n.recipient_id == str(patient)
        ]
    for note in reminders:
        out(f"Reminder to {patient} (language es): {note.subject}")
