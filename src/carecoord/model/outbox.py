"""Notifications waiting in the transactional outbox, and markers for time-driven events."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Self

import attrs

from ._base import aware, instant, of_type, optional, text
from ._errors import ValidationError
from .codes import ContactChannel

__all__ = [
    "DeliveryStatus",
    "Notification",
    "RecipientKind",
    "TimedEventMarker",
    "stable_id",
]


def stable_id(*parts: str) -> str:
    """A deterministic record id from ``parts`` (hex SHA-256, 40 characters)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class DeliveryStatus(StrEnum):
    """Where a notification is in its delivery."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class RecipientKind(StrEnum):
    """Who a notification is for."""

    STAFF = "staff"
    PATIENT = "patient"
    CONTACT = "contact"


@attrs.frozen
class Notification:
    """One message to one recipient over one channel, kept until delivered.

    ``id`` doubles as the idempotency key handed to the notifier: delivering the
    same notification twice is recognisable as a duplicate. ``subject`` and
    ``body`` carry identifiers and what to do — clinical detail only when the
    host opted in — and are kept out of ``repr``.

    ``claimed_by`` and ``claimed_until`` are a dispatcher's lease (see
    :meth:`claim`): while it lasts no other dispatcher delivers the notification;
    once it has passed, the notification is due again. Both are set, or neither,
    and only on a pending notification.

    ``attempts`` counts calls whose outcome is known (delivered or failed);
    only failed ones count towards a dispatcher's ``max_attempts``.
    ``in_doubt_attempts`` counts calls that timed out: the message may or may
    not have gone out, so they are retried with the same idempotency key and
    never make the notification fail (see :meth:`in_doubt_attempt`).
    """

    id: str = attrs.field(validator=text(max_len=64))
    event: str = attrs.field(validator=text(max_len=100))
    recipient_kind: RecipientKind = attrs.field(validator=of_type(RecipientKind))
    recipient_id: str = attrs.field(validator=text(max_len=64))
    channel: ContactChannel = attrs.field(validator=of_type(ContactChannel))
    subject: str = attrs.field(validator=text(max_len=200), repr=False)
    body: str = attrs.field(validator=text(max_len=4000), repr=False)
    created_at: datetime = attrs.field(validator=aware)
    next_attempt_at: datetime = attrs.field(validator=aware)
    patient_id: str | None = attrs.field(default=None, validator=optional(text(max_len=64)))
    status: DeliveryStatus = attrs.field(
        default=DeliveryStatus.PENDING, validator=of_type(DeliveryStatus)
    )
    attempts: int = attrs.field(default=0, validator=of_type(int))
    last_error: str | None = attrs.field(default=None, validator=optional(text(max_len=200)))
    delivered_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    deferred_for_quiet_hours: bool = attrs.field(default=False, validator=of_type(bool))
    claimed_by: str | None = attrs.field(default=None, validator=optional(text(max_len=100)))
    claimed_until: datetime | None = attrs.field(default=None, validator=optional(aware))
    in_doubt_attempts: int = attrs.field(default=0, validator=of_type(int))

    def __attrs_post_init__(self) -> None:
        if self.attempts < 0:
            raise ValidationError("Notification.attempts must be >= 0", field="attempts")
        if self.in_doubt_attempts < 0:
            raise ValidationError(
                "Notification.in_doubt_attempts must be >= 0", field="in_doubt_attempts"
            )
        if (self.claimed_by is None) != (self.claimed_until is None):
            raise ValidationError(
                "Notification.claimed_by and claimed_until must be set together",
                field="claimed_until" if self.claimed_until is None else "claimed_by",
            )
        if self.claimed_by is not None and self.status is not DeliveryStatus.PENDING:
            raise ValidationError(
                f"a {self.status.value} notification cannot be claimed", field="claimed_by"
            )

    @property
    def idempotency_key(self) -> str:
        """The key a notifier uses to recognise a repeated delivery."""
        return self.id

    @property
    def next_eligible_at(self) -> datetime:
        """When a dispatcher may next try it: the later of the retry time and the lease end.

        The two are compared as instants; the later one is returned as it is.
        """
        if self.claimed_until is not None and instant(self.claimed_until) > instant(
            self.next_attempt_at
        ):
            return self.claimed_until
        return self.next_attempt_at

    def is_claimed(self, at: datetime) -> bool:
        """Whether a dispatcher's lease on it is still running at ``at``."""
        return self.claimed_until is not None and instant(self.claimed_until) > instant(at)

    def is_due(self, at: datetime) -> bool:
        """Pending, its retry time reached and no live lease at ``at``."""
        return self.status is DeliveryStatus.PENDING and instant(self.next_eligible_at) <= instant(
            at
        )

    def claim(self, worker: str, until: datetime) -> Self:
        """A copy leased to dispatcher ``worker`` until ``until`` (only a pending one).

        The model does not refuse a claim over a live lease: whoever saves the
        claim against the version it read wins (optimistic concurrency), and a
        dispatcher checks :meth:`is_claimed` before claiming.
        """
        if self.status is not DeliveryStatus.PENDING:
            raise ValidationError(
                f"notification is {self.status.value}, not pending", field="status"
            )
        return attrs.evolve(self, claimed_by=worker, claimed_until=until)

    def delivered(self, at: datetime) -> Self:
        """A copy marked delivered at ``at`` (any claim is released)."""
        if self.status is not DeliveryStatus.PENDING:
            raise ValidationError(f"notification is {self.status.value}, not pending")
        return attrs.evolve(
            self,
            status=DeliveryStatus.DELIVERED,
            attempts=self.attempts + 1,
            delivered_at=at,
            last_error=None,
            claimed_by=None,
            claimed_until=None,
        )

    def delivered_late(self, at: datetime) -> Self:
        """A copy marked delivered at ``at``: an earlier, timed-out call turned out to succeed.

        That call is no longer in doubt: it moves from ``in_doubt_attempts`` to
        ``attempts``. A notification marked failed since then (by a later call
        that failed) is corrected to delivered, because it was. Any claim is
        released.
        """
        if self.status is DeliveryStatus.DELIVERED:
            raise ValidationError("notification is delivered already", field="status")
        return attrs.evolve(
            self,
            status=DeliveryStatus.DELIVERED,
            attempts=self.attempts + 1,
            in_doubt_attempts=max(self.in_doubt_attempts - 1, 0),
            delivered_at=at,
            last_error=None,
            claimed_by=None,
            claimed_until=None,
        )

    def in_doubt_attempt(self, error: str, *, retry_at: datetime) -> Self:
        """A copy after a call with an unknown outcome (a timeout): pending again at ``retry_at``.

        It counts in ``in_doubt_attempts``, never in ``attempts``: the message
        may have been delivered, so an in-doubt call never makes the
        notification fail. Any claim is released.
        """
        if self.status is not DeliveryStatus.PENDING:
            raise ValidationError(f"notification is {self.status.value}, not pending")
        return attrs.evolve(
            self,
            in_doubt_attempts=self.in_doubt_attempts + 1,
            last_error=error,
            next_attempt_at=retry_at,
            claimed_by=None,
            claimed_until=None,
        )

    def postponed(self, retry_at: datetime) -> Self:
        """A pending copy due again at ``retry_at``, unclaimed, its counts unchanged."""
        if self.status is not DeliveryStatus.PENDING:
            raise ValidationError(f"notification is {self.status.value}, not pending")
        return attrs.evolve(self, next_attempt_at=retry_at, claimed_by=None, claimed_until=None)

    def failed_attempt(self, error: str, *, retry_at: datetime | None) -> Self:
        """A copy after a failed attempt: pending again at ``retry_at``, or failed for good.

        Any claim is released.
        """
        if self.status is not DeliveryStatus.PENDING:
            raise ValidationError(f"notification is {self.status.value}, not pending")
        if retry_at is None:
            return attrs.evolve(
                self,
                status=DeliveryStatus.FAILED,
                attempts=self.attempts + 1,
                last_error=error,
                claimed_by=None,
                claimed_until=None,
            )
        return attrs.evolve(
            self,
            attempts=self.attempts + 1,
            last_error=error,
            next_attempt_at=retry_at,
            claimed_by=None,
            claimed_until=None,
        )

    def requeued(self, at: datetime) -> Self:
        """A failed notification pending again from ``at``, both counts reset, unclaimed."""
        if self.status is not DeliveryStatus.FAILED:
            raise ValidationError(
                f"notification is {self.status.value}, not failed", field="status"
            )
        return attrs.evolve(
            self,
            status=DeliveryStatus.PENDING,
            attempts=0,
            in_doubt_attempts=0,
            next_attempt_at=at,
            claimed_by=None,
            claimed_until=None,
        )


@attrs.frozen
class TimedEventMarker:
    """Remembers that a time-driven event (overdue, review due, stalled) was announced.

    Its ``id`` is :func:`stable_id` of the event's key, so announcing the same
    thing twice collides on the id and is skipped: ``tick`` is idempotent.
    """

    id: str = attrs.field(validator=text(max_len=64))
    event: str = attrs.field(validator=text(max_len=100))
    subject_id: str = attrs.field(validator=text(max_len=200))
    at: datetime = attrs.field(validator=aware)
    patient_id: str | None = attrs.field(default=None, validator=optional(text(max_len=64)))
