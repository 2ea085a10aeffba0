"""Notifications: the notifier port, rules that turn events into messages, built-in notifiers.

* :class:`Notifier` — the port a host implements (one method: ``deliver``).
* :class:`LoggingNotifier` — logs identifiers only (no PHI).
* :class:`~carecoord.notify.apprise.AppriseNotifier` — delivery through apprise
  (optional extra ``carecoord[apprise]``; import it from ``carecoord.notify.apprise``).
* :class:`~carecoord.testing.RecordingNotifier` — in :mod:`carecoord.testing`.
* :data:`DEFAULT_RULES`, :class:`NotificationRule`, :class:`Audience` — rules as data.
"""

from ..model.outbox import DeliveryStatus, Notification, RecipientKind
from .logging import LoggingNotifier
from .port import DeliveryResult, Notifier, OutgoingMessage
from .rules import DEFAULT_RULES, Audience, NotificationRule, Recipient, plan_notifications

__all__ = [
    "DEFAULT_RULES",
    "Audience",
    "DeliveryResult",
    "DeliveryStatus",
    "LoggingNotifier",
    "Notification",
    "NotificationRule",
    "Notifier",
    "OutgoingMessage",
    "Recipient",
    "RecipientKind",
    "plan_notifications",
]
