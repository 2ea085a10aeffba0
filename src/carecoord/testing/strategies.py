"""Hypothesis strategies for every persisted carecoord entity (public, for host tests).

Needs the ``testing`` extra (``pip install carecoord[testing]``).

``st.from_type`` is not used on purpose: it ignores attrs validators and the
cross-field rules (a care team's lead is a member, interventions link goals of
their own plan, ...), so every strategy here builds instances by hand.

Datetimes are aware and carry one of a handful of IANA zones (including
Australia/Lord_Howe with its 30-minute DST shift); later ones are derived
with :func:`later`.
"""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carecoord import (
    APPOINTMENT_MACHINE,
    CARE_PLAN_MACHINE,
    CARE_TEAM_MACHINE,
    CONSENT_MACHINE,
    GOAL_MACHINE,
    REFERRAL_MACHINE,
    TASK_MACHINE,
    Appointment,
    AppointmentId,
    AppointmentStatus,
    Assessment,
    AssessmentDomain,
    AssessmentId,
    Barrier,
    BarrierId,
    BarrierKind,
    BarrierResolution,
    Cadence,
    CadenceUnit,
    CarePlan,
    CarePlanId,
    CarePlanIntent,
    CarePlanStatus,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    CommunicationStatus,
    Comparator,
    Consent,
    ConsentId,
    ConsentStatus,
    Contact,
    ContactChannel,
    ContactId,
    ContactPoint,
    ContactPreferences,
    ContactRelationship,
    DecisionId,
    DecisionOutcome,
    Direction,
    Encounter,
    EncounterClass,
    EncounterId,
    EntityId,
    Finding,
    FindingId,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalLifecycleStatus,
    GoalOutcome,
    GoalPriority,
    HumanName,
    Identifier,
    InteractionParty,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    Need,
    NeedId,
    NeedPriority,
    NeedStatus,
    Note,
    NoteId,
    Patient,
    PatientDecision,
    PatientId,
    Period,
    ProgressReading,
    Quantity,
    QuietHours,
    Range,
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
    StateMachine,
    SurveyResponse,
    SurveyResponseId,
    Target,
    TaskPriority,
    TaskStatus,
    Transition,
)

__all__ = [
    "AWARE_DATETIMES",
    "ENTITY_STRATEGIES",
    "ZONES",
    "ZONE_NAMES",
    "appointments",
    "assessments",
    "aware_datetimes",
    "barriers",
    "cadences",
    "care_plans",
    "care_teams",
    "consents",
    "contacts",
    "encounters",
    "goals",
    "ids",
    "interventions",
    "later",
    "notes",
    "patient_decisions",
    "patients",
    "periods",
    "referrals",
    "reviews",
    "staff_members",
    "survey_responses",
    "texts",
]

MAX = 3
"""Upper bound for every collection, to keep examples small and tests fast."""

ZONE_NAMES: tuple[str, ...] = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
)
ZONES: tuple[ZoneInfo, ...] = tuple(ZoneInfo(name) for name in ZONE_NAMES)

_I = TypeVar("_I", bound=EntityId)
_S = TypeVar("_S", bound=StrEnum)


# ------------------------------------------------------------------ scalars


def aware_datetimes() -> SearchStrategy[datetime]:
    """Aware datetimes in 2000-2100 carrying one of :data:`ZONES`.

    Imaginary wall times (in a spring-forward gap) are allowed: the model
    accepts them and a round trip must keep them as written.
    """
    return st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 12, 31),
        timezones=st.sampled_from(ZONES),
    )


AWARE_DATETIMES: SearchStrategy[datetime] = aware_datetimes()

DATES: SearchStrategy[date] = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
BIRTH_DATES: SearchStrategy[date] = st.dates(
    min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)
)

_PRINTABLE = st.characters(categories=["L", "N", "P", "S"], include_characters=" ")


def texts(max_size: int = 12) -> SearchStrategy[str]:
    """Non-blank printable text (letters, digits, punctuation, symbols, spaces)."""
    return st.text(_PRINTABLE, min_size=1, max_size=max_size).filter(lambda s: bool(s.strip()))


_ID_ALPHABET = string.ascii_letters + string.digits + "-_.:"


def ids(cls: type[_I]) -> SearchStrategy[_I]:
    """Valid typed identifiers of class ``cls`` (the :class:`~carecoord.EntityId` rule)."""
    return (
        st.text(_ID_ALPHABET, min_size=1, max_size=10)
        .filter(lambda s: s not in {".", ".."})
        .map(cls)
    )


def unique_ids(cls: type[_I], *, min_size: int = 0) -> SearchStrategy[tuple[_I, ...]]:
    """A tuple of distinct identifiers of class ``cls``."""
    return st.lists(ids(cls), min_size=min_size, max_size=MAX, unique=True).map(tuple)


FLOATS: SearchStrategy[float] = st.floats(
    min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False
)
DURATIONS: SearchStrategy[timedelta] = st.timedeltas(
    min_value=timedelta(0), max_value=timedelta(days=400)
)
POSITIVE_DURATIONS: SearchStrategy[timedelta] = st.timedeltas(
    min_value=timedelta(minutes=1), max_value=timedelta(days=400)
)


def later(start: datetime, delta: timedelta) -> datetime:
    """The instant ``delta`` after ``start``, on ``start``'s zone.

    Computed on UTC, so a positive ``delta`` is always strictly later even
    across a daylight-saving change (the model compares instants).
    """
    return (start.astimezone(UTC) + delta).astimezone(start.tzinfo)


def optional(strategy: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """``None`` or a value of ``strategy``."""
    return st.none() | strategy


@st.composite
def histories(
    draw: st.DrawFn, machine: StateMachine[Any], start: Any
) -> tuple[Any, tuple[Transition[Any], ...]]:
    """A legal walk of up to MAX steps through ``machine``: (final state, transitions)."""
    state = start
    steps: list[Transition[Any]] = []
    for _ in range(draw(st.integers(0, MAX))):
        targets = sorted(machine.targets(state))
        if not targets:
            break
        to = draw(st.sampled_from(targets))
        reason = draw(texts()) if to in machine.needs_reason else draw(optional(texts()))
        step = machine.transition(
            state, to, by=draw(ids(StaffId)), at=draw(AWARE_DATETIMES), reason=reason
        )
        steps.append(step)
        state = step.to_status
    return state, tuple(steps)


def codes(enum: type[_S]) -> SearchStrategy[_S]:
    """Any member of ``enum``."""
    return st.sampled_from(list(enum))


# ------------------------------------------------------------ value objects


@st.composite
def periods(draw: st.DrawFn, *, open_ended: bool = True) -> Period:
    """A period; open-ended (``end`` None) only when ``open_ended``."""
    start = draw(AWARE_DATETIMES)
    if open_ended and draw(st.booleans()):
        return Period(start=start)
    return Period(start=start, end=later(start, draw(DURATIONS)))


@st.composite
def cadences(draw: st.DrawFn) -> Cadence:
    """A cadence every 1-12 units from an aware anchor."""
    return Cadence(
        every=draw(st.integers(1, 12)), unit=draw(codes(CadenceUnit)), anchor=draw(AWARE_DATETIMES)
    )


@st.composite
def human_names(draw: st.DrawFn) -> HumanName:
    given = draw(st.lists(texts(), max_size=MAX))
    return HumanName(family=draw(texts()), given=tuple(given))


@st.composite
def contact_points(draw: st.DrawFn) -> ContactPoint:
    return ContactPoint(channel=draw(codes(ContactChannel)), value=draw(texts()))


@st.composite
def quiet_hours(draw: st.DrawFn) -> QuietHours:
    start: time = draw(st.times())
    end: time = draw(st.times().filter(lambda t: t != start))
    return QuietHours(start=start, end=end)


@st.composite
def contact_preferences(draw: st.DrawFn) -> ContactPreferences:
    channels = draw(st.lists(codes(ContactChannel), max_size=MAX, unique=True))
    return ContactPreferences(channels=tuple(channels), quiet_hours=draw(optional(quiet_hours())))


@st.composite
def identifiers(draw: st.DrawFn) -> Identifier:
    return Identifier(system=draw(texts()), value=draw(texts()))


@st.composite
def contacts(draw: st.DrawFn) -> Contact:
    return Contact(
        id=draw(ids(ContactId)),
        name=draw(human_names()),
        relationship=draw(codes(ContactRelationship)),
        may_receive_information=draw(st.booleans()),
        is_caregiver=draw(st.booleans()),
        telecom=tuple(draw(st.lists(contact_points(), max_size=MAX))),
        preferences=draw(contact_preferences()),
    )


@st.composite
def refs(draw: st.DrawFn) -> Ref:
    return Ref(kind=draw(codes(RefKind)), id=draw(texts()))


def unique_refs() -> SearchStrategy[tuple[Ref, ...]]:
    return st.lists(refs(), max_size=MAX, unique=True).map(tuple)


# --------------------------------------------------------------- entities


@st.composite
def patients(draw: st.DrawFn) -> Patient:
    """A patient with contacts, preferences, quiet hours, identifiers and telecom."""
    return Patient(
        id=draw(ids(PatientId)),
        name=draw(human_names()),
        birth_date=draw(BIRTH_DATES),
        time_zone=draw(st.sampled_from(ZONE_NAMES)),
        language=draw(st.sampled_from(["en", "de", "en-US", "fr-CA", "hi", "yue"])),
        identifiers=tuple(draw(st.lists(identifiers(), max_size=MAX))),
        telecom=tuple(draw(st.lists(contact_points(), max_size=MAX))),
        preferences=draw(contact_preferences()),
        contacts=tuple(draw(st.lists(contacts(), max_size=MAX, unique_by=lambda c: c.id))),
        enrolled_at=draw(optional(AWARE_DATETIMES)),
    )


@st.composite
def staff_members(draw: st.DrawFn) -> StaffMember:
    staff_id = draw(ids(StaffId))
    roles = draw(st.lists(codes(CareTeamRole), min_size=1, max_size=MAX, unique=True))
    return StaffMember(
        id=staff_id,
        name=draw(human_names()),
        roles=tuple(roles),
        time_zone=draw(st.sampled_from(ZONE_NAMES)),
        supervisor_id=draw(optional(ids(StaffId).filter(lambda s: s != staff_id))),
        telecom=tuple(draw(st.lists(contact_points(), max_size=MAX))),
        preferences=draw(contact_preferences()),
        active=draw(st.booleans()),
    )


@st.composite
def care_teams(draw: st.DrawFn) -> CareTeam:
    """A team whose lead is a member; one person in one role never has overlapping periods.

    Each (staff, role) pair gets one or two consecutive periods; the second
    starts at or after the end of the first (touching periods do not overlap).
    """
    keys = draw(
        st.lists(
            st.tuples(ids(StaffId), codes(CareTeamRole)), min_size=1, max_size=MAX, unique=True
        )
    )
    members: list[Membership] = []
    for staff_id, role in keys:
        if draw(st.booleans()):
            first = draw(periods(open_ended=False))
            assert first.end is not None
            second_start = later(first.end, draw(DURATIONS))
            second_end = draw(optional(DURATIONS))
            second = Period(
                start=second_start,
                end=None if second_end is None else later(second_start, second_end),
            )
            members.append(Membership(staff_id=staff_id, role=role, period=first))
            members.append(Membership(staff_id=staff_id, role=role, period=second))
        else:
            members.append(Membership(staff_id=staff_id, role=role, period=draw(periods())))
    members = list(draw(st.permutations(members)))
    status, history = draw(histories(CARE_TEAM_MACHINE, CareTeamStatus.PROPOSED))
    return CareTeam(
        id=draw(ids(CareTeamId)),
        patient_id=draw(ids(PatientId)),
        lead_id=draw(st.sampled_from([m.staff_id for m in members])),
        members=tuple(members),
        status=status,
        name=draw(optional(texts())),
        history=history,
    )


@st.composite
def assessments(draw: st.DrawFn) -> Assessment:
    """An assessment whose needs only refer to its own findings."""
    finding_ids = draw(unique_ids(FindingId))
    findings = tuple(
        Finding(
            id=fid,
            domain=draw(codes(AssessmentDomain)),
            text=draw(texts()),
            code=draw(optional(texts())),
        )
        for fid in finding_ids
    )
    needs: list[Need] = []
    for need_id in draw(unique_ids(NeedId)):
        refs_ = (
            draw(st.lists(st.sampled_from(finding_ids), max_size=MAX, unique=True))
            if finding_ids
            else []
        )
        needs.append(
            Need(
                id=need_id,
                domain=draw(codes(AssessmentDomain)),
                description=draw(texts()),
                priority=draw(codes(NeedPriority)),
                status=draw(codes(NeedStatus)),
                finding_ids=tuple(refs_),
                code=draw(optional(texts())),
            )
        )
    return Assessment(
        id=draw(ids(AssessmentId)),
        patient_id=draw(ids(PatientId)),
        performed_by=draw(ids(StaffId)),
        performed_at=draw(AWARE_DATETIMES),
        findings=findings,
        needs=tuple(needs),
    )


@st.composite
def quantities(draw: st.DrawFn) -> Quantity:
    return Quantity(
        value=draw(FLOATS),
        unit=draw(texts(max_size=5)),
        comparator=draw(optional(codes(Comparator))),
    )


@st.composite
def ranges(draw: st.DrawFn) -> Range:
    low, high = draw(st.tuples(optional(FLOATS), optional(FLOATS)))
    if low is None and high is None:
        low = draw(FLOATS)
    if low is not None and high is not None and low > high:
        low, high = high, low
    return Range(low=low, high=high, unit=draw(texts(max_size=5)))


@st.composite
def targets(draw: st.DrawFn) -> Target:
    measure = draw(texts())
    due = draw(optional(DATES))
    if draw(st.booleans()):
        return Target(measure=measure, quantity=draw(quantities()), due=due)
    return Target(measure=measure, range=draw(ranges()), due=due)


@st.composite
def goals(draw: st.DrawFn, need_ids: tuple[NeedId, ...] = ()) -> Goal:
    """A goal with targets, readings (on its targets' measures) and a legal history."""
    goal_targets = tuple(draw(st.lists(targets(), max_size=MAX)))
    readings = []
    for _ in range(draw(st.integers(0, MAX if goal_targets else 0))):
        target = draw(st.sampled_from(goal_targets))
        readings.append(
            ProgressReading(
                measure=target.measure,
                value=draw(FLOATS),
                unit=target.unit,
                at=draw(AWARE_DATETIMES),
                recorded_by=draw(ids(StaffId)),
            )
        )
    addresses = (
        draw(st.lists(st.sampled_from(need_ids), max_size=MAX, unique=True)) if need_ids else []
    )
    status, history = draw(histories(GOAL_MACHINE, GoalLifecycleStatus.PROPOSED))
    return Goal(
        id=draw(ids(GoalId)),
        description=draw(texts()),
        priority=draw(codes(GoalPriority)),
        lifecycle_status=status,
        achievement_status=draw(optional(codes(GoalAchievementStatus))),
        targets=goal_targets,
        readings=tuple(readings),
        addresses=tuple(addresses),
        start=draw(optional(DATES)),
        history=history,
    )


@st.composite
def interventions(draw: st.DrawFn, goal_ids: tuple[GoalId, ...] = ()) -> Intervention:
    """An intervention with a due time, a window or neither, linking only ``goal_ids``."""
    due: datetime | None = None
    window: Period | None = None
    match draw(st.sampled_from(["due", "window", "none"])):
        case "due":
            due = draw(AWARE_DATETIMES)
        case "window":
            window = draw(periods())
        case _:
            pass
    links = draw(st.lists(st.sampled_from(goal_ids), max_size=MAX, unique=True)) if goal_ids else []
    status, history = draw(histories(TASK_MACHINE, TaskStatus.READY))
    return Intervention(
        id=draw(ids(InterventionId)),
        kind=draw(codes(InterventionKind)),
        description=draw(texts()),
        created_at=draw(AWARE_DATETIMES),
        assignee_id=draw(optional(ids(StaffId))),
        priority=draw(codes(TaskPriority)),
        status=status,
        due=due,
        window=window,
        cadence=draw(optional(cadences())),
        goal_ids=tuple(links),
        barrier_ids=draw(unique_ids(BarrierId)),
        history=history,
    )


@st.composite
def care_plans(draw: st.DrawFn) -> CarePlan:
    """A plan whose goals address its needs and whose interventions link its goals."""
    need_ids = draw(unique_ids(NeedId))
    plan_goals = tuple(draw(st.lists(goals(need_ids), max_size=MAX, unique_by=lambda g: g.id)))
    goal_ids = tuple(g.id for g in plan_goals)
    plan_interventions = tuple(
        draw(st.lists(interventions(goal_ids), max_size=MAX, unique_by=lambda i: i.id))
    )
    status, history = draw(histories(CARE_PLAN_MACHINE, CarePlanStatus.DRAFT))
    return CarePlan(
        id=draw(ids(CarePlanId)),
        patient_id=draw(ids(PatientId)),
        author_id=draw(ids(StaffId)),
        created_at=draw(AWARE_DATETIMES),
        title=draw(texts()),
        status=status,
        intent=draw(codes(CarePlanIntent)),
        period=draw(optional(periods())),
        addresses=need_ids,
        goals=plan_goals,
        interventions=plan_interventions,
        review_cadence=draw(optional(cadences())),
        next_review_at=draw(optional(AWARE_DATETIMES)),
        history=history,
    )


@st.composite
def referrals(draw: st.DrawFn) -> Referral:
    """A referral with a legal history; one whose result came back has an outcome."""
    status, history = draw(histories(REFERRAL_MACHINE, ReferralStatus.DRAFT))
    outcome = draw(optional(texts()))
    if status is ReferralStatus.RESULT_RECEIVED and outcome is None:
        outcome = draw(texts())
    return Referral(
        id=draw(ids(ReferralId)),
        patient_id=draw(ids(PatientId)),
        requested_by=draw(ids(StaffId)),
        created_at=draw(AWARE_DATETIMES),
        target_kind=draw(codes(ReferralTargetKind)),
        target_name=draw(texts()),
        service=draw(texts()),
        reason=draw(optional(texts())),
        priority=draw(codes(TaskPriority)),
        status=status,
        plan_id=draw(optional(ids(CarePlanId))),
        intervention_id=draw(optional(ids(InterventionId))),
        goal_ids=draw(unique_ids(GoalId)),
        outcome=outcome,
        history=history,
    )


@st.composite
def appointments(draw: st.DrawFn) -> Appointment:
    start = draw(AWARE_DATETIMES)
    status, history = draw(histories(APPOINTMENT_MACHINE, AppointmentStatus.PROPOSED))
    return Appointment(
        id=draw(ids(AppointmentId)),
        patient_id=draw(ids(PatientId)),
        start=start,
        end=later(start, draw(POSITIVE_DURATIONS)),
        provider=draw(texts()),
        location=draw(texts()),
        status=status,
        transport_needed=draw(st.booleans()),
        referral_id=draw(optional(ids(ReferralId))),
        intervention_id=draw(optional(ids(InterventionId))),
        booked_by=draw(optional(ids(StaffId))),
        history=history,
    )


@st.composite
def barriers(draw: st.DrawFn) -> Barrier:
    """A barrier, possibly resolved (never before it was identified)."""
    identified_at = draw(AWARE_DATETIMES)
    resolution = None
    if draw(st.booleans()):
        resolution = BarrierResolution(
            at=later(identified_at, draw(DURATIONS)), by=draw(ids(StaffId)), summary=draw(texts())
        )
    return Barrier(
        id=draw(ids(BarrierId)),
        patient_id=draw(ids(PatientId)),
        kind=draw(codes(BarrierKind)),
        identified_at=identified_at,
        identified_by=draw(ids(StaffId)),
        description=draw(optional(texts())),
        blocks=draw(unique_refs()),
        resolution=resolution,
    )


@st.composite
def reviews(draw: st.DrawFn) -> Review:
    """A review whose next review lies after it, one outcome per goal."""
    reviewed_at = draw(AWARE_DATETIMES)
    outcomes = tuple(
        GoalOutcome(
            goal_id=goal_id,
            achievement=draw(codes(GoalAchievementStatus)),
            decision=draw(codes(ReviewDecision)),
            comment=draw(optional(texts())),
        )
        for goal_id in draw(unique_ids(GoalId))
    )
    return Review(
        id=draw(ids(ReviewId)),
        plan_id=draw(ids(CarePlanId)),
        patient_id=draw(ids(PatientId)),
        reviewed_at=reviewed_at,
        reviewed_by=draw(ids(StaffId)),
        next_review_at=later(reviewed_at, draw(POSITIVE_DURATIONS)),
        participants=draw(unique_ids(StaffId)),
        patient_participated=draw(st.booleans()),
        contact_participants=draw(unique_ids(ContactId)),
        goal_outcomes=outcomes,
        summary=draw(optional(texts())),
        due_at=draw(optional(AWARE_DATETIMES)),
    )


@st.composite
def notes(draw: st.DrawFn) -> Note:
    """A note; one with the family always names the contact."""
    party = draw(codes(InteractionParty))
    contact_id = draw(optional(ids(ContactId)))
    if party is InteractionParty.FAMILY and contact_id is None:
        contact_id = draw(ids(ContactId))
    return Note(
        id=draw(ids(NoteId)),
        patient_id=draw(ids(PatientId)),
        at=draw(AWARE_DATETIMES),
        author_id=draw(ids(StaffId)),
        channel=draw(codes(ContactChannel)),
        direction=draw(codes(Direction)),
        party=party,
        summary=draw(texts()),
        status=draw(codes(CommunicationStatus)),
        contact_id=contact_id,
        staff_ids=draw(unique_ids(StaffId)),
        links=draw(unique_refs()),
    )


@st.composite
def patient_decisions(draw: st.DrawFn) -> PatientDecision:
    return PatientDecision(
        id=draw(ids(DecisionId)),
        patient_id=draw(ids(PatientId)),
        at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        recommendation=draw(texts()),
        outcome=draw(codes(DecisionOutcome)),
        patient_words=draw(optional(texts())),
        about=draw(unique_refs()),
    )


@st.composite
def consents(draw: st.DrawFn) -> Consent:
    """A consent naming at least one contact, with a legal history."""
    status, history = draw(histories(CONSENT_MACHINE, ConsentStatus.DRAFT))
    categories = draw(st.lists(texts(), max_size=MAX, unique=True))
    return Consent(
        id=draw(ids(ConsentId)),
        patient_id=draw(ids(PatientId)),
        recorded_at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        contact_ids=draw(unique_ids(ContactId, min_size=1)),
        status=status,
        categories=tuple(categories),
        period=draw(optional(periods())),
        history=history,
    )


@st.composite
def encounters(draw: st.DrawFn) -> Encounter:
    """An encounter, discharged (at or after admission) or still open."""
    admitted = draw(AWARE_DATETIMES)
    discharged = draw(optional(DURATIONS.map(lambda d: later(admitted, d))))
    return Encounter(
        id=draw(ids(EncounterId)),
        patient_id=draw(ids(PatientId)),
        encounter_class=draw(codes(EncounterClass)),
        admitted_at=admitted,
        recorded_by=draw(ids(StaffId)),
        discharged_at=discharged,
        planned=draw(st.booleans()),
    )


@st.composite
def survey_responses(draw: st.DrawFn) -> SurveyResponse:
    """A survey response whose score lies on its scale."""
    low = draw(st.integers(-10, 10))
    high = low + draw(st.integers(1, 10))
    score = draw(st.floats(min_value=low, max_value=high, allow_nan=False))
    return SurveyResponse(
        id=draw(ids(SurveyResponseId)),
        patient_id=draw(ids(PatientId)),
        instrument=draw(texts()),
        score=score,
        at=draw(AWARE_DATETIMES),
        recorded_by=draw(ids(StaffId)),
        scale_min=float(low),
        scale_max=float(high),
    )


ENTITY_STRATEGIES: dict[type, SearchStrategy[Any]] = {
    Patient: patients(),
    StaffMember: staff_members(),
    CareTeam: care_teams(),
    Assessment: assessments(),
    CarePlan: care_plans(),
    Referral: referrals(),
    Appointment: appointments(),
    Barrier: barriers(),
    Review: reviews(),
    Note: notes(),
    PatientDecision: patient_decisions(),
    Consent: consents(),
    Encounter: encounters(),
    SurveyResponse: survey_responses(),
}
"""One strategy per persisted entity type (the record kinds of the model)."""
