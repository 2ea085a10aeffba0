"""Metric facts: the few values of each record that the quality metrics need.

The rules of :mod:`carecoord._metric_rules` count *facts*, never entities. A
fact says, for one record, what the metrics need to know whatever the
reporting period: instants (integer microseconds since the epoch,
:data:`~carecoord._metric_counting.Instant`), calendar days, booleans, ids and
codes, nothing else (no names, no free text, no contact details). What depends
on the period (is it in the period, is a day's start in it in the period's
zone, is it before ``as_of``) is left to the rules. :mod:`carecoord.metrics`
takes facts from the entities here; the stores keep the same facts as index
rows (:func:`carecoord.storage.records.index_rows`), written with the record
in the same unit of work, so the service computes metrics without decoding
a plan.

Every fact is a tuple of plain JSON values; kept as JSON they come back as
lists, which the rules read alike (they only unpack and index facts).
Pure: imports only the model.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import attrs

from ._metric_counting import (
    Instant,
    _initial,
    _micros,
    _reached_at,
    _status_at,
)
from .model import (
    CarePlan,
    CarePlanStatus,
    CareTeam,
    CareTeamStatus,
    CommunicationStatus,
    Encounter,
    Goal,
    GoalLifecycleStatus,
    InteractionParty,
    Intervention,
    Note,
    Patient,
    Referral,
    ReferralStatus,
    Review,
    SurveyResponse,
    TaskStatus,
)
from .model._base import instant
from .model.directory import target_service_id

__all__ = [
    "REFERRAL_FACT_SIZE",
    "EncounterFact",
    "GoalFact",
    "MetricFacts",
    "PlanFacts",
    "ReferralFact",
    "ReviewFact",
    "SurveyFact",
    "TeamFact",
    "WhatWorksFacts",
    "activation_fact",
    "contact_fact",
    "encounter_fact",
    "enrolment_fact",
    "plan_facts",
    "referral_fact",
    "review_fact",
    "survey_fact",
    "team_fact",
]

REFERRAL_FACT_SIZE = 3
"""How many values a :class:`ReferralFact` holds. A stored referral fact with fewer
was written before the directory service id was kept (it then counts for the
overall metrics, and per-service ones ask for the index to be derived again)."""

_NOT_PURSUED = frozenset(
    {
        GoalLifecycleStatus.PROPOSED,
        GoalLifecycleStatus.CANCELLED,
        GoalLifecycleStatus.REJECTED,
        GoalLifecycleStatus.ENTERED_IN_ERROR,
    }
)
_WITHDRAWN_TASK = frozenset(
    {TaskStatus.CANCELLED, TaskStatus.REJECTED, TaskStatus.ENTERED_IN_ERROR}
)
_CONTACT_PARTIES = frozenset({InteractionParty.PATIENT, InteractionParty.FAMILY})
_OPEN_TEAM = frozenset({CareTeamStatus.PROPOSED, CareTeamStatus.ACTIVE})
_REVIEWED_PLAN = frozenset({CarePlanStatus.ACTIVE, CarePlanStatus.ON_HOLD})


# ------------------------------------------------------------------ the facts


class GoalFact(NamedTuple):
    """A goal with a due date, of a plan not entered in error."""

    due: int
    """The due date (the latest target's), as its proleptic ordinal (``date.toordinal``)."""
    pursued: bool
    """Being pursued (not proposed, cancelled, rejected or in error) before any change."""
    steps: tuple[tuple[Instant, bool], ...]
    """Each recorded status change, in recorded order: when, and pursued after it."""
    flips: tuple[Instant, ...]
    """Ascending reading times at which "targets met" flips, counting the readings
    taken up to then: not met before the first, so the targets were met by a
    deadline when an odd number of flips come before it."""


class PlanFacts(NamedTuple):
    """What a care plan not entered in error contributes, whatever the period."""

    goals: tuple[GoalFact, ...]
    on_time: tuple[Instant, ...]
    """Due times of interventions that were done (completed) by then."""
    late: tuple[Instant, ...]
    """Due times of the other interventions that count (not withdrawn by then)."""
    review_due: Instant | None
    """``next_review_at`` of an active or on-hold plan (a review outstanding)."""


class ReviewFact(NamedTuple):
    """A recorded review with a due time."""

    due: Instant
    on_time: bool


class ReferralFact(NamedTuple):
    """A referral not entered in error that was sent."""

    sent: Instant
    closed: Instant | None
    """When its result was first received."""
    service: str | None = None
    """The community directory service it went to (its ``target`` is
    ``HealthcareService/<id>``), else ``None``. A directory id, never PHI. Rows
    written before this field existed hold two values (see
    :data:`REFERRAL_FACT_SIZE`)."""


class TeamFact(NamedTuple):
    """A care team: when it was open (proposed or active) and its memberships."""

    open: bool
    """Open before any recorded status change."""
    steps: tuple[tuple[Instant, bool], ...]
    """Each recorded status change, in recorded order: when, and open after it."""
    members: tuple[tuple[str, str, Instant, Instant | None], ...]
    """(staff id, role code, start, end or ``None``) of each membership."""


class EncounterFact(NamedTuple):
    """An inpatient stay."""

    admitted: Instant
    discharged: Instant | None
    planned: bool


class SurveyFact(NamedTuple):
    """A survey response."""

    at: Instant
    score: float
    """The score as a fraction of its scale (0.0 to 1.0)."""
    instrument: str
    """The survey item code."""


# ------------------------------------------------------ from the entities


def _met_flips(goal: Goal) -> tuple[Instant, ...]:
    """The reading times at which "targets met" flips (not met with no reading).

    "Met" is what :func:`~carecoord.model.derive_achievement` calls achieved or
    sustaining for the readings taken so far: every target's latest reading
    (its measure and unit, latest by time, the last recorded among equal
    times) meets it. Found in one pass over the readings in time order,
    equal times together (``tests/test_metric_facts.py`` checks it against
    :func:`~carecoord.model.derive_achievement` on every prefix).
    """
    targets = goal.targets
    if not targets or not goal.readings:
        return ()  # never met: no flip
    # (time, recorded order) is unique: the readings themselves are never compared
    readings = sorted([(_micros(r.at), n, r) for n, r in enumerate(goal.readings)])
    last = len(readings) - 1
    met = False  # no reading: in progress or not achieved
    flips: list[Instant] = []
    if len(targets) == 1:  # the usual goal: what its one target's latest reading says
        target = targets[0]
        measure, unit, is_met = target.measure, target.unit, target.is_met
        now = False
        for k, (moment, _, reading) in enumerate(readings):
            if reading.measure == measure and reading.unit == unit:
                now = bool(is_met(reading.value))
            if k < last and readings[k + 1][0] == moment:
                continue  # readings taken at the same time count together
            if now is not met:
                met = now
                flips.append(moment)
        return tuple(flips)
    keys = [(t.measure, t.unit) for t in targets]
    latest: list[bool | None] = [None] * len(targets)
    for k, (moment, _, reading) in enumerate(readings):
        key = (reading.measure, reading.unit)
        for i, target_key in enumerate(keys):
            if key == target_key:
                latest[i] = targets[i].is_met(reading.value)
        if k < last and readings[k + 1][0] == moment:
            continue  # readings taken at the same time count together
        now = all(latest)
        if now is not met:
            met = now
            flips.append(moment)
    return tuple(flips)


def _goal_fact(goal: Goal) -> GoalFact | None:
    due = goal.due
    status = goal.lifecycle_status
    if due is None or status is GoalLifecycleStatus.ENTERED_IN_ERROR:
        return None
    history = goal.history
    if history:
        pursued = history[0].from_status not in _NOT_PURSUED  # its status before any change
        steps = tuple([(_micros(s.at), s.to_status not in _NOT_PURSUED) for s in history])
    else:
        pursued, steps = status not in _NOT_PURSUED, ()
    return GoalFact(due.toordinal(), pursued, steps, _met_flips(goal))


def _intervention_fact(item: Intervention) -> tuple[Instant, bool] | None:
    """(due, done by then) of an intervention that counts; ``None`` for one that never does."""
    due = item.due
    if due is None:  # ``item.due_at``, without the property call
        window = item.window
        due = None if window is None else window.end
    status = item.status
    if due is None or status is TaskStatus.ENTERED_IN_ERROR:
        return None
    history = item.history
    if not history:  # its status now is its status at any time, entered when created
        if status in _WITHDRAWN_TASK:
            return None
        due_us = _micros(due)
        return due_us, status is TaskStatus.COMPLETED and _micros(item.created_at) <= due_us
    if _status_at(status, history, due) in _WITHDRAWN_TASK:
        return None
    done = _reached_at(status, history, TaskStatus.COMPLETED, item.created_at)
    return _micros(due), done is not None and instant(done) <= instant(due)


def plan_facts(plan: CarePlan) -> PlanFacts | None:
    """The facts of ``plan`` (``None`` when it contributes none)."""
    if plan.status is CarePlanStatus.ENTERED_IN_ERROR:
        return None
    goals = tuple([f for g in plan.goals if (f := _goal_fact(g)) is not None])
    on_time: list[Instant] = []
    late: list[Instant] = []
    for item in plan.interventions:
        found = _intervention_fact(item)
        if found is not None:
            (on_time if found[1] else late).append(found[0])
    review = plan.next_review_at if plan.status in _REVIEWED_PLAN else None
    if not goals and not on_time and not late and review is None:
        return None
    return PlanFacts(
        goals, tuple(on_time), tuple(late), None if review is None else _micros(review)
    )


def activation_fact(plan: CarePlan) -> Instant | None:
    """When a plan not entered in error first became active (``None``: never)."""
    if plan.status is CarePlanStatus.ENTERED_IN_ERROR:
        return None
    at = _reached_at(plan.status, plan.history, CarePlanStatus.ACTIVE, plan.created_at)
    return None if at is None else _micros(at)


def review_fact(review: Review) -> ReviewFact | None:
    """A review with a due time: when it was due and whether it was done by then."""
    if review.due_at is None:
        return None
    return ReviewFact(due=_micros(review.due_at), on_time=bool(review.on_time))


def referral_fact(referral: Referral) -> ReferralFact | None:
    """When a referral not entered in error was first sent and its result first received."""
    if referral.status is ReferralStatus.ENTERED_IN_ERROR:
        return None
    if _initial(referral.status, referral.history) is not ReferralStatus.DRAFT:
        sent = referral.created_at
    else:
        times = [s.at for s in referral.history if s.to_status is ReferralStatus.SENT]
        if not times:
            return None
        sent = min(times, key=instant)
    closed = [s.at for s in referral.history if s.to_status is ReferralStatus.RESULT_RECEIVED]
    service = target_service_id(referral.target)
    return ReferralFact(
        sent=_micros(sent),
        closed=_micros(min(closed, key=instant)) if closed else None,
        service=None if service is None else str(service),
    )


def enrolment_fact(patient: Patient) -> Instant | None:
    """When the patient was enrolled (``None``: not recorded)."""
    return None if patient.enrolled_at is None else _micros(patient.enrolled_at)


def contact_fact(note: Note) -> Instant | None:
    """When a completed contact with the patient or family happened (``None``: not one)."""
    if note.status is not CommunicationStatus.COMPLETED or note.party not in _CONTACT_PARTIES:
        return None
    return _micros(note.at)


def team_fact(team: CareTeam) -> TeamFact:
    """When a care team was open, and who held which membership when."""
    return TeamFact(
        open=_initial(team.status, team.history) in _OPEN_TEAM,
        steps=tuple((_micros(s.at), s.to_status in _OPEN_TEAM) for s in team.history),
        members=tuple(
            (
                str(m.staff_id),
                m.role.value,
                _micros(m.period.start),
                None if m.period.end is None else _micros(m.period.end),
            )
            for m in team.members
        ),
    )


def encounter_fact(encounter: Encounter) -> EncounterFact | None:
    """An inpatient stay's admission, discharge and planned flag (``None``: not inpatient)."""
    if not encounter.is_inpatient:
        return None
    out = encounter.discharged_at
    return EncounterFact(
        admitted=_micros(encounter.admitted_at),
        discharged=None if out is None else _micros(out),
        planned=encounter.planned,
    )


def survey_fact(response: SurveyResponse) -> SurveyFact:
    """A survey response's time, scaled score and item code."""
    return SurveyFact(
        at=_micros(response.at), score=response.normalised, instrument=response.instrument
    )


# ----------------------------------------------------------------- the bundle


@attrs.define
class MetricFacts:
    """Every fact one metric report counts, by kind (the input of the rules).

    Built from entities by :meth:`of`, or by the service from index rows.
    Ids are plain strings; the order of facts does not matter.
    """

    goals: list[GoalFact] = attrs.Factory(list)
    on_time: list[Instant] = attrs.Factory(list)
    """Due times of interventions done by then (see :class:`PlanFacts`)."""
    late: list[Instant] = attrs.Factory(list)
    plan_reviews: list[Instant] = attrs.Factory(list)
    """Outstanding reviews of active or on-hold plans: when due."""
    activations: list[tuple[str, Instant]] = attrs.Factory(list)
    """(patient, when a plan first became active)."""
    reviews: list[ReviewFact] = attrs.Factory(list)
    referrals: list[ReferralFact] = attrs.Factory(list)
    enrolments: list[tuple[str, Instant]] = attrs.Factory(list)
    """(patient, enrolled at) of every patient with an enrolment time."""
    contacts: list[tuple[str, Instant]] = attrs.Factory(list)
    """(patient, when) of completed contacts with the patient or family."""
    teams: list[tuple[str, TeamFact]] = attrs.Factory(list)
    """(patient, team)."""
    encounters: list[tuple[str, str, EncounterFact]] = attrs.Factory(list)
    """(patient, encounter id, stay) of inpatient stays."""
    surveys: list[SurveyFact] = attrs.Factory(list)

    def add_plan(self, facts: PlanFacts) -> None:
        """Count one plan's :class:`PlanFacts` (a stored fact row's, or an entity's)."""
        goals, on_time, late, review_due = facts
        self.goals.extend(goals)
        self.on_time.extend(on_time)
        self.late.extend(late)
        if review_due is not None:
            self.plan_reviews.append(review_due)

    @classmethod
    def of(
        cls,
        *,
        plans: Iterable[CarePlan] = (),
        referrals: Iterable[Referral] = (),
        reviews: Iterable[Review] = (),
        patients: Iterable[Patient] = (),
        notes: Iterable[Note] = (),
        teams: Iterable[CareTeam] = (),
        encounters: Iterable[Encounter] = (),
        survey_responses: Iterable[SurveyResponse] = (),
    ) -> MetricFacts:
        """The facts of these entities."""
        facts = cls()
        for plan in plans:
            if (found := plan_facts(plan)) is not None:
                facts.add_plan(found)
            if (at := activation_fact(plan)) is not None:
                facts.activations.append((str(plan.patient_id), at))
        facts.reviews = [rv for r in reviews if (rv := review_fact(r)) is not None]
        facts.referrals = [rf for r in referrals if (rf := referral_fact(r)) is not None]
        facts.enrolments = [
            (str(p.id), at) for p in patients if (at := enrolment_fact(p)) is not None
        ]
        facts.contacts = [
            (str(n.patient_id), at) for n in notes if (at := contact_fact(n)) is not None
        ]
        facts.teams = [(str(t.patient_id), team_fact(t)) for t in teams]
        facts.encounters = [
            (str(e.patient_id), str(e.id), stay)
            for e in encounters
            if (stay := encounter_fact(e)) is not None
        ]
        facts.surveys = [survey_fact(r) for r in survey_responses]
        return facts


@attrs.define
class WhatWorksFacts:
    """The facts the "what works" metrics count (:mod:`carecoord.what_works`), each
    with the patient it belongs to: referrals (with the directory service they went
    to) and goals. Built from entities by :meth:`of`, or by the service from the
    ``metric-referral`` and ``metric-plan`` index rows."""

    referrals: list[tuple[str, ReferralFact]] = attrs.Factory(list)
    """(patient, referral)."""
    goals: list[tuple[str, GoalFact]] = attrs.Factory(list)
    """(patient, goal with a due date)."""

    @classmethod
    def of(
        cls, *, plans: Iterable[CarePlan] = (), referrals: Iterable[Referral] = ()
    ) -> WhatWorksFacts:
        """The facts of these entities."""
        facts = cls()
        for plan in plans:
            found = plan_facts(plan)
            if found is not None:
                facts.goals += [(str(plan.patient_id), goal) for goal in found.goals]
        facts.referrals = [
            (str(r.patient_id), fact) for r in referrals if (fact := referral_fact(r)) is not None
        ]
        return facts
