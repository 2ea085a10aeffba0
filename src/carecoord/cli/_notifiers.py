"""The notifier a dispatching command uses, chosen by configuration.

``--notifier logging`` (the default) logs identifiers only. ``--notifier
apprise`` sends through apprise to the URLs given with ``--apprise-url``
(repeatable) or, better, in ``$CARECOORD_APPRISE_URL`` (whitespace-separated;
URLs often carry credentials, and a command line is visible to other users of
the machine). ``--notifier <an apprise URL>`` is short for both.

Each URL may start with a channel and ``=`` (``email=mailtos://...``): it is
then used only for messages on that channel. ``{address}`` in a URL is replaced
by the recipient's address for the channel (URL-quoted); a message without an
address skips such a URL. A message no URL applies to fails with ``no-route``
(not retried).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from urllib.parse import quote

from ..model import ContactChannel, MissingExtraError
from ..notify.port import Notifier, OutgoingMessage
from ._common import UsageError

__all__ = ["APPRISE_ENV", "NOTIFIER_HELP", "Routes", "add_notifier_options", "notifier"]

APPRISE_ENV = "CARECOORD_APPRISE_URL"
"""Apprise URLs (whitespace-separated) used when ``--apprise-url`` is not given."""

NOTIFIER_HELP = (
    "how notifications are delivered: 'logging' (default: one log line per message, "
    "identifiers only), 'apprise' (to --apprise-url / $CARECOORD_APPRISE_URL), or an "
    "apprise URL (short for both)"
)

_ADDRESS = "{address}"


class Routes:
    """Apprise URLs, each for every channel or for one (``channel=URL``)."""

    def __init__(self, urls: Sequence[str]) -> None:
        channels = {c.value for c in ContactChannel}
        self._routes: list[tuple[ContactChannel | None, str]] = []
        for raw in urls:
            head, sep, tail = raw.partition("=")
            if sep and head in channels:
                self._routes.append((ContactChannel(head), tail))
            else:
                self._routes.append((None, raw))

    def __len__(self) -> int:
        return len(self._routes)

    def urls_for(self, message: OutgoingMessage) -> list[str]:
        """The URLs ``message`` goes to: its channel's and the general ones, addresses filled."""
        found: list[str] = []
        for channel, url in self._routes:
            if channel is not None and channel is not message.channel:
                continue
            if _ADDRESS in url:
                if not message.address:
                    continue
                url = url.replace(_ADDRESS, quote(message.address, safe="@+"))
            found.append(url)
        return found


def add_notifier_options(parser: argparse.ArgumentParser) -> None:
    """``--notifier``, ``--apprise-url`` and ``--timeout``."""
    parser.add_argument("--notifier", default="logging", help=NOTIFIER_HELP)
    parser.add_argument(
        "--apprise-url",
        action="append",
        metavar="[CHANNEL=]URL",
        help=f"an apprise URL (repeatable; default: ${APPRISE_ENV}); CHANNEL= limits it to "
        "one channel (email, sms, ...), {address} is replaced by the recipient's address",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=30.0,
        help="seconds one notifier call may take before it is retried later (default: 30)",
    )


def notifier(args: argparse.Namespace) -> Notifier:
    """The notifier the options choose (a usage error names what is missing)."""
    choice = str(args.notifier)
    urls = list(args.apprise_url or ())
    if "://" in choice:
        urls.insert(0, choice)
        choice = "apprise"
    if choice == "logging":
        if urls:
            raise UsageError("--apprise-url needs --notifier apprise")
        from ..notify.logging import LoggingNotifier

        return LoggingNotifier()
    if choice != "apprise":
        raise UsageError("--notifier must be 'logging', 'apprise' or an apprise URL")
    routes = Routes(urls or os.environ.get(APPRISE_ENV, "").split())
    if not routes:
        raise UsageError(f"--notifier apprise needs --apprise-url or ${APPRISE_ENV}")
    try:
        from ..notify.apprise import AppriseNotifier

        return AppriseNotifier(routes.urls_for)
    except MissingExtraError:
        raise UsageError(
            "--notifier apprise needs apprise, which is not installed: "
            "pip install 'carecoord[apprise]'"
        ) from None
