"""Care programs: eligibility checked against a plain-Python computation on generated
populations, eligible-not-enrolled against a brute force on memory, SQLite and
PostgreSQL stores, enrolment with consent, idempotency and a race, access, events,
the program worklist, and the query plan of the population query on SQLite."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _pg import ThrowawayStore, postgres_dsn
from carecoord import (
    AccessDeniedError,
    Assessment,
    AssessmentDomain,
    AssessmentId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    ConflictError,
    Consent,
    ConsentId,
    ConsentScope,
    HealthConcern,
    HealthConcernId,
    HumanName,
    InvalidTransitionError,
    Membership,
    Need,
    NeedId,
    NeedPriority,
    NeedStatus,
    Patient,
    PatientId,
    Period,
    ValidationError,
)
from carecoord.events import DisenrolledFromProgram, EnrolledInProgram
from carecoord.model import Coding, ConditionClinicalStatus
from carecoord.model.eligibility import EligibilityFact
from carecoord.model.programs import (
    CareProgram,
    CareProgramId,
    CareProgramStatus,
    Criterion,
    CriterionKind,
    Eligibility,
    EnrolmentStatus,
    PatientFact,
    ProgramEnrolment,
)
from carecoord.programs import Evaluator, PatientFacts, evaluate
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore, SQLiteStore, Store, UnitOfWork, WorkQuery
from carecoord.storage._sqlite_sql import work_statement
from carecoord.storage.port import IndexHit
from carecoord.testing import FixedClock, ForwardingStore, RacingStore, RecordingEventSink
from carecoord.testing._strategies_care_programs import (
    CONDITION_CODES,
    FACT_KEYS,
    FACT_VALUES,
    NEED_CODES,
    eligibilities,
)
from carecoord.testing.strategies import BIRTH_DATES, ZONE_NAMES, aware_datetimes
from world import COORD, MA, NURSE, OUTSIDER, PATIENT, T0, populate

ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
DM = CareProgramId("dm")


# ------------------------------------------------------------------ the oracle
def oracle_matches(criterion: Criterion, records: dict[str, Any], at: datetime) -> bool:
    """``criterion`` on one patient's raw records, written out plainly."""
    patient: Patient = records["patient"]
    if criterion.kind is CriterionKind.CONDITION:
        return any(
            c.is_active
            and coding.code in criterion.codes
            and criterion.system in (None, coding.system)
            for c in records["concerns"]
            for coding in c.codings
        )
    needs = [n for a in records["assessments"] for n in a.needs if n.status is NeedStatus.ACTIVE]
    if criterion.kind is CriterionKind.NEED:
        return any(n.code in criterion.codes for n in needs)
    if criterion.kind is CriterionKind.NEED_DOMAIN:
        return any(n.domain.value in criterion.codes for n in needs)
    if criterion.kind is CriterionKind.FACT:
        facts = {f.key: f.value for f in records["facts"]}
        return criterion.key in facts and (
            not criterion.codes or facts[criterion.key] in criterion.codes
        )
    age = patient.age_on(at.astimezone(ZoneInfo(patient.time_zone)).date())
    return (criterion.min_age is None or age >= criterion.min_age) and (
        criterion.max_age is None or age <= criterion.max_age
    )


def oracle(eligibility: Eligibility, records: dict[str, Any], at: datetime) -> bool:
    return (
        all(oracle_matches(c, records, at) for c in eligibility.all_of)
        and (
            not eligibility.any_of
            or any(oracle_matches(c, records, at) for c in eligibility.any_of)
        )
        and not any(oracle_matches(c, records, at) for c in eligibility.none_of)
    )


def facts_of(records: dict[str, Any]) -> PatientFacts:
    found = [
        fact
        for record in (
            records["patient"],
            *records["concerns"],
            *records["assessments"],
            *records["facts"],
        )
        for fact in EligibilityFact.of(record)
    ]
    return PatientFacts.of(records["patient"].id, found)


# ------------------------------------------------------------------ a population
def patient_records(rng: random.Random, n: int, at: datetime) -> dict[str, Any]:
    pid = PatientId(f"p-{n:04d}")
    born = date(rng.randint(1925, 2020), rng.randint(1, 12), rng.randint(1, 28))
    if rng.random() < 0.1:
        born = date(2000, 2, 29)
    patient = Patient(
        id=pid,
        name=HumanName(family=f"P{n}"),
        birth_date=born,
        time_zone=rng.choice(ZONE_NAMES),
    )
    concerns = [
        HealthConcern(
            id=HealthConcernId(f"hc-{n}-{k}"),
            patient_id=pid,
            codings=(Coding(rng.choice((ICD, SNOMED)), rng.choice(CONDITION_CODES)),),
            clinical_status=rng.choice(
                (ConditionClinicalStatus.ACTIVE, ConditionClinicalStatus.RESOLVED)
            ),
            abatement=None,
        )
        for k in range(rng.randint(0, 2))
    ]
    concerns = [
        c
        if c.clinical_status is ConditionClinicalStatus.ACTIVE
        else c.with_status("resolved", abated_at=at)
        for c in concerns
    ]
    assessments = [
        Assessment(
            id=AssessmentId(f"as-{n}-{k}"),
            patient_id=pid,
            performed_by=COORD,
            performed_at=at - timedelta(days=3),
            needs=tuple(
                Need(
                    id=NeedId(f"need-{n}-{k}-{j}"),
                    domain=rng.choice(list(AssessmentDomain)),
                    description="a need",
                    priority=NeedPriority.MEDIUM,
                    status=rng.choice((NeedStatus.ACTIVE, NeedStatus.RESOLVED)),
                    code=rng.choice((*NEED_CODES, None)),
                )
                for j in range(rng.randint(1, 2))
            ),
        )
        for k in range(rng.randint(0, 1))
    ]
    facts = [
        PatientFact(
            id=PatientFact.id_for(pid, key),
            patient_id=pid,
            key=key,
            value=rng.choice(FACT_VALUES),
            recorded_at=at,
        )
        for key in FACT_KEYS
        if rng.random() < 0.4
    ]
    return {"patient": patient, "concerns": concerns, "assessments": assessments, "facts": facts}


@given(
    seed=st.integers(0, 2**32),
    eligibility=eligibilities(),
    at=aware_datetimes(),
)
@settings(max_examples=150, deadline=None)
def test_evaluation_matches_the_plain_computation(
    seed: int, eligibility: Eligibility, at: datetime
) -> None:
    rng = random.Random(seed)
    many = Evaluator(eligibility, at)
    for n in range(12):
        records = patient_records(rng, n, min(at, datetime(2090, 1, 1, tzinfo=UTC)))
        result = evaluate(eligibility, facts_of(records), at)
        assert many(facts_of(records)) == result  # prepared once, the same answers
        assert result.eligible == oracle(eligibility, records, at)
        assert result.eligible == (not result.failed)
        assert str(records["patient"].birth_date) not in result.explain()


@given(born=BIRTH_DATES, at=aware_datetimes(), zone=st.sampled_from(ZONE_NAMES))
def test_age_is_taken_on_the_patients_local_date(born: date, at: datetime, zone: str) -> None:
    facts = PatientFacts(PatientId("p"), born, zone)
    age = facts.age_at(at)
    patient = Patient(
        id=PatientId("p"), name=HumanName(family="x"), birth_date=born, time_zone=zone
    )
    assert age == patient.age_on(at.astimezone(ZoneInfo(zone)).date())


def test_age_across_the_date_line_and_on_29_february() -> None:
    # 2025-02-28 23:30 UTC: already 1 March in Kiritimati, still 28 February in Pago Pago
    at = datetime(2025, 2, 28, 23, 30, tzinfo=UTC)
    leapling = date(2007, 3, 1)
    east = PatientFacts(PatientId("e"), leapling, "Pacific/Kiritimati")
    west = PatientFacts(PatientId("w"), leapling, "Pacific/Pago_Pago")
    adult = Eligibility(all_of=(Criterion.age(18),))
    assert evaluate(adult, east, at).eligible
    assert not evaluate(adult, west, at).eligible
    feb29 = PatientFacts(PatientId("f"), date(2004, 2, 29), "UTC")
    assert feb29.age_at(datetime(2022, 2, 28, 12, tzinfo=UTC)) == 17
    assert feb29.age_at(datetime(2022, 3, 1, 12, tzinfo=UTC)) == 18


def test_the_explanation_names_criteria_not_values() -> None:
    eligibility = Eligibility(
        all_of=(Criterion.condition("E11", system=ICD),),
        any_of=(Criterion.age(18, 75), Criterion.fact("payer", "medicaid")),
        none_of=(Criterion.need("hospice"),),
    )
    facts = PatientFacts(
        PatientId("p"),
        date(1990, 5, 5),
        "UTC",
        conditions=frozenset({(ICD, "E11")}),
        need_codes=frozenset({"hospice"}),
        facts=(("payer", "private"),),
    )
    result = evaluate(eligibility, facts, T0)
    assert not result.eligible
    assert result.matched == ("condition E11 in " + ICD, "age 18-75")
    assert result.failed == ("not need hospice",)
    assert "private" not in result.explain() and "1990" not in result.explain()


def test_model_rules() -> None:
    with pytest.raises(ValidationError):
        Eligibility(none_of=(Criterion.need("x"),))  # no positive criterion
    with pytest.raises(ValidationError):
        Criterion.age()
    with pytest.raises(ValidationError):
        Criterion.age(70, 60)
    with pytest.raises(ValidationError):
        Criterion(CriterionKind.CONDITION, ())
    with pytest.raises(ValidationError):
        Criterion.need_domain("not-a-domain")
    with pytest.raises(ValidationError):
        PatientFact(PatientFact.id_for("a", "k"), PatientId("b"), "k", "v", T0)
    enrolment = ProgramEnrolment(ProgramEnrolment.id_for(DM, PATIENT, 1), DM, PATIENT, T0, COORD)
    with pytest.raises(ValidationError):
        ProgramEnrolment(enrolment.id, DM, PATIENT, T0, COORD, status=EnrolmentStatus.DISENROLLED)
    with pytest.raises(ValidationError):
        enrolment.disenrol(by=COORD, at=T0 - timedelta(days=1), reason="moved-away")
    closed = enrolment.disenrol(by=COORD, at=T0, reason="moved-away")
    with pytest.raises(InvalidTransitionError):
        closed.disenrol(by=COORD, at=T0, reason="moved-away")
    with pytest.raises(ValidationError):
        enrolment.disenrol(by=COORD, at=T0, reason="Moved away!")  # not a code
    assert "Diabetes" not in repr(program())


# ------------------------------------------------------------------ the service
def program(**changes: Any) -> CareProgram:
    base: dict[str, Any] = {
        "id": DM,
        "name": "Diabetes management",
        "owner_id": COORD,
        "eligibility": Eligibility(
            all_of=(Criterion.condition("E11", "I10"), Criterion.age(min_age=18)),
            none_of=(Criterion.fact("payer", "no"),),
        ),
        "team": (NURSE,),
    }
    base.update(changes)
    return CareProgram(**base)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SQLiteStore(tmp_path / "programs.db")
    else:
        made = ThrowawayStore(postgres_dsn())
    try:
        yield made
    finally:
        made.close()


def team_for(pid: PatientId) -> CareTeam:
    start = T0 - timedelta(days=30)
    return CareTeam(
        id=CareTeamId(f"team-{pid}"),
        patient_id=pid,
        lead_id=COORD,
        members=(
            Membership(COORD, CareTeamRole.CARE_COORDINATOR, Period(start)),
            Membership(NURSE, CareTeamRole.NURSE, Period(start)),
        ),
    ).transition("active", by=COORD, at=start)


def opened(
    store: Store, population: int = 40, seed: int = 7
) -> tuple[CareCoordinator, dict[str, Any]]:
    clock = FixedClock(T0)
    service = CareCoordinator(store=store, clock=clock)
    populate(service, clock)
    rng = random.Random(seed)
    world: dict[str, Any] = {}
    with UnitOfWork(store) as uow:
        for n in range(population):
            records = patient_records(rng, n, T0)
            pid = records["patient"].id
            world[pid] = records
            uow.add(records["patient"])
            if n % 5:  # every fifth patient has no care team: nobody may read them
                uow.add(team_for(pid))
            for record in (*records["concerns"], *records["assessments"], *records["facts"]):
                uow.add(record)
    service.save_care_program(program(), actor=COORD)
    return service, world


def brute_force(
    store: Store, service: CareCoordinator, eligibility: Eligibility, at: datetime
) -> list[str]:
    """Every patient, records decoded, the oracle applied; enrolled and unreadable left out."""
    found = []
    with UnitOfWork(store) as uow:
        for patient in uow.all(Patient):
            pid = patient.id
            records = {
                "patient": patient,
                "concerns": uow.all(HealthConcern, patient_id=pid),
                "assessments": uow.all(Assessment, patient_id=pid),
                "facts": uow.all(PatientFact, patient_id=pid),
            }
            enrolled = any(
                e.program_id == DM and e.is_open for e in uow.all(ProgramEnrolment, patient_id=pid)
            )
            readable = uow.find(CareTeam, f"team-{pid}") is not None or pid == PATIENT
            if oracle(eligibility, records, at) and not enrolled and readable:
                found.append(str(pid))
    return sorted(found)


def test_eligible_not_enrolled_matches_a_brute_force(each_store: Store) -> None:
    service, _ = opened(each_store)
    eligibility = program().eligibility
    expected = brute_force(each_store, service, eligibility, T0)
    assert expected, "the world has eligible patients"
    got = service.eligible_not_enrolled(DM, actor=COORD, limit=None)
    assert [r.patient_id for r in got] == expected
    assert all(r.eligible and r.matched for r in got)
    # paging: two at a time, after the last one seen
    pages: list[str] = []
    after = None
    while True:
        page = service.eligible_not_enrolled(DM, actor=COORD, after=after, limit=2)
        if not page:
            break
        pages += [r.patient_id for r in page]
        after = page[-1].patient_id
    assert pages == expected
    # enrol two: they leave the list; the brute force agrees
    for pid in expected[:2]:
        service.enrol(DM, PatientId(pid), actor=COORD, reason="eligible")
    after_enrol = [r.patient_id for r in service.eligible_not_enrolled(DM, actor=COORD, limit=None)]
    assert after_enrol == brute_force(each_store, service, eligibility, T0) == expected[2:]
    # another moment (ages change) and another eligibility
    later = T0 + timedelta(days=3650)
    any_of = Eligibility(
        any_of=(Criterion.need("food", "housing"), Criterion.fact("smoker", "yes")),
        none_of=(Criterion.age(max_age=40),),
    )
    current = service.care_program(DM, actor=COORD)
    service.save_care_program(attrs.evolve(current, eligibility=any_of), actor=COORD)
    found = [
        r.patient_id for r in service.eligible_not_enrolled(DM, actor=COORD, at=later, limit=None)
    ]
    assert found == brute_force(each_store, service, any_of, later)


def test_enrol_and_disenrol_with_consent_events_and_reenrolment(any_store: Store) -> None:
    clock = FixedClock(T0)
    sink = RecordingEventSink()
    service = CareCoordinator(store=any_store, clock=clock)
    service.subscribe(sink)
    populate(service, clock)
    service.save_care_program(program(requires_consent=True), actor=COORD)
    with pytest.raises(ValidationError):
        service.enrol(DM, PATIENT, actor=COORD)  # the program needs a consent
    consent = Consent(
        id=ConsentId("c-dm"),
        patient_id=PATIENT,
        recorded_at=T0,
        recorded_by=COORD,
        scope=ConsentScope.TREATMENT,
    )
    service.record_consent(consent, actor=COORD)
    with pytest.raises(ValidationError):
        service.enrol(DM, PATIENT, actor=COORD, consent_id=ConsentId("c-missing"))
    first = service.enrol(DM, PATIENT, actor=COORD, reason="eligible", consent_id=consent.id)
    assert (first.status, first.sequence, first.consent_id) == (
        EnrolmentStatus.ENROLLED,
        1,
        consent.id,
    )
    again = service.enrol(DM, PATIENT, actor=COORD, consent_id=consent.id)  # idempotent
    assert again.id == first.id and again == first
    (enrolled,) = sink.of_type(EnrolledInProgram)
    assert (enrolled.program_id, enrolled.patient_id, enrolled.owner_id) == (DM, PATIENT, COORD)
    closed = service.disenrol(first.id, "goal-met", actor=NURSE)
    assert (closed.status, closed.disenrolled_at, closed.disenrolment_reason) == (
        EnrolmentStatus.DISENROLLED,
        T0,
        "goal-met",
    )
    assert service.disenrol(first.id, "goal-met", actor=COORD) == closed  # idempotent
    (gone,) = sink.of_type(DisenrolledFromProgram)
    assert gone.reason == "goal-met"
    clock.advance(timedelta(days=40))
    second = service.enrol(DM, PATIENT, actor=COORD, consent_id=consent.id)
    assert second.sequence == 2 and second.id != first.id
    periods = service.enrolments_of(PATIENT, actor=MA)
    assert [(e.sequence, e.is_open) for e in periods] == [(1, False), (2, True)]
    assert [e.id for e in service.program_enrolments(DM, actor=NURSE)] == [second.id]
    assert len(service.program_enrolments(DM, actor=NURSE, open_only=False)) == 2
    # a retired program takes no new enrolments
    current = service.care_program(DM, actor=COORD)
    service.save_care_program(attrs.evolve(current, status=CareProgramStatus.RETIRED), actor=COORD)
    service.disenrol(second.id, "declined", actor=COORD)
    with pytest.raises(ValidationError):
        service.enrol(DM, PATIENT, actor=COORD, consent_id=consent.id)


def test_access(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    with pytest.raises(AccessDeniedError):
        service.save_care_program(program(), actor=NURSE)  # manage-staff
    service.save_care_program(program(), actor=COORD)
    assert service.care_program(DM, actor=MA).name == "Diabetes management"
    with pytest.raises(AccessDeniedError):
        service.enrol(DM, PATIENT, actor=OUTSIDER)  # not on the patient's team
    with pytest.raises(AccessDeniedError):
        service.record_patient_fact(PATIENT, "payer", "yes", actor=OUTSIDER)
    with pytest.raises(AccessDeniedError):
        service.eligible_not_enrolled(DM, actor=MA)  # not the program's, no view-caseloads
    with pytest.raises(AccessDeniedError):
        service.program_worklist(DM, actor=MA)
    # a team member by role works the program; an outsider sees no patient
    nurse_role = program(team=(), team_roles=(CareTeamRole.NURSE,))
    revision = service.care_program(DM, actor=COORD).revision
    service.save_care_program(attrs.evolve(nurse_role, revision=revision), actor=COORD)
    service.enrol(DM, PATIENT, actor=COORD)
    assert [e.patient_id for e in service.program_enrolments(DM, actor=NURSE)] == [PATIENT]
    assert service.program_enrolments(DM, actor=OUTSIDER) == []  # view-caseloads, no team
    with pytest.raises(ConflictError):
        service.save_care_program(nurse_role, actor=COORD)  # stale copy (revision 0)


def test_program_worklist_shows_the_enrolled_patients_open_work(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)  # PATIENT has an active plan (its review row)
    service.save_care_program(program(), actor=COORD)
    assert service.program_worklist(DM, actor=NURSE) == []
    service.enrol(DM, PATIENT, actor=COORD)
    with UnitOfWork(any_store) as uow:
        expected = {
            (hit.row.category, hit.row.item_id)
            for category in ("intervention", "review", "referral")
            for hit in uow.query(WorkQuery(category=category, patient_ids=(PATIENT,)))
        }
    items = service.program_worklist(DM, actor=NURSE)
    assert {(i.category, i.item_id) for i in items} == expected
    assert all(i.patient_id == PATIENT for i in items)


def test_record_patient_fact_replaces_the_value(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    eligibility = Eligibility(all_of=(Criterion.fact("discharged-30d", "yes"),))
    service.save_care_program(
        program(id=CareProgramId("toc"), eligibility=eligibility), actor=COORD
    )
    toc = CareProgramId("toc")
    assert service.eligible_not_enrolled(toc, actor=COORD) == []
    service.record_patient_fact(PATIENT, "discharged-30d", "yes", actor=COORD)
    (hit,) = service.eligible_not_enrolled(toc, actor=COORD)
    assert hit.patient_id == PATIENT and hit.matched == ("fact discharged-30d=yes",)
    service.record_patient_fact(PATIENT, "discharged-30d", "no", actor=COORD)
    assert service.eligible_not_enrolled(toc, actor=COORD) == []
    why = service.program_eligibility(toc, PATIENT, actor=MA)
    assert why.failed == ("fact discharged-30d=yes",)


def test_racing_enrolments_make_one_open_enrolment(each_store: Store) -> None:
    racing = RacingStore(each_store, "ProgramEnrolment")
    clock = FixedClock(T0)
    service = CareCoordinator(store=racing, clock=clock)
    populate(service, clock)
    service.save_care_program(program(), actor=COORD)
    racing.armed = True
    outcomes: dict[str, object] = {}

    def enrol(actor: Any) -> None:
        try:
            outcomes[str(actor)] = service.enrol(DM, PATIENT, actor=actor)
        except Exception as exc:  # kept for the assertions below
            outcomes[str(actor)] = exc

    threads = [threading.Thread(target=enrol, args=(who,)) for who in (COORD, NURSE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [r for r in outcomes.values() if isinstance(r, ProgramEnrolment)]
    lost = [r for r in outcomes.values() if isinstance(r, ConflictError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    with UnitOfWork(each_store) as uow:
        stored = uow.all(ProgramEnrolment, patient_id=PATIENT)
    assert [e.id for e in stored if e.is_open] == [won[0].id]
    # the loser's retry is answered with the winner's enrolment
    assert service.enrol(DM, PATIENT, actor=NURSE).id == won[0].id


# ------------------------------------------------------------------ cost and plans
class Recording(ForwardingStore):
    """Counts the index rows each query returns; never lets a whole kind be read."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.queries: list[WorkQuery] = []
        self.rows = 0
        self.watch = False

    def query(self, query: WorkQuery) -> list[IndexHit]:
        hits = list(super().query(query))
        if self.watch:
            self.queries.append(query)
            self.rows += len(hits)
        return hits

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Any:
        assert not (self.watch and patient_id is None), f"read every {kind}"
        return super().read_all(kind, patient_id=patient_id)


def _non_candidates(store: Store, count: int, start: int) -> None:
    """Patients with facts but no E11/I10 condition: never candidates of ``program()``."""
    with UnitOfWork(store) as uow:
        for n in range(start, start + count):
            pid = PatientId(f"q-{n:05d}")
            uow.add(
                Patient(
                    id=pid, name=HumanName(family="Q"), birth_date=date(1950, 1, 1), time_zone="UTC"
                )
            )
            uow.add(team_for(pid))
            uow.add(PatientFact(PatientFact.id_for(pid, "smoker"), pid, "smoker", "yes", T0))
            uow.add(
                HealthConcern(
                    id=HealthConcernId(f"hcq-{n}"),
                    patient_id=pid,
                    codings=(Coding(ICD, "J44"),),
                    clinical_status=ConditionClinicalStatus.ACTIVE,
                )
            )


def test_the_population_query_does_not_grow_with_non_candidates(tmp_path: Path) -> None:
    store = Recording(SQLiteStore(tmp_path / "cost.db"))
    service, _ = opened(store, population=30)
    # 'age >= 18' matches nearly everyone: the condition criterion is the selective one
    store.watch = True
    first = service.eligible_not_enrolled(DM, actor=COORD, limit=None)
    rows_before = store.rows
    store.watch = False
    _non_candidates(store, 400, 0)
    store.watch, store.rows, store.queries = True, 0, []
    assert service.eligible_not_enrolled(DM, actor=COORD, limit=None) == first
    # the age criterion's search stops at its budget; the rest reads candidates only
    assert store.rows <= rows_before + 300, (rows_before, store.rows)
    store.watch = False
    _non_candidates(store, 800, 400)
    store.watch, store.rows = True, 0
    assert service.eligible_not_enrolled(DM, actor=COORD, limit=None) == first
    assert store.rows <= rows_before + 300 * 4, (rows_before, store.rows)
    store.close()


def test_the_population_is_worked_in_chunks_until_the_page_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carecoord.service import care_programs

    monkeypatch.setattr(care_programs, "_CHUNK", 3)
    store = Recording(SQLiteStore(tmp_path / "chunks.db"))
    service, _ = opened(store, population=60)
    expected = brute_force(store, service, program().eligibility, T0)
    assert len(expected) >= 6
    store.watch = True
    assert [r.patient_id for r in service.eligible_not_enrolled(DM, actor=COORD, limit=None)] == (
        expected
    )
    whole = [q for q in store.queries if q.patient_ids is not None]
    assert all(len(q.patient_ids or ()) <= 3 for q in whole)
    store.queries = []
    first = service.eligible_not_enrolled(DM, actor=COORD, limit=2)
    assert [r.patient_id for r in first] == expected[:2]
    paged = [q for q in store.queries if q.patient_ids is not None]
    assert len(paged) < len(whole) / 2, (len(paged), len(whole))  # stopped when full
    after = service.eligible_not_enrolled(DM, actor=COORD, after=first[-1].patient_id, limit=3)
    assert [r.patient_id for r in after] == expected[2:5]
    assert service.eligible_not_enrolled(DM, actor=COORD, limit=0) == []
    store.close()


def test_the_population_queries_search_indexes_on_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "plans.db"
    store = Recording(SQLiteStore(path))
    service, _ = opened(store, population=60)
    _non_candidates(store, 200, 0)
    store.watch = True
    service.eligible_not_enrolled(DM, actor=COORD, limit=None)
    queries = [q for q in store.queries if q.category in ("eligibility", "program-enrolment")]
    store.close()
    assert {q.category for q in queries} == {"eligibility", "program-enrolment"}
    with closing(sqlite3.connect(path)) as conn:
        for query in queries:
            statement = work_statement(query)
            assert statement is not None
            details = [
                row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + statement[0], statement[1])
            ]
            assert not [d for d in details if d.startswith("SCAN")], (query, details)
            searches = [d for d in details if d.startswith("SEARCH")]
            assert searches and all("USING COVERING INDEX" in d for d in searches), details
            wanted = "work_by_owner" if query.owner_ids else "work_by_patient"
            assert all(wanted in d for d in searches), (query, details)
