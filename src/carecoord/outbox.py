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
"""

from __future__ import annotations

import concurrent.futures
import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta

import attrs

from .model import ConflictError, ContactChannel, Patient, StaffMember, ValidationError
from .model._base import ensure_aware
from .model.outbox import DeliveryStatus, Notification, RecipientKind
from .notify.port import DeliveryResult, Notifier, OutgoingMessage
from .service import Clock, SystemClock
from .storage.port import Store, WorkQuery
from .storage.uow import UnitOfWork

__all__ = ["DispatchReport", "Dispatcher"]

log = logging.getLogger("carecoord.outbox")

_NO_ADDRESS_NEEDED = {ContactChannel.PORTAL, ContactChannel.IN_PERSON}


@attrs.frozen
class DispatchReport:
    """What one :meth:`Dispatcher.dispatch` pass did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def attempted(self) -> int:
        """Notifications handed to the notifier in this pass."""
        return self.delivered + self.retried + self.failed


class Dispatcher:
    """Delivers due, pending notifications from a store's outbox through a notifier.

    ``worker_id`` names this dispatcher in the leases it takes (default: a
    random ``dispatcher-…`` id made here); it is an operational name, never
    PHI. ``lease`` is how long a claimed notification stays reserved for this
    dispatcher: it must be longer than ``timeout`` (seconds a notifier call may
    take), or a slow call could be taken over and delivered twice. Any number
    of dispatchers may share a store; see the module documentation.
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
    ) -> None:
        if max_attempts < 1 or batch_size < 1:
            raise ValidationError("max_attempts and batch_size must be >= 1")
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
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Stop the timeout worker thread, if one was started."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    def backoff(self, attempts: int) -> timedelta:
        """Delay before the next try after ``attempts`` failed ones (exponential, capped)."""
        delay: timedelta = self.base_delay * (2 ** max(attempts - 1, 0))
        return min(delay, self.max_delay)

    # ---------------------------------------------------------------- dispatch
    def dispatch(self, now: datetime | None = None) -> DispatchReport:
        """Try every pending notification due by ``now`` once (up to ``batch_size``).

        Without ``now`` the clock is read again for each notification, so a
        lease starts when it is taken even late in a slow batch. Notifications
        another dispatcher claimed first count as ``skipped``.
        """
        moment = ensure_aware(now, "now") if now is not None else self._clock.now()
        hits = self._store.query(
            WorkQuery(
                category="outbox",
                statuses=(DeliveryStatus.PENDING.value,),
                due_before=moment + timedelta(microseconds=1),
                limit=self.batch_size,
            )
        )
        counts: Counter[str] = Counter()
        for hit in hits:
            at = moment if now is not None else self._clock.now()
            counts[self._one(hit.record_id, at)] += 1
        return DispatchReport(
            delivered=counts["delivered"],
            retried=counts["retried"],
            failed=counts["failed"],
            skipped=counts["skipped"],
        )

    def _one(self, notification_id: str, now: datetime) -> str:
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
        # 2. Deliver: only the holder of the claim gets here.
        result = self._deliver(claimed, address)
        if result.ok:
            updated = claimed.delivered(now)
            outcome = "delivered"
        else:
            error = (result.error or "failed")[:200]
            attempts = claimed.attempts + 1
            final = not result.retry or attempts >= self.max_attempts
            retry_at = None if final else now + self.backoff(attempts)
            updated = claimed.failed_attempt(error, retry_at=retry_at)
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

    def _deliver(self, note: Notification, address: str | None) -> DeliveryResult:
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
            attempt=note.attempts + 1,
        )
        try:
            if self.timeout is None:
                result = self._notifier.deliver(message)
            else:
                if self._executor is None:
                    self._executor = concurrent.futures.ThreadPoolExecutor(
                        max_workers=1, thread_name_prefix="carecoord-notify"
                    )
                future = self._executor.submit(self._notifier.deliver, message)
                try:
                    result = future.result(timeout=self.timeout)
                except concurrent.futures.TimeoutError:
                    return DeliveryResult.failure("timeout")
        except Exception as exc:  # a notifier failure must never escape as care-data failure
            log.warning("notifier raised %s for %s", type(exc).__name__, note.id)
            return DeliveryResult.failure(type(exc).__name__)
        if not isinstance(result, DeliveryResult):
            return DeliveryResult.failure("bad-notifier-result")
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
