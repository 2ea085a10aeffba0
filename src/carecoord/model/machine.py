"""Enforced state machines and the transitions they record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import attrs

from ._base import StaffId, aware, of_type, optional, text
from ._errors import InvalidTransitionError, ReasonRequiredError, ValidationError
from .codes import (
    AppointmentStatus,
    CarePlanStatus,
    CareTeamStatus,
    ConsentStatus,
    GoalLifecycleStatus,
    ReferralStatus,
    TaskStatus,
)

__all__ = [
    "APPOINTMENT_MACHINE",
    "CARE_PLAN_MACHINE",
    "CARE_TEAM_MACHINE",
    "CONSENT_MACHINE",
    "GOAL_MACHINE",
    "REFERRAL_MACHINE",
    "TASK_MACHINE",
    "StateMachine",
    "Transition",
]

S = TypeVar("S", bound=StrEnum)


@attrs.frozen
class Transition(Generic[S]):
    """One recorded state change: who moved what from which state to which, when and why.

    ``reason`` is free text and may hold PHI: it is kept out of ``repr``.
    """

    from_status: S
    to_status: S
    at: datetime = attrs.field(validator=aware)
    by: StaffId = attrs.field(validator=of_type(StaffId))
    reason: str | None = attrs.field(
        default=None, validator=optional(text(max_len=2000)), repr=False
    )


class StateMachine(Generic[S]):
    """A table of legal transitions for one status value set.

    ``allowed`` maps each state to the states it may move to; any state listed
    in ``from_any`` may be entered from every other state (``entered-in-error``).
    States in ``needs_reason`` can only be entered with a non-blank reason.
    """

    def __init__(
        self,
        name: str,
        states: type[S],
        allowed: Mapping[S, Iterable[S]],
        *,
        from_any: Iterable[S] = (),
        needs_reason: Iterable[S] = (),
    ) -> None:
        self.name = name
        self.states = states
        anywhere = frozenset(from_any)
        table: dict[S, frozenset[S]] = {}
        for state in states:
            targets = set(allowed.get(state, ()))
            targets |= {t for t in anywhere if t != state}
            table[state] = frozenset(targets)
        self._table = table
        self.needs_reason = frozenset(needs_reason)

    def targets(self, state: S) -> frozenset[S]:
        """States reachable from ``state`` in one legal step."""
        return self._table[state]

    def is_terminal(self, state: S) -> bool:
        """True when nothing but an error correction can follow ``state``."""
        return not (self._table[state] - {s for s in self._table if s.value == "entered-in-error"})

    def can(self, from_state: S, to_state: S) -> bool:
        """Whether ``from_state -> to_state`` is legal."""
        return to_state in self._table[from_state]

    def transition(
        self,
        from_state: S,
        to_state: Any,
        *,
        by: StaffId,
        at: datetime,
        reason: str | None = None,
    ) -> Transition[S]:
        """Check a transition and return its record, or raise.

        Raises :class:`InvalidTransitionError` naming both states when the move
        is illegal, and :class:`ReasonRequiredError` when the target state needs
        a reason and none (or a blank one) was given.
        """
        try:
            target = self.states(to_state)
        except ValueError:
            raise ValidationError(f"{self.name}: unknown target state") from None
        if not self.can(from_state, target):
            raise InvalidTransitionError(self.name, from_state.value, target.value)
        if target in self.needs_reason and (reason is None or not reason.strip()):
            raise ReasonRequiredError(
                f"{self.name}: moving to '{target.value}' requires a reason", field="reason"
            )
        return Transition(from_status=from_state, to_status=target, at=at, by=by, reason=reason)


_T = TaskStatus
TASK_MACHINE: StateMachine[TaskStatus] = StateMachine(
    "Task",
    TaskStatus,
    {
        _T.DRAFT: (_T.READY, _T.REQUESTED, _T.CANCELLED),
        _T.REQUESTED: (_T.RECEIVED, _T.ACCEPTED, _T.REJECTED, _T.CANCELLED),
        _T.RECEIVED: (_T.ACCEPTED, _T.REJECTED, _T.CANCELLED),
        _T.ACCEPTED: (_T.IN_PROGRESS, _T.CANCELLED),
        _T.READY: (_T.IN_PROGRESS, _T.CANCELLED),
        _T.IN_PROGRESS: (_T.ON_HOLD, _T.COMPLETED, _T.FAILED),
        _T.ON_HOLD: (_T.IN_PROGRESS,),
    },
    from_any=(_T.ENTERED_IN_ERROR,),
    needs_reason=(_T.CANCELLED, _T.FAILED, _T.REJECTED, _T.ENTERED_IN_ERROR),
)
"""FHIR Task lifecycle (see reference): work inside a team starts at ``ready``."""

_P = CarePlanStatus
CARE_PLAN_MACHINE: StateMachine[CarePlanStatus] = StateMachine(
    "CarePlan",
    CarePlanStatus,
    {
        _P.DRAFT: (_P.ACTIVE, _P.REVOKED),
        _P.ACTIVE: (_P.ON_HOLD, _P.COMPLETED, _P.REVOKED),
        _P.ON_HOLD: (_P.ACTIVE, _P.REVOKED),
        _P.UNKNOWN: (_P.ACTIVE, _P.ON_HOLD, _P.COMPLETED, _P.REVOKED),
    },
    from_any=(_P.ENTERED_IN_ERROR,),
    needs_reason=(_P.REVOKED, _P.ENTERED_IN_ERROR),
)
"""FHIR request-status for care plans."""

_G = GoalLifecycleStatus
GOAL_MACHINE: StateMachine[GoalLifecycleStatus] = StateMachine(
    "Goal",
    GoalLifecycleStatus,
    {
        _G.PROPOSED: (_G.PLANNED, _G.ACCEPTED, _G.ACTIVE, _G.REJECTED, _G.CANCELLED),
        _G.PLANNED: (_G.ACCEPTED, _G.ACTIVE, _G.CANCELLED),
        _G.ACCEPTED: (_G.ACTIVE, _G.CANCELLED),
        _G.ACTIVE: (_G.ON_HOLD, _G.COMPLETED, _G.CANCELLED),
        _G.ON_HOLD: (_G.ACTIVE, _G.CANCELLED),
    },
    from_any=(_G.ENTERED_IN_ERROR,),
    needs_reason=(_G.CANCELLED, _G.REJECTED, _G.ENTERED_IN_ERROR),
)
"""FHIR goal-status lifecycle."""

_C = CareTeamStatus
CARE_TEAM_MACHINE: StateMachine[CareTeamStatus] = StateMachine(
    "CareTeam",
    CareTeamStatus,
    {
        _C.PROPOSED: (_C.ACTIVE, _C.INACTIVE),
        _C.ACTIVE: (_C.SUSPENDED, _C.INACTIVE),
        _C.SUSPENDED: (_C.ACTIVE, _C.INACTIVE),
        _C.INACTIVE: (_C.ACTIVE,),
    },
    from_any=(_C.ENTERED_IN_ERROR,),
    needs_reason=(_C.SUSPENDED, _C.ENTERED_IN_ERROR),
)
"""FHIR care-team-status lifecycle (an inactive team may be reactivated)."""

_R = ReferralStatus
REFERRAL_MACHINE: StateMachine[ReferralStatus] = StateMachine(
    "Referral",
    ReferralStatus,
    {
        _R.DRAFT: (_R.SENT, _R.CANCELLED),
        _R.SENT: (_R.RECEIVED, _R.ACCEPTED, _R.DECLINED, _R.CANCELLED, _R.FAILED),
        _R.RECEIVED: (_R.ACCEPTED, _R.DECLINED, _R.CANCELLED),
        _R.ACCEPTED: (_R.SCHEDULED, _R.IN_PROGRESS, _R.CANCELLED, _R.FAILED),
        _R.SCHEDULED: (_R.IN_PROGRESS, _R.COMPLETED, _R.CANCELLED, _R.FAILED),
        _R.IN_PROGRESS: (_R.COMPLETED, _R.FAILED),
        _R.COMPLETED: (_R.RESULT_RECEIVED,),
    },
    from_any=(_R.ENTERED_IN_ERROR,),
    needs_reason=(_R.DECLINED, _R.CANCELLED, _R.FAILED, _R.ENTERED_IN_ERROR),
)
"""Closed-loop referral: sent -> accepted -> scheduled -> completed -> result-received."""

_A = AppointmentStatus
APPOINTMENT_MACHINE: StateMachine[AppointmentStatus] = StateMachine(
    "Appointment",
    AppointmentStatus,
    {
        _A.PROPOSED: (_A.PENDING, _A.BOOKED, _A.WAITLIST, _A.CANCELLED),
        _A.PENDING: (_A.BOOKED, _A.WAITLIST, _A.CANCELLED),
        _A.WAITLIST: (_A.BOOKED, _A.CANCELLED),
        _A.BOOKED: (_A.CHECKED_IN, _A.ARRIVED, _A.FULFILLED, _A.NOSHOW, _A.CANCELLED),
        _A.CHECKED_IN: (_A.ARRIVED, _A.FULFILLED),
        _A.ARRIVED: (_A.FULFILLED,),
    },
    from_any=(_A.ENTERED_IN_ERROR,),
    needs_reason=(_A.CANCELLED, _A.ENTERED_IN_ERROR),
)
"""FHIR appointment-status lifecycle."""

_N = ConsentStatus
CONSENT_MACHINE: StateMachine[ConsentStatus] = StateMachine(
    "Consent",
    ConsentStatus,
    {
        _N.DRAFT: (_N.PROPOSED, _N.ACTIVE, _N.REJECTED),
        _N.PROPOSED: (_N.ACTIVE, _N.REJECTED),
        _N.ACTIVE: (_N.INACTIVE,),
    },
    from_any=(_N.ENTERED_IN_ERROR,),
    needs_reason=(_N.ENTERED_IN_ERROR,),
)
"""FHIR consent-state lifecycle (a withdrawn consent becomes inactive)."""
