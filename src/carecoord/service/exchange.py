"""Record exchange: whole patient records read for an export and stored from an import.

Bulk exchange adapters (:mod:`carecoord.fhir.bulk`) move many patients at
once; each patient is still one operation of the service, so the access
check and the audit are per patient, as for any other use case:

* :func:`patient_record` reads a patient and every record of the asked kinds
  in one unit of work: one access check (``read``), one audit entry;
* :func:`caseload_patients` lists the patients on a staff member's caseload
  (one's own, a report's, or anyone's with ``view-caseloads``);
* :func:`import_patient_record` stores a patient with every record of it
  (and the staff members it names that are not registered yet) in one unit of
  work, all or nothing, with one audit entry for that patient.

The service knows nothing of exchange formats: these take and return model
objects only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import attrs

from .. import events as ev
from ..access import Permission, staff_change_problem
from ..model import (
    AccessDeniedError,
    Appointment,
    Assessment,
    Barrier,
    CarePlan,
    CareTeam,
    ConflictError,
    Consent,
    Encounter,
    HealthConcern,
    Note,
    Patient,
    PatientDecision,
    PatientGoal,
    PatientId,
    Referral,
    Review,
    StaffId,
    StaffMember,
    SurveyResponse,
    ValidationError,
    supervision_chain,
)
from ..model.audit import AuditAction
from . import _access
from ._util import check
from .patients import _born
from .runner import Context, operation
from .worklists import _caseload_patients

__all__ = [
    "RECORD_KINDS",
    "PatientEntities",
    "RecordImport",
    "caseload_patients",
    "import_patient_record",
    "patient_record",
]

R = TypeVar("R")

RECORD_KINDS: tuple[type[Any], ...] = (
    CareTeam,
    Assessment,
    CarePlan,
    Referral,
    Appointment,
    Barrier,
    Review,
    Note,
    PatientDecision,
    Consent,
    Encounter,
    SurveyResponse,
    HealthConcern,
    PatientGoal,
)
"""The record kinds that belong to one patient (each has a ``patient_id``).

Audit entries, notifications and emergency grants name a patient too, but are
not part of the patient's care record and are never exchanged here.
"""


@attrs.frozen(repr=False)
class PatientEntities:
    """What :func:`patient_record` returns: a patient and their records of the asked kinds.

    ``entities`` come kind by kind in the order asked, each kind ordered by id.
    The ``repr`` shows identifiers and counts only.
    """

    patient: Patient
    entities: tuple[object, ...]

    def of(self, cls: type[R]) -> tuple[R, ...]:
        """The entities of exactly the kind ``cls``, in order."""
        return tuple(e for e in self.entities if type(e) is cls)

    def __repr__(self) -> str:
        return f"PatientEntities(patient_id={self.patient.id!r}, entities={len(self.entities)})"


@attrs.frozen
class RecordImport:
    """What :func:`import_patient_record` did for one patient.

    ``created`` is false when the patient and every given record were stored
    already, identical: nothing of the record was written then (importing the
    same data twice changes nothing). ``written`` counts the objects written,
    staff members included; ``staff_added`` names the staff members registered.
    """

    patient_id: PatientId
    created: bool
    written: int
    staff_added: tuple[StaffId, ...] = ()


def _kinds(kinds: Iterable[type[Any]]) -> tuple[type[Any], ...]:
    chosen = tuple(dict.fromkeys(kinds))
    for kind in chosen:
        if kind not in RECORD_KINDS:
            name = getattr(kind, "__name__", "?")
            raise ValidationError(f"{name} is not a patient record kind", field="kinds")
    return chosen


@operation(AuditAction.READ)
def patient_record(
    ctx: Context, patient_id: PatientId, kinds: Iterable[type[Any]] = RECORD_KINDS
) -> PatientEntities:
    """Read a patient and all their records of ``kinds`` (default :data:`RECORD_KINDS`).

    One access check (``read`` on the patient) and one audit entry cover the
    whole record; a missing patient is refused like one the actor may not read.
    """
    chosen = _kinds(kinds)
    patient = ctx.load(Patient, str(patient_id), Permission.READ)
    pid = str(patient.id)
    entities: list[object] = []
    for kind in chosen:
        entities.extend(ctx.uow.all(kind, patient_id=pid))
    return PatientEntities(patient=patient, entities=tuple(entities))


@operation(AuditAction.READ)
def caseload_patients(ctx: Context, staff_id: StaffId) -> list[PatientId]:
    """The patients on whose open care teams ``staff_id`` is an active member now, by id.

    Access: one's own caseload; a report's, for a supervisor; anyone else's
    needs ``view-caseloads``. Served by the care-team index rows.
    """
    _access.caseload_access(ctx, staff_id)
    return [PatientId(p) for p in _caseload_patients(ctx.uow, (str(staff_id),), ctx.now)]


def _check_entities(patient: Patient, entities: Sequence[object]) -> None:
    for n, entity in enumerate(entities):
        kind = type(entity)
        if kind not in RECORD_KINDS:
            raise ValidationError(
                f"entities[{n}] is a {kind.__name__}, not a patient record", field="entities"
            )
        if entity.patient_id != patient.id:  # type: ignore[attr-defined]
            raise ValidationError(
                f"entities[{n}] ({kind.__name__}) belongs to another patient", field="entities"
            )


def _register_new_staff(ctx: Context, staff: Sequence[StaffMember]) -> tuple[StaffId, ...]:
    """Add the members not registered yet: needs ``manage-staff`` and the staff rules."""
    new = [m for m in {m.id: m for m in staff}.values() if ctx.uow.find(StaffMember, m.id) is None]
    if not new:
        return ()
    ctx.allow_staff(Permission.MANAGE_STAFF)
    for member in new:
        problem = staff_change_problem(ctx.actor, None, member)
        if problem is not None:
            raise AccessDeniedError(
                f"{ctx.actor_id} may not register StaffMember/{member.id} ({problem})"
            )
        ctx.uow.add(member)
    for member in new:  # no reporting-line cycle, among the new members or with the store's
        directory: dict[StaffId, StaffMember] = {}
        _access.load_line(ctx.uow, member.id, directory)
        supervision_chain(member.id, directory)
        ctx.emit(
            ev.StaffRegistered(
                at=ctx.now, actor=str(ctx.actor_id), patient_id=None, staff_id=str(member.id)
            )
        )
    return tuple(m.id for m in new)


@operation(AuditAction.CREATE)
def import_patient_record(
    ctx: Context,
    patient: Patient,
    entities: Sequence[object],
    staff: Sequence[StaffMember] = (),
) -> RecordImport:
    """Store a patient and their records (brought in from elsewhere) as one operation.

    Everything is written in one unit of work, or nothing, with one audit entry
    for the patient. ``entities`` must be records of :data:`RECORD_KINDS`
    belonging to ``patient``; they are stored as given (``enrolled_at`` is not
    filled in; no per-record events or notifications: they are history).

    Access: the staff-wide ``enrol`` permission. Staff members in ``staff``
    that are not registered yet are registered too, which also needs
    ``manage-staff`` and follows the staff administration rules (no role above
    one's own, no reporting-line cycle); registered ones are left as they are.

    A patient already stored is not changed: if the stored patient and every
    given record are identical to the ones given (and the actor may read the
    patient), nothing is written and ``created`` is false; otherwise
    :class:`~carecoord.ConflictError`. A new patient whose records exist
    already also raises ``ConflictError``. A birth date after today (in the
    patient's time zone) is refused, as for enrolment.
    """
    check(patient, Patient)
    entities = tuple(entities)
    staff = tuple(staff)
    for member in staff:
        check(member, StaffMember)
    _check_entities(patient, entities)
    ctx.allow_staff(Permission.ENROL, entity=f"Patient/{patient.id}")
    ctx.patient_id = str(patient.id)
    stored = ctx.uow.find(Patient, patient.id)
    if stored is not None:
        ctx.allow(patient.id, Permission.READ, f"Patient/{patient.id}")
        for item in (patient, *entities):
            found = ctx.uow.find(type(item), str(item.id))  # type: ignore[attr-defined]
            if found != item:
                raise ConflictError(type(item).__name__, str(item.id), 0)  # type: ignore[attr-defined]
        added = _register_new_staff(ctx, staff)
        ctx.action = AuditAction.CREATE if added else AuditAction.READ
        return RecordImport(
            patient_id=patient.id, created=False, written=len(added), staff_added=added
        )
    _born(ctx, patient)
    added = _register_new_staff(ctx, staff)
    ctx.uow.add(patient)
    for entity in entities:
        ctx.uow.add(entity)
    ctx.emit(ev.PatientEnrolled(**ctx.common(patient.id)))
    return RecordImport(
        patient_id=patient.id,
        created=True,
        written=1 + len(entities) + len(added),
        staff_added=added,
    )
