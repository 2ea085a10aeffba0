"""Quality metrics: hand-computed numerators and denominators, period and zone boundaries.

The reporting period is Q4 2026 in Chicago: [2026-10-01 00:00 CDT, 2027-01-01 00:00 CST).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecoord import (
    AccessDeniedError,
    CarePlan,
    CarePlanId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    Comparator,
    ContactChannel,
    Goal,
    GoalId,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    Metric,
    MetricKind,
    MetricReport,
    Note,
    NoteId,
    NotFoundError,
    Patient,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    Referral,
    ReferralId,
    ReferralStatus,
    ReferralTargetKind,
    Review,
    ReviewId,
    StaffId,
    Target,
    ValidationError,
)
from carecoord.metrics import (
    caseload_sizes,
    compute_metrics,
    days_to_active_plan,
    days_to_first_contact,
    goal_attainment_rate,
    interventions_on_time,
    patient_satisfaction,
    readmission_rate,
    referral_days_to_close,
    referral_loop_closure_rate,
    review_timeliness,
)
from carecoord.model import (
    CommunicationStatus,
    Direction,
    Encounter,
    EncounterClass,
    EncounterId,
    InteractionParty,
    SurveyResponse,
    SurveyResponseId,
)
from carecoord.service import CareCoordinator
from carecoord.testing import FixedClock
from world import COORD, MA, OUTSIDER, PATIENT, T0, populate

CHI = ZoneInfo("America/Chicago")
BY = StaffId("s-1")
Q4 = Period(start=datetime(2026, 10, 1, tzinfo=CHI), end=datetime(2027, 1, 1, tzinfo=CHI))
P = PatientId("p-1")


def at(month: int, day: int, hour: int = 9, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, tzinfo=CHI)


# ---------------------------------------------------------------- value objects


def test_metric_value_is_none_without_denominator() -> None:
    empty = goal_attainment_rate([], Q4)
    assert (empty.numerator, empty.denominator, empty.value) == (0, 0, None)
    assert empty.kind is MetricKind.RATE
    assert empty.period == Q4
    assert empty.definition
    assert list(empty.to_record()) == list(Metric.COLUMNS)


def test_period_needs_an_end() -> None:
    with pytest.raises(ValidationError):
        goal_attainment_rate([], Period(start=Q4.start))
    with pytest.raises(ValidationError):
        compute_metrics(Period(start=Q4.start))


def test_report_lookup() -> None:
    report = compute_metrics(Q4)
    assert isinstance(report, MetricReport)
    names = [m.name for m in report]
    assert names == [
        "goal_attainment_rate",
        "review_timeliness",
        "referral_loop_closure_rate",
        "referral_days_to_close",
        "days_to_first_contact",
        "days_to_active_plan",
        "interventions_on_time",
        "caseload_size",
        "readmission_rate",
        "patient_satisfaction",
    ]
    assert report.get("readmission_rate").value is None
    with pytest.raises(NotFoundError):
        report.get("nope")
    assert len(report.to_records()) == len(report) == 10


# ------------------------------------------------------------------------ goals


def _goal(
    n: str, due: date, readings: tuple[tuple[float, datetime], ...] = (), *, active: bool = True
) -> Goal:
    goal = Goal(
        id=GoalId(n),
        description="HbA1c",
        targets=(Target(measure="hba1c", quantity=Quantity(7.0, "%", Comparator.LT), due=due),),
    )
    if active:
        goal = goal.transition("active", by=BY, at=at(9, 1))
    for value, when in readings:
        goal = goal.with_reading(
            ProgressReading(measure="hba1c", value=value, unit="%", at=when, recorded_by=BY)
        )
    return goal


def _plan(
    n: str, *, goals: tuple[Goal, ...] = (), items: tuple[Intervention, ...] = ()
) -> CarePlan:
    return CarePlan(
        id=CarePlanId(n),
        patient_id=P,
        author_id=BY,
        created_at=at(9, 1),
        goals=goals,
        interventions=items,
    ).transition("active", by=BY, at=at(9, 1))


def test_goal_attainment_rate() -> None:
    met = _goal("g1", date(2026, 10, 1), ((6.5, datetime(2026, 10, 1, 20, tzinfo=CHI)),))
    late = _goal(
        "g2",
        date(2026, 12, 31),
        ((8.0, at(12, 1)), (6.0, datetime(2027, 1, 1, 0, 30, tzinfo=CHI))),
    )
    before = _goal("g3", date(2026, 9, 30), ((6.0, at(9, 2)),))
    dropped = _goal("g4", date(2026, 11, 15)).transition(
        "cancelled", by=BY, at=at(11, 1), reason="moved away"
    )
    dropped_after = _goal("g5", date(2026, 11, 15)).transition(
        "cancelled", by=BY, at=at(11, 20), reason="late"
    )
    never = _goal("g6", date(2026, 11, 15), active=False)
    plan = _plan("plan-1", goals=(met, late, before, dropped, dropped_after, never))
    mistaken = _plan("plan-2", goals=(_goal("g7", date(2026, 11, 1), ((6.0, at(10, 5)),)),))
    mistaken = mistaken.transition("entered-in-error", by=BY, at=at(10, 6), reason="wrong patient")
    metric = goal_attainment_rate([plan, mistaken], Q4)
    # due in Q4 and pursued: g1 (met on its due day), g2 (met only after its due day), g5
    assert (metric.numerator, metric.denominator) == (1, 3)
    assert metric.value == pytest.approx(1 / 3)


def test_goal_due_dates_follow_the_period_zone() -> None:
    goal = _goal("g", date(2026, 9, 30), ((6.0, at(9, 2)),))
    plan = _plan("plan-1", goals=(goal,))
    # In Chicago Sep 30 is before Q4; in a period written in Tokyo time from the same instant
    # (Oct 1 14:00 JST), a Sep 30 due date is also before the period; a UTC period starting
    # Sep 30 00:00 UTC includes it.
    assert goal_attainment_rate([plan], Q4).denominator == 0
    utc = Period(start=datetime(2026, 9, 30, tzinfo=UTC), end=datetime(2026, 10, 1, tzinfo=UTC))
    assert goal_attainment_rate([plan], utc).denominator == 1
    assert goal_attainment_rate([plan], utc).numerator == 1


# ---------------------------------------------------------------------- reviews


def _review(n: str, due: datetime | None, done: datetime) -> Review:
    return Review(
        id=ReviewId(n),
        plan_id=CarePlanId("plan-1"),
        patient_id=P,
        reviewed_at=done,
        reviewed_by=BY,
        next_review_at=done + timedelta(days=90),
        due_at=due,
    )


def test_review_timeliness() -> None:
    reviews = [
        _review("on-time", at(10, 15), at(10, 14)),
        _review("late", at(11, 1), at(11, 3)),
        _review("before", datetime(2026, 9, 30, 23, tzinfo=CHI), at(9, 30)),
        _review("no-due", None, at(10, 20)),
    ]
    outstanding = CarePlan(
        id=CarePlanId("plan-p"),
        patient_id=P,
        author_id=BY,
        created_at=at(9, 1),
        next_review_at=at(12, 20),
    ).transition("active", by=BY, at=at(9, 1))
    finished = outstanding.transition("completed", by=BY, at=at(11, 1))
    metric = review_timeliness(reviews, Q4, plans=[outstanding, attrs_id(finished, "plan-q")])
    assert (metric.numerator, metric.denominator) == (1, 3)
    assert metric.value == pytest.approx(1 / 3)
    # Measured on Dec 1, the Dec 20 review is not due yet.
    early = review_timeliness(reviews, Q4, plans=[outstanding], as_of=at(12, 1))
    assert (early.numerator, early.denominator) == (1, 2)


def attrs_id(plan: CarePlan, new_id: str) -> CarePlan:
    import attrs

    return attrs.evolve(plan, id=CarePlanId(new_id))


# -------------------------------------------------------------------- referrals


def _referral(n: str, created: datetime) -> Referral:
    return Referral(
        id=ReferralId(n),
        patient_id=P,
        requested_by=BY,
        created_at=created,
        target_kind=ReferralTargetKind.SPECIALIST,
        target_name="Clinic",
        service="Consult",
    )


def _closed(n: str, sent: datetime, result: datetime) -> Referral:
    r = _referral(n, sent - timedelta(days=1)).transition("sent", by=BY, at=sent)
    for status in ("accepted", "scheduled", "completed"):
        r = r.transition(status, by=BY, at=sent + timedelta(days=1))
    return r.record_result("Seen", by=BY, at=result)


def referrals() -> list[Referral]:
    return [
        _closed("r1", at(10, 2), at(10, 20)),
        _referral("r2", at(10, 1))
        .transition("sent", by=BY, at=at(10, 10))
        .transition("accepted", by=BY, at=at(10, 11)),
        _closed("r3", at(9, 28), at(10, 5)),
        _closed("r4", at(12, 30), at(1, 3, year=2027)),
        _referral("r5", at(10, 1))
        .transition("sent", by=BY, at=at(11, 1))
        .transition("entered-in-error", by=BY, at=at(11, 2), reason="duplicate"),
        attrs_status(_referral("r6", at(11, 5)), ReferralStatus.SENT),
    ]


def attrs_status(referral: Referral, status: ReferralStatus) -> Referral:
    import attrs

    return attrs.evolve(referral, status=status)


def test_referral_loop_closure_rate() -> None:
    metric = referral_loop_closure_rate(referrals(), Q4)
    # sent in Q4: r1, r2, r4, r6 (created as sent); closed before Jan 1: r1 only
    assert (metric.numerator, metric.denominator, metric.value) == (1, 4, 0.25)


def test_referral_days_to_close() -> None:
    metric = referral_days_to_close(referrals(), Q4)
    # closed in Q4: r1 (Oct 2 -> Oct 20: 18 days), r3 (Sep 28 -> Oct 5: 7 days)
    assert metric.kind is MetricKind.MEDIAN
    assert (metric.numerator, metric.denominator, metric.value) == (None, 2, 12.5)
    assert metric.unit == "days"


def test_closure_for_a_past_quarter_does_not_change_later() -> None:
    before = referral_loop_closure_rate(referrals(), Q4)
    later = referrals()
    r2 = later[1]
    for status in ("scheduled", "completed"):
        r2 = r2.transition(status, by=BY, at=at(1, 4, year=2027))
    later[1] = r2.record_result("Seen", by=BY, at=at(1, 5, year=2027))
    assert referral_loop_closure_rate(later, Q4) == before


# ------------------------------------------------------------- first contact etc.


def _patient(n: str, enrolled: datetime | None) -> Patient:
    return Patient(
        id=PatientId(n),
        name=HumanName(family="X"),
        birth_date=date(1950, 1, 1),
        time_zone="America/Chicago",
        enrolled_at=enrolled,
    )


def _note(
    n: str,
    patient: str,
    when: datetime,
    party: InteractionParty = InteractionParty.PATIENT,
    status: CommunicationStatus = CommunicationStatus.COMPLETED,
) -> Note:
    return Note(
        id=NoteId(n),
        patient_id=PatientId(patient),
        at=when,
        author_id=BY,
        channel=ContactChannel.PHONE,
        direction=Direction.OUTBOUND,
        party=party,
        summary="Call",
        status=status,
        contact_id=None,
    )


def test_days_to_first_contact() -> None:
    patients = [
        _patient("a", at(10, 1)),
        _patient("b", at(9, 20)),
        _patient("c", at(9, 1)),
        _patient("d", at(12, 20)),
        _patient("e", None),
        _patient("f", at(10, 30)),
    ]
    notes = [
        _note("n1", "a", at(10, 2), InteractionParty.CARE_TEAM),  # internal: not a contact
        _note("n2", "a", at(10, 4)),  # 3 days
        _note("n3", "b", at(10, 10)),  # 20 days
        _note("n4", "c", at(9, 5)),  # first contact before Q4
        _note("n5", "c", at(10, 10)),
        _note("n6", "d", at(12, 21), status=CommunicationStatus.NOT_DONE),
        _note("n8", "e", at(10, 10)),
        _note("n9", "f", at(11, 2)),  # across the DST change: 3 days and 1 hour
    ]
    metric = days_to_first_contact(patients, notes, Q4)
    assert metric.denominator == 3
    assert metric.value == pytest.approx(73 / 24)


def test_days_to_active_plan() -> None:
    patients = [_patient("a", at(10, 1)), _patient("b", at(9, 20)), _patient("f", at(10, 30))]

    def plan(n: str, patient: str, activated: datetime) -> CarePlan:
        return CarePlan(
            id=CarePlanId(n),
            patient_id=PatientId(patient),
            author_id=BY,
            created_at=activated - timedelta(days=1),
        ).transition("active", by=BY, at=activated)

    plans = [
        plan("pa", "a", at(10, 6)),  # 5 days
        plan("pb1", "b", at(9, 25)),  # first plan before Q4: b is not counted
        plan("pb2", "b", at(10, 15)),
        plan("pf", "f", at(11, 9)),  # 10 days and 1 hour (DST)
    ]
    metric = days_to_active_plan(patients, plans, Q4)
    assert metric.denominator == 2
    assert metric.value == pytest.approx((5 + 241 / 24) / 2)


# ----------------------------------------------------------------- interventions


def _item(n: str, due: datetime, *steps: tuple[str, datetime]) -> Intervention:
    item = Intervention(
        id=InterventionId(n),
        kind=InterventionKind.EDUCATION,
        description="Teach",
        created_at=at(9, 1),
        due=due,
    )
    for status, when in steps:
        reason = "no longer needed" if status == "cancelled" else None
        item = item.transition(status, by=BY, at=when, reason=reason)
    return item


def test_interventions_on_time() -> None:
    items = (
        _item("i1", at(10, 10), ("in-progress", at(10, 1)), ("completed", at(10, 9))),
        _item("i2", at(10, 20), ("in-progress", at(10, 1)), ("completed", at(10, 21))),
        _item("i3", at(11, 1), ("in-progress", at(10, 1))),
        _item("i4", at(11, 5), ("cancelled", at(11, 1))),
        _item("i5", at(11, 5), ("cancelled", at(11, 6))),
        _item("i6", at(1, 2, year=2027)),
        _item("i7", Q4.start, ("in-progress", at(9, 29)), ("completed", at(9, 30))),
        _item("i8", datetime(2027, 1, 1, tzinfo=CHI)),
    )
    plan = _plan("plan-1", items=items)
    metric = interventions_on_time([plan], Q4)
    assert (metric.numerator, metric.denominator, metric.value) == (2, 5, 0.4)
    # as of Nov 2, only what was due by then counts: i1, i2, i3, i7
    partial = interventions_on_time([plan], Q4, as_of=at(11, 2))
    assert (partial.numerator, partial.denominator) == (2, 4)


# ---------------------------------------------------------------------- caseload


def _team(
    n: str, patient: str, members: tuple[Membership, ...], *steps: tuple[str, datetime]
) -> CareTeam:
    team = CareTeam(
        id=CareTeamId(n),
        patient_id=PatientId(patient),
        lead_id=members[0].staff_id,
        members=members,
    )
    for status, when in steps:
        team = team.transition(status, by=BY, at=when, reason="x")
    return team


def _member(staff: str, start: datetime, end: datetime | None = None) -> Membership:
    return Membership(
        staff_id=StaffId(staff),
        role=CareTeamRole.CARE_COORDINATOR,
        period=Period(start=start, end=end),
    )


def test_caseload_sizes() -> None:
    nurse = Membership(
        staff_id=StaffId("n"), role=CareTeamRole.NURSE, period=Period(start=at(9, 1))
    )
    teams = [
        _team("t1", "a", (_member("c1", at(9, 1)), nurse), ("active", at(9, 1))),
        _team(
            "t2",
            "b",
            (_member("c1", at(9, 1), at(12, 15)), _member("c2", at(11, 1))),
            ("active", at(9, 1)),
        ),
        _team("t3", "c", (_member("c2", at(9, 1)),), ("active", at(9, 1)), ("inactive", at(12, 1))),
        _team("t4", "d", (_member("c1", at(9, 1)),)),  # still proposed
    ]
    overall, c1, c2 = caseload_sizes(teams, Q4)
    assert (overall.kind, overall.numerator, overall.denominator, overall.value) == (
        MetricKind.MEAN,
        3,
        2,
        1.5,
    )
    assert (c1.subject, c1.value, c1.numerator, c1.denominator) == ("c1", 2.0, 2, None)
    assert (c2.subject, c2.value) == ("c2", 1.0)
    # On Nov 15 c1 still had b, and c2 still had c.
    _, c1_mid, c2_mid = caseload_sizes(teams, Q4, as_of=at(11, 15))
    assert (c1_mid.value, c2_mid.value) == (3.0, 2.0)


# ------------------------------------------------------------------- readmission


def _stay(
    n: str,
    patient: str,
    admitted: datetime,
    discharged: datetime | None,
    cls: EncounterClass = EncounterClass.INPATIENT,
    *,
    planned: bool = False,
) -> Encounter:
    return Encounter(
        id=EncounterId(n),
        patient_id=PatientId(patient),
        encounter_class=cls,
        admitted_at=admitted,
        discharged_at=discharged,
        recorded_by=BY,
        planned=planned,
    )


def test_readmission_rate() -> None:
    encounters = [
        _stay("e1", "x", at(10, 1), at(10, 5)),  # readmitted Oct 20
        _stay("e2", "x", at(10, 20), at(10, 25)),
        _stay("e3", "x", at(11, 1), at(11, 1, 15), EncounterClass.EMERGENCY),
        _stay("e4", "x", at(11, 10), at(11, 12), planned=True),  # readmitted exactly 30 days on
        _stay("e5", "x", at(12, 12), at(12, 20)),
        _stay("e6", "y", at(12, 20), at(12, 28)),  # readmitted Jan 10, after the period
        _stay("e6b", "y", at(1, 10, year=2027), at(1, 12, year=2027)),
        _stay("e7", "z", at(9, 25), datetime(2026, 9, 30, 23, tzinfo=CHI)),  # discharged before Q4
        _stay("e8", "z", at(10, 3), at(10, 4)),
        _stay("e9", "w", at(12, 1), None),  # still admitted
    ]
    metric = readmission_rate(encounters, Q4)
    # index discharges: e1 e2 e4 e5 e6 e8; readmitted: e1, e4 (e5 is unplanned), e6
    assert (metric.numerator, metric.denominator, metric.value) == (3, 6, 0.5)
    just_over = [*encounters[:4], _stay("e5", "x", at(12, 12, 10), at(12, 20))]
    assert readmission_rate(just_over, Q4).numerator == 1


def test_encounter_validation() -> None:
    with pytest.raises(ValidationError):
        _stay("bad", "x", at(10, 5), at(10, 1))
    assert EncounterClass.INPATIENT_ACUTE.is_inpatient
    assert not _stay("v", "x", at(10, 1), None, EncounterClass.VIRTUAL).is_inpatient


# ------------------------------------------------------------------ satisfaction


def _response(
    n: str,
    score: float,
    when: datetime,
    low: float = 1,
    high: float = 5,
    instrument: str = "overall",
) -> SurveyResponse:
    return SurveyResponse(
        id=SurveyResponseId(n),
        patient_id=P,
        instrument=instrument,
        score=score,
        at=when,
        recorded_by=BY,
        scale_min=low,
        scale_max=high,
    )


def test_patient_satisfaction() -> None:
    responses = [
        _response("s1", 5, at(10, 1)),
        _response("s2", 3, at(11, 1)),
        _response("s3", 7, at(12, 1), 0, 10, "nps"),
        _response("s4", 1, datetime(2026, 9, 30, 23, 59, tzinfo=CHI)),  # 04:59 UTC Oct 1
        _response("s5", 1, datetime(2027, 1, 1, tzinfo=CHI)),  # the end is excluded
    ]
    metric = patient_satisfaction(responses, Q4)
    assert metric.denominator == 3
    assert metric.numerator == pytest.approx(2.2)
    assert metric.value == pytest.approx(2.2 / 3)
    assert patient_satisfaction(responses, Q4, instrument="nps").value == pytest.approx(0.7)
    with pytest.raises(ValidationError):
        _response("bad", 6, at(10, 1))
    with pytest.raises(ValidationError):
        _response("bad", 1, at(10, 1), 5, 5)


# ----------------------------------------------------------------------- service


def test_service_metrics_need_permission_and_record_encounters() -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(clock=clock)
    populate(service, clock)
    first = Encounter(
        id=EncounterId("e-1"),
        patient_id=PATIENT,
        encounter_class=EncounterClass.INPATIENT,
        admitted_at=T0,
        recorded_by=MA,
    )
    service.record_encounter(first, actor=MA)
    discharged = service.record_discharge(EncounterId("e-1"), T0 + timedelta(days=2), actor=MA)
    assert discharged.discharged_at == T0 + timedelta(days=2)
    with pytest.raises(ValidationError):
        service.record_discharge(EncounterId("e-1"), T0 + timedelta(days=3), actor=MA)
    again = Encounter(
        id=EncounterId("e-2"),
        patient_id=PATIENT,
        encounter_class=EncounterClass.INPATIENT,
        admitted_at=T0 + timedelta(days=12),
        discharged_at=T0 + timedelta(days=14),
        recorded_by=MA,
    )
    service.record_encounter(again, actor=MA)
    service.record_survey_response(_response("sr-1", 4, T0 + timedelta(days=1)), actor=MA)
    clock.set(T0 + timedelta(days=40))
    report = service.metrics(T0, T0 + timedelta(days=30), actor=COORD)
    readmit = report.get("readmission_rate")
    assert (readmit.numerator, readmit.denominator) == (1, 2)
    assert report.get("patient_satisfaction").value == pytest.approx(0.75)
    assert report.get("caseload_size", "coord").value == 1.0
    with pytest.raises(AccessDeniedError):
        service.metrics(T0, T0 + timedelta(days=30), actor=MA)
    mine = service.metrics(T0, T0 + timedelta(days=30), actor=COORD, coordinator=COORD)
    assert mine.coordinator == COORD
    assert mine.get("readmission_rate").denominator == 2
    nobody = service.metrics(T0, T0 + timedelta(days=30), actor=COORD, coordinator=OUTSIDER)
    assert nobody.get("readmission_rate").denominator == 0
    assert nobody.get("caseload_size").value is None
    trail = service.audit_trail(actor=COORD, actor_id=COORD)
    assert [e.operation for e in trail[-3:]] == ["metrics", "metrics", "metrics"]
    assert trail[-1].entity == f"StaffMember/{OUTSIDER}"
    assert trail[-1].patient_id is None


def test_an_unknown_metric_kind_is_a_validation_error() -> None:
    from carecoord import ValidationError

    with pytest.raises(ValidationError, match="kind"):
        Metric(
            name="x",
            kind="no-such-kind",
            period=Period(
                start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 1, tzinfo=UTC)
            ),
            numerator=0,
            denominator=0,
            value=None,
            unit="u",
            definition="d",
        )


def test_satisfaction_does_not_depend_on_the_order_of_the_responses() -> None:
    # 0.1 + 0.2 + 0.3 added left to right is 0.6000000000000001, right to left 0.6:
    # the sum is exact (math.fsum), so the order the store returns them in does not matter.
    responses = [_response(f"s{n}", n, at(10, n), 0, 10) for n in (1, 2, 3)]
    forward = patient_satisfaction(responses, Q4)
    assert forward == patient_satisfaction(list(reversed(responses)), Q4)
    assert forward.numerator == 0.6
