"""Referrals, appointments, barriers, reviews, notes and patient decisions (consents are in
:mod:`carecoord.model.consents`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Self

import attrs

from ._base import (
    AppointmentId,
    BarrierId,
    CarePlanId,
    ContactId,
    DecisionId,
    GoalId,
    InterventionId,
    NoteId,
    PatientId,
    ReferralId,
    ReviewId,
    StaffId,
    aware,
    instant,
    of_type,
    optional,
    text,
    tuple_of,
)
from ._errors import ValidationError
from ._external import ExternalRef, external_refs_of
from .codes import (
    AppointmentStatus,
    BarrierKind,
    CommunicationStatus,
    ContactChannel,
    DecisionOutcome,
    Direction,
    GoalAchievementStatus,
    InteractionParty,
    ReferralStatus,
    ReferralTargetKind,
    ReviewDecision,
    TaskPriority,
)
from .concerns import HealthConcernId
from .machine import APPOINTMENT_MACHINE, REFERRAL_MACHINE, Transition

__all__ = [
    "Appointment",
    "Barrier",
    "BarrierResolution",
    "GoalOutcome",
    "Note",
    "PatientDecision",
    "Ref",
    "RefKind",
    "Referral",
    "Review",
]


class RefKind(StrEnum):
    """What a :class:`Ref` points at."""

    CARE_PLAN = "care-plan"
    GOAL = "goal"
    INTERVENTION = "intervention"
    REFERRAL = "referral"
    APPOINTMENT = "appointment"
    BARRIER = "barrier"
    NEED = "need"
    REVIEW = "review"
    NOTE = "note"
    ASSESSMENT = "assessment"


@attrs.frozen
class Ref:
    """A typed link to another record of the same patient."""

    kind: RefKind = attrs.field(validator=of_type(RefKind))
    id: str = attrs.field(validator=text(max_len=64))


# ------------------------------------------------------------------ referrals

_TARGET_TYPES = (
    "Organization",
    "PractitionerRole",
    "Practitioner",
    "HealthcareService",
    "CareTeam",
)
"""What a referral may go to (FHIR ServiceRequest.performer and Task.owner both allow them)."""
_REASON_TYPES = ("Condition", "Observation", "DiagnosticReport", "DocumentReference")
"""What a referral may address (FHIR ServiceRequest.reasonReference)."""


def _nameless(value: ExternalRef | None) -> ExternalRef | None:
    """A referral's target without a display of its own: the name is ``target_name``."""
    if isinstance(value, ExternalRef) and value.display is not None:
        return attrs.evolve(value, display=None)
    return value


@attrs.frozen
class Referral:
    """A referral to an outside provider or community resource, tracked to closure.

    Closed-loop: the loop is *closed* only when the result has come back
    (``result-received``, with ``outcome``) or the referral ended without one.

    ``target`` is the target as another system holds it (an ``Organization``
    or ``PractitionerRole`` that system keeps), when it is one; its name is
    ``target_name`` (a display given with the reference is not kept).
    ``outcome_refs`` are records another system holds that the referral
    resulted in (a ``Procedure``). ``concern_ids`` are the patient's health
    concerns it addresses and ``reason_refs`` conditions or observations of
    another system it addresses.
    """

    id: ReferralId = attrs.field(validator=of_type(ReferralId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    requested_by: StaffId = attrs.field(validator=of_type(StaffId))
    created_at: datetime = attrs.field(validator=aware)
    target_kind: ReferralTargetKind = attrs.field(validator=of_type(ReferralTargetKind))
    target_name: str = attrs.field(validator=text(max_len=200), repr=False)
    service: str = attrs.field(validator=text(max_len=200), repr=False)
    reason: str | None = attrs.field(
        default=None, validator=optional(text(max_len=2000)), repr=False
    )
    priority: TaskPriority = attrs.field(
        default=TaskPriority.ROUTINE, validator=of_type(TaskPriority)
    )
    status: ReferralStatus = attrs.field(
        default=ReferralStatus.DRAFT, validator=of_type(ReferralStatus)
    )
    plan_id: CarePlanId | None = attrs.field(default=None, validator=optional(of_type(CarePlanId)))
    intervention_id: InterventionId | None = attrs.field(
        default=None, validator=optional(of_type(InterventionId))
    )
    goal_ids: tuple[GoalId, ...] = attrs.field(default=(), validator=tuple_of(GoalId, unique=True))
    outcome: str | None = attrs.field(
        default=None, validator=optional(text(max_len=4000)), repr=False
    )
    history: tuple[Transition[ReferralStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )
    target: ExternalRef | None = attrs.field(
        default=None,
        converter=_nameless,
        validator=optional(external_refs_of(*_TARGET_TYPES)),
    )
    outcome_refs: tuple[ExternalRef, ...] = attrs.field(
        default=(), validator=tuple_of(ExternalRef, unique=True)
    )
    concern_ids: tuple[HealthConcernId, ...] = attrs.field(
        default=(), validator=tuple_of(HealthConcernId, unique=True)
    )
    reason_refs: tuple[ExternalRef, ...] = attrs.field(
        default=(),
        validator=[tuple_of(ExternalRef, unique=True), external_refs_of(*_REASON_TYPES)],
    )

    def __attrs_post_init__(self) -> None:
        if self.status is ReferralStatus.RESULT_RECEIVED and self.outcome is None:
            raise ValidationError(
                "a referral with its result received needs an outcome", field="outcome"
            )

    @property
    def is_closed(self) -> bool:
        """Whether the loop is closed (result received, or ended without one)."""
        return (
            REFERRAL_MACHINE.is_terminal(self.status)
            or self.status is ReferralStatus.ENTERED_IN_ERROR
        )

    @property
    def last_changed_at(self) -> datetime:
        """When the status last changed (creation time when it never did)."""
        return self.history[-1].at if self.history else self.created_at

    def transition(
        self, to: ReferralStatus | str, *, by: StaffId, at: datetime, reason: str | None = None
    ) -> Self:
        """A copy moved to ``to``. Use :meth:`record_result` to close the loop."""
        step = REFERRAL_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)
        if step.to_status is ReferralStatus.RESULT_RECEIVED:
            raise ValidationError("use record_result() to record the referral's outcome")
        return attrs.evolve(self, status=step.to_status, history=(*self.history, step))

    def record_result(
        self,
        outcome: str,
        *,
        by: StaffId,
        at: datetime,
        refs: Iterable[ExternalRef] = (),
    ) -> Self:
        """A copy with the result received: the loop is closed.

        ``refs`` are records another system holds that the referral resulted
        in; they are added to ``outcome_refs``.
        """
        step = REFERRAL_MACHINE.transition(
            self.status, ReferralStatus.RESULT_RECEIVED, by=by, at=at
        )
        return attrs.evolve(
            self,
            status=step.to_status,
            outcome=outcome,
            history=(*self.history, step),
            outcome_refs=(*self.outcome_refs, *refs),
        )


@attrs.frozen
class Appointment:
    """An appointment (FHIR Appointment) the team arranged for the patient."""

    id: AppointmentId = attrs.field(validator=of_type(AppointmentId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    start: datetime = attrs.field(validator=aware)
    end: datetime = attrs.field(validator=aware)
    provider: str = attrs.field(validator=text(max_len=200), repr=False)
    location: str = attrs.field(validator=text(max_len=500), repr=False)
    status: AppointmentStatus = attrs.field(
        default=AppointmentStatus.PROPOSED, validator=of_type(AppointmentStatus)
    )
    transport_needed: bool = attrs.field(default=False, validator=of_type(bool))
    referral_id: ReferralId | None = attrs.field(
        default=None, validator=optional(of_type(ReferralId))
    )
    intervention_id: InterventionId | None = attrs.field(
        default=None, validator=optional(of_type(InterventionId))
    )
    booked_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    history: tuple[Transition[AppointmentStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )

    def __attrs_post_init__(self) -> None:
        if instant(self.end) <= instant(self.start):
            raise ValidationError("Appointment.end must be after Appointment.start", field="end")

    def transition(
        self, to: AppointmentStatus | str, *, by: StaffId, at: datetime, reason: str | None = None
    ) -> Self:
        """A copy moved to ``to`` (FHIR appointment-status), with the move recorded."""
        step = APPOINTMENT_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)
        return attrs.evolve(self, status=step.to_status, history=(*self.history, step))


# ------------------------------------------------------------------- barriers


@attrs.frozen
class BarrierResolution:
    """How and when a barrier was removed (``summary`` is PHI)."""

    at: datetime = attrs.field(validator=aware)
    by: StaffId = attrs.field(validator=of_type(StaffId))
    summary: str = attrs.field(validator=text(max_len=2000), repr=False)


@attrs.frozen
class Barrier:
    """Something standing in the way of care, linked to what it blocks."""

    id: BarrierId = attrs.field(validator=of_type(BarrierId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    kind: BarrierKind = attrs.field(validator=of_type(BarrierKind))
    identified_at: datetime = attrs.field(validator=aware)
    identified_by: StaffId = attrs.field(validator=of_type(StaffId))
    description: str | None = attrs.field(
        default=None, validator=optional(text(max_len=2000)), repr=False
    )
    blocks: tuple[Ref, ...] = attrs.field(default=(), validator=tuple_of(Ref, unique=True))
    resolution: BarrierResolution | None = attrs.field(
        default=None, validator=optional(of_type(BarrierResolution))
    )

    def __attrs_post_init__(self) -> None:
        if self.resolution is not None and instant(self.resolution.at) < instant(
            self.identified_at
        ):
            raise ValidationError(
                "a barrier cannot be resolved before it was identified", field="resolution"
            )

    @property
    def is_resolved(self) -> bool:
        """Whether the barrier has been resolved."""
        return self.resolution is not None

    def resolve(self, summary: str, *, by: StaffId, at: datetime) -> Self:
        """A copy resolved at ``at`` by ``by``; resolving twice is an error."""
        if self.resolution is not None:
            raise ValidationError("barrier is already resolved", field="resolution")
        return attrs.evolve(self, resolution=BarrierResolution(at=at, by=by, summary=summary))


# -------------------------------------------------------------------- reviews


@attrs.frozen
class GoalOutcome:
    """What a review concluded about one goal."""

    goal_id: GoalId = attrs.field(validator=of_type(GoalId))
    achievement: GoalAchievementStatus = attrs.field(validator=of_type(GoalAchievementStatus))
    decision: ReviewDecision = attrs.field(validator=of_type(ReviewDecision))
    comment: str | None = attrs.field(
        default=None, validator=optional(text(max_len=2000)), repr=False
    )


@attrs.frozen
class Review:
    """A periodic review of a care plan: outcomes per goal, who took part, next date."""

    id: ReviewId = attrs.field(validator=of_type(ReviewId))
    plan_id: CarePlanId = attrs.field(validator=of_type(CarePlanId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    reviewed_at: datetime = attrs.field(validator=aware)
    reviewed_by: StaffId = attrs.field(validator=of_type(StaffId))
    next_review_at: datetime = attrs.field(validator=aware)
    participants: tuple[StaffId, ...] = attrs.field(
        default=(), validator=tuple_of(StaffId, unique=True)
    )
    patient_participated: bool = attrs.field(default=False, validator=of_type(bool))
    contact_participants: tuple[ContactId, ...] = attrs.field(
        default=(), validator=tuple_of(ContactId, unique=True)
    )
    goal_outcomes: tuple[GoalOutcome, ...] = attrs.field(
        default=(), validator=tuple_of(GoalOutcome)
    )
    summary: str | None = attrs.field(
        default=None, validator=optional(text(max_len=4000)), repr=False
    )
    due_at: datetime | None = attrs.field(default=None, validator=optional(aware))

    def __attrs_post_init__(self) -> None:
        if instant(self.next_review_at) <= instant(self.reviewed_at):
            raise ValidationError(
                "Review.next_review_at must be after reviewed_at", field="next_review_at"
            )
        ids = [o.goal_id for o in self.goal_outcomes]
        if len(set(ids)) != len(ids):
            raise ValidationError("Review.goal_outcomes has one goal twice", field="goal_outcomes")

    @property
    def on_time(self) -> bool | None:
        """Whether the review happened by its due time (``None`` when no due time was known)."""
        return None if self.due_at is None else instant(self.reviewed_at) <= instant(self.due_at)


# ------------------------------------------------------------ notes, decisions


@attrs.frozen
class Note:
    """One documented interaction with the patient, family, team or outside party.

    ``summary`` is free text and PHI.
    """

    id: NoteId = attrs.field(validator=of_type(NoteId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    at: datetime = attrs.field(validator=aware)
    author_id: StaffId = attrs.field(validator=of_type(StaffId))
    channel: ContactChannel = attrs.field(validator=of_type(ContactChannel))
    direction: Direction = attrs.field(validator=of_type(Direction))
    party: InteractionParty = attrs.field(validator=of_type(InteractionParty))
    summary: str = attrs.field(validator=text(max_len=10_000), repr=False)
    status: CommunicationStatus = attrs.field(
        default=CommunicationStatus.COMPLETED, validator=of_type(CommunicationStatus)
    )
    contact_id: ContactId | None = attrs.field(default=None, validator=optional(of_type(ContactId)))
    staff_ids: tuple[StaffId, ...] = attrs.field(
        default=(), validator=tuple_of(StaffId, unique=True)
    )
    links: tuple[Ref, ...] = attrs.field(default=(), validator=tuple_of(Ref, unique=True))

    def __attrs_post_init__(self) -> None:
        if self.party is InteractionParty.FAMILY and self.contact_id is None:
            raise ValidationError("a note with the family names the contact", field="contact_id")


@attrs.frozen
class PatientDecision:
    """A decision the patient made about a recommendation, in their own words (PHI)."""

    id: DecisionId = attrs.field(validator=of_type(DecisionId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId = attrs.field(validator=of_type(StaffId))
    recommendation: str = attrs.field(validator=text(max_len=2000), repr=False)
    outcome: DecisionOutcome = attrs.field(validator=of_type(DecisionOutcome))
    patient_words: str | None = attrs.field(
        default=None, validator=optional(text(max_len=4000)), repr=False
    )
    about: tuple[Ref, ...] = attrs.field(default=(), validator=tuple_of(Ref, unique=True))
