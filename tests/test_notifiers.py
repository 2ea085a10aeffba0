"""The shipped notifiers: LoggingNotifier and AppriseNotifier (no network: a fake target)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest

from carecoord import (
    ContactChannel,
    Intervention,
    InterventionId,
    InterventionKind,
    ValidationError,
)
from carecoord.notify import (
    DeliveryStatus,
    LoggingNotifier,
    Notification,
    Notifier,
    OutgoingMessage,
    RecipientKind,
)
from carecoord.notify.apprise import AppriseNotifier
from carecoord.outbox import Dispatcher
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore, UnitOfWork
from carecoord.testing import FixedClock, FlakyNotifier, RecordingNotifier
from world import COORD, NURSE, PLAN, T0, populate

# apprise loads its plugins on first use; one of them imports the deprecated imghdr module.
pytestmark = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")

SECRET = "SECRET-BODY-Glucose-8.4"
ADDRESS = "pat@example.org"


def message(**changes: Any) -> OutgoingMessage:
    values: dict[str, Any] = {
        "idempotency_key": "n-1",
        "recipient_kind": RecipientKind.STAFF,
        "recipient_id": "nurse",
        "channel": ContactChannel.EMAIL,
        "subject": f"Subject {SECRET}",
        "body": f"Body {SECRET}",
        "address": ADDRESS,
        "patient_id": "p-1",
        "event": "InterventionAssigned",
        "attempt": 2,
    }
    values.update(changes)
    return OutgoingMessage(**values)


# ------------------------------------------------------------------ port
@pytest.mark.parametrize(
    "notifier",
    [
        RecordingNotifier(),
        LoggingNotifier(),
        FlakyNotifier(0.5, seed=1),
        AppriseNotifier(lambda m: (), apprise_factory=object),
    ],
    ids=type,
)
def test_shipped_notifiers_satisfy_the_port(notifier: object) -> None:
    assert isinstance(notifier, Notifier)


def test_outgoing_message_repr_hides_content() -> None:
    text = repr(message())
    assert SECRET not in text and ADDRESS not in text
    assert "n-1" in text


# --------------------------------------------------------------- logging
def test_logging_notifier_logs_identifiers_only(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="carecoord.notify")
    result = LoggingNotifier().deliver(message())
    assert result.ok
    (record,) = caplog.records
    text = record.getMessage()
    for expected in ("n-1", "InterventionAssigned", "staff:nurse", "email", "p-1", "attempt=2"):
        assert expected in text
    assert SECRET not in text and ADDRESS not in text
    assert record.levelno == logging.INFO


def test_logging_notifier_takes_logger_and_level(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("host.outbox")
    caplog.set_level(logging.DEBUG, logger="host.outbox")
    LoggingNotifier(logger, level=logging.DEBUG).deliver(message(patient_id=None))
    (record,) = caplog.records
    assert record.name == "host.outbox" and record.levelno == logging.DEBUG
    assert "patient=-" in record.getMessage()


# ---------------------------------------------------------------- apprise
class Target:
    """Calls received by the ``cctest://`` apprise target."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.failing: set[str] = set()


_TARGET = Target()


_REGISTERED: list[bool] = []


@pytest.fixture
def target() -> Target:
    """A fake apprise target under the ``cctest://`` schema (no network), registered once."""
    if not _REGISTERED:
        from apprise.decorators import notify

        @notify(on="cctest")  # type: ignore[untyped-decorator, no-untyped-call]
        def _handler(
            body: str, title: str, notify_type: str, meta: dict[str, Any], **_: Any
        ) -> bool:
            host = str(meta.get("host"))
            _TARGET.calls.append((host, title, body))
            return host not in _TARGET.failing

        _REGISTERED.append(True)
    _TARGET.calls.clear()
    _TARGET.failing.clear()
    return _TARGET


def route(m: OutgoingMessage) -> Sequence[str]:
    return [f"cctest://{m.recipient_id}"]


def test_apprise_delivers_title_and_body(target: Target) -> None:
    result = AppriseNotifier(route).deliver(message())
    assert result.ok
    assert target.calls == [("nurse", f"Subject {SECRET}", f"Body {SECRET}")]


def test_apprise_sends_to_every_url(target: Target) -> None:
    notifier = AppriseNotifier(lambda m: ["cctest://one", "cctest://two"])
    assert notifier.deliver(message()).ok
    assert sorted(host for host, _, _ in target.calls) == ["one", "two"]


def test_apprise_failure_is_retryable(target: Target) -> None:
    target.failing.add("nurse")
    result = AppriseNotifier(route).deliver(message())
    assert not result.ok and result.retry and result.error == "apprise-failed"


def test_apprise_without_route_fails_for_good(target: Target) -> None:
    result = AppriseNotifier(lambda m: []).deliver(message())
    assert not result.ok and not result.retry and result.error == "no-route"
    assert target.calls == []


def test_apprise_unknown_url_fails_for_good(target: Target) -> None:
    result = AppriseNotifier(lambda m: ["no-such-scheme://x"]).deliver(message())
    assert not result.ok and not result.retry and result.error == "bad-url"
    assert target.calls == []


def test_apprise_error_codes_carry_no_content(target: Target) -> None:
    target.failing.add("nurse")
    result = AppriseNotifier(route).deliver(message())
    assert SECRET not in repr(result) and ADDRESS not in repr(result)


def test_apprise_through_the_outbox(target: Target) -> None:
    """End to end: a service change, the outbox, the dispatcher, an apprise target."""
    clock = FixedClock(T0)
    store = MemoryStore()
    service = CareCoordinator(store=store, clock=clock)
    populate(service, clock)
    service.add_intervention(
        PLAN,
        Intervention(
            id=InterventionId("i-1"),
            kind=InterventionKind.COMMUNICATION,
            description="Call about the new inhaler",
            created_at=T0,
            assignee_id=NURSE,
            due=T0 + timedelta(days=1),
        ),
        actor=COORD,
    )
    target.failing.add(str(NURSE))
    dispatcher = Dispatcher(store, AppriseNotifier(route), clock)
    first = dispatcher.dispatch()
    assert first.retried == 1 and first.delivered == 0
    target.failing.clear()
    clock.advance(timedelta(hours=1))
    second = dispatcher.dispatch()
    assert second.delivered == 1
    with UnitOfWork(store) as uow:
        (note,) = [n for n in uow.all(Notification) if n.recipient_id == NURSE]
    assert note.status is DeliveryStatus.DELIVERED and note.attempts == 2
    assert [host for host, _, _ in target.calls] == [str(NURSE), str(NURSE)]
    assert "i-1" in target.calls[-1][2]
    assert "inhaler" not in target.calls[-1][1] + target.calls[-1][2]


def test_dispatcher_rejects_bad_settings() -> None:
    with pytest.raises(ValidationError):
        Dispatcher(MemoryStore(), RecordingNotifier(), max_attempts=0)
    with pytest.raises(ValidationError):
        Dispatcher(MemoryStore(), RecordingNotifier(), batch_size=0)


def test_dispatch_rejects_naive_now() -> None:
    from carecoord import NaiveDatetimeError

    with pytest.raises(NaiveDatetimeError):
        Dispatcher(MemoryStore(), RecordingNotifier()).dispatch(datetime(2026, 1, 1))


def test_apprise_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from carecoord import MissingExtraError

    monkeypatch.setitem(sys.modules, "apprise", None)  # makes `import apprise` fail
    with pytest.raises(MissingExtraError) as caught:
        AppriseNotifier(route)
    assert caught.value.extra == "apprise"
    assert isinstance(caught.value, ImportError)
