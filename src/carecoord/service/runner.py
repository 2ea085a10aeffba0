"""The operation runner: the one pipeline every use case goes through.

A use case is an :class:`Operation`: a plain handler function
``handler(ctx, *args, **kwargs)`` with a name and an audit action. The
:class:`OperationRunner` runs it:

1. the actor must be a registered, active staff member (no default actor);
2. a fresh :class:`~carecoord.storage.UnitOfWork` is opened and a
   :class:`Context` built;
3. the handler does its work, and must make an access decision
   (:meth:`Context.allow`, :meth:`Context.allow_staff` or
   :meth:`Context.grant`) before it returns;
4. the notifications its events call for are planned into the same unit
   (the transactional outbox);
5. one :class:`~carecoord.model.audit.AuditEntry` is appended (a new record: no
   shared row, no contention with other operations);
6. the unit commits. A commit that loses an optimistic-concurrency race (a
   record this operation read was changed meanwhile) runs the whole operation
   again on fresh data, under the runner's :class:`~carecoord.retry.RetryPolicy`;
7. only after the commit are the domain events handed to the event handlers.

An operation that fails or is denied changes nothing and is audited in a unit
of work of its own; the typed error then propagates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, ParamSpec, Protocol, TypeVar, runtime_checkable

import attrs

from .. import events as ev
from ..access import AccessPolicy, Permission
from ..model import (
    AccessDeniedError,
    CareCoordError,
    ConflictError,
    InvalidTransitionError,
    NotFoundError,
    PatientId,
    StaffId,
    StaffMember,
    ValidationError,
)
from ..model._base import ensure_aware
from ..model.audit import AuditAction, AuditEntry, AuditOutcome, PurposeOfUse
from ..notify.rules import NotificationRule
from ..retry import RetryPolicy
from ..storage.port import Store
from ..storage.records import patient_id_of
from ..storage.uow import UnitOfWork
from . import _access, _outbox

__all__ = [
    "SYSTEM_ACTOR",
    "Clock",
    "Context",
    "EventHandler",
    "Operation",
    "OperationRunner",
    "Settings",
    "SystemClock",
    "operation",
]

log = logging.getLogger("carecoord")

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

EventHandler = Callable[[ev.DomainEvent], None]
"""Called with each domain event after its unit of work committed."""

SYSTEM_ACTOR = "system"
"""The actor recorded for time-driven work (:meth:`CareCoordinator.tick`)."""


@runtime_checkable
class Clock(Protocol):
    """Tells the time. ``now()`` must return an aware datetime."""

    def now(self) -> datetime:
        """The current time (aware)."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)


@attrs.frozen
class Settings:
    """Tunables a handler may read (from :class:`~carecoord.CareCoordinator`)."""

    notification_rules: tuple[NotificationRule, ...]
    stalled_referral_after: timedelta = timedelta(days=14)
    escalate_after: timedelta = timedelta(days=3)
    audit_key: bytes | None = attrs.field(default=None, repr=False)
    """The secret the audit chain is keyed with (HMAC), or ``None``."""


class Context:
    """One run of one operation: its unit of work, time, actor, and access decisions.

    Handlers read and write through :attr:`uow`, take the time from :attr:`now`
    (one instant for the whole operation), record domain events with
    :meth:`emit`, and must decide access with :meth:`allow`,
    :meth:`allow_staff` or :meth:`grant` before returning. ``patient_id``,
    ``entity`` and ``purpose`` end up in the operation's audit entry.
    """

    def __init__(
        self,
        *,
        uow: UnitOfWork,
        now: datetime,
        actor: StaffMember,
        operation: str,
        policy: AccessPolicy,
        settings: Settings,
        bootstrap: bool = False,
    ) -> None:
        self.uow = uow
        self.now = now
        self.actor = actor
        self.actor_id: StaffId = actor.id
        self.operation = operation
        self.policy = policy
        self.settings = settings
        self.bootstrap = bootstrap
        """True while the first staff member of an empty store registers themselves."""
        self.patient_id: str | None = None
        self.entity: str | None = None
        self.purpose = PurposeOfUse.TREAT
        self.checked = False
        self.action: AuditAction | None = None
        """Overrides the operation's audit action once the work knows it (create or update)."""

    # ------------------------------------------------------------- access
    def allow(
        self, patient_id: PatientId | str, permission: Permission, entity: str | None = None
    ) -> None:
        """Check ``permission`` on ``patient_id``; :class:`AccessDeniedError` when refused."""
        self.patient_id = str(patient_id)
        if entity is not None:
            self.entity = entity
        decision = _access.decide(
            self.uow, self.policy, self.actor, permission, PatientId(str(patient_id)), self.now
        )
        self._apply(decision.allowed, decision.purpose, decision.reason, permission)

    def load(self, cls: type[R], record_id: str, permission: Permission) -> R:
        """Read one record of a patient and check ``permission`` on that patient.

        A missing record and a refused one raise the same
        :class:`AccessDeniedError` (same message, no patient named), so someone
        outside the care team cannot learn whether a record exists; both are
        audited as denials.
        """
        entity = f"{cls.__name__}/{record_id}"
        self.entity = entity
        record = self.uow.find(cls, record_id)
        if record is not None:
            patient_id = patient_id_of(record) or ""
            decision = _access.decide(
                self.uow, self.policy, self.actor, permission, PatientId(patient_id), self.now
            )
            if decision.allowed:
                self.patient_id = patient_id
                self._apply(True, decision.purpose, decision.reason, permission)
                return record
        raise AccessDeniedError(
            f"{self.actor_id} may not {permission.value} {entity} (not found or not permitted)"
        )

    def allow_staff(self, permission: Permission, entity: str | None = None) -> None:
        """Check a staff-wide ``permission`` (no patient)."""
        if entity is not None:
            self.entity = entity
        decision = _access.decide(self.uow, self.policy, self.actor, permission, None, self.now)
        self._apply(decision.allowed, decision.purpose, decision.reason, permission)

    def grant(
        self,
        purpose: PurposeOfUse,
        *,
        entity: str | None = None,
        patient_id: PatientId | str | None = None,
    ) -> None:
        """Record that the operation's own rule allowed this access (e.g. one's own worklist).

        Use it only where a documented rule of the operation decides access
        instead of the policy; the access is audited with ``purpose``.
        """
        if entity is not None:
            self.entity = entity
        if patient_id is not None:
            self.patient_id = str(patient_id)
        self.checked = True
        self.purpose = purpose

    def _apply(
        self, allowed: bool, purpose: PurposeOfUse, reason: str, permission: Permission
    ) -> None:
        if not allowed:
            raise AccessDeniedError(
                f"{self.actor_id} may not {permission.value} for "
                f"{'patient ' + self.patient_id if self.patient_id else 'this operation'}"
                f" ({reason or 'denied'})"
            )
        self.checked = True
        # An emergency (ETREAT) access marks the whole operation.
        if purpose is PurposeOfUse.ETREAT or self.purpose is not PurposeOfUse.ETREAT:
            self.purpose = purpose

    # ------------------------------------------------------------- events
    def common(self, patient_id: object) -> dict[str, Any]:
        """The fields every event carries."""
        return {"at": self.now, "actor": str(self.actor_id), "patient_id": str(patient_id)}

    def emit(self, *events: ev.DomainEvent) -> None:
        """Record domain events; they reach the event handlers only if the unit commits."""
        for event in events:
            self.uow.collect(event)


Bootstrap = Callable[..., StaffMember | None]
"""``bootstrap(uow, actor_id, *args, **kwargs)``: the member to act as, when the store is new."""


@attrs.frozen
class Operation(Generic[P, T]):
    """A use case: a handler ``handler(ctx, *args, **kwargs)``, a name and an audit action.

    Build one with :func:`operation`; run it with
    :meth:`CareCoordinator.run <carecoord.CareCoordinator.run>`.
    ``bootstrap`` is for the single operation that may run before any staff
    member exists (registering the first one).
    """

    name: str
    action: AuditAction
    handler: Callable[..., T]
    bootstrap: Bootstrap | None = None

    def __call__(self, ctx: Context, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run the handler directly in an existing context (to compose operations)."""
        return self.handler(ctx, *args, **kwargs)


def operation(
    action: AuditAction, *, name: str | None = None, bootstrap: Bootstrap | None = None
) -> Callable[[Callable[..., T]], Operation[..., T]]:
    """Turn a handler function ``handler(ctx, ...)`` into an :class:`Operation`.

    ``action`` is the FHIR AuditEvent action recorded for it (``AuditAction.READ``
    for a read); ``name`` defaults to the function's name.
    """
    if not isinstance(action, AuditAction):
        raise ValidationError("action must be an AuditAction", field="action")

    def wrap(handler: Callable[..., T]) -> Operation[..., T]:
        return Operation(
            name=name or handler.__name__, action=action, handler=handler, bootstrap=bootstrap
        )

    return wrap


def _stale_read(exc: BaseException) -> bool:
    """A commit lost an optimistic race on a record it had read (worth a fresh try)."""
    return isinstance(exc, _CommitConflict)


class _CommitConflict(Exception):
    """Internal: a ConflictError raised by the commit, carried through the retry loop."""

    def __init__(self, conflict: ConflictError) -> None:
        super().__init__(conflict.kind)
        self.conflict = conflict


class OperationRunner:
    """Runs :class:`Operation` s through the pipeline (see the module documentation)."""

    def __init__(
        self,
        *,
        store: Callable[[], Store],
        clock: Callable[[], Clock],
        policy: Callable[[], AccessPolicy],
        settings: Callable[[], Settings],
        handlers: Sequence[EventHandler],
        retry: RetryPolicy,
    ) -> None:
        self._store = store
        self._clock = clock
        self._policy = policy
        self._settings = settings
        self._handlers = handlers
        self.retry = retry

    def now(self) -> datetime:
        """The clock's time, checked to be aware."""
        return ensure_aware(self._clock().now(), "clock.now()")

    def run(self, op: Operation[..., T], actor: object, *args: Any, **kwargs: Any) -> T:
        """Run ``op`` for ``actor`` (a :class:`StaffId`); see the module documentation."""
        if not isinstance(op, Operation):
            raise ValidationError("expected an Operation (see carecoord.operation)")
        actor_id = _actor(actor)
        now = self.now()
        store, policy, settings = self._store(), self._policy(), self._settings()
        last: list[Context] = []

        def attempt() -> tuple[T, UnitOfWork]:
            last.clear()
            uow = UnitOfWork(store)
            member, bootstrap = self._acting(uow, op, actor_id, args, kwargs)
            ctx = Context(
                uow=uow,
                now=now,
                actor=member,
                operation=op.name,
                policy=policy,
                settings=settings,
                bootstrap=bootstrap,
            )
            last.append(ctx)
            result = op.handler(ctx, *args, **kwargs)
            if not ctx.checked:  # fail closed: an operation must decide access
                raise AccessDeniedError(f"{op.name} made no access decision")
            _outbox.plan(uow, now, settings.notification_rules)
            uow.add(_entry(now, str(actor_id), op, ctx, AuditOutcome.SUCCESS))
            try:
                uow.commit()
            except ConflictError as exc:
                if exc.expected > 0:
                    raise _CommitConflict(exc) from None
                raise
            return result, uow

        try:
            result, uow = self.retry.call(attempt, retry_if=_stale_read)
        except _CommitConflict as wrapped:
            self.audit_failure(now, str(actor_id), op, last[0] if last else None, wrapped.conflict)
            raise wrapped.conflict from None
        except BaseException as exc:
            self.audit_failure(now, str(actor_id), op, last[0] if last else None, exc)
            raise
        self.dispatch(uow.events)
        return result

    @staticmethod
    def _acting(
        uow: UnitOfWork,
        op: Operation[..., Any],
        actor_id: StaffId,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> tuple[StaffMember, bool]:
        member = uow.find(StaffMember, actor_id)
        if member is not None and member.active:
            return member, False
        if member is None and op.bootstrap is not None:
            first = op.bootstrap(uow, actor_id, *args, **kwargs)
            if first is not None:
                return first, True
        raise NotFoundError(f"actor {actor_id} is not a registered, active staff member")

    def audit_failure(
        self,
        now: datetime,
        actor: str,
        op: Operation[..., Any] | str,
        ctx: Context | None,
        exc: BaseException,
    ) -> None:
        """Append the audit entry of a failed or denied operation, in a unit of its own."""
        if isinstance(
            exc,
            AccessDeniedError
            | ValidationError
            | NotFoundError
            | ConflictError
            | InvalidTransitionError,
        ):
            outcome = AuditOutcome.MINOR_FAILURE
        elif isinstance(exc, CareCoordError):
            outcome = AuditOutcome.SERIOUS_FAILURE
        else:
            outcome = AuditOutcome.MAJOR_FAILURE
        try:
            with UnitOfWork(self._store()) as uow:
                uow.add(_entry(now, actor, op, ctx, outcome, detail=type(exc).__name__))
        except CareCoordError as audit_error:
            log.error(
                "could not audit the failure of %s by %s (%s)",
                op if isinstance(op, str) else op.name,
                actor,
                type(audit_error).__name__,
            )

    def dispatch(self, events: Iterable[object]) -> None:
        """Hand committed events to every handler; a failing handler is logged, not raised."""
        for event in events:
            for handler in list(self._handlers):
                try:
                    handler(event)  # type: ignore[arg-type]
                except Exception:  # a failing handler must not undo a committed command
                    log.exception(
                        "event handler failed for %s", getattr(event, "name", type(event).__name__)
                    )


def _entry(
    now: datetime,
    actor: str,
    op: Operation[..., Any] | str,
    ctx: Context | None,
    outcome: AuditOutcome,
    *,
    detail: str | None = None,
) -> AuditEntry:
    """The one audit entry of an operation run (``op`` a name: time-driven work, EXECUTE)."""
    if isinstance(op, str):
        name, action = op, AuditAction.EXECUTE
    else:
        name, action = op.name, op.action
    return AuditEntry.create(
        at=now,
        actor=actor,
        # A success is audited with the action the work settled on (create or update).
        action=(ctx.action if ctx and outcome is AuditOutcome.SUCCESS else None) or action,
        operation=name,
        outcome=outcome,
        purpose=ctx.purpose if ctx else PurposeOfUse.TREAT,
        patient_id=ctx.patient_id if ctx else None,
        entity=ctx.entity if ctx else None,
        detail=detail,
    )


def _actor(actor: object) -> StaffId:
    if not isinstance(actor, StaffId):
        raise ValidationError(
            "actor must be a StaffId naming the acting staff member", field="actor"
        )
    return actor
