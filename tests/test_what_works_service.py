"""What works through the service: the hand-computed figures of
tests/_what_works_world.py from the index rows of a memory and an SQLite store (no
record decoded), the monthly series, access and audit, and referral facts written
before the directory service id was kept."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

import attrs
import pytest

from _what_works_world import BY, ENROLMENTS, MARCH, PROGRAM, ny, plans, referrals
from carecoord import (
    AccessDeniedError,
    AuditEntry,
    CareTeamRole,
    HumanName,
    Metric,
    NotFoundError,
    PatientId,
    StaffId,
    StaffMember,
    StorageError,
    ValidationError,
)
from carecoord.model.audit import AuditAction, AuditOutcome
from carecoord.model.programs import (
    CareProgram,
    CareProgramId,
    Criterion,
    Eligibility,
    ProgramEnrolment,
)
from carecoord.serialization import from_payload
from carecoord.service import CareCoordinator
from carecoord.storage import RecordWrite, Store, StoredRecord, UnitOfWork, WorkQuery
from carecoord.storage._codec import encode_record
from carecoord.storage.reindex import reindex
from carecoord.testing import FixedClock, ForwardingStore
from carecoord.what_works import (
    MetricSeries,
    WhatWorksFacts,
    month_periods,
    monthly_series,
    program_metrics,
    program_metrics_from_facts,
    resource_metrics,
    resource_metrics_from_facts,
)
from world import STAFF

DIABETES = CareProgramId(PROGRAM)
START, END = ny(3, 1, 0), ny(4, 1, 0)  # MARCH
MA = StaffId("ma")


def _enrolments() -> list[ProgramEnrolment]:
    p1, p2 = (
        ProgramEnrolment(
            id=ProgramEnrolment.id_for(PROGRAM, patient, 1),
            program_id=DIABETES,
            patient_id=PatientId(patient),
            enrolled_at=periods[0].start,
            enrolled_by=BY,
        )
        for patient, periods in ENROLMENTS.items()
    )
    left = ENROLMENTS["p1"][0].end
    assert left is not None
    return [p1.disenrol(by=BY, at=left, reason="moved-away"), p2]


def seed(store: Store) -> CareCoordinator:
    """The world written straight to the store (its index rows with it), and the staff."""
    clock = FixedClock(ny(5, 1))
    service = CareCoordinator(store=store, clock=clock)
    for member in STAFF:
        service.register_staff(member, actor=STAFF[0].id)
    with UnitOfWork(store) as uow:
        uow.add(
            CareProgram(
                id=DIABETES,
                name="Diabetes management",
                owner_id=BY,
                eligibility=Eligibility(all_of=(Criterion.condition("E11"),)),
            )
        )
        for record in (*referrals(), *plans(), *_enrolments()):
            uow.add(record)
    return service


class NoDecoding(ForwardingStore):
    """Refuses to read any referral, plan or enrolment record: only index rows."""

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        assert kind not in {"Referral", "CarePlan", "ProgramEnrolment"}, kind
        return super().read(kind, record_id)

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        assert kind not in {"Referral", "CarePlan", "ProgramEnrolment"}, kind
        return super().read_all(kind, patient_id=patient_id)


def figures(metrics: Sequence[Metric]) -> list[tuple[object, ...]]:
    return [(m.name, m.subject, m.numerator, m.denominator, m.value) for m in metrics]


def test_service_figures_equal_the_pure_rules(any_store: Store) -> None:
    service = seed(any_store)
    service = CareCoordinator(store=NoDecoding(any_store), clock=service.clock)
    report = service.resource_metrics(START, END, actor=BY)
    assert report.period == MARCH
    assert figures(report.metrics) == figures(resource_metrics(referrals(), MARCH))
    assert report.get("referral_loop_closure_rate", subject="service:pantry").value == 0.5
    program = service.program_metrics(DIABETES, START, END, actor=BY)
    expected = program_metrics(PROGRAM, ENROLMENTS, MARCH, plans=plans(), referrals=referrals())
    assert figures(program.metrics) == figures(expected)
    attained = program.get("goal_attainment_rate", subject="program:diabetes")
    assert (attained.numerator, attained.denominator) == (2, 3)
    chosen = service.resource_metrics(
        START,
        END,
        services=["library"],
        actor=BY,
    )
    assert figures(chosen.metrics) == [
        ("referral_loop_closure_rate", "service:library", 0, 0, None),
        ("referral_days_to_close", "service:library", None, 0, None),
    ]


def test_service_series_equal_the_pure_rules(any_store: Store) -> None:
    service = seed(any_store)
    service = CareCoordinator(store=NoDecoding(any_store), clock=service.clock)
    zone = "America/New_York"
    found = service.metric_series(
        date(2025, 2, 1), date(2025, 4, 1), zone, program=DIABETES, actor=BY
    )
    months = month_periods(date(2025, 2, 1), date(2025, 4, 1), zone)
    facts = WhatWorksFacts.of(plans=plans(), referrals=referrals())
    expected = monthly_series(
        [
            resource_metrics_from_facts(facts, m, services=["meals", "pantry"])
            + program_metrics_from_facts(PROGRAM, ENROLMENTS, facts, m)
            for m in months
        ],
        zone,
    )
    assert [(s.name, s.subject, figures(s.points)) for s in found] == [
        (s.name, s.subject, figures(s.points)) for s in expected
    ]
    (pantry,) = [
        s for s in found if (s.name, s.subject) == ("referral_loop_closure_rate", "service:pantry")
    ]
    assert isinstance(pantry, MetricSeries)
    assert pantry.values == (None, 0.5, None)
    frame = pantry.to_dataframe()
    assert frame["month"].tolist() == ["2025-02", "2025-03", "2025-04"]
    assert frame["numerator"].tolist() == [0, 2, 0]
    # without a program: the services only; in UTC r7 (23:30 EDT on 31 March) is April's
    utc = service.metric_series(date(2025, 3, 1), date(2025, 4, 1), "UTC", actor=BY)
    assert {s.subject for s in utc} == {"service:meals", "service:pantry"}
    (pantry_utc,) = [s for s in utc if s.subject == "service:pantry" and "rate" in s.name]
    assert [(m.numerator, m.denominator) for m in pantry_utc.points] == [(2, 3), (0, 1)]


def audit(store: Store) -> list[AuditEntry]:
    return [from_payload(json.loads(r.payload), AuditEntry) for r in store.read_all("AuditEntry")]


def test_access_and_audit(any_store: Store) -> None:
    service = seed(any_store)
    before = len(audit(any_store))
    service.program_metrics(DIABETES, START, END, actor=BY)
    entries = audit(any_store)
    assert len(entries) == before + 1
    last = entries[-1]
    assert (last.operation, last.action, last.outcome) == (
        "program_metrics",
        AuditAction.READ,
        AuditOutcome.SUCCESS,
    )
    assert last.entity == "CareProgram/diabetes"
    assert last.patient_id is None  # an aggregate over every patient, no one's record
    with pytest.raises(AccessDeniedError):
        service.resource_metrics(START, END, actor=MA)
    with pytest.raises(AccessDeniedError):
        service.metric_series(date(2025, 3, 1), date(2025, 3, 1), "UTC", actor=MA)
    denied = audit(any_store)[-2:]
    assert [e.outcome for e in denied] == [AuditOutcome.MINOR_FAILURE] * 2
    with pytest.raises(NotFoundError):
        service.program_metrics(CareProgramId("nope"), START, END, actor=BY)
    with pytest.raises(ValidationError):
        service.metric_series(date(2025, 3, 1), date(2025, 3, 1), "Nowhere/Else", actor=BY)
    with pytest.raises(ValidationError):
        service.resource_metrics(START, END, services="pantry", actor=BY)


def test_a_case_manager_without_a_caseload_sees_the_same_figures(any_store: Store) -> None:
    service = seed(any_store)
    boss = StaffMember(
        id=StaffId("chief"), name=HumanName(family="Chief"), roles=(CareTeamRole.CASE_MANAGER,)
    )
    service.register_staff(boss, actor=STAFF[0].id)
    mine = service.resource_metrics(START, END, actor=BY)
    theirs = service.resource_metrics(START, END, actor=boss.id)
    assert figures(mine.metrics) == figures(theirs.metrics)


def _as_before_the_service_id(store: Store) -> None:
    """Rewrite every referral as an older carecoord wrote it: facts [sent, closed]."""
    writes = []
    for stored in store.read_all("Referral"):
        write = encode_record(
            from_payload(json.loads(stored.payload), type(referrals()[0])), stored.version
        )
        old_rows = []
        for row in write.index:
            if row.category == "metric-referral":
                row = attrs.evolve(row, detail=json.dumps(json.loads(row.detail or "")[:2]))
            old_rows.append(row)
        writes.append(attrs.evolve(write, index=tuple(old_rows)))
    store.write(writes)


def _details(store: Store) -> list[list[object]]:
    hits = store.query(WorkQuery(category="metric-referral", open_only=False))
    return sorted(json.loads(h.row.detail or "") for h in hits)


def test_old_referral_facts_ask_for_a_reindex(any_store: Store) -> None:
    service = seed(any_store)
    _as_before_the_service_id(any_store)
    assert all(len(d) == 2 for d in _details(any_store))
    # the overall metrics still read them
    overall = service.metrics(START, END, actor=BY)
    assert overall.get("referral_loop_closure_rate").denominator == 6
    with pytest.raises(StorageError, match="reindex") as caught:
        service.resource_metrics(START, END, actor=BY)
    assert "pantry" not in str(caught.value)
    reindex(any_store, kinds=["Referral"])
    assert (
        sorted(str(d[2]) for d in _details(any_store) if d[2])
        == ["meals", "meals", "pantry"] + ["pantry"] * 3
    )
    again = service.resource_metrics(START, END, actor=BY)
    assert figures(again.metrics) == figures(resource_metrics(referrals(), MARCH))


def test_referral_fact_rows_hold_no_phi(any_store: Store) -> None:
    seed(any_store)
    for hit in any_store.query(WorkQuery(category="metric-referral", open_only=False)):
        sent, closed, service = json.loads(hit.row.detail or "")
        assert isinstance(sent, int) and (closed is None or isinstance(closed, int))
        assert service in {None, "pantry", "meals"}
        assert "Community service" not in (hit.row.detail or "")


def test_writing_a_referral_keeps_its_service_in_the_facts(any_store: Store) -> None:
    seed(any_store)
    row_writes: list[RecordWrite] = []
    for referral in referrals():
        row_writes.append(encode_record(referral, 0))
    services = sorted(
        json.loads(r.detail or "")[2] or "-"
        for w in row_writes
        for r in w.index
        if r.category == "metric-referral"
    )
    assert services == ["-", "meals", "meals", "pantry", "pantry", "pantry", "pantry"]
