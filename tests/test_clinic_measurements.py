"""Measurements: LOINC codes and UCUM units, flags against ranges, the goal readings a
measurement makes (so goal achievement updates without retyping), the review worklist
and its notification."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from _clinic_world import STRANGER, opened, visit
from carecoord import (
    AccessDeniedError,
    Comparator,
    ConflictError,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalLifecycleStatus,
    NotFoundError,
    PatientGoal,
    Quantity,
    Range,
    Target,
    ValidationError,
)
from carecoord.clinic import default_range, goal_readings, with_defaults
from carecoord.events import GoalAchieved, MeasurementOutOfRange, MeasurementRecorded
from carecoord.model.clinic import VisitId
from carecoord.model.measurements import (
    CATALOGUE,
    Interpretation,
    LoincCode,
    MeasuredValue,
    Measurement,
    MeasurementCategory,
    MeasurementId,
    ReferenceRange,
    convert,
    is_loinc,
    target_codes,
)
from carecoord.model.outbox import Notification
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore, Store, UnitOfWork
from carecoord.testing import RecordingEventSink
from world import CHICAGO, COORD, MA, NURSE, OUTSIDER, PATIENT, PLAN

A1C, WEIGHT, SBP, DBP = (
    LoincCode("4548-4"),
    LoincCode("29463-7"),
    LoincCode("8480-6"),
    LoincCode("8462-4"),
)
BP_PANEL, GLUCOSE, EKG = LoincCode("85354-9"), LoincCode("41653-7"), LoincCode("11524-6")
TAKEN = datetime(2026, 11, 2, 10, 0, tzinfo=CHICAGO)


def measured(
    mid: str, code: LoincCode, value: float | None, unit: str | None, **kw: object
) -> Measurement:
    definition = CATALOGUE.get(code)
    return Measurement(
        id=MeasurementId(mid),
        patient_id=PATIENT,
        code=code,
        category=MeasurementCategory.LABORATORY if definition is None else definition.category,
        taken_at=kw.pop("taken_at", TAKEN),  # type: ignore[arg-type]
        taken_by=MA,
        value=value,
        unit=unit,
        **kw,  # type: ignore[arg-type]
    )


def goals(service: CareCoordinator) -> None:
    """An HbA1c goal (below 7 %), a weight goal (70-80 kg), a glucose goal in mmol/L and
    one in mmol/mol HbA1c (IFCC, which has no linear conversion from %)."""
    for gid, target in (
        (
            "g-a1c",
            Target(
                measure="HbA1c", quantity=Quantity(7.0, "%", Comparator.LT), due=date(2027, 6, 1)
            ),
        ),
        ("g-weight", Target(measure="body-weight", range=Range(low=70, high=80, unit="kg"))),
        (
            "g-glucose",
            Target(measure="loinc:41653-7", range=Range(low=4.0, high=7.0, unit="mmol/L")),
        ),
        ("g-ifcc", Target(measure="a1c", quantity=Quantity(53, "mmol/mol", Comparator.LT))),
    ):
        service.add_goal(
            PLAN, Goal(id=GoalId(gid), description=f"goal {gid}", targets=(target,)), actor=COORD
        )
        service.set_goal_status(PLAN, GoalId(gid), GoalLifecycleStatus.ACTIVE, actor=COORD)


def goal(service: CareCoordinator, gid: str) -> Goal:
    return service.care_plan(PLAN, actor=COORD).goal(GoalId(gid))


def test_a_measurement_becomes_a_reading_of_the_goal_it_measures(any_store: Store) -> None:
    sink = RecordingEventSink()
    service, clock = opened(any_store, sink=sink)
    goals(service)
    clock.set(TAKEN + timedelta(minutes=5))
    report = service.record_measurement(measured("m-1", A1C, 7.4, "%"), actor=MA)
    assert [
        (r.goal_id, r.reading.value, r.reading.unit, r.reading.measure) for r in report.readings
    ] == [("g-a1c", 7.4, "%", "HbA1c")]
    assert [(s.goal_id, s.reason) for s in report.skipped] == [("g-ifcc", "unit")]
    first = goal(service, "g-a1c")
    assert [(r.value, r.recorded_by, r.at) for r in first.readings] == [(7.4, MA, TAKEN)]
    assert first.achievement_status is GoalAchievementStatus.IN_PROGRESS
    assert goal(service, "g-ifcc").readings == ()  # never guessed
    clock.advance(timedelta(days=30))
    service.record_measurement(measured("m-2", A1C, 6.8, "%", taken_at=clock.now()), actor=NURSE)
    assert goal(service, "g-a1c").achievement_status is GoalAchievementStatus.ACHIEVED
    assert [e.goal_id for e in sink.of_type(GoalAchieved)] == ["g-a1c"]
    assert [e.readings for e in sink.of_type(MeasurementRecorded)] == [1, 1]
    # Units convert where the catalogue has a linear factor: pounds to kilograms, mg/dL of
    # glucose to mmol/L.
    service.record_measurement(
        measured("m-3", WEIGHT, 176.0, "[lb_av]", taken_at=clock.now()), actor=MA
    )
    assert goal(service, "g-weight").readings[0].value == pytest.approx(79.832257, abs=1e-6)
    assert goal(service, "g-weight").achievement_status is GoalAchievementStatus.ACHIEVED
    service.record_measurement(
        measured("m-4", GLUCOSE, 144.128, "mg/dL", taken_at=clock.now()), actor=MA
    )
    assert goal(service, "g-glucose").readings[0].value == pytest.approx(8.0)
    assert goal(service, "g-glucose").achievement_status is GoalAchievementStatus.IN_PROGRESS
    measured_ones = service.measurements_of(PATIENT, actor=COORD)
    assert [m.id for m in measured_ones] == ["m-1", "m-2", "m-3", "m-4"]
    assert [m.id for m in service.measurements_of(PATIENT, code=A1C, actor=COORD)] == ["m-1", "m-2"]


def test_a_measurement_feeds_the_patients_own_goal_too() -> None:
    service, clock = opened(MemoryStore())
    own = Goal(
        id=GoalId("g-own"),
        description="my own HbA1c goal",
        targets=(Target(measure="HbA1c", quantity=Quantity(7.0, "%", Comparator.LT)),),
        lifecycle_status=GoalLifecycleStatus.ACTIVE,
    )
    service.record_patient_goal(PatientGoal(goal=own, patient_id=PATIENT), actor=COORD)
    clock.set(TAKEN + timedelta(minutes=5))
    report = service.record_measurement(measured("m-own", A1C, 6.5, "%"), actor=MA)
    assert [(r.plan_id, r.goal_id, r.reading.value) for r in report.readings] == [
        (None, "g-own", 6.5)
    ]
    (kept,) = service.patient_goals_of(PATIENT, actor=COORD)
    assert [r.value for r in kept.goal.readings] == [6.5]
    assert kept.goal.achievement_status is GoalAchievementStatus.ACHIEVED


def test_out_of_range_results_go_on_the_coordinators_worklist(any_store: Store) -> None:
    sink = RecordingEventSink()
    service, clock = opened(any_store, sink=sink)
    clock.set(TAKEN)
    service.open_visit(visit("v-1", TAKEN - timedelta(minutes=30)), actor=MA)
    bp = measured(
        "bp-1",
        BP_PANEL,
        None,
        None,
        components=(MeasuredValue(SBP, 172, "mm[Hg]"), MeasuredValue(DBP, 88, "mm[Hg]")),
        visit_id=VisitId("v-1"),
    )
    report = service.record_measurement(bp, actor=MA)
    made = report.measurement
    assert [c.interpretation for c in made.components] == [
        Interpretation.HIGH,
        Interpretation.NORMAL,
    ]
    assert made.components[0].reference_range == ReferenceRange(90, 160)  # the default limits
    assert made.review_by == COORD  # the lead of the patient's active care team
    ekg = measured("ekg-1", EKG, None, None, interpretation=Interpretation.ABNORMAL)
    service.record_measurement(ekg, actor=MA)
    service.record_measurement(measured("w-1", WEIGHT, 80, "kg"), actor=MA)  # no limits: no flag
    alerts = service.measurement_alerts(COORD, actor=COORD)
    assert [(a.measurement_id, a.code, a.interpretation) for a in alerts] == [
        ("bp-1", BP_PANEL, Interpretation.HIGH),
        ("ekg-1", EKG, Interpretation.ABNORMAL),
    ]
    events = [e for e in sink.events if isinstance(e, MeasurementOutOfRange)]
    assert [(e.measurement_id, e.owner_id) for e in events] == [
        ("bp-1", "coord"),
        ("ekg-1", "coord"),
    ]
    with UnitOfWork(any_store) as uow:
        told = [n for n in uow.all(Notification) if n.event == "MeasurementOutOfRange"]
    assert {n.recipient_id for n in told} == {"coord"} and len(told) == 2
    assert "172" not in told[0].body  # the value is not in the message
    # acknowledged: off the worklist, still there with include_acknowledged
    clock.advance(timedelta(hours=1))
    done = service.acknowledge_measurement(MeasurementId("bp-1"), actor=COORD)
    assert (done.acknowledged_by, done.acknowledged_at) == (COORD, clock.now())
    assert [a.measurement_id for a in service.measurement_alerts(COORD, actor=COORD)] == ["ekg-1"]
    everything = service.measurement_alerts(COORD, include_acknowledged=True, actor=COORD)
    assert {(a.measurement_id, a.acknowledged) for a in everything} == {
        ("bp-1", True),
        ("ekg-1", False),
    }
    with pytest.raises(ValidationError):
        service.acknowledge_measurement(MeasurementId("bp-1"), actor=COORD)  # twice
    with pytest.raises(ValidationError):
        service.acknowledge_measurement(MeasurementId("w-1"), actor=COORD)  # in range
    with pytest.raises(AccessDeniedError):  # someone else's worklist
        service.measurement_alerts(COORD, actor=MA)
    # view-caseloads shows the worklist, but only results of patients one may read
    assert service.measurement_alerts(COORD, actor=OUTSIDER) == []


def test_recording_is_checked(any_store: Store) -> None:
    service, clock = opened(any_store)
    clock.set(TAKEN)
    with pytest.raises(AccessDeniedError):  # not on the care team
        service.record_measurement(measured("m-1", A1C, 7.0, "%"), actor=OUTSIDER)
    with pytest.raises(ValidationError):
        service.record_measurement(
            measured("m-1", A1C, 7.0, "%", taken_at=TAKEN + timedelta(hours=1)), actor=MA
        )
    with pytest.raises(NotFoundError):  # the visit does not exist
        service.record_measurement(
            measured("m-1", A1C, 7.0, "%", visit_id=VisitId("nope")), actor=MA
        )
    service.record_measurement(measured("m-1", A1C, 7.0, "%"), actor=MA)
    with pytest.raises(ConflictError):  # the same id again
        service.record_measurement(measured("m-1", A1C, 7.0, "%"), actor=MA)
    with pytest.raises(AccessDeniedError):
        service.measurements_of(PATIENT, actor=STRANGER)


def test_the_rules_on_their_own() -> None:
    assert [str(c) for c in sorted(target_codes("Blood glucose"))] == ["2339-0", "41653-7"]
    assert target_codes("http://loinc.org|8480-6") == {SBP}
    assert target_codes("4548-4") == {A1C} and target_codes("4548-5") == frozenset()
    assert target_codes("steps") == frozenset()
    assert is_loinc("4548-4") and is_loinc("85354-9")
    assert not is_loinc("4548-5") and not is_loinc("hba1c")  # wrong check digit, no code
    with pytest.raises(ValidationError):
        measured("x", LoincCode("4548-5"), 7.0, "%")
    with pytest.raises(ValidationError):
        MeasuredValue(LoincCode("hba1c"), 7.0, "%")
    assert convert(WEIGHT, 1000, "g", "[lb_av]") == pytest.approx(2.2046226)
    assert convert(A1C, 7.0, "%", "mmol/mol") is None
    assert default_range(GLUCOSE, "mmol/L") == ReferenceRange(70 / 18.016, 250 / 18.016)
    assert default_range(WEIGHT, "kg") is None
    flagged = with_defaults(measured("g", GLUCOSE, 60, "mg/dL"))
    assert flagged.interpretation is Interpretation.LOW and flagged.awaiting_review
    given = with_defaults(measured("g", GLUCOSE, 60, "mg/dL", reference_range=ReferenceRange(50)))
    assert given.interpretation is Interpretation.NORMAL and not given.out_of_range
    with pytest.raises(ValidationError):
        measured("x", A1C, 7.0, None)  # a value needs its unit
    with pytest.raises(ValidationError):
        measured("x", A1C, 7.0, "per cent")  # UCUM codes have no spaces
    with pytest.raises(ValidationError):
        measured("x", SBP, 120, "mm[Hg]", components=(MeasuredValue(SBP, 120, "mm[Hg]"),))
    readings, skipped = goal_readings(measured("x", A1C, 7.0, "%"), [])
    assert readings == () and skipped == ()
    assert CATALOGUE[EKG].category is MeasurementCategory.PROCEDURE
