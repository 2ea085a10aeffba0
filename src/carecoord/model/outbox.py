"""Notifications waiting in the transactional outbox, and markers for time-driven events."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Self

import attrs

from ._base import aware, of_type, optional, text
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

    def __attrs_post_init__(self) -> None:
        if self.attempts < 0:
            raise ValidationError("Notification.attempts must be >= 0", field="attempts")

    @property
    def idempotency_key(self) -> str:
        """The key a notifier uses to recognise a repeated delivery."""
        return self.id

    def delivered(self, at: datetime) -> Self:
        """A copy marked delivered at ``at``."""
        if self.status is not DeliveryStatus.PENDING:
            raise ValidationError(f"notification is {self.status.value}, not pending")
        return attrs.evolve(
            self,
            status=DeliveryStatus.DELIVERED,
            attempts=self.attempts + 1,
            delivered_at=at,
            last_error=None,
        )

    def failed_attempt(self, error: str, *, retry_at: datetime | None) -> Self:
        """A copy after a failed attempt: pending again at ``retry_at``, or failed for good."""
        if self.status is not DeliveryStatus.PENDING:
            raise ValidationError(f"notification is {self.status.value}, not pending")
        if retry_at is None:
            return attrs.evolve(
                self, status=DeliveryStatus.FAILED, attempts=self.attempts + 1, last_error=error
            )
        return attrs.evolve(
            self, attempts=self.attempts + 1, last_error=error, next_attempt_at=retry_at
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
