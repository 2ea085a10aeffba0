"""The notifier port: deliver one message, say whether it worked."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

from ..model.codes import ContactChannel
from ..model.outbox import RecipientKind

__all__ = ["DeliveryResult", "Notifier", "OutgoingMessage"]


@attrs.frozen
class OutgoingMessage:
    """One message handed to a :class:`Notifier`.

    ``idempotency_key`` is stable across retries of the same notification: a
    notifier (or the service behind it) uses it to drop duplicates, because
    delivery is *at least once*. ``address`` (phone number, e-mail, ...) comes
    from the recipient's record for ``channel``; it is ``None`` for channels
    that need none (portal, in-person). Address, subject and body stay out of
    ``repr``.
    """

    idempotency_key: str
    recipient_kind: RecipientKind
    recipient_id: str
    channel: ContactChannel
    subject: str = attrs.field(repr=False)
    body: str = attrs.field(repr=False)
    address: str | None = attrs.field(default=None, repr=False)
    patient_id: str | None = None
    event: str = ""
    attempt: int = 1


@attrs.frozen
class DeliveryResult:
    """What a notifier reports. ``error`` is a short code, never message content.

    ``retry=False`` says trying again cannot help (for example no address for
    the channel); the notification is then marked failed at once.
    """

    ok: bool
    error: str | None = None
    retry: bool = True

    @classmethod
    def success(cls) -> DeliveryResult:
        """Delivered."""
        return cls(ok=True)

    @classmethod
    def failure(cls, error: str, *, retry: bool = True) -> DeliveryResult:
        """Not delivered, with a short error code."""
        return cls(ok=False, error=error, retry=retry)


@runtime_checkable
class Notifier(Protocol):
    """Delivers messages. Host applications implement it for their channels.

    ``deliver`` may also raise: any exception counts as a failed, retryable
    attempt (its type name is recorded, never its message).
    """

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Try to deliver ``message`` once."""
        ...
