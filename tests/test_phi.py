"""Protected health information never shows up in repr/str or in error messages.

Every PHI field gets a value containing MARKER; the birth date is a distinctive
date whose ISO form and repr are checked too.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord import (
    Appointment,
    AppointmentId,
    Assessment,
    AssessmentDomain,
    AssessmentId,
    Barrier,
    BarrierId,
    BarrierKind,
    CareCoordError,
    CarePlan,
    CarePlanId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    Consent,
    ConsentId,
    Contact,
    ContactChannel,
    ContactId,
    ContactPoint,
    ContactPreferences,
    ContactRelationship,
    DecisionId,
    DecisionOutcome,
    Direction,
    Finding,
    FindingId,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalOutcome,
    HumanName,
    Identifier,
    InteractionParty,
    Intervention,
    InterventionId,
    InterventionKind,
    InvalidTransitionError,
    Membership,
    Need,
    NeedId,
    NeedPriority,
    Note,
    NoteId,
    NotFoundError,
    Patient,
    PatientDecision,
    PatientId,
    Period,
    QuietHours,
    ReasonRequiredError,
    Ref,
    Referral,
    ReferralId,
    ReferralStatus,
    ReferralTargetKind,
    RefKind,
    Review,
    ReviewDecision,
    ReviewId,
    StaffId,
    StaffMember,
    StructureError,
    ValidationError,
    dumps,
    from_payload,
    loads,
    to_payload,
)

MARKER = "PHIMARKER"
BIRTH = date(1937, 11, 23)
BIRTH_FORMS = (BIRTH.isoformat(), repr(BIRTH), "1937", "11/23", "23.11")
NY = ZoneInfo("America/New_York")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=NY)
DAY = timedelta(days=1)
STAFF = StaffId("staff-1")
PATIENT = PatientId("patient-1")


def phi(label: str) -> str:
    """A PHI-looking value carrying the marker."""
    return f"{MARKER} {label}"


def _assert_clean(text: str) -> None:
    assert MARKER not in text
    for form in BIRTH_FORMS:
        assert form not in text


# --------------------------------------------------------- marked entities


def marked_name() -> HumanName:
    return HumanName(family=phi("family"), given=(phi("given"), phi("middle")))


def marked_contact() -> Contact:
    return Contact(
        id=ContactId("c1"),
        name=marked_name(),
        relationship=ContactRelationship.SPOUSE,
        may_receive_information=True,
        is_caregiver=True,
        telecom=(
            ContactPoint(channel=ContactChannel.PHONE, value=phi("+1 555 0100")),
            ContactPoint(channel=ContactChannel.EMAIL, value=phi("x@example.org")),
        ),
        preferences=ContactPreferences(channels=(ContactChannel.SMS,)),
    )


def marked_patient() -> Patient:
    return Patient(
        id=PATIENT,
        name=marked_name(),
        birth_date=BIRTH,
        time_zone="America/New_York",
        identifiers=(Identifier(system="urn:mrn", value=phi("mrn")),),
        telecom=(ContactPoint(channel=ContactChannel.SMS, value=phi("sms")),),
        preferences=ContactPreferences(
            channels=(ContactChannel.PHONE,),
            quiet_hours=QuietHours(start=time(22, 0), end=time(7, 0)),
        ),
        contacts=(marked_contact(),),
        enrolled_at=T0,
    )


def marked_staff() -> StaffMember:
    return StaffMember(
        id=STAFF,
        name=marked_name(),
        roles=(CareTeamRole.NURSE,),
        telecom=(ContactPoint(channel=ContactChannel.PHONE, value=phi("staff phone")),),
    )


def marked_team() -> CareTeam:
    team = CareTeam(
        id=CareTeamId("team-1"),
        patient_id=PATIENT,
        lead_id=STAFF,
        members=(Membership(staff_id=STAFF, role=CareTeamRole.NURSE, period=Period(start=T0)),),
    )
    team = team.transition("active", by=STAFF, at=T0, reason=phi("activated"))
    return team.transition("suspended", by=STAFF, at=T0 + DAY, reason=phi("suspended"))


def marked_assessment() -> Assessment:
    return Assessment(
        id=AssessmentId("a1"),
        patient_id=PATIENT,
        performed_by=STAFF,
        performed_at=T0,
        findings=(
            Finding(id=FindingId("f1"), domain=AssessmentDomain.SOCIAL, text=phi("finding")),
        ),
        needs=(
            Need(
                id=NeedId("n1"),
                domain=AssessmentDomain.SOCIAL,
                description=phi("need"),
                priority=NeedPriority.HIGH,
                finding_ids=(FindingId("f1"),),
            ),
        ),
    )


def marked_goal() -> Goal:
    goal = Goal(id=GoalId("g1"), description=phi("goal"), addresses=(NeedId("n1"),))
    goal = goal.transition("active", by=STAFF, at=T0, reason=phi("goal started"))
    return goal.transition("on-hold", by=STAFF, at=T0 + DAY, reason=phi("goal paused"))


def marked_intervention() -> Intervention:
    item = Intervention(
        id=InterventionId("i1"),
        kind=InterventionKind.EDUCATION,
        description=phi("intervention"),
        created_at=T0,
        goal_ids=(GoalId("g1"),),
    )
    return item.transition("cancelled", by=STAFF, at=T0, reason=phi("cancel reason"))


def marked_plan() -> CarePlan:
    plan = CarePlan(
        id=CarePlanId("plan-1"),
        patient_id=PATIENT,
        author_id=STAFF,
        created_at=T0,
        title=phi("title"),
        addresses=(NeedId("n1"),),
        goals=(marked_goal(),),
        interventions=(marked_intervention(),),
    )
    plan = plan.transition("active", by=STAFF, at=T0, reason=phi("plan active"))
    return plan.transition("revoked", by=STAFF, at=T0 + DAY, reason=phi("plan revoked"))


def marked_referral() -> Referral:
    referral = Referral(
        id=ReferralId("r1"),
        patient_id=PATIENT,
        requested_by=STAFF,
        created_at=T0,
        target_kind=ReferralTargetKind.SPECIALIST,
        target_name="Cardiology",
        service="consult",
        reason=phi("referral reason"),
    )
    for status in ("sent", "accepted", "scheduled", "completed"):
        referral = referral.transition(status, by=STAFF, at=T0, reason=phi(status))
    return referral.record_result(phi("outcome"), by=STAFF, at=T0 + DAY)


def marked_appointment() -> Appointment:
    appt = Appointment(
        id=AppointmentId("ap1"),
        patient_id=PATIENT,
        start=T0,
        end=T0 + timedelta(hours=1),
        provider="Clinic",
        location=phi("location"),
    )
    return appt.transition("cancelled", by=STAFF, at=T0, reason=phi("appt cancelled"))


def marked_barrier() -> Barrier:
    barrier = Barrier(
        id=BarrierId("b1"),
        patient_id=PATIENT,
        kind=BarrierKind.HOUSING,
        identified_at=T0,
        identified_by=STAFF,
        description=phi("barrier"),
        blocks=(Ref(kind=RefKind.GOAL, id="g1"),),
    )
    return barrier.resolve(phi("resolution"), by=STAFF, at=T0 + DAY)


def marked_review() -> Review:
    return Review(
        id=ReviewId("rv1"),
        plan_id=CarePlanId("plan-1"),
        patient_id=PATIENT,
        reviewed_at=T0,
        reviewed_by=STAFF,
        next_review_at=T0 + 30 * DAY,
        goal_outcomes=(
            GoalOutcome(
                goal_id=GoalId("g1"),
                achievement=GoalAchievementStatus.WORSENING,
                decision=ReviewDecision.MODIFY,
                comment=phi("goal comment"),
            ),
        ),
        summary=phi("review summary"),
    )


def marked_note() -> Note:
    return Note(
        id=NoteId("note-1"),
        patient_id=PATIENT,
        at=T0,
        author_id=STAFF,
        channel=ContactChannel.PHONE,
        direction=Direction.INBOUND,
        party=InteractionParty.FAMILY,
        summary=phi("note"),
        contact_id=ContactId("c1"),
    )


def marked_decision() -> PatientDecision:
    return PatientDecision(
        id=DecisionId("d1"),
        patient_id=PATIENT,
        at=T0,
        recorded_by=STAFF,
        recommendation=phi("recommendation"),
        outcome=DecisionOutcome.DECLINED,
        patient_words=phi("patient words"),
    )


def marked_consent() -> Consent:
    consent = Consent(
        id=ConsentId("cs1"),
        patient_id=PATIENT,
        recorded_at=T0,
        recorded_by=STAFF,
        contact_ids=(ContactId("c1"),),
    )
    return consent.transition("entered-in-error", by=STAFF, at=T0, reason=phi("consent error"))


MARKED: dict[str, Callable[[], Any]] = {
    "Patient": marked_patient,
    "StaffMember": marked_staff,
    "CareTeam": marked_team,
    "Assessment": marked_assessment,
    "CarePlan": marked_plan,
    "Referral": marked_referral,
    "Appointment": marked_appointment,
    "Barrier": marked_barrier,
    "Review": marked_review,
    "Note": marked_note,
    "PatientDecision": marked_decision,
    "Consent": marked_consent,
}


def _walk(value: Any) -> Iterator[Any]:
    """Every attrs object nested in ``value`` (itself included), through tuples.

    Plain values (the PHI strings themselves) are not yielded.
    """
    if attrs.has(type(value)):
        yield value
        for field in attrs.fields(type(value)):
            yield from _walk(getattr(value, field.name))
    elif isinstance(value, tuple):
        for item in value:
            yield from _walk(item)


@pytest.mark.parametrize("kind", list(MARKED))
def test_marker_is_really_planted(kind: str) -> None:
    # Guard against a vacuous test: the marker must be in the serialized data.
    text = dumps(MARKED[kind]())
    assert MARKER in text or BIRTH.isoformat() in text


def test_every_phi_field_is_marked() -> None:
    serialized = " ".join(dumps(build()) for build in MARKED.values())
    expected = [
        "family",
        "given",
        "+1 555 0100",
        "x@example.org",
        "mrn",
        "sms",
        "staff phone",
        "finding",
        "need",
        "goal",
        "goal started",
        "intervention",
        "cancel reason",
        "title",
        "plan revoked",
        "referral reason",
        "outcome",
        "location",
        "appt cancelled",
        "barrier",
        "resolution",
        "goal comment",
        "review summary",
        "note",
        "recommendation",
        "patient words",
        "consent error",
        "activated",
    ]
    for label in expected:
        assert phi(label) in serialized, label
    assert BIRTH.isoformat() in serialized


@pytest.mark.parametrize("kind", list(MARKED))
def test_repr_and_str_hide_phi(kind: str) -> None:
    obj = MARKED[kind]()
    parts = list(_walk(obj))
    assert len(parts) > 1 or kind in {"Note", "PatientDecision"}
    for part in parts:
        _assert_clean(repr(part))
        _assert_clean(str(part))
    _assert_clean(repr([obj]))
    _assert_clean(repr({"x": obj}))


def test_repr_still_shows_identifiers() -> None:
    # Hiding PHI must not hide everything: ids and codes stay visible.
    text = repr(marked_plan())
    assert "plan-1" in text
    assert "revoked" in text
    assert "patient-1" in repr(marked_patient())


# ----------------------------------------------------------- error messages


def _messages(error: BaseException) -> list[str]:
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


def _check(error: BaseException) -> None:
    assert isinstance(error, CareCoordError)
    for text in _messages(error):
        _assert_clean(text)


def _bad_payload(kind: str, edit: Callable[[dict[str, Any]], None]) -> StructureError:
    obj = MARKED[kind]()
    payload = json.loads(dumps(obj))
    edit(payload["data"])
    with pytest.raises(StructureError) as info:
        from_payload(payload, type(obj))
    return info.value


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("kind", "edit"),
    [
        ("CarePlan", _set("status", value=MARKER)),
        ("CarePlan", _set("goals", 0, "priority", value=phi("code"))),
        ("CarePlan", _set("history", 0, "to_status", value=MARKER)),
        ("CarePlan", _set("created_at", value=MARKER)),
        ("CarePlan", _set("created_at", value=f"2025-01-01T09:00:00[{MARKER}]")),
        ("CarePlan", _set("created_at", value=f"2025-01-01T09:00:00+01:00[Europe/{MARKER}]")),
        ("CarePlan", _set("goals", 0, "description", value=" " * 3)),
        ("CarePlan", _set("goals", 0, "description", value=MARKER * 500)),
        ("CarePlan", _set("title", value=MARKER * 100)),
        ("CarePlan", _set("goals", 0, "addresses", value=[MARKER])),
        ("CarePlan", _set("interventions", 0, "goal_ids", value=[phi("goal")])),
        ("CarePlan", _set("goals", value=MARKER)),
        ("CarePlan", _set("unexpected", value=MARKER)),
        ("Patient", _set("birth_date", value=MARKER)),
        ("Patient", _set("birth_date", value=BIRTH.isoformat() + "T00:00")),
        ("Patient", _set("birth_date", value="1937-13-23")),
        ("Patient", _set("name", "given", value=MARKER)),
        ("Patient", _set("name", "family", value=42)),
        ("Patient", _set("telecom", 0, "channel", value=MARKER)),
        ("Patient", _set("contacts", 0, "relationship", value=MARKER)),
        ("Patient", _set("contacts", 0, "id", value=phi("id"))),
        ("Patient", _set("time_zone", value=f"Mars/{MARKER}")),
        ("Patient", _set("language", value=MARKER)),
        ("Patient", _set("identifiers", 0, "value", value="")),
        ("Patient", _set("preferences", "quiet_hours", "start", value=MARKER)),
        ("Referral", _set("outcome", value=None)),
        ("Referral", _set("reason", value=MARKER * 1000)),
        ("Appointment", _set("end", value="2025-03-03T08:00:00-05:00[America/New_York]")),
        ("Note", _set("contact_id", value=None)),
        ("Barrier", _set("resolution", "at", value="2020-01-01T00:00:00+00:00[UTC]")),
        ("Review", _set("next_review_at", value=MARKER)),
        ("PatientDecision", _set("outcome", value=MARKER)),
        ("Consent", _set("contact_ids", value=[])),
        ("Consent", _set("categories", value=MARKER)),
    ],
)
def test_structure_errors_hide_phi(kind: str, edit: Callable[[dict[str, Any]], None]) -> None:
    error = _bad_payload(kind, edit)
    _check(error)
    assert error.paths
    for path in error.paths:
        assert MARKER not in path


def test_loads_of_marked_garbage_hides_phi() -> None:
    text = dumps(marked_patient())
    with pytest.raises(StructureError) as info:
        loads(text[:-5], Patient)
    _check(info.value)
    with pytest.raises(StructureError) as info:
        loads(text, CarePlan)  # wrong type
    _check(info.value)
    payload = to_payload(marked_patient())
    payload["schema_version"] = MARKER
    with pytest.raises(StructureError) as info:
        from_payload(payload, Patient)
    _check(info.value)


def _raises(action: Callable[[], object]) -> CareCoordError:
    with pytest.raises(CareCoordError) as info:
        action()
    return info.value


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        # Too-long or blank PHI text.
        (lambda: Goal(id=GoalId("g"), description=MARKER * 500), ValidationError),
        (lambda: attrs.evolve(marked_plan(), title=MARKER * 100), ValidationError),
        (lambda: HumanName(family=MARKER * 100), ValidationError),
        (lambda: HumanName(family="x", given=(MARKER * 100,)), ValidationError),
        (lambda: attrs.evolve(marked_note(), summary=MARKER * 5000), ValidationError),
        (lambda: marked_barrier().resolve(MARKER * 1000, by=STAFF, at=T0 + DAY), ValidationError),
        # PHI where another type belongs.
        (lambda: attrs.evolve(marked_patient(), id=MARKER), ValidationError),  # type: ignore[arg-type]
        (
            lambda: attrs.evolve(marked_patient(), birth_date=MARKER),  # type: ignore[arg-type]
            ValidationError,
        ),
        (
            lambda: attrs.evolve(marked_patient(), contacts=(MARKER,)),  # type: ignore[arg-type]
            ValidationError,
        ),
        (lambda: PatientId(phi("id")), ValidationError),
        (lambda: PatientId(MARKER * 10), ValidationError),
        # Model rules broken by objects full of PHI.
        (
            lambda: attrs.evolve(marked_plan(), addresses=()),
            ValidationError,
        ),
        (
            lambda: attrs.evolve(marked_assessment(), findings=()),
            ValidationError,
        ),
        (
            lambda: attrs.evolve(marked_patient(), contacts=(marked_contact(), marked_contact())),
            ValidationError,
        ),
        (lambda: attrs.evolve(marked_patient(), enrolled_at=datetime(2025, 1, 1)), ValidationError),
        (lambda: marked_patient().contact(ContactId("nobody")), NotFoundError),
        (lambda: marked_plan().goal(GoalId("nope")), NotFoundError),
        (lambda: marked_barrier().resolve(phi("again"), by=STAFF, at=T0), ValidationError),
        (lambda: marked_review().__class__(**_review_fields(next_review_at=T0)), ValidationError),
        # State machines: the reason is never echoed.
        (
            lambda: marked_plan().transition("active", by=STAFF, at=T0, reason=phi("why")),
            InvalidTransitionError,
        ),
        (
            lambda: marked_intervention().transition("ready", by=STAFF, at=T0, reason=MARKER),
            InvalidTransitionError,
        ),
        (
            lambda: marked_goal().transition("proposed", by=STAFF, at=T0, reason=MARKER),
            InvalidTransitionError,
        ),
        (
            lambda: marked_goal().transition(MARKER, by=STAFF, at=T0, reason=MARKER),
            ValidationError,
        ),
        (
            lambda: marked_referral().transition("sent", by=STAFF, at=T0, reason=MARKER),
            InvalidTransitionError,
        ),
        (
            lambda: marked_appointment().transition("booked", by=STAFF, at=T0, reason=MARKER),
            InvalidTransitionError,
        ),
        (
            lambda: marked_team().transition("suspended", by=STAFF, at=T0, reason=MARKER),
            InvalidTransitionError,
        ),
        (
            lambda: marked_goal().transition("cancelled", by=STAFF, at=T0, reason=" "),
            ReasonRequiredError,
        ),
        (
            lambda: marked_goal().transition("cancelled", by=STAFF, at=T0, reason=MARKER * 900),
            ValidationError,
        ),
    ],
)
def test_model_errors_hide_phi(action: Callable[[], object], expected: type) -> None:
    error = _raises(action)
    assert isinstance(error, expected)
    _check(error)


def _review_fields(**changes: Any) -> dict[str, Any]:
    fields = {f.name: getattr(marked_review(), f.name) for f in attrs.fields(Review)}
    fields.update(changes)
    return fields


def test_referral_result_needs_outcome_without_echo() -> None:
    referral = marked_referral()
    error = _raises(lambda: attrs.evolve(referral, outcome=None))
    _check(error)
    assert referral.status is ReferralStatus.RESULT_RECEIVED


def test_transition_records_keep_reason_out_of_repr() -> None:
    plan = marked_plan()
    assert plan.history[-1].reason == phi("plan revoked")
    _assert_clean(repr(plan.history))
    _assert_clean(repr(marked_intervention().history[-1]))
