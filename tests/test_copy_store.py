"""copy_store: every record from one store to another, with index rows derived again."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecoord import (
    ConflictError,
    Intervention,
    InterventionId,
    InterventionKind,
    StorageError,
    ValidationError,
)
from carecoord.model.audit import AuditCheckpoint, AuditEntry, AuditHead, verify_chain
from carecoord.service import CareCoordinator
from carecoord.storage import (
    RECORD_TYPES,
    CopyReport,
    IndexRow,
    MemoryStore,
    RecordWrite,
    SQLiteStore,
    Store,
    StoredRecord,
    UnitOfWork,
    WorkQuery,
    copy_store,
)
from carecoord.testing import FixedClock
from carecoord.testing.strategies import ENTITY_STRATEGIES
from world import COORD, NURSE, PATIENT, PLAN, T0, populate

CATEGORIES = (
    "review",
    "intervention",
    "goal",
    "referral",
    "barrier",
    "appointment",
    "contact",
    "member",
    "staff",
    "outbox",
    "audit",
    "emergency",
)


def populated(store: Store) -> CareCoordinator:
    """The shared world plus a second plan change (so versions are above 1)."""
    clock = FixedClock(T0)
    service = CareCoordinator(store=store, clock=clock)
    populate(service, clock)
    task = Intervention(
        id=InterventionId("i-1"),
        kind=InterventionKind.COMMUNICATION,
        description="copy me",
        created_at=T0,
        assignee_id=NURSE,
    )
    service.add_intervention(PLAN, task, actor=COORD)
    service.seal_audit()
    service.patient(PATIENT, actor=COORD)  # one entry left unsealed: it is copied as it is
    return service


def everything(store: Store) -> dict[str, list[tuple[str, str, str | None]]]:
    """Every record of every kind as (id, payload, patient id), in store order."""
    return {
        kind: [(r.id, r.payload, r.patient_id) for r in store.read_all(kind)]
        for kind in RECORD_TYPES
    }


def _utc_row(row: IndexRow) -> IndexRow:
    return attrs.evolve(
        row,
        due_at=None if row.due_at is None else row.due_at.astimezone(UTC),
        changed_at=None if row.changed_at is None else row.changed_at.astimezone(UTC),
    )


def worklists(store: Store) -> dict[str, list[tuple[str, str, object]]]:
    return {
        category: [
            # In UTC: an ambiguous local time never equals a time in another zone.
            (h.kind, h.record_id, _utc_row(h.row))
            for h in store.query(WorkQuery(category=category, open_only=False))
        ]
        for category in CATEGORIES
    }


def check_copied(source: Store, target: Store, report: CopyReport) -> None:
    copied = everything(target)
    assert copied == everything(source)
    assert report.counts == {kind: len(records) for kind, records in copied.items()}
    assert report.total == sum(len(records) for records in copied.values())
    assert {r.version for kind in RECORD_TYPES for r in target.read_all(kind)} == {1}
    assert worklists(target) == worklists(source)
    with UnitOfWork(target) as uow:
        entries = uow.all(AuditEntry)
        head = uow.get(AuditHead, "head")
        checkpoints = uow.all(AuditCheckpoint)
    assert len(entries) == report.counts["AuditEntry"] > 10
    sealed = [e for e in entries if e.sealed]
    assert len(sealed) == len(entries) - 1
    assert verify_chain(sealed, checkpoint=head.hash, checkpoints=checkpoints) == ()
    assert sorted(e.sequence or 0 for e in sealed) == list(range(1, len(sealed) + 1))
    assert head.sequence == len(sealed)


def test_memory_to_sqlite(tmp_path: Path) -> None:
    source = MemoryStore()
    populated(source)
    # created, activated, intervention added: version 3 (the copy restarts at 1)
    assert [r.version for r in source.read_all("CarePlan")] == [3]
    target = SQLiteStore(tmp_path / "copy.sqlite3")
    try:
        seen: list[tuple[str, int, int]] = []
        report = copy_store(
            source, target, progress=lambda kind, done, total: seen.append((kind, done, total))
        )
        check_copied(source, target, report)
        assert report.batches == sum(1 for n in report.counts.values() if n)
        assert [kind for kind, _, _ in seen] == [k for k in RECORD_TYPES if report.counts[k]]
        assert all(done == total for _, done, total in seen)
        # The copy is a working store: the service carries on, and the chain verifies.
        service = CareCoordinator(store=target, clock=FixedClock(T0))
        assert service.verify_audit_trail(actor=COORD) == ()
        assert service.seal_audit().head_sequence == report.counts["AuditEntry"] + 1
    finally:
        target.close()


def test_sqlite_to_postgres(tmp_path: Path) -> None:
    from _pg import ThrowawayStore, postgres_dsn

    source = SQLiteStore(tmp_path / "source.sqlite3")
    target = None
    try:
        populated(source)
        target = ThrowawayStore(postgres_dsn())
        report = copy_store(source, target, batch_size=7)
        check_copied(source, target, report)
        assert report.batches == sum(-(-n // 7) for n in report.counts.values())
        service = CareCoordinator(store=target, clock=FixedClock(T0))
        assert service.verify_audit_trail(actor=COORD) == ()
    finally:
        source.close()
        if target is not None:
            target.close()


def test_batches_and_progress() -> None:
    source = MemoryStore()
    populated(source)
    target = MemoryStore()
    seen: list[tuple[str, int, int]] = []
    staff = len(source.read_all("StaffMember"))
    assert staff == 6
    report = copy_store(
        source,
        target,
        kinds=["StaffMember", "CarePlan"],
        batch_size=4,
        progress=lambda kind, done, total: seen.append((kind, done, total)),
    )
    assert seen == [("StaffMember", 4, 6), ("StaffMember", 6, 6), ("CarePlan", 1, 1)]
    assert report == CopyReport(counts={"StaffMember": 6, "CarePlan": 1}, batches=3)
    assert target.read_all("Patient") == []  # only the kinds asked for


def test_a_target_holding_records_is_refused_before_anything_is_written() -> None:
    source = MemoryStore()
    populated(source)
    target = MemoryStore()
    taken = source.read_all("Notification")[0]
    target.write([RecordWrite(kind="Notification", id=taken.id, expected_version=0, payload="{}")])
    with pytest.raises(ConflictError) as info:
        copy_store(source, target)
    assert (info.value.kind, info.value.record_id, info.value.expected) == (
        "Notification",
        taken.id,
        0,
    )
    assert target.read_all("Patient") == []  # checked before the first write
    report = copy_store(source, target, kinds=["Patient"])  # other kinds are fine
    assert report.counts == {"Patient": 1}


def test_arguments_are_checked() -> None:
    with pytest.raises(ValidationError) as info:
        copy_store(MemoryStore(), MemoryStore(), kinds=["Counter"])
    assert info.value.field == "kinds"
    with pytest.raises(ValidationError):
        copy_store(MemoryStore(), MemoryStore(), batch_size=0)
    assert copy_store(MemoryStore(), MemoryStore()).total == 0


def test_a_damaged_record_stops_the_copy_without_phi() -> None:
    source, target = MemoryStore(), MemoryStore()
    source.write(
        [
            RecordWrite(
                kind="Note", id="n-1", expected_version=0, payload='{"text": "SECRET-NOTE"'
            ),
        ]
    )
    with pytest.raises(StorageError) as info:
        copy_store(source, target, kinds=["Note"])
    assert "Note n-1" in str(info.value) and "SECRET" not in str(info.value)
    assert info.value.__cause__ is None  # the decoder's error would quote the document
    bad_shape = MemoryStore()
    bad_shape.write(
        [
            RecordWrite(
                kind="Note", id="n-1", expected_version=0, payload=json.dumps({"type": "Note"})
            )
        ]
    )
    with pytest.raises(StorageError, match="cannot be copied"):
        copy_store(bad_shape, target, kinds=["Note"])
    assert target.read_all("Note") == []


class LeakyStore(MemoryStore):
    """An adapter that leaks its own exception type."""

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        raise OSError("disk gone")


def test_a_leaked_adapter_error_becomes_storage_error() -> None:
    with pytest.raises(StorageError) as info:
        copy_store(LeakyStore(), MemoryStore())
    assert isinstance(info.value.__cause__, OSError)


@settings(max_examples=25, deadline=None)
@given(records=st.lists(st.one_of(*ENTITY_STRATEGIES.values()), min_size=1, max_size=8))
def test_every_kind_copies_with_the_same_worklists(records: list[Any]) -> None:
    source = MemoryStore()
    for record in records:
        with UnitOfWork(source) as uow:
            if uow.find(type(record), record.id) is None:
                uow.add(record)
            else:
                uow.save(record)
    target = SQLiteStore(":memory:")
    try:
        report = copy_store(source, target)
        assert everything(target) == everything(source)
        assert worklists(target) == worklists(source)
        assert report.total == len({(type(r).__name__, str(r.id)) for r in records})
        with UnitOfWork(target) as uow:
            for record in records:
                kept = uow.get(type(record), record.id)
                assert type(kept) is type(record)
    finally:
        target.close()


def test_an_ambiguous_local_time_copies_to_the_same_instant() -> None:
    """Found by Hypothesis: a fall-back-night appointment, copied from memory to SQLite."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from carecoord import Appointment, AppointmentId, PatientId

    start = datetime(2000, 10, 29, 1, 0, tzinfo=ZoneInfo("America/New_York"))
    appointment = Appointment(
        id=AppointmentId("a-1"),
        patient_id=PatientId("p-1"),
        start=start,
        end=start.replace(minute=1),
        provider="clinic",
        location="room",
    )
    source = MemoryStore()
    with UnitOfWork(source) as uow:
        uow.add(appointment)
    target = SQLiteStore(":memory:")
    try:
        copy_store(source, target)
        assert worklists(target) == worklists(source)
        with UnitOfWork(target) as uow:
            assert uow.get(Appointment, "a-1") == appointment
    finally:
        target.close()
