"""A notifier that writes one PHI-free log line per message."""

from __future__ import annotations

import logging

from .port import DeliveryResult, OutgoingMessage

__all__ = ["LoggingNotifier"]


class LoggingNotifier:
    """Logs each message's identifiers, channel and event — never subject, body or address.

    Useful in development and as a fallback; it always reports success.
    """

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        self._logger = logger or logging.getLogger("carecoord.notify")
        self._level = level

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Log the message's identifiers and report success."""
        self._logger.log(
            self._level,
            "notification %s event=%s to=%s:%s channel=%s patient=%s attempt=%d",
            message.idempotency_key,
            message.event,
            message.recipient_kind.value,
            message.recipient_id,
            message.channel.value,
            message.patient_id or "-",
            message.attempt,
        )
        return DeliveryResult.success()
