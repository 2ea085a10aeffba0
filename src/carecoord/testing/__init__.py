"""Public test helpers for hosts and for carecoord's own tests.

* :class:`FixedClock` — a clock you set and advance by hand.
* :class:`RecordingEventSink` — keeps every domain event handed to it.
* :class:`RecordingNotifier` — a notifier that keeps every message it was given.
* :class:`FlakyNotifier` — fails a set fraction of deliveries, reproducibly.
* :class:`AllowAllPolicy` — an access policy that allows everything (tests only).
* :class:`ForwardingStore` — a store that hands every call to another one;
  subclass it to inject faults, delays or races, or to watch what is written.
* :mod:`carecoord.testing.store` — :class:`~carecoord.testing.store.StoreContract`,
  the conformance suite every store must pass (needs pytest and hypothesis:
  ``pip install carecoord[testing]``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from ..access import AccessDecision, AccessRequest
from ..model import ValidationError
from ..model._base import ensure_aware
from ..notify.port import DeliveryResult, OutgoingMessage
from ..storage.port import IndexHit, RecordWrite, Store, StoredRecord, WorkQuery

__all__ = [
    "AllowAllPolicy",
    "FixedClock",
    "FlakyNotifier",
    "ForwardingStore",
    "RacingStore",
    "RecordingEventSink",
    "RecordingNotifier",
]


class FixedClock:
    """A clock that stands still until told otherwise (thread-safe)."""

    def __init__(self, now: datetime) -> None:
        self._now = ensure_aware(now, "now")
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The current (fixed) time."""
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        """Jump to ``now`` (aware)."""
        with self._lock:
            self._now = ensure_aware(now, "now")

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta`` and return the new time."""
        with self._lock:
            self._now = self._now + delta
            return self._now

    def __repr__(self) -> str:
        return f"FixedClock({self._now.isoformat()})"


_E = TypeVar("_E")


class RecordingEventSink:
    """An event handler that records every event it receives, in order."""

    def __init__(self) -> None:
        self.events: list[object] = []
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        with self._lock:
            self.events.append(event)

    def of_type(self, cls: type[_E]) -> list[_E]:
        """The recorded events that are instances of ``cls`` (typed as ``cls``)."""
        return [e for e in self.events if isinstance(e, cls)]

    def clear(self) -> None:
        """Forget everything recorded."""
        with self._lock:
            self.events.clear()


class RecordingNotifier:
    """A notifier that records every message and always succeeds."""

    def __init__(self) -> None:
        self.messages: list[OutgoingMessage] = []
        self._lock = threading.Lock()

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Record ``message``; report success."""
        with self._lock:
            self.messages.append(message)
        return DeliveryResult.success()

    @property
    def keys(self) -> list[str]:
        """The idempotency keys delivered, in order (repeats show duplicates)."""
        return [m.idempotency_key for m in self.messages]


class FlakyNotifier:
    """Fails ``failure_rate`` of calls (0.0-1.0), reproducibly from ``seed``.

    Successful messages are kept in :attr:`delivered`. ``mode`` chooses how a
    failure looks: ``"result"`` (a failed DeliveryResult), ``"raise"`` (an
    exception) or ``"lost-ack"`` (the message *is* delivered but failure is
    reported, the case that makes redelivery and idempotency keys necessary).
    """

    def __init__(self, failure_rate: float, *, seed: int = 0, mode: str = "result") -> None:
        if not 0.0 <= failure_rate <= 1.0:
            raise ValidationError("failure_rate must be between 0 and 1", field="failure_rate")
        if mode not in {"result", "raise", "lost-ack"}:
            raise ValidationError("mode must be 'result', 'raise' or 'lost-ack'", field="mode")
        self.failure_rate = failure_rate
        self.mode = mode
        self.delivered: list[OutgoingMessage] = []
        self.calls = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()

    def deliver(self, message: OutgoingMessage) -> DeliveryResult:
        """Deliver, or fail as configured."""
        with self._lock:
            self.calls += 1
            fail = self._random.random() < self.failure_rate
            if not fail:
                self.delivered.append(message)
                return DeliveryResult.success()
            if self.mode == "lost-ack":
                self.delivered.append(message)
        if self.mode == "raise":
            raise ConnectionError("simulated delivery failure")
        return DeliveryResult.failure("simulated")


class AllowAllPolicy:
    """Allows every access. For tests that are not about access control."""

    def decide(self, request: AccessRequest) -> AccessDecision:
        """Always allow, purpose TREAT."""
        return AccessDecision(True, reason="allow-all")


class ForwardingStore:
    """A :class:`~carecoord.storage.Store` that hands every call to ``inner``.

    Subclass it and override what you want to observe or disturb — for
    example ``write`` to raise :class:`~carecoord.ConflictError` once, to wait
    at a barrier so two writers race, or to record the batches a service
    writes — and pass the subclass wherever a store goes::

        class Recording(ForwardingStore):
            def __init__(self, inner: Store) -> None:
                super().__init__(inner)
                self.batches: list[Sequence[RecordWrite]] = []

            def write(self, batch: Sequence[RecordWrite]) -> None:
                self.batches.append(batch)
                super().write(batch)
    """

    def __init__(self, inner: Store) -> None:
        self.inner = inner

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        """``inner.read``."""
        return self.inner.read(kind, record_id)

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        """``inner.read_all``."""
        return self.inner.read_all(kind, patient_id=patient_id)

    def write(self, batch: Sequence[RecordWrite]) -> None:
        """``inner.write``."""
        self.inner.write(batch)

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        """``inner.query``."""
        return self.inner.query(query)

    def close(self) -> None:
        """``inner.close``."""
        self.inner.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"


class RacingStore(ForwardingStore):
    """Makes two writers race: the first two batches that write a record of ``kind``
    wait at a barrier until both have arrived, so both units of work read the same
    version before either writes.

    Set :attr:`armed` once the setup is done (writes before that pass straight
    through); then run two operations on threads. Exactly one should win; the
    other meets :class:`~carecoord.ConflictError` (the service retries it on
    fresh data, where it sees the winner's change). ``timeout`` bounds the wait,
    so a test that starts only one writer fails instead of hanging::

        racing = RacingStore(store, "Slot")
        service = CareCoordinator(store=racing)
        ...  # set up
        racing.armed = True
        # book the same slot from two threads: one booking, one SlotTakenError
    """

    def __init__(self, inner: Store, kind: str, *, timeout: float = 20.0) -> None:
        super().__init__(inner)
        self.kind = kind
        self.armed = False
        self._barrier = threading.Barrier(2, timeout=timeout)
        self._lock = threading.Lock()
        self._held = 0

    def write(self, batch: Sequence[RecordWrite]) -> None:
        """Wait at the barrier (the first two armed writes of ``kind``), then write."""
        if self.armed and any(w.kind == self.kind for w in batch):
            with self._lock:
                hold = self._held < 2
                self._held += 1
            if hold:
                self._barrier.wait()
        super().write(batch)
