"""Notifier calls for the outbox dispatcher: one call, optionally on a thread with a timeout.

:func:`_invoke` makes one notifier call and turns an exception or a wrong
result into a failure code. :class:`_Call` runs a call on a thread of its own
that starts only before the call's deadline, so a call never starts once the
dispatcher has stopped waiting for it; :class:`_Unsettled` says why a timed
call has no result (in doubt, or never started). The bookkeeping of timed-out
calls stays with :class:`~carecoord.outbox.Dispatcher`, which imports these.
Logs go to the ``carecoord.outbox`` logger, as the dispatcher's do.
"""

from __future__ import annotations

import enum
import logging
import threading
import time

from .notify.port import DeliveryResult, Notifier, OutgoingMessage

__all__ = ["_Call", "_Unsettled", "_invoke"]

log = logging.getLogger("carecoord.outbox")


class _Unsettled(enum.Enum):
    """Why a call with a timeout has no result."""

    IN_DOUBT = "in-doubt"  # started and still running: it may yet deliver
    NOT_STARTED = "not-started"  # cancelled before it started: nothing was sent


def _invoke(notifier: Notifier, message: OutgoingMessage) -> DeliveryResult:
    """One notifier call; an exception or a wrong result becomes a failure code."""
    try:
        result = notifier.deliver(message)
    except Exception as exc:  # a notifier failure must never escape as care-data failure
        log.warning("notifier raised %s for %s", type(exc).__name__, message.idempotency_key)
        return DeliveryResult.failure(type(exc).__name__)
    if not isinstance(result, DeliveryResult):
        return DeliveryResult.failure("bad-notifier-result")
    return result


class _Call:
    """One notifier call on a thread of its own, started only before its deadline.

    The dispatcher waits :meth:`wait`; whatever the thread has not started by
    then is cancelled under the same lock, so a call never starts once the
    dispatcher has stopped waiting for it.
    """

    def __init__(self, notifier: Notifier, message: OutgoingMessage, timeout: float) -> None:
        self.note_id = message.idempotency_key
        self._notifier = notifier
        self._message = message
        self._deadline = time.monotonic() + timeout
        self._lock = threading.Lock()
        self._started = False
        self._cancelled = False
        self._done = threading.Event()
        self.result: DeliveryResult | None = None
        self.settling = False  # a dispatcher thread is recording its outcome

    @property
    def finished(self) -> bool:
        """Whether the call has ended (or was cancelled before it started)."""
        return self._done.is_set()

    def cancel(self) -> None:
        """Make sure the call never starts (it may have started already)."""
        with self._lock:
            if not self._started:
                self._cancelled = True
                self._done.set()

    def run(self) -> None:
        """The thread's body: start the call unless cancelled or past the deadline."""
        with self._lock:
            if self._cancelled or time.monotonic() >= self._deadline:
                self._cancelled = True
                self._done.set()
                return
            self._started = True
        try:
            result = _invoke(self._notifier, self._message)
        except BaseException as exc:  # not an Exception: end the thread quietly
            result = DeliveryResult.failure(type(exc).__name__)
        self.result = result
        self._done.set()

    def wait(self, timeout: float) -> DeliveryResult | _Unsettled:
        """The result if the call ends within ``timeout``; else why there is none."""
        self._done.wait(timeout)
        self.cancel()
        with self._lock:
            if self._cancelled:
                return _Unsettled.NOT_STARTED
            if not self._done.is_set():
                return _Unsettled.IN_DOUBT
        assert self.result is not None  # set before the event
        return self.result
