"""The patient record a FHIR Bundle carries, and loading / saving it through a unit of work."""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterable, Iterator
from typing import Any, cast

import attrs

from ..model import (
    Appointment,
    Assessment,
    AuditEntry,
    Barrier,
    CarePlan,
    CareTeam,
    ConflictError,
    Consent,
    HealthConcern,
    Note,
    Patient,
    PatientDecision,
    PatientGoal,
    Referral,
    Review,
    StaffId,
    StaffMember,
    ValidationError,
)
from ..serialization import dumps
from ..storage import Store, UnitOfWork
from ._import_report import ImportReport

__all__ = ["ImportedRecord", "PatientRecord", "SaveResult", "save_imported"]

_ENTITY_FIELDS = (
    "care_teams",
    "assessments",
    "plans",
    "referrals",
    "appointments",
    "barriers",
    "reviews",
    "notes",
    "decisions",
    "consents",
    "health_concerns",
    "patient_goals",
)


def _tuple_of(cls: type) -> Any:
    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, tuple) or not all(isinstance(v, cls) for v in value):
            raise ValidationError(
                f"PatientRecord.{attr.name} must be a tuple of {cls.__name__}", field=attr.name
            )
        ids = [str(v.id) for v in value]
        if len(set(ids)) != len(ids):
            raise ValidationError(f"PatientRecord.{attr.name} has duplicate ids", field=attr.name)

    return check


@functools.cache
def _kind_fields() -> dict[type[Any], str]:
    """Model class -> the :class:`PatientRecord` field holding its entities."""
    hints = typing.get_type_hints(PatientRecord)
    return {typing.get_args(hints[name])[0]: name for name in _ENTITY_FIELDS}


@attrs.frozen
class PatientRecord:
    """One patient's coordination record: everything a FHIR Bundle export carries.

    Every entity must belong to ``patient`` (same ``patient_id``); audit
    entries must name the patient or no patient. ``staff`` are the staff
    members the Bundle describes in full (others are referenced by id only).
    Tuples keep their order through an export/import round trip.
    """

    patient: Patient = attrs.field(validator=attrs.validators.instance_of(Patient))
    staff: tuple[StaffMember, ...] = attrs.field(default=(), validator=_tuple_of(StaffMember))
    care_teams: tuple[CareTeam, ...] = attrs.field(default=(), validator=_tuple_of(CareTeam))
    assessments: tuple[Assessment, ...] = attrs.field(default=(), validator=_tuple_of(Assessment))
    plans: tuple[CarePlan, ...] = attrs.field(default=(), validator=_tuple_of(CarePlan))
    referrals: tuple[Referral, ...] = attrs.field(default=(), validator=_tuple_of(Referral))
    appointments: tuple[Appointment, ...] = attrs.field(
        default=(), validator=_tuple_of(Appointment)
    )
    barriers: tuple[Barrier, ...] = attrs.field(default=(), validator=_tuple_of(Barrier))
    reviews: tuple[Review, ...] = attrs.field(default=(), validator=_tuple_of(Review))
    notes: tuple[Note, ...] = attrs.field(default=(), validator=_tuple_of(Note))
    decisions: tuple[PatientDecision, ...] = attrs.field(
        default=(), validator=_tuple_of(PatientDecision)
    )
    consents: tuple[Consent, ...] = attrs.field(default=(), validator=_tuple_of(Consent))
    health_concerns: tuple[HealthConcern, ...] = attrs.field(
        default=(), validator=_tuple_of(HealthConcern)
    )
    patient_goals: tuple[PatientGoal, ...] = attrs.field(
        default=(), validator=_tuple_of(PatientGoal)
    )
    audit_entries: tuple[AuditEntry, ...] = attrs.field(default=(), validator=_tuple_of(AuditEntry))

    def __attrs_post_init__(self) -> None:
        for name in _ENTITY_FIELDS:
            for item in getattr(self, name):
                if item.patient_id != self.patient.id:
                    raise ValidationError(
                        f"PatientRecord.{name}: {type(item).__name__} {item.id} belongs to "
                        "another patient",
                        field=name,
                    )
        for entry in self.audit_entries:
            if entry.patient_id not in (None, str(self.patient.id)):
                raise ValidationError(
                    f"PatientRecord.audit_entries: entry {entry.id} names another patient",
                    field="audit_entries",
                )

    def entities(self) -> Iterator[object]:
        """The patient, then every stored entity of the record (staff and audit excluded)."""
        yield self.patient
        for name in _ENTITY_FIELDS:
            yield from getattr(self, name)

    @classmethod
    def from_entities(
        cls,
        patient: Patient,
        entities: Iterable[object],
        *,
        staff: Iterable[StaffMember] = (),
    ) -> PatientRecord:
        """A record of ``patient`` from entities read through the service.

        ``entities`` is what :meth:`CareCoordinator.patient_record
        <carecoord.service.coordinator.CareCoordinator.patient_record>` returns
        (its ``entities``): each goes to the field of its kind, in the order
        given. The patient itself, if among them, is skipped; an entity of a
        kind a record does not carry raises :class:`~carecoord.ValidationError`
        naming the kind (never its content), as does an entity of another patient.
        """
        kinds = _kind_fields()
        parts: dict[str, list[Any]] = {name: [] for name in _ENTITY_FIELDS}
        for entity in entities:
            if entity is patient or isinstance(entity, Patient):
                continue
            name = kinds.get(type(entity))
            if name is None:
                raise ValidationError(
                    f"PatientRecord has no field for {type(entity).__name__}", field="entities"
                )
            parts[name].append(entity)
        return cls(
            patient=patient,
            staff=tuple(staff),
            **{name: tuple(items) for name, items in parts.items()},
        )

    @classmethod
    def from_store(
        cls, store: Store, patient_id: str, *, include_audit: bool = False
    ) -> PatientRecord:
        """Load one patient's record from ``store`` in one unit of work (read only).

        Staff members referenced anywhere in the record are included when the
        store holds them. Raises :class:`~carecoord.NotFoundError` for an
        unknown patient.
        """
        uow = UnitOfWork(store)
        try:
            patient = uow.get(Patient, patient_id)
            pid = str(patient.id)
            parts: dict[str, Any] = {
                "care_teams": tuple(uow.all(CareTeam, patient_id=pid)),
                "assessments": tuple(uow.all(Assessment, patient_id=pid)),
                "plans": tuple(uow.all(CarePlan, patient_id=pid)),
                "referrals": tuple(uow.all(Referral, patient_id=pid)),
                "appointments": tuple(uow.all(Appointment, patient_id=pid)),
                "barriers": tuple(uow.all(Barrier, patient_id=pid)),
                "reviews": tuple(uow.all(Review, patient_id=pid)),
                "notes": tuple(uow.all(Note, patient_id=pid)),
                "decisions": tuple(uow.all(PatientDecision, patient_id=pid)),
                "consents": tuple(uow.all(Consent, patient_id=pid)),
                "health_concerns": tuple(uow.all(HealthConcern, patient_id=pid)),
                "patient_goals": tuple(uow.all(PatientGoal, patient_id=pid)),
            }
            if include_audit:
                parts["audit_entries"] = tuple(uow.all(AuditEntry, patient_id=pid))
            draft = cls(patient=patient, **parts)
            staff = []
            for staff_id in sorted(staff_ids_in(draft)):
                member = uow.find(StaffMember, staff_id)
                if member is not None:
                    staff.append(member)
            return attrs.evolve(draft, staff=tuple(staff))
        finally:
            uow.rollback()


def staff_ids_in(obj: object) -> set[StaffId]:
    """Every :class:`~carecoord.StaffId` found anywhere inside ``obj`` (attrs objects, tuples)."""
    found: set[StaffId] = set()
    stack: list[object] = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, StaffId):
            found.add(item)
        elif isinstance(item, tuple):
            stack.extend(item)
        elif attrs.has(type(item)):
            stack.extend(attrs.asdict(cast(Any, item), recurse=False).values())
    return found


@attrs.frozen
class ImportedRecord:
    """What :func:`~carecoord.fhir.import_bundle` returns: a complete, validated record.

    ``report`` says what the import mapped, defaulted, dropped and left as
    external references (see :class:`~carecoord.fhir.ImportReport`). Nothing
    is stored by the import itself; :func:`save_imported` stores all of it in
    one unit of work, or nothing.
    """

    record: PatientRecord = attrs.field(validator=attrs.validators.instance_of(PatientRecord))
    report: ImportReport = attrs.field(
        factory=ImportReport, validator=attrs.validators.instance_of(ImportReport)
    )

    def objects(self) -> tuple[object, ...]:
        """Every object to store: staff, the patient and its entities, then audit entries."""
        return (*self.record.staff, *self.record.entities(), *self.record.audit_entries)


@attrs.frozen
class SaveResult:
    """What :func:`save_imported` did, by ``(kind, id)`` of each record it was given.

    ``created`` were new, ``updated`` changed (only with ``update=True``),
    ``unchanged`` were stored already exactly as imported (staff members that
    exist are always left as they are). ``patient_id`` is the stored patient
    the record went to: the incoming one, or the stored patient it was matched
    to by a shared identifier. Importing the same input twice gives a second
    result with no writes.
    """

    patient_id: str
    created: tuple[tuple[str, str], ...] = ()
    updated: tuple[tuple[str, str], ...] = ()
    unchanged: tuple[tuple[str, str], ...] = ()

    @property
    def writes(self) -> int:
        """How many records were written (created or updated)."""
        return len(self.created) + len(self.updated)


def save_imported(
    store: Store,
    imported: ImportedRecord | PatientRecord,
    *,
    include_audit: bool = False,
    update: bool = False,
) -> SaveResult:
    """Store ``imported`` in ``store`` in ONE unit of work: all or nothing, idempotent.

    Records are matched to stored ones by their carecoord id (the FHIR
    import reads it from the ``ID_SYSTEM_BASE + kind`` identifier, else the
    FHIR id); a patient whose id is not stored is matched to the stored
    patient sharing one of its :class:`~carecoord.Identifier` s (system and
    value), and the whole record is taken to that patient. A record stored
    exactly as imported is left alone, so saving the same import twice writes
    nothing the second time. A record stored differently raises
    :class:`~carecoord.ConflictError`, unless ``update`` is true: then it is
    saved over the stored version, checked against the version read in this
    unit of work (a concurrent change still raises ``ConflictError``). A
    record of the same kind and id that belongs to another patient always
    raises ``ConflictError``. Staff members that exist are left as they are
    (they are shared between patients). Audit entries are stored only with
    ``include_audit`` (they would not continue the store's own audit chain:
    use it for an empty archive store). On any error nothing is written.

    Matching by identifier reads every stored patient (only when the incoming
    patient id is not stored); a patient whose identifiers match more than one
    stored patient raises :class:`~carecoord.ValidationError`.
    """
    record = imported.record if isinstance(imported, ImportedRecord) else imported
    created: list[tuple[str, str]] = []
    updated: list[tuple[str, str]] = []
    unchanged: list[tuple[str, str]] = []
    with UnitOfWork(store) as uow:
        record = _matched(uow, record)
        for member in record.staff:
            key = ("StaffMember", str(member.id))
            if uow.find(StaffMember, member.id) is None:
                uow.add(member)
                created.append(key)
            else:
                unchanged.append(key)
        objects = [*record.entities(), *(record.audit_entries if include_audit else ())]
        for obj in objects:
            cls = type(obj)
            oid = str(getattr(obj, "id", ""))
            key = (cls.__name__, oid)
            stored = uow.find(cls, oid)
            if stored is None:
                uow.add(obj)
                created.append(key)
            elif getattr(stored, "patient_id", None) not in (None, str(record.patient.id)):
                raise ConflictError(cls.__name__, oid, 0)  # another patient's record
            elif dumps(stored) == dumps(obj):
                unchanged.append(key)
            elif update:
                uow.save(obj)
                updated.append(key)
            else:
                raise ConflictError(cls.__name__, oid, 0)
    return SaveResult(
        patient_id=str(record.patient.id),
        created=tuple(created),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
    )


def _matched(uow: UnitOfWork, record: PatientRecord) -> PatientRecord:
    """``record``, moved to the stored patient that shares an identifier (if its id is new)."""
    patient = record.patient
    if not patient.identifiers or uow.find(Patient, patient.id) is not None:
        return record
    wanted = set(patient.identifiers)
    found = [p for p in uow.all(Patient) if wanted & set(p.identifiers)]
    if not found:
        return record
    if len(found) > 1:
        raise ValidationError(
            f"the identifiers of imported patient {patient.id} match more than one stored patient"
        )
    pid = found[0].id

    def moved(item: Any) -> Any:
        return attrs.evolve(item, patient_id=pid)

    return attrs.evolve(
        record,
        patient=attrs.evolve(patient, id=pid),
        **{name: tuple(moved(x) for x in getattr(record, name)) for name in _ENTITY_FIELDS},
        audit_entries=tuple(
            e if e.patient_id is None else attrs.evolve(e, patient_id=str(pid))
            for e in record.audit_entries
        ),
    )
