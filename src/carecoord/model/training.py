"""Training and competencies, protocols, and the staffing policy a host sets.

The :class:`StaffingPolicy` (one stored record) holds the catalogue of
:class:`Competency` entries (phlebotomy, EKG, privacy training, ...) with how
long each stays valid, which intervention kinds need which competencies
(:class:`CompetencyRequirement`: a blood draw, a clinical procedure, needs
phlebotomy), the onboarding checklist of each role, the :class:`Protocol`
checklists attached to kinds of work, and what happens when work is assigned
to someone off duty (:class:`OffDutyRule`).

A :class:`TrainingRecord` says who completed training in a competency, when,
who signed it off and when it expires. A :class:`ProtocolCompletion` records,
with the work it belongs to, which steps of a protocol were done.

Pure: no I/O. Titles are kept out of ``repr``; everything else is ids, codes
and times.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Self

import attrs

from ._base import (
    CarePlanId,
    EntityId,
    InterventionId,
    PatientId,
    StaffId,
    aware,
    ensure_aware,
    instant,
    non_negative_int,
    of_type,
    optional,
    positive_int,
    revision_field,
    text,
    tuple_of,
    unique_ids,
)
from ._errors import NotFoundError, ValidationError
from .codes import CareTeamRole, InterventionKind

__all__ = [
    "STAFFING_POLICY_ID",
    "Competency",
    "CompetencyId",
    "CompetencyRequirement",
    "OffDutyRule",
    "OnboardingChecklist",
    "Protocol",
    "ProtocolCompletion",
    "ProtocolCompletionId",
    "ProtocolId",
    "ProtocolStep",
    "ProtocolStepId",
    "StaffingPolicy",
    "StaffingPolicyId",
    "TrainingRecord",
    "TrainingRecordId",
]

_MAX_VALIDITY_DAYS = 36_500


class CompetencyId(EntityId):
    """Identifier (a code such as ``phlebotomy``) of a :class:`Competency`."""

    __slots__ = ()


class TrainingRecordId(EntityId):
    """Identifier of a :class:`TrainingRecord`."""

    __slots__ = ()


class ProtocolId(EntityId):
    """Identifier of a :class:`Protocol`."""

    __slots__ = ()


class ProtocolStepId(EntityId):
    """Identifier of one step of a :class:`Protocol`."""

    __slots__ = ()


class ProtocolCompletionId(EntityId):
    """Identifier of a :class:`ProtocolCompletion`."""

    __slots__ = ()


class StaffingPolicyId(EntityId):
    """Identifier of the :class:`StaffingPolicy` (there is one: :data:`STAFFING_POLICY_ID`)."""

    __slots__ = ()


STAFFING_POLICY_ID = StaffingPolicyId("staffing-policy")
"""The id of the one stored :class:`StaffingPolicy`."""


class OffDutyRule(StrEnum):
    """What assigning work due while the assignee is off duty does.

    ``allow``: nothing; ``warn``: the assignment stands and an
    :class:`~carecoord.events.AssignedOffDuty` event (and its notifications)
    says so; ``refuse``: :class:`~carecoord.model.workforce.OffDutyError`.
    Off duty means: not on a shift (on site or on call) at the due time, or
    on time off then.
    """

    ALLOW = "allow"
    WARN = "warn"
    REFUSE = "refuse"


def _validity(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        positive_int(inst, attr, value)
        if value > _MAX_VALIDITY_DAYS:
            raise ValidationError(
                f"Competency.valid_for_days must be at most {_MAX_VALIDITY_DAYS}", field=attr.name
            )


@attrs.frozen
class Competency:
    """A catalogue entry: a skill or training and how long it stays valid.

    ``valid_for_days`` ``None``: never expires. ``warn_days``: how long
    before expiry it shows as expiring on the supervisor's worklist.
    """

    id: CompetencyId = attrs.field(validator=of_type(CompetencyId))
    title: str = attrs.field(validator=text(max_len=200), repr=False)
    valid_for_days: int | None = attrs.field(default=None, validator=_validity)
    warn_days: int = attrs.field(default=30, validator=non_negative_int)


def _ids(*types: type) -> Any:
    return tuple_of(*types, unique=True)


@attrs.frozen
class CompetencyRequirement:
    """Work of ``kind`` goes only to someone current in every one of ``competency_ids``."""

    kind: InterventionKind = attrs.field(validator=of_type(InterventionKind))
    competency_ids: tuple[CompetencyId, ...] = attrs.field(validator=_ids(CompetencyId))

    def __attrs_post_init__(self) -> None:
        if not self.competency_ids:
            raise ValidationError(
                "CompetencyRequirement.competency_ids must not be empty", field="competency_ids"
            )


@attrs.frozen
class OnboardingChecklist:
    """The competencies a new member in ``role`` must hold (a new medical assistant's list)."""

    role: CareTeamRole = attrs.field(validator=of_type(CareTeamRole))
    competency_ids: tuple[CompetencyId, ...] = attrs.field(validator=_ids(CompetencyId))


@attrs.frozen
class ProtocolStep:
    """One item of a protocol's checklist; ``required`` steps count for compliance."""

    id: ProtocolStepId = attrs.field(validator=of_type(ProtocolStepId))
    title: str = attrs.field(validator=text(max_len=500), repr=False)
    required: bool = attrs.field(default=True, validator=of_type(bool))


@attrs.frozen
class Protocol:
    """A checklist attached to one kind of work: every intervention of ``kind`` follows it."""

    id: ProtocolId = attrs.field(validator=of_type(ProtocolId))
    kind: InterventionKind = attrs.field(validator=of_type(InterventionKind))
    title: str = attrs.field(validator=text(max_len=200), repr=False)
    steps: tuple[ProtocolStep, ...] = attrs.field(validator=[tuple_of(ProtocolStep), unique_ids])

    def __attrs_post_init__(self) -> None:
        if not any(step.required for step in self.steps):
            raise ValidationError("Protocol needs at least one required step", field="steps")

    @property
    def required(self) -> frozenset[ProtocolStepId]:
        """The ids of the required steps."""
        return frozenset(step.id for step in self.steps if step.required)

    def complete_with(self, done: Iterable[ProtocolStepId]) -> bool:
        """Whether ``done`` includes every required step."""
        return self.required <= set(done)


def _unique_by(what: str, key: str) -> Any:
    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        keys = [getattr(item, key) for item in value]
        if len(set(keys)) != len(keys):
            raise ValidationError(
                f"StaffingPolicy.{attr.name} has two {what} for one {key}", field=attr.name
            )

    return check


@attrs.frozen
class StaffingPolicy:
    """The host's staffing rules and catalogues (one stored record, :data:`STAFFING_POLICY_ID`).

    ``competencies`` is the catalogue; ``requirements`` (one per intervention
    kind), ``onboarding`` (one per role) and ``protocols`` (one per kind) name
    only catalogued competencies. ``off_duty`` is what assigning work due
    while the assignee is off duty does; with ``reassign_to_cover`` recording
    time off that names a covering member reassigns the absent member's open
    work due in it to them. ``revision`` is the stored version this copy was
    read at (see :meth:`CareCoordinator.set_staffing_policy`).
    """

    id: StaffingPolicyId = attrs.field(
        default=STAFFING_POLICY_ID, validator=of_type(StaffingPolicyId)
    )
    competencies: tuple[Competency, ...] = attrs.field(
        default=(), validator=[tuple_of(Competency), unique_ids]
    )
    requirements: tuple[CompetencyRequirement, ...] = attrs.field(
        default=(), validator=[tuple_of(CompetencyRequirement), _unique_by("requirements", "kind")]
    )
    onboarding: tuple[OnboardingChecklist, ...] = attrs.field(
        default=(), validator=[tuple_of(OnboardingChecklist), _unique_by("checklists", "role")]
    )
    protocols: tuple[Protocol, ...] = attrs.field(
        default=(),
        validator=[tuple_of(Protocol), unique_ids, _unique_by("protocols", "kind")],
    )
    off_duty: OffDutyRule = attrs.field(default=OffDutyRule.ALLOW, validator=of_type(OffDutyRule))
    reassign_to_cover: bool = attrs.field(default=False, validator=of_type(bool))
    revision: int = revision_field()

    def __attrs_post_init__(self) -> None:
        if self.id != STAFFING_POLICY_ID:
            raise ValidationError(f"StaffingPolicy.id must be {STAFFING_POLICY_ID}", field="id")
        known = {c.id for c in self.competencies}
        named = [c for r in self.requirements for c in r.competency_ids]
        named += [c for o in self.onboarding for c in o.competency_ids]
        if not set(named) <= known:
            raise ValidationError(
                "StaffingPolicy names a competency that is not in its catalogue",
                field="competencies",
            )

    def competency(self, competency_id: CompetencyId | str) -> Competency:
        """The catalogue entry ``competency_id``; :class:`NotFoundError` when not catalogued."""
        for entry in self.competencies:
            if entry.id == competency_id:
                return entry
        raise NotFoundError(f"competency {competency_id} is not in the catalogue")

    def required_for(self, kind: InterventionKind) -> tuple[CompetencyId, ...]:
        """The competencies work of ``kind`` needs (empty: none)."""
        for requirement in self.requirements:
            if requirement.kind is kind:
                return requirement.competency_ids
        return ()

    def checklist_for(self, role: CareTeamRole) -> tuple[CompetencyId, ...]:
        """The onboarding competencies of ``role`` (empty: none)."""
        for checklist in self.onboarding:
            if checklist.role is role:
                return checklist.competency_ids
        return ()

    def protocol_for(self, kind: InterventionKind) -> Protocol | None:
        """The protocol attached to work of ``kind``, if any."""
        for protocol in self.protocols:
            if protocol.kind is kind:
                return protocol
        return None


@attrs.frozen
class TrainingRecord:
    """``staff_id`` completed training in ``competency_id`` at ``completed_at``.

    It counts once signed off (``signed_off_by`` and ``signed_off_at`` go
    together; nobody signs off their own training) and until ``expires_at``
    (``None``: never expires). :meth:`signed_off` sets the expiry from the
    catalogue's validity.
    """

    id: TrainingRecordId = attrs.field(validator=of_type(TrainingRecordId))
    staff_id: StaffId = attrs.field(validator=of_type(StaffId))
    competency_id: CompetencyId = attrs.field(validator=of_type(CompetencyId))
    completed_at: datetime = attrs.field(validator=aware)
    signed_off_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    signed_off_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    expires_at: datetime | None = attrs.field(default=None, validator=optional(aware))

    def __attrs_post_init__(self) -> None:
        if (self.signed_off_by is None) != (self.signed_off_at is None):
            raise ValidationError(
                "TrainingRecord.signed_off_by and signed_off_at go together", field="signed_off_at"
            )
        if self.signed_off_by is not None and self.signed_off_by == self.staff_id:
            raise ValidationError("nobody signs off their own training", field="signed_off_by")
        if self.signed_off_at is not None and instant(self.signed_off_at) < instant(
            self.completed_at
        ):
            raise ValidationError(
                "TrainingRecord.signed_off_at must not be before completed_at",
                field="signed_off_at",
            )
        if self.expires_at is not None and instant(self.expires_at) <= instant(self.completed_at):
            raise ValidationError(
                "TrainingRecord.expires_at must be after completed_at", field="expires_at"
            )

    @property
    def is_signed_off(self) -> bool:
        """Whether someone signed the training off."""
        return self.signed_off_by is not None

    def current_at(self, moment: datetime) -> bool:
        """Signed off, completed by ``moment`` and not expired at it."""
        now = instant(ensure_aware(moment, "moment"))
        return (
            self.is_signed_off
            and instant(self.completed_at) <= now
            and (self.expires_at is None or now < instant(self.expires_at))
        )

    def signed_off(self, by: StaffId, at: datetime, competency: Competency) -> Self:
        """A copy signed off by ``by`` at ``at``, expiring ``competency.valid_for_days``
        after completion (never, without a validity)."""
        ensure_aware(at, "at")
        if self.is_signed_off:
            raise ValidationError("the training is already signed off", field="signed_off_by")
        if competency.id != self.competency_id:
            raise ValidationError(
                "the catalogue entry is another competency", field="competency_id"
            )
        expires = (
            None
            if competency.valid_for_days is None
            else self.completed_at + timedelta(days=competency.valid_for_days)
        )
        return attrs.evolve(self, signed_off_by=by, signed_off_at=at, expires_at=expires)


@attrs.frozen
class ProtocolCompletion:
    """The protocol checklist of one intervention, recorded with the work.

    ``staff_id`` did the work at ``at``; ``steps_done`` lists the steps done;
    ``complete`` says whether they included every required step of the
    protocol as it stood then (what the compliance rate counts).
    """

    id: ProtocolCompletionId = attrs.field(validator=of_type(ProtocolCompletionId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    plan_id: CarePlanId = attrs.field(validator=of_type(CarePlanId))
    intervention_id: InterventionId = attrs.field(validator=of_type(InterventionId))
    protocol_id: ProtocolId = attrs.field(validator=of_type(ProtocolId))
    kind: InterventionKind = attrs.field(validator=of_type(InterventionKind))
    staff_id: StaffId = attrs.field(validator=of_type(StaffId))
    at: datetime = attrs.field(validator=aware)
    steps_done: tuple[ProtocolStepId, ...] = attrs.field(default=(), validator=_ids(ProtocolStepId))
    complete: bool = attrs.field(default=False, validator=of_type(bool))
