"""Derive every record's index rows again, in place (after an upgrade adds index rows).

Store-agnostic: it only uses the :class:`~carecoord.storage.Store` port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

import cattrs

from ..model import ConflictError, ValidationError
from ._codec import encode_record, guard_port
from .copy import DEFAULT_BATCH_SIZE, CopyReport, _checked_record
from .port import RecordWrite, Store, StoredRecord
from .records import RECORD_TYPES

__all__ = ["reindex"]

_ATTEMPTS = 5


def reindex(
    store: Store,
    *,
    kinds: Iterable[str] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    converter: cattrs.Converter | None = None,
) -> CopyReport:
    """Rewrite every record of ``kinds`` (default: all) with index rows derived again.

    Run it once after upgrading carecoord when the release notes say a new
    version derives new index rows (for example the metric facts that
    :meth:`~carecoord.CareCoordinator.metrics` reads): records written by an
    older version only get them when they are saved again. Each record keeps
    its payload text unchanged; its version goes up by one. Records are
    decoded first, so a damaged one stops the run with
    :class:`~carecoord.StorageError` before anything of its batch is written.

    Safe while the application runs: each batch is one atomic, version-checked
    write, and a record changed concurrently (which then already has fresh
    rows) is left as it is. ``progress(kind, done, total)`` is called after
    each batch. Returns how many records were rewritten per kind.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValidationError("batch_size must be an int >= 1", field="batch_size")
    chosen = tuple(RECORD_TYPES) if kinds is None else tuple(dict.fromkeys(kinds))
    for kind in chosen:
        if kind not in RECORD_TYPES:
            raise ValidationError(f"{kind} is not a stored record type", field="kinds")
    counts: dict[str, int] = {}
    batches = 0
    for kind in chosen:
        records = guard_port(f"read {kind} records", partial(store.read_all, kind))
        counts[kind] = 0
        for start in range(0, len(records), batch_size):
            chunk = list(records[start : start + batch_size])
            counts[kind] += _rewrite_batch(store, kind, chunk, converter)
            batches += 1
            if progress is not None:
                progress(kind, min(start + batch_size, len(records)), len(records))
    return CopyReport(counts=counts, batches=batches)


def _rewrite_batch(
    store: Store, kind: str, chunk: list[StoredRecord], converter: cattrs.Converter | None
) -> int:
    """Write ``chunk`` back with fresh index rows; records changed meanwhile are skipped."""
    for _ in range(_ATTEMPTS):
        writes = [_write_of(stored, converter) for stored in chunk]
        if not writes:
            return 0
        try:
            guard_port(f"rewrite {kind} records", partial(store.write, writes))
        except ConflictError:
            # Someone saved one of them meanwhile (with fresh rows): keep the rest,
            # re-read, and leave out those whose version moved on.
            chunk = [
                stored
                for stored in chunk
                if (now := guard_port(f"read a {kind}", partial(store.read, kind, stored.id)))
                is not None
                and now.version == stored.version
            ]
            continue
        return len(writes)
    raise ConflictError(kind, chunk[0].id, chunk[0].version)


def _write_of(stored: StoredRecord, converter: cattrs.Converter | None) -> RecordWrite:
    record = _checked_record(stored, converter, purpose="reindexed")
    return encode_record(record, stored.version, payload=stored.payload)
