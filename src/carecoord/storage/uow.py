"""The unit of work: typed reads, buffered writes, one atomic commit, collected events."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import cattrs

from ..model import NotFoundError, ValidationError
from ._codec import PartReader, RecordPart, decode_record, encode_record, guard_port, part_of
from .port import DetailRow, IndexHit, Store, StoredRecord, WorkQuery, query_details
from .records import RECORD_TYPES, kind_of, patient_id_of

__all__ = ["RecordPart", "UnitOfWork"]

R = TypeVar("R")
T = TypeVar("T")


class UnitOfWork:
    """One atomic piece of work against a :class:`~carecoord.storage.Store`.

    Reads go to the store (and see this unit's own pending writes); writes are
    buffered and applied by :meth:`commit` in one atomic, version-checked
    batch. Leaving the ``with`` block normally commits; leaving it with an
    exception discards everything. A record read here is saved against the
    version that was read, so a concurrent change raises
    :class:`~carecoord.ConflictError` and nothing is written.

    The unit is an identity map: each record is decoded at most once, and
    reading it again (by :meth:`find`, :meth:`get` or :meth:`all`) returns the
    same object, as first read. :meth:`find_part` reads one element of a
    record (an intervention of a plan) without decoding the rest of it.

    Domain events recorded with :meth:`collect` are available in
    :attr:`events` once the unit has committed; they are dropped on rollback.
    """

    def __init__(self, store: Store, *, converter: cattrs.Converter | None = None) -> None:
        self._store = store
        self._converter = converter
        self._versions: dict[tuple[str, str], int] = {}
        self._seen: dict[tuple[str, str], Any] = {}
        self._parts: dict[tuple[str, str], PartReader] = {}
        """Records read by :meth:`find_part` and not decoded whole (yet)."""
        self._pending: dict[tuple[str, str], tuple[int, Any]] = {}
        self._events: list[object] = []
        self._state = "open"
        self.committed_versions: dict[tuple[str, str], int] = {}
        """After commit: the new version of every record written."""

    # ---------------------------------------------------------------- context
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.rollback()
        elif self._state == "open":
            self.commit()

    def _check_open(self) -> None:
        if self._state != "open":
            raise ValidationError(f"this unit of work is already {self._state}")

    # ------------------------------------------------------------------ reads
    def _decode(self, stored: StoredRecord, cls: type[R]) -> R:
        return decode_record(stored, cls, converter=self._converter)

    @staticmethod
    def _port(action: str, call: Callable[[], R]) -> R:
        return guard_port(action, call)

    def find(self, cls: type[R], record_id: str) -> R | None:
        """The record of type ``cls`` with ``record_id``, or ``None``."""
        self._check_open()
        kind = _kind_for(cls)
        key = (kind, str(record_id))
        if key in self._pending:
            record: R = self._pending[key][1]
            return record
        if key in self._seen:
            seen: R = self._seen[key]
            return seen
        reader = self._parts.get(key)
        stored = (
            reader.stored
            if reader is not None
            else self._port("read", lambda: self._store.read(kind, str(record_id)))
        )
        if stored is None:
            return None
        return self._remember(key, stored, cls)

    def _remember(self, key: tuple[str, str], stored: StoredRecord, cls: type[R]) -> R:
        """Decode ``stored`` once; later reads of the key return this very object."""
        if key in self._seen:
            seen: R = self._seen[key]
            return seen
        reader = self._parts.pop(key, None)
        if reader is not None:  # decoded as first read: its version is the one recorded
            stored = reader.stored
        # A save is checked against the version this unit based its work on.
        self._versions.setdefault(key, stored.version)
        record = self._decode(stored, cls)
        self._seen[key] = record
        return record

    def find_part(
        self, cls: type[Any], record_id: str, field: str, item_id: str, item_cls: type[T]
    ) -> RecordPart[T] | None:
        """The element of list ``field`` whose id is ``item_id`` in the ``cls`` record
        ``record_id`` (an intervention of a care plan), or ``None`` when either is missing.

        A record this unit has read (or has pending) gives its own element.
        Otherwise only the element is decoded, with the record's id and patient
        (:class:`RecordPart`), and nothing else of the record is decoded or checked;
        what that read cannot vouch for is read by decoding the whole record,
        whose errors (:class:`~carecoord.StorageError`) it raises. The version read is
        recorded as by :meth:`find`, and a later :meth:`find` of the record decodes
        the same stored version without reading it again.
        """
        self._check_open()
        kind = _kind_for(cls)
        key = (kind, str(record_id))
        whole = self._pending[key][1] if key in self._pending else self._seen.get(key)
        if whole is None:
            reader = self._parts.get(key)
            if reader is None:
                stored = self._port("read", lambda: self._store.read(kind, str(record_id)))
                if stored is None:
                    return None
                self._versions.setdefault(key, stored.version)
                reader = self._parts[key] = PartReader(stored, cls, converter=self._converter)
            part = reader.part(field, str(item_id), item_cls)
            if part is not None:
                return part
            whole = self._remember(key, reader.stored, cls)
        found: RecordPart[T] | None = part_of(whole, field, str(item_id))
        return found

    def get(self, cls: type[R], record_id: str) -> R:
        """Like :meth:`find`, but a missing record raises :class:`NotFoundError`."""
        record = self.find(cls, record_id)
        if record is None:
            raise NotFoundError(f"{cls.__name__} {record_id} not found")
        return record

    def version_of(self, cls: type[Any], record_id: str) -> int:
        """The version this unit read (0 when it has not read the record or it is new)."""
        return self._versions.get((_kind_for(cls), str(record_id)), 0)

    def all(self, cls: type[R], *, patient_id: str | None = None) -> list[R]:
        """Every record of type ``cls`` (of one patient), ordered by id, with pending writes."""
        self._check_open()
        kind = _kind_for(cls)
        found: dict[str, R] = {}
        records = self._port("read", lambda: self._store.read_all(kind, patient_id=patient_id))
        for stored in records:
            found[stored.id] = self._remember((kind, stored.id), stored, cls)
        for (pkind, pid), (_, record) in self._pending.items():
            if pkind == kind and (patient_id is None or patient_id_of(record) == patient_id):
                found[pid] = record
        return [found[k] for k in sorted(found)]

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        """Run a worklist query on committed data (pending writes are not indexed yet)."""
        self._check_open()
        return self._port("query", lambda: self._store.query(query))

    def query_details(self, query: WorkQuery) -> Sequence[DetailRow]:
        """The rows of :meth:`query` as ``(patient_id, item_id, status, detail)`` tuples, in
        any order, for bulk readers (see :func:`~carecoord.storage.port.query_details`)."""
        self._check_open()
        return self._port("query", lambda: query_details(self._store, query))

    # ----------------------------------------------------------------- writes
    def add(self, record: object) -> None:
        """Create ``record``; the commit fails with ConflictError if its id exists."""
        self._check_open()
        kind = kind_of(record)
        key = (kind, str(record.id))  # type: ignore[attr-defined]
        if key in self._pending or self._versions.get(key, 0) > 0:
            raise ValidationError(f"{kind} {key[1]} already exists; use save()")
        self._pending[key] = (0, record)

    def save(self, record: object, *, expected_version: int | None = None) -> None:
        """Update ``record``, based on the version read in this unit (or ``expected_version``)."""
        self._check_open()
        kind = kind_of(record)
        key = (kind, str(record.id))  # type: ignore[attr-defined]
        if expected_version is not None:
            if isinstance(expected_version, bool) or not isinstance(expected_version, int):
                raise ValidationError("expected_version must be an int")
            base = expected_version
        elif key in self._pending:
            base = self._pending[key][0]
        elif key in self._versions:
            base = self._versions[key]
        else:
            raise ValidationError(
                f"{kind} {key[1]} was not read in this unit of work: get() it first "
                "or pass expected_version"
            )
        self._pending[key] = (base, record)

    def collect(self, event: object) -> None:
        """Record a domain event, handed on only if the unit commits."""
        self._check_open()
        self._events.append(event)

    @property
    def pending_events(self) -> tuple[object, ...]:
        """Events collected so far in this still-open unit."""
        return tuple(self._events)

    def has_pending(self, record: object) -> bool:
        """Whether ``record`` (by kind and id) is already pending in this unit."""
        return (kind_of(record), str(record.id)) in self._pending  # type: ignore[attr-defined]

    @property
    def events(self) -> tuple[object, ...]:
        """Events collected, available once committed (empty otherwise)."""
        return tuple(self._events) if self._state == "committed" else ()

    def commit(self) -> None:
        """Write every pending change atomically; on any error nothing is written."""
        self._check_open()
        batch = [
            encode_record(record, expected, converter=self._converter)
            for expected, record in self._pending.values()
        ]
        try:
            if batch:
                self._port("write the unit of work", lambda: self._store.write(batch))
        except BaseException:
            self._state = "failed"
            raise
        self.committed_versions = {(w.kind, w.id): w.expected_version + 1 for w in batch}
        self._pending.clear()
        self._state = "committed"

    def rollback(self) -> None:
        """Discard every pending change and collected event (no effect once committed)."""
        if self._state == "committed":
            return
        self._pending.clear()
        self._seen.clear()
        self._parts.clear()
        self._events.clear()
        if self._state == "open":
            self._state = "rolled back"


def _kind_for(cls: type[Any]) -> str:
    kind = getattr(cls, "__name__", "")
    if RECORD_TYPES.get(kind) is not cls:
        raise ValidationError(f"{kind or cls!r} is not a stored record type")
    return kind
