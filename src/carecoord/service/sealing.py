"""Sealing and verifying the audit log (the Certificate Transparency-style back end).

Operations append unsealed :class:`~carecoord.model.audit.AuditEntry` records
with no link to each other, so the request path never contends on a shared
row. An :class:`AuditSealer`, run periodically (one at a time; a second one
loses the race harmlessly), takes the unsealed entries in batches, numbers and
hash-chains them, moves the :class:`~carecoord.model.audit.AuditHead` and
writes an :class:`~carecoord.model.audit.AuditCheckpoint` per batch.

:func:`verify_audit_log` checks the whole stored log: the chain, the
checkpoints, the head, and the audit index rows the per-patient and per-actor
audit queries run on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

import attrs

from ..model import ConflictError, ValidationError
from ..model._base import ensure_aware, instant
from ..model.audit import (
    AUDIT_HEAD_ID,
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditVerification,
    ChainBreak,
    verify_chain,
)
from ..storage.port import IndexHit, IndexRow, Store, WorkQuery
from ..storage.records import index_rows
from ..storage.uow import UnitOfWork

__all__ = ["AuditSealer", "SealReport", "verify_audit_log"]

_AUDIT_KIND = AuditEntry.__name__
_MIN_KEY_BYTES = 16


@attrs.frozen
class SealReport:
    """What a seal run did.

    ``sealed`` entries were chained in this run; ``head_sequence`` and
    ``head_hash`` are the head afterwards (or as read, when nothing was
    sealed). ``lost_race`` is True when another sealer committed first: this
    run then sealed nothing.
    """

    sealed: int
    head_sequence: int
    head_hash: str
    lost_race: bool = False


class AuditSealer:
    """Seals unsealed audit entries of ``store`` in batches of ``batch_size``.

    ``key`` (bytes, at least 16) makes every hash and checkpoint signature an
    HMAC: keep it outside the database, and pass the same key to
    :func:`verify_audit_log`. Any number of sealers may run; each batch commits
    against the head it read, so concurrent batches never fork the chain.
    """

    def __init__(self, store: Store, *, key: bytes | None = None, batch_size: int = 500) -> None:
        self.check_key(key)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValidationError("batch_size must be an integer >= 1", field="batch_size")
        self._store = store
        self._key = key
        self._batch_size = batch_size

    @staticmethod
    def check_key(key: bytes | None) -> bytes | None:
        """Return ``key`` if it is ``None`` or at least 16 bytes; else raise ValidationError."""
        if key is not None and (not isinstance(key, bytes) or len(key) < _MIN_KEY_BYTES):
            raise ValidationError(
                f"key must be bytes, at least {_MIN_KEY_BYTES} of them", field="key"
            )
        return key

    @property
    def batch_size(self) -> int:
        """The most entries one :meth:`seal` call chains."""
        return self._batch_size

    def seal(self, now: datetime) -> SealReport:
        """Seal one batch (oldest unsealed first) in one unit of work, stamped ``now``.

        Entries whose index row is open but which are already sealed (a stale
        index) are skipped. When another sealer commits first the commit raises
        :class:`~carecoord.ConflictError`; this returns ``lost_race=True`` and
        ``sealed=0`` (nothing of this batch was written).
        """
        ensure_aware(now, "now")
        uow = UnitOfWork(self._store)
        read = uow.find(AuditHead, AUDIT_HEAD_ID)
        head = read if read is not None else AuditHead()
        try:
            with uow:
                hits = uow.query(
                    WorkQuery(category="audit", open_only=True, limit=self._batch_size)
                )
                sequence, previous = head.sequence, head.hash
                count = 0
                for hit in hits:
                    if hit.kind != _AUDIT_KIND:
                        continue
                    entry = uow.find(AuditEntry, hit.record_id)
                    if entry is None or entry.sealed:
                        continue
                    sequence += 1
                    sealed = entry.seal(sequence, previous, sealed_at=now, key=self._key)
                    uow.save(sealed)
                    previous = sealed.hash or previous
                    count += 1
                if count == 0:
                    uow.rollback()
                    return SealReport(0, head.sequence, head.hash)
                uow.add(
                    AuditCheckpoint.create(
                        sequence=sequence, hash=previous, sealed_at=now, count=count, key=self._key
                    )
                )
                new_head = AuditHead(sequence=sequence, hash=previous, sealed_at=now)
                if read is None:
                    uow.add(new_head)
                else:
                    uow.save(new_head)
        except ConflictError:
            return SealReport(0, head.sequence, head.hash, lost_race=True)
        return SealReport(count, sequence, previous)

    def seal_all(self, now: datetime, *, max_batches: int = 1000) -> SealReport:
        """Seal batch after batch until nothing is left, at most ``max_batches``.

        Stops early when a batch loses the race to another sealer (that one is
        at work); the report sums what this call sealed.
        """
        if isinstance(max_batches, bool) or not isinstance(max_batches, int) or max_batches < 1:
            raise ValidationError("max_batches must be an integer >= 1", field="max_batches")
        total = 0
        report = SealReport(0, 0, AuditHead().hash)
        for _ in range(max_batches):
            report = self.seal(now)
            total += report.sealed
            if report.sealed == 0:
                break
        return attrs.evolve(report, sealed=total)


def verify_audit_log(
    uow: UnitOfWork, *, key: bytes | None = None, checkpoint: str | None = None
) -> AuditVerification:
    """Verify the stored audit log read through ``uow``.

    Reports, as :class:`~carecoord.model.audit.ChainBreak`:

    * every break :func:`~carecoord.model.audit.verify_chain` finds in the
      sealed entries and the stored checkpoints (``key`` as the sealer's;
      ``checkpoint`` a head hash kept outside the database);
    * ``"no checkpoint covers the sealed entries"`` when every checkpoint is gone;
    * ``"the head does not match the newest sealed entry"``;
    * audit index-row tampering, so per-patient and per-actor audit queries
      cannot silently lose an entry: ``"audit index row is missing"``,
      ``"duplicate audit index rows"``, ``"audit index row does not match the
      entry"`` and ``"audit index row has no entry"``.

    Unsealed entries are counted (``unsealed``) but not chained yet: deleting
    one before it is sealed is only visible through its index row. A record
    that no longer decodes raises :class:`~carecoord.StorageError`.
    """
    entries = uow.all(AuditEntry)
    checkpoints = uow.all(AuditCheckpoint)
    head = uow.find(AuditHead, AUDIT_HEAD_ID) or AuditHead()
    hits = uow.query(WorkQuery(category="audit", open_only=False))
    sealed = [e for e in entries if e.sealed]
    breaks = list(verify_chain(sealed, checkpoint=checkpoint, key=key, checkpoints=checkpoints))
    if sealed and not checkpoints:
        breaks.append(ChainBreak(None, "no checkpoint covers the sealed entries"))
    newest = max(sealed, key=lambda e: (e.sequence or 0, e.id), default=None)
    newest_position = (0, AuditHead().hash) if newest is None else (newest.sequence, newest.hash)
    if (head.sequence, head.hash) != newest_position:
        breaks.append(ChainBreak(head.sequence, "the head does not match the newest sealed entry"))
    breaks.extend(_check_index(entries, hits))
    return AuditVerification(
        breaks=tuple(breaks),
        sealed=len(sealed),
        unsealed=len(entries) - len(sealed),
        head_sequence=head.sequence,
        head_hash=head.hash,
    )


def _check_index(entries: Sequence[AuditEntry], hits: Sequence[IndexHit]) -> list[ChainBreak]:
    rows: dict[str, list[IndexRow]] = defaultdict(list)
    strays: list[ChainBreak] = []
    for hit in hits:
        if hit.kind == _AUDIT_KIND:
            rows[hit.record_id].append(hit.row)
        else:
            strays.append(ChainBreak(None, "audit index row has no entry", hit.record_id))
    breaks: list[ChainBreak] = []
    for entry in entries:
        found = rows.pop(entry.id, [])
        if not found:
            breaks.append(ChainBreak(entry.sequence, "audit index row is missing", entry.id))
            continue
        if len(found) > 1:
            breaks.append(ChainBreak(entry.sequence, "duplicate audit index rows", entry.id))
        expected = index_rows(entry)[0]
        if any(not _same_row(row, expected) for row in found):
            breaks.append(
                ChainBreak(entry.sequence, "audit index row does not match the entry", entry.id)
            )
    for record_id in sorted(rows):
        breaks.append(ChainBreak(None, "audit index row has no entry", record_id))
    return breaks + strays


def _same_row(row: IndexRow, expected: IndexRow) -> bool:
    return (
        row.category == expected.category
        and row.item_id == expected.item_id
        and row.patient_id == expected.patient_id
        and row.owner_id == expected.owner_id
        and row.status == expected.status
        and row.is_open == expected.is_open
        and row.priority == expected.priority
        and _same_instant(row.due_at, expected.due_at)
        and _same_instant(row.changed_at, expected.changed_at)
        and row.detail == expected.detail
    )


def _same_instant(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return instant(a) == instant(b)
