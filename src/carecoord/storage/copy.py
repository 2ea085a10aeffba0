"""Copy every record from one store to another (for example SQLite to PostgreSQL).

Store-agnostic: it only uses the :class:`~carecoord.storage.Store` port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import partial
from types import MappingProxyType

import attrs
import cattrs

from ..model import ConflictError, StorageError, ValidationError
from ._codec import decode_record, encode_record, guard_port
from .port import RecordWrite, Store, StoredRecord
from .records import RECORD_TYPES

__all__ = ["CopyReport", "copy_store"]

DEFAULT_BATCH_SIZE = 500
"""Records written per atomic batch by :func:`copy_store` unless told otherwise."""


def _frozen_counts(counts: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(counts))


@attrs.frozen
class CopyReport:
    """Records written per kind: by :func:`copy_store` (copied) or :func:`reindex` (rewritten).

    ``counts`` maps record kind to records written; ``batches`` is the number of
    atomic writes.
    """

    counts: Mapping[str, int] = attrs.field(converter=_frozen_counts)
    batches: int = 0

    @property
    def total(self) -> int:
        """Records copied, over every kind."""
        return sum(self.counts.values())


def copy_store(
    source: Store,
    target: Store,
    *,
    kinds: Iterable[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    converter: cattrs.Converter | None = None,
) -> CopyReport:
    """Copy every record of ``kinds`` (default: every kind in ``RECORD_TYPES``) to ``target``.

    Each record is read with ``read_all``, decoded (so a damaged record stops
    the copy with :class:`~carecoord.StorageError` before it is written),
    and written with its payload text unchanged and its worklist index rows and
    patient id derived again from the record, exactly as a
    :class:`~carecoord.storage.UnitOfWork` would. Records are written in
    atomic batches of ``batch_size``; ``progress(kind, copied, total)`` is
    called after each batch.

    Versions restart at 1 in the target (the port has no way to write a
    version directly); the content, ids and audit hash chain are unchanged.

    When the copy is done and ``target`` has an ``optimize()`` method
    (:class:`~carecoord.storage.SQLiteStore` and
    :class:`~carecoord.storage.PostgresStore` do; any store may), it is called
    so the target's query planner learns the new table sizes.

    ``target`` must hold no record of the copied kinds, otherwise
    :class:`~carecoord.ConflictError` names the first one found and nothing is
    written. The copy is not one transaction: stop writers on ``source``
    while it runs, and if it fails part-way, empty the target before retrying.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError("batch_size must be an int >= 1", field="batch_size")
    chosen = tuple(RECORD_TYPES) if kinds is None else tuple(dict.fromkeys(kinds))
    for kind in chosen:
        if kind not in RECORD_TYPES:
            raise ValidationError(f"{kind} is not a stored record type", field="kinds")
    for kind in chosen:
        existing = guard_port(f"read {kind} records of the target", partial(target.read_all, kind))
        if existing:
            raise ConflictError(kind, existing[0].id, 0)
    counts: dict[str, int] = {}
    batches = 0
    for kind in chosen:
        records = guard_port(f"read {kind} records of the source", partial(source.read_all, kind))
        counts[kind] = 0
        for start in range(0, len(records), batch_size):
            chunk = [_rewrite(stored, converter) for stored in records[start : start + batch_size]]
            guard_port(f"write {kind} records to the target", partial(target.write, chunk))
            batches += 1
            counts[kind] += len(chunk)
            if progress is not None:
                progress(kind, counts[kind], len(records))
    optimize = getattr(target, "optimize", None)  # optional: not part of the Store port
    if batches and callable(optimize):
        guard_port("refresh the target's planner statistics", optimize)
    return CopyReport(counts=counts, batches=batches)


def _checked_record(
    stored: StoredRecord, converter: cattrs.Converter | None, *, purpose: str
) -> object:
    """The decoded record of ``stored``; StorageError if it is damaged or not its own id."""
    record: object = decode_record(
        stored, RECORD_TYPES[stored.kind], converter=converter, purpose=purpose
    )
    if str(getattr(record, "id", "")) != stored.id:
        raise StorageError(
            f"stored {stored.kind} {stored.id} cannot be {purpose}: "
            "the payload belongs to another id"
        )
    return record


def _rewrite(stored: StoredRecord, converter: cattrs.Converter | None = None) -> RecordWrite:
    record = _checked_record(stored, converter, purpose="copied")
    # The exact stored text is kept; only the index rows and patient are derived again.
    return encode_record(record, 0, payload=stored.payload)
