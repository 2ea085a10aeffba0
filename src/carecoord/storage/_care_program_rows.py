"""The care-program record kinds and their index rows (registered in :mod:`.records`).

Pure: imports only the model. "Eligible patients not enrolled in program P" reads the
``eligibility`` rows of P's most selective criterion (an index search on ``owner_id``),
then the candidates' own ``eligibility`` and ``program-enrolment`` rows (searches on
``patient_id``): never a patient record, never the rows of a patient who is not a
candidate.

======================  ====================  =============================================
category                ``owner_id``          row
======================  ====================  =============================================
``eligibility``         an                    one per token of each
                        :class:`EligibilityF  :class:`~carecoord.model.eligibility.EligibilityFact`
                        act` token            of a Patient (``age:birth``: ``due_at`` the
                        (``condition:E11``,   birth date at UTC midnight, ``detail`` the
                        ``need:food``, ...)   zone), an active HealthConcern, an
                                              Assessment's active needs, a PatientFact
                                              (``detail`` the system or value)
``program-enrolment``   the program id        one per ProgramEnrolment: ``status``
                                              ``enrolled`` / ``disenrolled``, open while
                                              enrolled, ``changed_at`` when enrolled,
                                              ``detail`` the sequence number
``program-staff``       a staff member        one per owner and team member of a
                                              CareProgram (``item_id`` the program; open
                                              while active; ``detail`` ``owner``/``team``)
======================  ====================  =============================================
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from ..model.eligibility import EligibilityFact
from ..model.programs import CareProgram, PatientFact, ProgramEnrolment
from .port import IndexRow

__all__ = [
    "CARE_PROGRAM_RECORD_TYPES",
    "ELIGIBILITY",
    "ENROLMENT",
    "PROGRAM_STAFF",
    "care_program_rows",
]

CARE_PROGRAM_RECORD_TYPES: tuple[type[Any], ...] = (CareProgram, ProgramEnrolment, PatientFact)
"""The care-program record kinds (part of :data:`~carecoord.storage.RECORD_TYPES`)."""

ELIGIBILITY = "eligibility"
"""The index category of a patient's eligibility facts."""
ENROLMENT = "program-enrolment"
"""The index category of a program enrolment (owner: the program)."""
PROGRAM_STAFF = "program-staff"
"""The index category of a program's owner and team (owner: the staff member)."""


def _eligibility_rows(record: object) -> tuple[IndexRow, ...]:
    patient = getattr(record, "patient_id", None) or getattr(record, "id", "")
    rows: list[IndexRow] = []
    for fact in EligibilityFact.of(record):
        due = None if fact.born is None else datetime.combine(fact.born, time.min, UTC)
        for token in fact.tokens:
            rows.append(
                IndexRow(
                    category=ELIGIBILITY,
                    item_id=token,
                    patient_id=str(patient),
                    owner_id=token,
                    status="active",
                    is_open=True,
                    due_at=due,
                    detail=fact.detail,
                )
            )
    return tuple(rows)


def care_program_rows(record: object) -> tuple[IndexRow, ...]:
    """The index rows of a care-program record, and the ``eligibility`` rows of a
    Patient, HealthConcern or Assessment (empty for any other record)."""
    match record:
        case ProgramEnrolment():
            return (
                IndexRow(
                    category=ENROLMENT,
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.program_id),
                    status=record.status.value,
                    is_open=record.is_open,
                    changed_at=record.enrolled_at,
                    due_at=record.disenrolled_at,
                    detail=str(record.sequence),
                ),
            )
        case CareProgram():
            return tuple(
                IndexRow(
                    category=PROGRAM_STAFF,
                    item_id=str(record.id),
                    patient_id=None,
                    owner_id=str(staff),
                    status=record.status.value,
                    is_open=record.is_active,
                    detail="owner" if staff == record.owner_id else "team",
                )
                for staff in record.staff()
            )
        case _:
            return _eligibility_rows(record)
