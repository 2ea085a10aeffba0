"""A small world for the "what works" metrics, with every expected figure worked out by
hand (tests/test_what_works.py, tests/test_what_works_service.py).

Zone America/New_York; the report month is March 2025, [2025-03-01 00:00 EST,
2025-04-01 00:00 EDT): clocks go forward on 9 March, so March has 743 hours.

Referrals (service, patient, sent -> result):

====  =======  ===  =====================  =====================  ================
id    service  pat  sent                   result received        enrolled when
                                                                  sent?
====  =======  ===  =====================  =====================  ================
r1    pantry   p1   Mar 3 09:00 EST        Mar 7 21:00 EST (4.5)  yes
r2    pantry   p2   Mar 10 09:00 EDT       Mar 20 09:00 EDT (10)  yes
r3    pantry   p3   Mar 25 09:00           -                      no
r4    meals    p1   Feb 20 09:00 EST       Mar 2 09:00 EST (10)   yes
r5    meals    p2   Mar 5 09:00 EST        Apr 2 09:00 EDT        no (p2 from Mar 8)
                                           (28 days - 1 hour)
r6    -        p3   Mar 4 09:00            Mar 6 09:00 (2)        no
r7    pantry   p3   Mar 31 23:30 EDT       -                      no
                    (= Apr 1 03:30 UTC)
====  =======  ===  =====================  =====================  ================

Program ``diabetes``: p1 enrolled [Feb 1, Mar 15 12:00), p2 from Mar 8 10:00, p3 never.

Goals (patient, due, met by then?, enrolled at the end of the due date?):
g1 p1 Mar 10 met yes; g2 p1 Mar 20 not met, no (left Mar 15); g3 p2 Mar 31 met yes;
g4 p2 Mar 8 not met, yes (enrolled that morning); g5 p3 Mar 12 met, no;
g6 p1 Apr 1 met, no (due in April).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from carecoord import (
    CarePlan,
    CarePlanId,
    Comparator,
    Goal,
    GoalId,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    Referral,
    ReferralId,
    ReferralTargetKind,
    StaffId,
    Target,
)
from carecoord.model import ExternalRef

__all__ = [
    "BY",
    "ENROLMENTS",
    "MARCH",
    "NY",
    "P1",
    "P2",
    "P3",
    "PROGRAM",
    "ny",
    "plans",
    "referrals",
]

NY = ZoneInfo("America/New_York")
BY = StaffId("coord")
P1, P2, P3 = PatientId("p1"), PatientId("p2"), PatientId("p3")
PROGRAM = "diabetes"


def ny(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=NY)


MARCH = Period(start=ny(3, 1, 0), end=ny(4, 1, 0))

ENROLMENTS = {
    str(P1): [Period(start=ny(2, 1), end=ny(3, 15, 12))],
    str(P2): [Period(start=ny(3, 8, 10))],
}


def _referral(
    n: str, patient: PatientId, service: str | None, sent: datetime, result: datetime | None
) -> Referral:
    target = (
        None
        if service is None
        else ExternalRef("HealthcareService", f"HealthcareService/{service}")
    )
    referral = Referral(
        id=ReferralId(n),
        patient_id=patient,
        requested_by=BY,
        created_at=ny(1, 2),
        target_kind=ReferralTargetKind.COMMUNITY_RESOURCE,
        target_name="Community service",
        service="Help",
        target=target,
    ).transition("sent", by=BY, at=sent)
    if result is None:
        return referral
    for status in ("accepted", "scheduled", "completed"):
        referral = referral.transition(status, by=BY, at=sent)
    return referral.record_result("Seen", by=BY, at=result)


def referrals() -> list[Referral]:
    return [
        _referral("r1", P1, "pantry", ny(3, 3), ny(3, 7, 21)),
        _referral("r2", P2, "pantry", ny(3, 10), ny(3, 20)),
        _referral("r3", P3, "pantry", ny(3, 25), None),
        _referral("r4", P1, "meals", ny(2, 20), ny(3, 2)),
        _referral("r5", P2, "meals", ny(3, 5), ny(4, 2)),
        _referral("r6", P3, None, ny(3, 4), ny(3, 6)),
        _referral("r7", P3, "pantry", ny(3, 31, 23, 30), None),
    ]


def _goal(n: str, due: date, met: bool) -> Goal:
    goal = Goal(
        id=GoalId(n),
        description="HbA1c below 7.5 %",
        targets=(Target(measure="hba1c", quantity=Quantity(7.5, "%", Comparator.LT), due=due),),
    ).transition("active", by=BY, at=ny(1, 5))
    value = 7.0 if met else 8.0
    reading = ProgressReading(
        measure="hba1c", value=value, unit="%", at=ny(due.month, due.day, 8), recorded_by=BY
    )
    return goal.with_reading(reading)


def _plan(n: str, patient: PatientId, *goals: Goal) -> CarePlan:
    return CarePlan(
        id=CarePlanId(n), patient_id=patient, author_id=BY, created_at=ny(1, 5), goals=goals
    ).transition("active", by=BY, at=ny(1, 5))


def plans() -> list[CarePlan]:
    return [
        _plan(
            "plan-1",
            P1,
            _goal("g1", date(2025, 3, 10), True),
            _goal("g2", date(2025, 3, 20), False),
            _goal("g6", date(2025, 4, 1), True),
        ),
        _plan(
            "plan-2", P2, _goal("g3", date(2025, 3, 31), True), _goal("g4", date(2025, 3, 8), False)
        ),
        _plan("plan-3", P3, _goal("g5", date(2025, 3, 12), True)),
    ]
