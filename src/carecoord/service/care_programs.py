"""Care program use cases: define programs, record facts, find, enrol and work the population.

Program definitions are staff-wide data (no patient in them): every active staff member
may read one, creating or changing one needs ``manage-staff`` (like the directory).
Everything about a patient is PHI and goes through the access policy: recording a
fact needs ``edit-patient`` on the patient, enrolling and disenrolling ``edit-plan``,
reading a patient's enrolments ``read``. The program's population views
(:func:`eligible_not_enrolled`, :func:`program_enrolments`, :func:`program_worklist`)
are for the program's owner and team (a staff member listed in ``team`` or holding
one of its ``team_roles``), or anyone with ``view-caseloads``; patients the actor may
not read are left out.

:func:`eligible_not_enrolled` never reads a patient record: it searches the
``eligibility`` index rows of the program's most selective positive criterion
(:func:`_candidates`), then, a chunk of candidates at a time in patient-id order,
their open ``program-enrolment`` rows and the ``eligibility`` rows of those not
enrolled (searches by patient, one per chunk whatever the criteria), evaluates each
with a :class:`carecoord.programs.Evaluator`, and checks access for the eligible ones
in one membership search per chunk; it stops once the page is full. Its cost grows
with the number of candidates (and only up to the page), not with the store.

Enrolment is idempotent: enrolling a patient who has an open enrolment in the program
returns that enrolment unchanged. A re-enrolment after a disenrolment is a new
:class:`~carecoord.model.programs.ProgramEnrolment` record (``sequence`` + 1) whose id is
derived from program, patient and sequence, so two racing enrolments write the same
record and one of them fails with :class:`~carecoord.ConflictError` (calling again
returns the winner's enrolment).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta

import attrs

from .. import events as ev
from ..access import Permission
from ..caseload import WorklistItem, work_item
from ..model import (
    ConflictError,
    Consent,
    ConsentId,
    ConsentStatus,
    NotFoundError,
    PatientId,
    StaffMember,
    ValidationError,
)
from ..model._base import ensure_aware
from ..model.audit import AuditAction, PurposeOfUse
from ..model.eligibility import EligibilityFact
from ..model.programs import (
    CareProgram,
    CareProgramId,
    Criterion,
    CriterionKind,
    Eligibility,
    PatientFact,
    ProgramEnrolment,
    ProgramEnrolmentId,
)
from ..programs import EligibilityResult, Evaluator, PatientFacts
from ..storage.port import IndexHit, WorkQuery
from ..storage.uow import UnitOfWork
from . import _access
from ._util import check
from .runner import Context, operation

__all__ = [
    "ELIGIBILITY",
    "ENROLMENT",
    "care_program",
    "disenrol",
    "eligible_not_enrolled",
    "enrol",
    "enrolments_of",
    "program_eligibility",
    "program_enrolments",
    "program_worklist",
    "record_patient_fact",
    "save_care_program",
]

ELIGIBILITY = "eligibility"
"""The index category of eligibility facts (as ``storage._care_program_rows`` writes them)."""
ENROLMENT = "program-enrolment"
"""The index category of enrolments (owner: the program)."""
WORK_CATEGORIES = ("intervention", "review", "referral")
"""The open work a program worklist shows for each enrolled patient."""
_CHUNK = 500
"""Patients per patient-led index query (bounded ``IN`` lists)."""
_FIRST_LIMIT = 256
"""The first row budget when comparing how selective a program's criteria are."""


# ------------------------------------------------------------------ definitions
@operation(AuditAction.UPDATE)
def save_care_program(ctx: Context, program: CareProgram) -> CareProgram:
    """Create or replace a care program (``manage-staff``); a stale copy raises
    ConflictError; the owner must be a registered staff member."""
    check(program, CareProgram)
    ctx.allow_staff(Permission.MANAGE_STAFF, entity=f"CareProgram/{program.id}")
    uow = ctx.uow
    if uow.find(StaffMember, program.owner_id) is None:
        raise ValidationError("the program owner is not a registered staff member", field="owner")
    current = uow.version_of(CareProgram, program.id) if uow.find(CareProgram, program.id) else 0
    if program.revision != current:
        raise ConflictError("CareProgram", str(program.id), program.revision)
    if current == 0:
        ctx.action = AuditAction.CREATE
        uow.add(program)
    else:
        uow.save(program)
    return attrs.evolve(program, revision=current + 1)


def _program(uow: UnitOfWork, program_id: CareProgramId | str) -> CareProgram:
    found = uow.find(CareProgram, str(program_id))
    if found is None:
        raise NotFoundError(f"care program {program_id} not found")
    return found


@operation(AuditAction.READ)
def care_program(ctx: Context, program_id: CareProgramId) -> CareProgram:
    """Read a care program (no patient data: shared with every active staff member)."""
    ctx.grant(PurposeOfUse.HOPERAT, entity=f"CareProgram/{program_id}")
    return _program(ctx.uow, program_id)


def _program_staff_access(ctx: Context, program: CareProgram) -> None:
    """The owner and team (by id or role) work the program; others need view-caseloads."""
    entity = f"CareProgram/{program.id}"
    if ctx.actor_id in program.staff() or set(ctx.actor.roles) & set(program.team_roles):
        ctx.grant(PurposeOfUse.TREAT, entity=entity)
    else:
        ctx.allow_staff(Permission.VIEW_CASELOADS, entity=entity)


# ------------------------------------------------------------------ facts
@operation(AuditAction.UPDATE)
def record_patient_fact(ctx: Context, patient_id: PatientId, key: str, value: str) -> PatientFact:
    """Record (or replace) the host's fact ``key`` = ``value`` about a patient
    (``edit-patient``); returns the stored fact."""
    ctx.allow(patient_id, Permission.EDIT_PATIENT, entity="PatientFact")
    fact = PatientFact(
        id=PatientFact.id_for(patient_id, key),
        patient_id=PatientId(str(patient_id)),
        key=key,
        value=value,
        recorded_at=ctx.now,
        recorded_by=ctx.actor_id,
    )
    ctx.entity = f"PatientFact/{fact.id}"
    if ctx.uow.find(PatientFact, fact.id) is None:
        ctx.action = AuditAction.CREATE
        ctx.uow.add(fact)
    else:
        ctx.uow.save(fact)
    return fact


# ------------------------------------------------------------------ eligibility
def _shift_years(day: date, years: int) -> date:
    """``day`` moved by whole ``years`` (29 February to the 28th), clamped to the date range."""
    year = min(max(day.year + years, date.min.year), date.max.year)
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _criterion_query(criterion: Criterion, at: datetime, limit: int | None) -> WorkQuery:
    """The index search for the patients who may meet ``criterion`` (a superset)."""
    if criterion.kind is not CriterionKind.AGE:
        return WorkQuery(category=ELIGIBILITY, owner_ids=criterion.tokens(), limit=limit)
    # Every patient's local date is within a day of the UTC date: search a range
    # two days wider on each side; the exact test runs in the patient's zone.
    today = at.astimezone(UTC).date()
    due_before = due_from = None
    if criterion.min_age is not None:
        latest = _shift_years(min(today + timedelta(days=2), date.max), -criterion.min_age)
        due_before = _midnight(latest)
    if criterion.max_age is not None:
        earliest = _shift_years(today - timedelta(days=2), -(criterion.max_age + 1))
        due_from = _midnight(earliest)
    return WorkQuery(
        category=ELIGIBILITY,
        owner_ids=criterion.tokens() or ("age:birth",),
        due_before=due_before,
        due_from=due_from,
        limit=limit,
    )


def _patients_of(criterion: Criterion, hits: Iterable[IndexHit]) -> set[str]:
    system = criterion.system
    return {hit.row.patient_id or "" for hit in hits if system is None or hit.row.detail == system}


def _candidates(uow: UnitOfWork, eligibility: Eligibility, at: datetime) -> set[str]:
    """A superset of the eligible patients, from the rows of the most selective
    positive criterion (``all_of``), or of every ``any_of`` criterion.

    The ``all_of`` criteria race: each is searched with a row budget (from
    :data:`_FIRST_LIMIT`, growing fourfold per round) and the smallest search that ends
    within it wins; once one has ended, the others only get a budget below its size.
    An age criterion (a range of birth dates, usually most of the population) races
    in the first round only (unless every criterion is one), and a criterion left
    alone is read once without a budget: the rows read are a few times those of the
    most selective coded criterion, whatever the others match.
    """
    if not eligibility.all_of:
        found: set[str] = set()
        for criterion in eligibility.any_of:
            found |= _patients_of(criterion, uow.query(_criterion_query(criterion, at, None)))
        return found
    racing = sorted(eligibility.all_of, key=lambda c: c.kind is CriterionKind.AGE)
    limit = _FIRST_LIMIT
    while True:
        best: tuple[Criterion, Sequence[IndexHit]] | None = None
        for criterion in racing:
            budget = limit if best is None else len(best[1])
            if budget == 0:
                break
            hits = uow.query(_criterion_query(criterion, at, budget))
            if len(hits) < budget:
                best = (criterion, hits)
        if best is not None:
            return _patients_of(*best)
        racing = [c for c in racing if c.kind is not CriterionKind.AGE] or racing
        if len(racing) == 1:
            return _patients_of(racing[0], uow.query(_criterion_query(racing[0], at, None)))
        limit *= 4


def _chunks(items: Sequence[str]) -> Iterator[tuple[str, ...]]:
    for start in range(0, len(items), _CHUNK):
        yield tuple(items[start : start + _CHUNK])


def _facts(uow: UnitOfWork, patients: Sequence[str]) -> dict[str, PatientFacts]:
    """The eligibility facts of ``patients``, from their own index rows."""
    rows: dict[str, list[EligibilityFact]] = {p: [] for p in patients}
    for chunk in _chunks(patients):
        for hit in uow.query(WorkQuery(category=ELIGIBILITY, patient_ids=chunk)):
            row = hit.row
            fact = EligibilityFact.from_row(row.owner_id or "", row.detail, row.due_at)
            if fact is not None:
                rows[row.patient_id or ""].append(fact)
    return {p: PatientFacts.of(p, found) for p, found in rows.items()}


def _enrolment_rows(
    uow: UnitOfWork, program_id: str, patients: Sequence[str], *, open_only: bool
) -> list[IndexHit]:
    """The enrolment rows of ``patients`` in ``program_id`` (searched by patient)."""
    found: list[IndexHit] = []
    for chunk in _chunks(patients):
        query = WorkQuery(category=ENROLMENT, patient_ids=chunk, open_only=open_only)
        found += [hit for hit in uow.query(query) if hit.row.owner_id == program_id]
    return found


@operation(AuditAction.READ)
def eligible_not_enrolled(
    ctx: Context,
    program_id: CareProgramId,
    *,
    at: datetime | None = None,
    after: PatientId | None = None,
    limit: int | None = 50,
) -> list[EligibilityResult]:
    """The patients eligible for the program at ``at`` (default now) and not enrolled
    in it, each with the criteria that matched, in patient-id order: the page after
    patient ``after``, at most ``limit`` (``None``: all). Index rows only.

    The candidates are worked :data:`_CHUNK` at a time, in patient-id order, until the
    page is full: per chunk one search of their open enrolments, one of the
    eligibility rows of those not enrolled, one of the care-team memberships of those
    eligible (the access check), whatever the number of criteria.
    """
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValidationError("limit must be a non-negative integer", field="limit")
    program = _program(ctx.uow, program_id)
    _program_staff_access(ctx, program)
    moment = ctx.now if at is None else ensure_aware(at, "at")
    uow = ctx.uow
    page: list[EligibilityResult] = []
    if limit == 0:
        return page
    candidates = sorted(p for p in _candidates(uow, program.eligibility, moment) if p)
    if after is not None:
        candidates = [p for p in candidates if p > after]
    evaluator = Evaluator(program.eligibility, moment)
    can_read = _access.readable(ctx)
    for chunk in _chunks(candidates):
        enrolled = {
            hit.row.patient_id
            for hit in _enrolment_rows(uow, str(program.id), chunk, open_only=True)
        }
        facts = _facts(uow, [p for p in chunk if p not in enrolled])
        eligible = [r for r in map(evaluator, facts.values()) if r.eligible]
        can_read.prefetch(r.patient_id for r in eligible)
        for result in eligible:
            if can_read(result.patient_id):
                page.append(result)
                if len(page) == limit:
                    return page
    return page


@operation(AuditAction.READ)
def program_eligibility(
    ctx: Context, program_id: CareProgramId, patient_id: PatientId, *, at: datetime | None = None
) -> EligibilityResult:
    """Whether one patient is eligible for the program, and why (``read`` on the patient)."""
    program = _program(ctx.uow, program_id)
    ctx.allow(patient_id, Permission.READ, entity=f"CareProgram/{program.id}")
    moment = ctx.now if at is None else ensure_aware(at, "at")
    facts = _facts(ctx.uow, [str(patient_id)])[str(patient_id)]
    return Evaluator(program.eligibility, moment)(facts)


# ------------------------------------------------------------------ enrolment
def _consent(ctx: Context, patient_id: PatientId, consent_id: ConsentId) -> None:
    consent = ctx.uow.find(Consent, str(consent_id))
    if (
        consent is None
        or consent.patient_id != patient_id
        or consent.status is not ConsentStatus.ACTIVE
        or (consent.period is not None and not consent.period.contains(ctx.now))
    ):
        raise ValidationError(
            "the consent is not an active consent of the patient", field="consent_id"
        )


@operation(AuditAction.CREATE)
def enrol(
    ctx: Context,
    program_id: CareProgramId,
    patient_id: PatientId,
    *,
    reason: str | None = None,
    consent_id: ConsentId | None = None,
) -> ProgramEnrolment:
    """Enrol a patient in an active program (``edit-plan``), relying on ``consent_id``
    (required when the program ``requires_consent``: an active consent of the patient).
    An open enrolment in the program is returned as it is (idempotent)."""
    ctx.allow(patient_id, Permission.EDIT_PLAN, entity=f"CareProgram/{program_id}")
    uow = ctx.uow
    program = _program(uow, program_id)
    rows = _enrolment_rows(uow, str(program.id), [str(patient_id)], open_only=False)
    for hit in rows:
        if hit.row.is_open:
            ctx.action = AuditAction.READ
            ctx.entity = f"ProgramEnrolment/{hit.record_id}"
            return uow.get(ProgramEnrolment, hit.record_id)
    if not program.is_active:
        raise ValidationError("the program is retired: it takes no enrolments", field="program")
    if consent_id is not None:
        _consent(ctx, patient_id, consent_id)
    elif program.requires_consent:
        raise ValidationError("the program needs the patient's consent", field="consent_id")
    sequence = 1 + max((int(hit.row.detail or 0) for hit in rows), default=0)
    enrolment = ProgramEnrolment(
        id=ProgramEnrolment.id_for(program.id, patient_id, sequence),
        program_id=program.id,
        patient_id=PatientId(str(patient_id)),
        enrolled_at=ctx.now,
        enrolled_by=ctx.actor_id,
        sequence=sequence,
        reason=reason,
        consent_id=consent_id,
    )
    ctx.entity = f"ProgramEnrolment/{enrolment.id}"
    uow.add(enrolment)
    ctx.emit(
        ev.EnrolledInProgram(
            **ctx.common(patient_id),
            program_id=str(program.id),
            enrolment_id=str(enrolment.id),
            sequence=sequence,
            owner_id=str(program.owner_id),
        )
    )
    return attrs.evolve(enrolment, revision=1)


@operation(AuditAction.UPDATE)
def disenrol(ctx: Context, enrolment_id: ProgramEnrolmentId, reason: str) -> ProgramEnrolment:
    """End an enrolment with a reason code (``edit-plan`` on its patient). Disenrolling
    a closed enrolment returns it as it is (idempotent)."""
    old = ctx.load(ProgramEnrolment, str(enrolment_id), Permission.EDIT_PLAN)
    if not old.is_open:
        return old
    new = old.disenrol(by=ctx.actor_id, at=ctx.now, reason=reason)
    ctx.uow.save(new)
    program = ctx.uow.find(CareProgram, str(old.program_id))
    ctx.emit(
        ev.DisenrolledFromProgram(
            **ctx.common(old.patient_id),
            program_id=str(old.program_id),
            enrolment_id=str(old.id),
            reason=reason,
            owner_id="" if program is None else str(program.owner_id),
        )
    )
    return attrs.evolve(new, revision=old.revision + 1)


@operation(AuditAction.READ)
def enrolments_of(ctx: Context, patient_id: PatientId) -> list[ProgramEnrolment]:
    """Every enrolment period of a patient, in every program, oldest first (``read``)."""
    ctx.allow(patient_id, Permission.READ, entity="ProgramEnrolment")
    hits = ctx.uow.query(
        WorkQuery(category=ENROLMENT, patient_ids=(str(patient_id),), open_only=False)
    )
    found = [ctx.uow.get(ProgramEnrolment, hit.record_id) for hit in hits]
    return sorted(found, key=lambda e: (e.enrolled_at.astimezone(UTC), e.program_id, e.sequence))


def _enrolled(ctx: Context, program: CareProgram, open_only: bool) -> list[IndexHit]:
    """The program's enrolment rows of patients the actor may read."""
    hits = ctx.uow.query(
        WorkQuery(category=ENROLMENT, owner_ids=(str(program.id),), open_only=open_only)
    )
    can_read = _access.readable(ctx)
    can_read.prefetch(hit.row.patient_id for hit in hits)
    return [hit for hit in hits if can_read(hit.row.patient_id or "")]


@operation(AuditAction.READ)
def program_enrolments(
    ctx: Context, program_id: CareProgramId, *, open_only: bool = True
) -> list[ProgramEnrolment]:
    """The program's enrolments (open ones, or all periods), by patient then sequence;
    for the owner and team (see the module documentation)."""
    program = _program(ctx.uow, program_id)
    _program_staff_access(ctx, program)
    found = [
        ctx.uow.get(ProgramEnrolment, hit.record_id) for hit in _enrolled(ctx, program, open_only)
    ]
    return sorted(found, key=lambda e: (e.patient_id, e.sequence))


@operation(AuditAction.READ)
def program_worklist(
    ctx: Context, program_id: CareProgramId, *, limit: int | None = None
) -> list[WorklistItem]:
    """The open interventions, due reviews and open referrals of the program's enrolled
    patients as worklist lines (:class:`~carecoord.caseload.WorklistItem`, with their
    lateness at the operation's time), earliest due first (undated last), then highest
    priority, patient, item; at most ``limit``. For the owner and team; index rows only."""
    program = _program(ctx.uow, program_id)
    _program_staff_access(ctx, program)
    patients = sorted({hit.row.patient_id or "" for hit in _enrolled(ctx, program, True)})
    items: list[WorklistItem] = []
    for category in WORK_CATEGORIES:
        for chunk in _chunks(patients):
            for hit in ctx.uow.query(WorkQuery(category=category, patient_ids=chunk)):
                row = hit.row
                items.append(
                    work_item(
                        category,
                        patient_id=row.patient_id or "",
                        item_id=row.item_id,
                        record_id=hit.record_id,
                        status=row.status,
                        now=ctx.now,
                        due=row.due_at,
                        priority=row.priority,
                        owner_id=row.owner_id,
                    )
                )
    last = datetime.max.replace(tzinfo=UTC)
    items.sort(key=lambda i: (i.due or last, -i.priority, i.patient_id, i.item_id))
    return items if limit is None else items[:limit]
