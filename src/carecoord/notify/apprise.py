"""Delivery through the `apprise` library (optional extra: ``pip install carecoord[apprise]``).

apprise speaks to many services (e-mail, SMS gateways, chat) through URLs. The
host decides which URL(s) a message goes to — typically from its channel and
address — with the ``urls_for`` callable; carecoord never builds credentials.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..model import MissingExtraError
from .port import DeliveryResult, OutgoingMessage

__all__ = ["AppriseNotifier"]

UrlsFor = Callable[[OutgoingMessage], Sequence[str]]


class AppriseNotifier:
    """A :class:`~carecoord.notify.Notifier` that sends each message with apprise.

    ``urls_for(message)`` returns the apprise URLs for the message (empty: the
    recipient cannot be reached on that channel, a non-retryable failure).
    ``apprise_factory`` builds the ``apprise.Apprise`` object (injectable for tests).
    Without the ``apprise`` package, :class:`~carecoord.MissingExtraError` names
    the extra to install.
    """

    def __init__(
        self, urls_for: UrlsFor, *, apprise_factory: Callable[[], Any] | None = None
    ) -> None:
        if apprise_factory is None:
            try:
                import apprise
            except ImportError as exc:
                raise MissingExtraError("apprise", "apprise") from exc
            apprise_factory = apprise.Apprise
        self._factory = apprise_factory
        self._urls_for = urls_for

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Send ``message`` to every URL ``urls_for`` names; success only if all accept it."""
        urls = list(self._urls_for(message))
        if not urls:
            return DeliveryResult.failure("no-route", retry=False)
        sender = self._factory()
        for url in urls:
            if not sender.add(url):
                return DeliveryResult.failure("bad-url", retry=False)
        ok = bool(sender.notify(body=message.body, title=message.subject))
        return DeliveryResult.success() if ok else DeliveryResult.failure("apprise-failed")
