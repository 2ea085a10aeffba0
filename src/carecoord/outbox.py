"""The outbox dispatcher: delivers pending notifications, with retries and backoff.

Notifications are written to the outbox by the service in the same unit of
work as the change that caused them. The host calls :meth:`Dispatcher.dispatch`
on its own schedule (a loop, a cron job, a worker). Delivery is *at least
once*: a crash between a successful delivery and recording it means the
notification is delivered again later with the same idempotency key, which the
notifier uses to drop the duplicate. A notifier that fails, raises or times out
never touches care data, and a notification is never lost: it stays pending
(with exponential backoff) until delivered, or is marked failed after
``max_attempts`` and can be put back with :meth:`Dispatcher.requeue_failed`.

Several dispatchers — threads, processes or machines sharing one store — can
run at once. Before calling the notifier a dispatcher *claims* the
notification: it saves a lease (``claimed_by``, ``claimed_until``) against the
version it read, so of two dispatchers that read the same notification only
one claim commits and the other skips it without delivering. While the lease
runs the notification is hidden from every dispatcher's due query; if its
holder dies, the lease runs out and another dispatcher takes it over. The
outcome is recorded against the claim's version: a dispatcher whose lease ran
out and was taken over records nothing (the newer holder records its own
attempt). Like a crash after delivering, that can deliver a notification twice,
with the same idempotency key; a lease longer than ``timeout`` prevents it for
calls that finish or time out in time.

With a ``timeout`` each notifier call runs on a thread of its own, started
only while the dispatcher still waits for it (never after its deadline). A
call that outlives it is *in doubt*: the notification stays pending, counts it
in ``in_doubt_attempts`` (never towards ``max_attempts``) and is retried after
a backoff with the same idempotency key. While that call still runs this
dispatcher postpones the retry; if it succeeds, the next pass records the
notification delivered without sending it again. In-doubt retries are not
capped: a notifier that always times out leaves notifications pending, never
failed, since each may have been delivered.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta

import attrs

from ._notifier_calls import _Call as _Call  # explicit: importable from here, as before
from ._notifier_calls import _invoke, _Unsettled
from .model import ConflictError, ContactChannel, Patient, StaffMember, ValidationError
from .model._base import ensure_aware
from .model.outbox import DeliveryStatus, Notification, RecipientKind
from .notify.port import DeliveryResult, Notifier, OutgoingMessage
from .retry import capped_doubling
from .service import Clock, SystemClock
from .storage.port import Store, WorkQuery
from .storage.uow import UnitOfWork

__all__ = ["DispatchReport", "Dispatcher"]

log = logging.getLogger("carecoord.outbox")

_NO_ADDRESS_NEEDED = {ContactChannel.PORTAL, ContactChannel.IN_PERSON}


@attrs.frozen
class DispatchReport:
    """What one :meth:`Dispatcher.dispatch` pass did.

    ``delivered``: recorded delivered, ``late_delivered`` of them because an
    earlier pass's timed-out call turned out to succeed (not sent again).
    ``retried``: left pending for a later try, ``in_doubt`` of them because
    the call timed out (or an earlier timed-out call for it is still running
    and it was not called again). ``failed``: marked failed. ``skipped``: left
    alone, claimed by another dispatcher first (or its earlier call's success
    is being recorded by another thread).
    """

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    in_doubt: int = 0
    late_delivered: int = 0

    @property
    def attempted(self) -> int:
        """Notifications whose outcome this pass recorded: delivered, retried or failed.

        All were handed to the notifier in this pass but ``late_delivered``
        ones and ``in_doubt`` ones whose earlier call was still running.
        """
        return self.delivered + self.retried + self.failed


class Dispatcher:
    """Delivers due, pending notifications from a store's outbox through a notifier.

    ``worker_id`` names this dispatcher in the leases it takes (default: a
    random ``dispatcher-…`` id made here); it is an operational name, never
    PHI. ``lease`` is how long a claimed notification stays reserved for this
    dispatcher: it must be longer than ``timeout`` (seconds a notifier call may
    take), or a slow call could be taken over and delivered twice. Any number
    of dispatchers may share a store; see the module documentation.

    A call that outlives ``timeout`` is in doubt: retried with backoff and the
    same idempotency key, never counted towards ``max_attempts``. At most
    ``max_abandoned_calls`` such calls may still be running (each on its own
    thread) before a pass stops starting new calls; the rest wait, pending.
    A dispatcher may be shared by threads.
    """

    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        clock: Clock | None = None,
        *,
        max_attempts: int = 8,
        base_delay: timedelta = timedelta(minutes=1),
        max_delay: timedelta = timedelta(hours=2),
        timeout: float | None = None,
        batch_size: int = 100,
        worker_id: str | None = None,
        lease: timedelta = timedelta(minutes=5),
        max_abandoned_calls: int = 16,
    ) -> None:
        if max_attempts < 1 or batch_size < 1:
            raise ValidationError("max_attempts and batch_size must be >= 1")
        if (
            isinstance(max_abandoned_calls, bool)
            or not isinstance(max_abandoned_calls, int)
            or max_abandoned_calls < 1
        ):
            raise ValidationError(
                "max_abandoned_calls must be an int >= 1", field="max_abandoned_calls"
            )
        if worker_id is None:
            worker_id = f"dispatcher-{uuid.uuid4().hex[:12]}"
        if not isinstance(worker_id, str) or not worker_id.strip() or len(worker_id) > 100:
            raise ValidationError(
                "worker_id must be a non-blank string of at most 100 characters",
                field="worker_id",
            )
        if not isinstance(lease, timedelta) or lease <= timedelta(0):
            raise ValidationError("lease must be a positive timedelta", field="lease")
        if timeout is not None:
            try:
                limit = timedelta(seconds=timeout)
            except (TypeError, ValueError, OverflowError):
                raise ValidationError(
                    "timeout must be a number of seconds", field="timeout"
                ) from None
            if limit <= timedelta(0):
                raise ValidationError("timeout must be > 0 seconds", field="timeout")
            if lease <= limit:
                raise ValidationError(
                    "lease must be longer than the notifier timeout", field="lease"
                )
        self._store = store
        self._notifier = notifier
        self._clock = clock or SystemClock()
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.timeout = timeout
        self.batch_size = batch_size
        self.worker_id = worker_id
        self.lease = lease
        self.max_abandoned_calls = max_abandoned_calls
        self._lock = threading.Lock()
        self._abandoned: dict[str, _Call] = {}  # timed-out calls, by notification id

    def close(self) -> None:
        """Forget timed-out calls still running; their notifications are retried as usual.

        Their threads end when the notifier returns; a success they report
        after this is not recorded, and the retry (same idempotency key) lets
        the notifier drop the duplicate. The dispatcher stays usable.
        """
        with self._lock:
            self._abandoned.clear()

    def abandoned_calls(self) -> int:
        """How many timed-out notifier calls of this dispatcher are still running."""
        with self._lock:
            return sum(not call.finished for call in self._abandoned.values())

    def backoff(self, attempts: int) -> timedelta:
        """Delay before the next try after ``attempts`` calls, failed or in doubt (capped)."""
        return capped_doubling(self.base_delay, self.max_delay, attempts - 1)

    # ---------------------------------------------------------------- dispatch
    def dispatch(self, now: datetime | None = None) -> DispatchReport:
        """Try every pending notification due by ``now`` once (up to ``batch_size``).

        Without ``now`` the clock is read again for each notification, so a
        lease starts when it is taken even late in a slow batch. Notifications
        another dispatcher claimed first count as ``skipped``. First, timed-out
        calls of earlier passes that have since succeeded are recorded
        delivered (``late_delivered``).
        """
        moment = ensure_aware(now, "now") if now is not None else self._clock.now()
        counts: Counter[str] = Counter()
        counts["late"] = self._settle_abandoned(moment)
        hits = self._store.query(
            WorkQuery(
                category="outbox",
                statuses=(DeliveryStatus.PENDING.value,),
                due_before=moment + timedelta(microseconds=1),
                limit=self.batch_size,
            )
        )
        for hit in hits:
            running = self.abandoned_calls()
            if running >= self.max_abandoned_calls:
                log.warning(
                    "%d timed-out notifier calls are still running; pass stopped early", running
                )
                break
            at = moment if now is not None else self._clock.now()
            counts[self._one(hit.record_id, at)] += 1
        return DispatchReport(
            delivered=counts["delivered"] + counts["late"],
            retried=counts["retried"] + counts["in_doubt"],
            failed=counts["failed"],
            skipped=counts["skipped"],
            in_doubt=counts["in_doubt"],
            late_delivered=counts["late"],
        )

    def _one(self, notification_id: str, now: datetime) -> str:
        # 0. An earlier call of this dispatcher timed out: if it has succeeded
        #    since, record that; while it still runs, do not call again.
        with self._lock:
            earlier = self._abandoned.get(notification_id)
            if earlier is not None and earlier.settling:
                return "skipped"  # another thread is recording that call's success
            settle = earlier is not None and earlier.finished
            if earlier is not None and settle:
                earlier.settling = True
        if earlier is not None and settle:
            if self._settle(earlier, now):
                return "late"
            earlier = None
        # 1. Read and claim in one unit of work: the claim is saved against the
        #    version read, so of two dispatchers that read it only one claims it.
        #    A live lease - anyone's, this worker's own included - means the
        #    notification is being delivered right now: leave it alone.
        try:
            with UnitOfWork(self._store) as uow:
                note = uow.find(Notification, notification_id)
                if note is None or not note.is_due(now):
                    return "skipped"
                address = self._address(uow, note)
                claimed = note.claim(self.worker_id, now + self.lease)
                uow.save(claimed)
        except ConflictError:
            log.debug("notification %s was claimed by another dispatcher first", notification_id)
            return "skipped"
        claim_version = uow.committed_versions[(Notification.__name__, notification_id)]
        # 2. Deliver: only the holder of the claim gets here. While this
        #    dispatcher's earlier, timed-out call still runs, postpone instead.
        retry_at = now + self.backoff(claimed.attempts + claimed.in_doubt_attempts + 1)
        result = self._deliver(claimed, address) if earlier is None else _Unsettled.IN_DOUBT
        if earlier is not None:  # it may still deliver: do not call again yet
            updated, outcome = claimed.postponed(retry_at), "in_doubt"
        elif result is _Unsettled.NOT_STARTED:  # nothing was sent, no attempt counted
            updated, outcome = claimed.postponed(retry_at), "retried"
        elif result is _Unsettled.IN_DOUBT:
            updated, outcome = claimed.in_doubt_attempt("timeout", retry_at=retry_at), "in_doubt"
        elif result.ok:
            updated, outcome = claimed.delivered(now), "delivered"
        else:
            final = not result.retry or claimed.attempts + 1 >= self.max_attempts
            error = (result.error or "failed")[:200]
            updated = claimed.failed_attempt(error, retry_at=None if final else retry_at)
            outcome = "failed" if final else "retried"
        # 3. Record the outcome against the claim's version (this releases the claim).
        try:
            with UnitOfWork(self._store) as uow:
                uow.save(updated, expected_version=claim_version)
        except ConflictError:
            # The lease ran out and another dispatcher took the notification
            # over: it records the outcome of its own attempt (at-least-once).
            log.debug(
                "notification %s: lease of %s was taken over; outcome not recorded",
                notification_id,
                self.worker_id,
            )
            return "skipped"
        return outcome

    @staticmethod
    def _address(uow: UnitOfWork, note: Notification) -> str | None:
        if note.channel in _NO_ADDRESS_NEEDED:
            return None
        telecom: tuple[object, ...] = ()
        if note.recipient_kind is RecipientKind.STAFF:
            staff = uow.find(StaffMember, note.recipient_id)
            telecom = staff.telecom if staff else ()
        else:
            patient = uow.find(Patient, note.patient_id or "")
            if patient is not None and note.recipient_kind is RecipientKind.PATIENT:
                telecom = patient.telecom
            elif patient is not None:
                contact = next((c for c in patient.contacts if c.id == note.recipient_id), None)
                telecom = contact.telecom if contact else ()
        for point in telecom:
            if getattr(point, "channel", None) is note.channel:
                value: str = point.value  # type: ignore[attr-defined]
                return value
        return None

    # ------------------------------------------------------ timed-out calls
    def _settle_abandoned(self, at: datetime) -> int:
        """Record the timed-out calls that have succeeded since; how many were recorded."""
        with self._lock:
            done = [c for c in self._abandoned.values() if c.finished and not c.settling]
            for call in done:
                call.settling = True
        return sum(self._settle(call, at) for call in done)

    def _settle(self, call: _Call, at: datetime) -> bool:
        """Record a finished, timed-out call if it succeeded; then forget it."""
        try:
            ok = call.result is not None and call.result.ok
            return ok and self._record_late(call.note_id, at)
        finally:
            with self._lock:
                if self._abandoned.get(call.note_id) is call:
                    del self._abandoned[call.note_id]

    def _record_late(self, notification_id: str, at: datetime) -> bool:
        """Mark a notification delivered by an earlier, timed-out call; False if not possible."""
        for _ in range(3):
            try:
                with UnitOfWork(self._store) as uow:
                    note = uow.find(Notification, notification_id)
                    if note is None or note.status is DeliveryStatus.DELIVERED:
                        return False
                    uow.save(note.delivered_late(at))
            except ConflictError:
                continue  # changed meanwhile (a claim, an outcome): read it again
            log.info("notification %s: a timed-out call succeeded; recorded", notification_id)
            return True
        log.debug("notification %s: a late success could not be recorded", notification_id)
        return False

    def _spawn(self, call: _Call) -> None:
        """Start ``call`` on a daemon thread of its own (a hung notifier blocks no exit)."""
        try:
            threading.Thread(target=call.run, name="carecoord-notify", daemon=True).start()
        except RuntimeError:  # no thread could be started: the call never runs
            log.warning("no thread for the notifier call of %s", call.note_id)
            call.cancel()

    def _deliver(self, note: Notification, address: str | None) -> DeliveryResult | _Unsettled:
        if address is None and note.channel not in _NO_ADDRESS_NEEDED:
            return DeliveryResult.failure("no-address", retry=False)
        message = OutgoingMessage(
            idempotency_key=note.idempotency_key,
            recipient_kind=note.recipient_kind,
            recipient_id=note.recipient_id,
            channel=note.channel,
            subject=note.subject,
            body=note.body,
            address=address,
            patient_id=note.patient_id,
            event=note.event,
            attempt=note.attempts + note.in_doubt_attempts + 1,
        )
        if self.timeout is None:
            return _invoke(self._notifier, message)
        call = _Call(self._notifier, message, self.timeout)
        self._spawn(call)
        result = call.wait(self.timeout)
        if result is _Unsettled.IN_DOUBT:
            with self._lock:
                self._abandoned[note.id] = call
            log.warning("notifier call for %s timed out; in doubt, retried later", note.id)
        elif result is _Unsettled.NOT_STARTED:
            log.warning("notifier call for %s did not start before its timeout", note.id)
        return result

    # ------------------------------------------------------------- inspection
    def requeue_failed(self, now: datetime | None = None) -> int:
        """Put every failed notification back to pending, due at ``now``; returns how many.

        Requeued notifications start again with no attempts and no claim.
        """
        moment = ensure_aware(now, "now") if now is not None else self._clock.now()
        count = 0
        for hit in self._store.query(
            WorkQuery(category="outbox", statuses=(DeliveryStatus.FAILED.value,), open_only=False)
        ):
            try:
                with UnitOfWork(self._store) as uow:
                    note = uow.get(Notification, hit.record_id)
                    if note.status is not DeliveryStatus.FAILED:
                        continue
                    uow.save(note.requeued(moment))
                count += 1
            except ConflictError:
                continue
        return count

    def counts(self) -> dict[DeliveryStatus, int]:
        """How many notifications are pending, delivered and failed."""
        found: Counter[str] = Counter(
            hit.row.status
            for hit in self._store.query(WorkQuery(category="outbox", open_only=False))
        )
        return {status: found[status.value] for status in DeliveryStatus}

    def notifications(
        self, status: DeliveryStatus | None = None, *, patient_id: str | None = None
    ) -> list[Notification]:
        """Notifications in the outbox, optionally of one status or patient."""
        query = WorkQuery(
            category="outbox",
            open_only=False,
            statuses=None if status is None else (DeliveryStatus(status).value,),
            patient_ids=None if patient_id is None else (patient_id,),
        )
        with UnitOfWork(self._store) as uow:
            return [uow.get(Notification, hit.record_id) for hit in self._store.query(query)]
