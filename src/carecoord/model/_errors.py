"""The carecoord error tree.

Every error carecoord raises derives from :class:`CareCoordError`. Messages name
fields, states and identifiers, never values that could be protected health
information (names, contact details, birth dates, free text).
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "CareCoordError",
    "CompetencyMissingError",
    "ConflictError",
    "FhirImportError",
    "GoalClosedError",
    "InvalidTransitionError",
    "LotExpiredError",
    "MissingExtraError",
    "NaiveDatetimeError",
    "NotFoundError",
    "OffDutyError",
    "OutOfStockError",
    "ReasonRequiredError",
    "SlotTakenError",
    "StorageError",
    "StructureError",
    "ValidationError",
]


class CareCoordError(Exception):
    """Root of every error raised by carecoord."""


class ValidationError(CareCoordError, ValueError):
    """A value does not satisfy the model's rules.

    ``field`` names the offending attribute (for example ``"due"``); the value
    itself is never included in the message.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NaiveDatetimeError(ValidationError):
    """A datetime without a time zone was given where an aware one is required."""


class InvalidTransitionError(CareCoordError):
    """A state machine was asked for a transition it does not allow.

    ``machine`` names the state machine, ``from_state`` and ``to_state`` the two
    states (FHIR codes).
    """

    def __init__(self, machine: str, from_state: str, to_state: str) -> None:
        super().__init__(f"{machine}: illegal transition from '{from_state}' to '{to_state}'")
        self.machine = machine
        self.from_state = from_state
        self.to_state = to_state


class ReasonRequiredError(ValidationError):
    """A transition that needs a reason (cancel, fail, reject, ...) was given none."""


class GoalClosedError(ValidationError):
    """A goal in a closed lifecycle status (completed, cancelled, rejected, entered in
    error) was asked to change its description or targets.

    ``goal_id`` names the goal and ``status`` its lifecycle status (a FHIR code).
    """

    def __init__(self, goal_id: str, status: str) -> None:
        super().__init__(
            f"goal {goal_id} is {status}: a closed goal cannot be revised",
            field="lifecycle_status",
        )
        self.goal_id = goal_id
        self.status = status


class NotFoundError(CareCoordError, LookupError):
    """A referenced entity does not exist (by identifier)."""


class StructureError(ValidationError):
    """A serialized payload could not be turned back into model objects.

    ``paths`` lists every offending location as a JSONPath-like string such as
    ``$.goals[0].targets[0].due``. Values are never echoed.
    """

    def __init__(self, message: str, *, paths: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.paths = paths


class FhirImportError(StructureError):
    """A FHIR Bundle could not be imported (``carecoord.fhir.import_bundle``).

    ``path`` names the entry, resource and element, for example
    ``Bundle.entry[3].resource(Task/t-1).restriction.period.end``; the message
    says what is wrong with it (naive datetime, unknown code, missing
    reference, ...) and never echoes the value.
    """

    def __init__(self, message: str, *, path: str) -> None:
        super().__init__(f"{path}: {message}", paths=(path,))
        self.path = path


class ConflictError(CareCoordError):
    """A write was based on a stale version of a record (optimistic concurrency).

    Nothing of the unit of work that raised it was written. ``kind`` and
    ``record_id`` name the record; ``expected`` is the version the writer saw
    (0 for "must not exist yet").
    """

    def __init__(self, kind: str, record_id: str, expected: int) -> None:
        what = "already exists" if expected == 0 else f"is no longer at version {expected}"
        super().__init__(f"{kind} {record_id} {what}; reload and retry")
        self.kind = kind
        self.record_id = record_id
        self.expected = expected


class StorageError(CareCoordError):
    """The storage backend failed (I/O error, locked database, lost connection, ...).

    The backend's own exception is chained as ``__cause__``; whether the unit of
    work was written is stated by ``written`` (``False`` means nothing was).
    """

    def __init__(self, message: str, *, written: bool = False) -> None:
        super().__init__(message)
        self.written = written


class MissingExtraError(CareCoordError, ImportError):
    """An optional dependency is not installed; ``extra`` names the extra that brings it."""

    def __init__(self, extra: str, module: str) -> None:
        super().__init__(
            f"{module} is not installed: install the '{extra}' extra "
            f"(pip install 'carecoord[{extra}]')"
        )
        self.extra = extra
        self.module = module


class AccessDeniedError(CareCoordError, PermissionError):
    """The acting staff member may not do this to this patient's records."""


class OffDutyError(ValidationError):
    """An intervention was assigned to someone off duty at its due time, and the
    staffing policy refuses that (``OffDutyRule.REFUSE``, :mod:`carecoord.model.training`)."""


class CompetencyMissingError(ValidationError):
    """The assignee holds no current, signed-off training in a competency the work needs.

    ``competency_id`` names the missing competency (a code, never PHI).
    """

    def __init__(self, message: str, *, competency_id: str) -> None:
        super().__init__(message, field="assignee_id")
        self.competency_id = competency_id


class SlotTakenError(ConflictError):
    """A slot asked for is not free (booked meanwhile, or withdrawn): nothing was written."""

    def __init__(self, slot_id: str) -> None:
        super().__init__("Slot", slot_id, 0)
        self.args = (f"Slot {slot_id} is not free; choose another slot",)


class OutOfStockError(ConflictError):
    """Not enough usable stock for a use, waste or transfer: nothing was written.

    Also what the loser of two concurrent takes of the last units gets, once
    the runner has run it again on fresh data. ``item_id`` names the item.
    """

    def __init__(self, item_id: str) -> None:
        super().__init__("SupplyItem", item_id, 0)
        self.item_id = item_id
        self.args = (f"SupplyItem {item_id} has not enough usable stock for this",)


class LotExpiredError(ValidationError):
    """A lot past its expiry date was named for use (waste it instead)."""
