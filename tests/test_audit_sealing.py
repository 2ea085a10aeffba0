"""The sealer chains unsealed audit entries; verify_audit_log finds tampering in the store."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord import ValidationError
from carecoord.model.audit import (
    AUDIT_HEAD_ID,
    GENESIS_HASH,
    AuditAction,
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditOutcome,
    AuditVerification,
    ChainBreak,
    chain_hash,
    checkpoint_signature,
)
from carecoord.service.sealing import AuditSealer, SealReport, verify_audit_log
from carecoord.storage import (
    IndexRow,
    MemoryStore,
    RecordWrite,
    SQLiteStore,
    Store,
    UnitOfWork,
    WorkQuery,
)
from carecoord.testing import ForwardingStore

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 23, 9, tzinfo=BERLIN)
NOW = datetime(2026, 11, 23, 12, tzinfo=BERLIN)
KEY = b"an audit key kept out of the db!"
KINDS = {"entry": "AuditEntry", "checkpoint": "AuditCheckpoint", "head": "AuditHead"}


# ------------------------------------------------------------------ tampering
class Tamper(Protocol):
    """Direct access to a store's data, around carecoord, as an attacker would have."""

    def payload(self, kind: str, record_id: str) -> dict[str, Any]: ...

    def set_payload(self, kind: str, record_id: str, payload: dict[str, Any]) -> None: ...

    def delete_record(self, kind: str, record_id: str) -> None: ...

    def edit_row(self, record_id: str, **changes: Any) -> None: ...

    def delete_row(self, record_id: str) -> None: ...


class MemoryTamper:
    """Edits a MemoryStore through ``store.write`` (payloads, rows) and its internals (deletes)."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    def _rows(self, kind: str, record_id: str) -> tuple[IndexRow, ...]:
        return self.store._index.get((kind, record_id), ())

    def payload(self, kind: str, record_id: str) -> dict[str, Any]:
        stored = self.store.read(kind, record_id)
        assert stored is not None
        loaded: dict[str, Any] = json.loads(stored.payload)
        return loaded

    def _write(self, kind: str, record_id: str, payload: str, rows: tuple[IndexRow, ...]) -> None:
        stored = self.store.read(kind, record_id)
        assert stored is not None
        self.store.write(
            [
                RecordWrite(
                    kind=kind,
                    id=record_id,
                    expected_version=stored.version,
                    payload=payload,
                    patient_id=stored.patient_id,
                    index=rows,
                )
            ]
        )

    def set_payload(self, kind: str, record_id: str, payload: dict[str, Any]) -> None:
        self._write(kind, record_id, json.dumps(payload), self._rows(kind, record_id))

    def delete_record(self, kind: str, record_id: str) -> None:
        self.store._forget(kind, record_id)

    def edit_row(self, record_id: str, **changes: Any) -> None:
        stored = self.store.read("AuditEntry", record_id)
        assert stored is not None
        rows = tuple(attrs.evolve(r, **changes) for r in self._rows("AuditEntry", record_id))
        self._write("AuditEntry", record_id, stored.payload, rows)

    def delete_row(self, record_id: str) -> None:
        stored = self.store.read("AuditEntry", record_id)
        assert stored is not None
        self._write("AuditEntry", record_id, stored.payload, ())


class SQLiteTamper:
    """Edits the SQLite file with sqlite3, bypassing carecoord entirely."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def run(self, sql: str, *params: Any) -> list[Any]:
        conn = sqlite3.connect(self.path)
        try:
            with conn:
                return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def payload(self, kind: str, record_id: str) -> dict[str, Any]:
        rows = self.run("SELECT payload FROM records WHERE kind = ? AND id = ?", kind, record_id)
        loaded: dict[str, Any] = json.loads(rows[0][0])
        return loaded

    def set_payload(self, kind: str, record_id: str, payload: dict[str, Any]) -> None:
        self.run(
            "UPDATE records SET payload = ? WHERE kind = ? AND id = ?",
            json.dumps(payload),
            kind,
            record_id,
        )

    def delete_record(self, kind: str, record_id: str) -> None:
        self.run("DELETE FROM records WHERE kind = ? AND id = ?", kind, record_id)

    def edit_row(self, record_id: str, **changes: Any) -> None:
        values = [int(v) if isinstance(v, bool) else v for v in changes.values()]
        sets = ", ".join(f"{column} = ?" for column in changes)
        self.run(f"UPDATE work_index SET {sets} WHERE record_id = ?", *values, record_id)

    def delete_row(self, record_id: str) -> None:
        self.run("DELETE FROM work_index WHERE record_id = ?", record_id)


@attrs.frozen
class Setup:
    store: Store
    tamper: Tamper
    open_store: Callable[[], Store]


@pytest.fixture(params=["memory", "sqlite"])
def setup(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Setup]:
    if request.param == "memory":
        memory = MemoryStore()
        yield Setup(memory, MemoryTamper(memory), lambda: memory)
        memory.close()
        return
    path = tmp_path / "audit.db"
    opened: list[SQLiteStore] = []

    def open_store() -> Store:
        opened.append(SQLiteStore(path))
        return opened[-1]

    store = open_store()
    yield Setup(store, SQLiteTamper(path), open_store)
    for s in opened:
        s.close()


# -------------------------------------------------------------------- helpers
def append(store: Store, n: int, *, start: int = 0) -> list[AuditEntry]:
    entries = [
        AuditEntry.create(
            at=T0 + timedelta(seconds=start + i),
            actor=f"staff-{i % 3}",
            action=AuditAction.READ,
            operation="patient",
            outcome=AuditOutcome.SUCCESS,
            patient_id=f"p-{i % 4}",
            entity=f"Patient/p-{i % 4}",
        )
        for i in range(n)
    ]
    with UnitOfWork(store) as uow:
        for entry in entries:
            uow.add(entry)
    return entries


def verify(store: Store, **kwargs: Any) -> AuditVerification:
    with UnitOfWork(store) as uow:
        return verify_audit_log(uow, **kwargs)


def sealed_entries(store: Store) -> list[AuditEntry]:
    with UnitOfWork(store) as uow:
        return sorted((e for e in uow.all(AuditEntry) if e.sealed), key=lambda e: e.sequence or 0)


def problems(result: AuditVerification) -> set[str]:
    return {b.problem for b in result.breaks}


# ---------------------------------------------------------------- happy path
@pytest.mark.parametrize("key", [None, KEY])
def test_append_seal_verify(setup: Setup, key: bytes | None) -> None:
    store = setup.store
    appended = append(store, 7)
    before = verify(store, key=key)
    assert before.intact
    assert (before.sealed, before.unsealed, before.head_sequence) == (0, 7, 0)

    report = AuditSealer(store, key=key, batch_size=3).seal_all(NOW)
    assert report == SealReport(7, 7, report.head_hash, lost_race=False)

    chain = sealed_entries(store)
    assert [e.id for e in chain] == [e.id for e in appended]  # sealed oldest first
    assert [e.sequence for e in chain] == list(range(1, 8))
    assert all(e.sealed_at == NOW for e in chain)
    with UnitOfWork(store) as uow:
        checkpoints = uow.all(AuditCheckpoint)
        head = uow.get(AuditHead, AUDIT_HEAD_ID)
        assert uow.query(WorkQuery(category="audit", open_only=True)) == []
        assert len(uow.query(WorkQuery(category="audit", open_only=False))) == 7
    assert [(c.sequence, c.count) for c in checkpoints] == [(3, 3), (6, 3), (7, 1)]
    assert all(c.signature_valid(key) for c in checkpoints)
    assert (head.sequence, head.hash) == (7, chain[-1].hash)

    result = verify(store, key=key, checkpoint=chain[3].hash)
    assert result == AuditVerification((), 7, 0, 7, chain[-1].hash or "")

    append(store, 2, start=100)
    pending = verify(store, key=key, checkpoint=head.hash)
    assert pending.intact
    assert (pending.sealed, pending.unsealed) == (7, 2)
    assert AuditSealer(store, key=key).seal(NOW).sealed == 2
    assert verify(store, key=key, checkpoint=head.hash).intact


def test_nothing_to_seal_writes_nothing(setup: Setup) -> None:
    report = AuditSealer(setup.store).seal(NOW)
    assert report == SealReport(0, 0, GENESIS_HASH)
    with UnitOfWork(setup.store) as uow:
        assert uow.find(AuditHead, AUDIT_HEAD_ID) is None
    assert verify(setup.store).intact


def test_a_late_entry_with_an_older_time_gets_the_next_sequence(setup: Setup) -> None:
    append(setup.store, 3, start=50)
    AuditSealer(setup.store).seal(NOW)
    late = append(setup.store, 1, start=0)[0]
    AuditSealer(setup.store).seal(NOW)
    assert sealed_entries(setup.store)[-1].id == late.id
    assert verify(setup.store).intact


def test_seal_all_is_bounded(setup: Setup) -> None:
    append(setup.store, 10)
    report = AuditSealer(setup.store, batch_size=2).seal_all(NOW, max_batches=3)
    assert (report.sealed, report.head_sequence) == (6, 6)
    assert verify(setup.store).unsealed == 4


def test_sealer_arguments_are_validated() -> None:
    store = MemoryStore()
    for key in (b"short", "a string key that is long enough"):
        with pytest.raises(ValidationError) as caught:
            AuditSealer(store, key=key)  # type: ignore[arg-type]
        assert caught.value.field == "key"
        with pytest.raises(ValidationError):
            AuditSealer.check_key(key)  # type: ignore[arg-type]
    assert AuditSealer.check_key(KEY) is KEY
    assert AuditSealer.check_key(None) is None
    for size in (0, -1, True, 2.5):
        with pytest.raises(ValidationError) as caught:
            AuditSealer(store, batch_size=size)  # type: ignore[arg-type]
        assert caught.value.field == "batch_size"
    with pytest.raises(ValidationError):
        AuditSealer(store).seal(datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        AuditSealer(store).seal_all(NOW, max_batches=0)


# ------------------------------------------------------------------ tampering
def sealed_setup(setup: Setup, key: bytes | None, n: int = 6) -> list[AuditEntry]:
    append(setup.store, n)
    AuditSealer(setup.store, key=key, batch_size=4).seal_all(NOW)
    chain = sealed_entries(setup.store)
    assert verify(setup.store, key=key).intact
    return chain


def edit_data(setup: Setup, kind: str, record_id: str, **changes: Any) -> None:
    payload = setup.tamper.payload(kind, record_id)
    payload["data"].update(changes)
    setup.tamper.set_payload(kind, record_id, payload)


def delete_checkpoints(setup: Setup, *sequences: int) -> None:
    for sequence in sequences:
        setup.tamper.delete_record(KINDS["checkpoint"], f"{sequence:020d}")


TAMPERING: dict[str, tuple[Callable[[Setup, list[AuditEntry]], None], set[str]]] = {
    "edit actor": (
        lambda s, c: edit_data(s, KINDS["entry"], c[2].id, actor="intruder"),
        {"content does not match its hash", "audit index row does not match the entry"},
    ),
    "edit the zone of at": (
        lambda s, c: edit_data(
            s,
            KINDS["entry"],
            c[2].id,
            at=s.tamper.payload(KINDS["entry"], c[2].id)["data"]["at"].replace(
                "[Europe/Berlin]", "[Europe/Paris]"
            ),
        ),
        {"content does not match its hash"},
    ),
    "unseal an entry": (
        lambda s, c: edit_data(
            s, KINDS["entry"], c[2].id, sequence=None, hash=None, previous_hash=None, sealed_at=None
        ),
        {
            "sequence gap before this entry",
            "previous_hash does not match the entry before",
            "audit index row does not match the entry",
        },
    ),
    "delete a sealed entry": (
        lambda s, c: s.tamper.delete_record(KINDS["entry"], c[2].id),
        {"sequence gap before this entry", "previous_hash does not match the entry before"},
    ),
    "delete the newest entry": (
        lambda s, c: s.tamper.delete_record(KINDS["entry"], c[-1].id),
        {
            "checkpoint is beyond the end of the chain",
            "the head does not match the newest sealed entry",
        },
    ),
    "move an index row to another patient": (
        lambda s, c: s.tamper.edit_row(c[2].id, patient_id="p-other"),
        {"audit index row does not match the entry"},
    ),
    "rewrite an index row's actor and time": (
        lambda s, c: s.tamper.edit_row(c[2].id, owner_id="someone", due_at=None),
        {"audit index row does not match the entry"},
    ),
    "reopen an index row": (
        lambda s, c: s.tamper.edit_row(c[2].id, is_open=True),
        {"audit index row does not match the entry"},
    ),
    "delete an index row": (
        lambda s, c: s.tamper.delete_row(c[2].id),
        {"audit index row is missing"},
    ),
    "edit a checkpoint": (
        lambda s, c: edit_data(s, KINDS["checkpoint"], f"{4:020d}", hash="a" * 64),
        {"checkpoint signature does not verify", "checkpoint does not match the chain"},
    ),
    "delete every checkpoint": (
        lambda s, c: delete_checkpoints(s, 4, 6),
        {"no checkpoint covers the sealed entries"},
    ),
    "move the head back": (
        lambda s, c: edit_data(s, KINDS["head"], AUDIT_HEAD_ID, sequence=5, hash=c[4].hash),
        {"the head does not match the newest sealed entry"},
    ),
}


@pytest.mark.parametrize("key", [None, KEY], ids=["no-key", "key"])
@pytest.mark.parametrize("how", TAMPERING)
def test_tampering_is_detected(setup: Setup, key: bytes | None, how: str) -> None:
    chain = sealed_setup(setup, key)
    tamper, expected = TAMPERING[how]
    tamper(setup, chain)
    result = verify(setup.store, key=key)
    assert not result.intact
    assert expected <= problems(result), problems(result)
    assert all(b.entry_id in (None, *(e.id for e in chain)) for b in result.breaks)


def test_a_row_without_its_entry_is_detected(setup: Setup) -> None:
    chain = sealed_setup(setup, None)
    stray = IndexRow("audit", "forged", "p-0", "staff-0", "0", False, due_at=T0, changed_at=T0)
    if isinstance(setup.tamper, MemoryTamper):
        # An audit row hung on another record (the head), pointing at no entry.
        memory = setup.tamper.store
        head = memory.read(KINDS["head"], AUDIT_HEAD_ID)
        assert head is not None
        memory.write([RecordWrite(head.kind, head.id, head.version, head.payload, None, (stray,))])
        assert ChainBreak(None, "audit index row has no entry", AUDIT_HEAD_ID) in (
            verify(setup.store).breaks
        )
        return
    assert isinstance(setup.tamper, SQLiteTamper)
    setup.tamper.delete_record(KINDS["entry"], chain[2].id)  # its work_index row stays
    setup.tamper.run(
        "INSERT INTO work_index (kind, record_id, category, item_id, patient_id, owner_id, "
        "status, is_open, priority) VALUES ('AuditEntry', 'forged', 'audit', 'forged', "
        "'p-0', 'staff-0', '0', 0, 0)"
    )
    breaks = verify(setup.store).breaks
    assert ChainBreak(None, "audit index row has no entry", chain[2].id) in breaks
    assert ChainBreak(None, "audit index row has no entry", "forged") in breaks


def rewrite_everything(setup: Setup, chain: Sequence[AuditEntry]) -> None:
    """Rewrite entry 2 and recompute every later hash, checkpoint and the head, keylessly."""
    previous = chain[1].hash or ""
    for entry in chain[2:]:
        forged = attrs.evolve(entry, previous_hash=previous)
        if entry is chain[2]:
            forged = attrs.evolve(forged, actor="intruder")
        forged = attrs.evolve(forged, hash=chain_hash(forged))
        edit_data(
            setup,
            KINDS["entry"],
            entry.id,
            actor=forged.actor,
            previous_hash=forged.previous_hash,
            hash=forged.hash,
        )
        previous = forged.hash or ""
        if forged.sequence in (4, 6):
            edit_data(
                setup,
                KINDS["checkpoint"],
                f"{forged.sequence:020d}",
                hash=forged.hash,
                signature=checkpoint_signature(
                    forged.sequence, previous, forged.sealed_at or NOW, None
                ),
            )
    edit_data(setup, KINDS["head"], AUDIT_HEAD_ID, hash=previous)
    setup.tamper.edit_row(chain[2].id, owner_id="intruder")


def test_with_a_key_a_keyless_rewrite_is_detected(setup: Setup) -> None:
    chain = sealed_setup(setup, KEY)
    rewrite_everything(setup, chain)
    result = verify(setup.store, key=KEY)
    assert {"content does not match its hash", "checkpoint signature does not verify"} <= problems(
        result
    )


def test_without_a_key_a_full_rewrite_needs_an_external_checkpoint(setup: Setup) -> None:
    """The trade-off of running without a key.

    Unkeyed hashes can be recomputed by anyone who can write the database: an
    attacker who rewrites an entry and every later hash, checkpoint and the
    head leaves a log that is consistent in itself. Only a head hash kept
    outside the database (``checkpoint=``) shows the rewrite. With a key kept
    outside the database the same rewrite is caught without it. (Cutting off
    the newest batch together with its checkpoint and moving the head back is
    caught only by an external checkpoint, with or without a key.)
    """
    chain = sealed_setup(setup, None)
    kept = chain[-1].hash
    rewrite_everything(setup, chain)
    assert verify(setup.store).intact
    result = verify(setup.store, checkpoint=kept)
    assert problems(result) == {"the kept checkpoint is not in the chain"}


def test_a_stale_open_index_row_is_skipped_not_resealed() -> None:
    store = MemoryStore()
    append(store, 3)
    AuditSealer(store).seal(NOW)
    chain = sealed_entries(store)
    MemoryTamper(store).edit_row(chain[0].id, is_open=True)
    append(store, 1, start=100)
    assert AuditSealer(store).seal(NOW).sealed == 1
    assert [e.sequence for e in sealed_entries(store)] == [1, 2, 3, 4]
    result = verify(store)
    assert problems(result) == {"audit index row does not match the entry"}


# --------------------------------------------------------------- concurrency
class GatedStore(ForwardingStore):
    """A store whose first write waits until every racer has got that far."""

    def __init__(self, inner: Store, barrier: threading.Barrier) -> None:
        super().__init__(inner)
        self.barrier = barrier
        self.gated = True

    def write(self, batch: Sequence[RecordWrite]) -> None:
        if self.gated:
            self.gated = False
            self.barrier.wait(timeout=10)
        self.inner.write(batch)


def test_racing_sealers_seal_every_entry_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    stores = [SQLiteStore(path), SQLiteStore(path)]
    try:
        append(stores[0], 40)
        barrier = threading.Barrier(2)
        gated = [GatedStore(s, barrier) for s in stores]
        reports: list[SealReport] = []

        def race(store: Store) -> None:
            reports.append(AuditSealer(store, batch_size=100).seal(NOW))

        threads = [threading.Thread(target=race, args=(g,)) for g in gated]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(r.lost_race for r in reports) == [False, True]
        assert sorted(r.sealed for r in reports) == [0, 40]

        # Then free-running: both seal small batches while entries keep arriving.
        totals = [0, 0]

        def run(i: int) -> None:
            sealer = AuditSealer(stores[i], key=None, batch_size=7)
            idle = 0
            while idle < 3:
                report = sealer.seal(NOW)
                totals[i] += report.sealed
                idle = idle + 1 if report.sealed == 0 and not report.lost_race else 0

        append(stores[0], 60, start=1000)
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        append(stores[1], 30, start=2000)
        for t in threads:
            t.join(timeout=60)
        AuditSealer(stores[0]).seal_all(NOW)  # whatever arrived after both went idle
        chain = sealed_entries(stores[0])
        assert [e.sequence for e in chain] == list(range(1, 131))
        assert len({e.id for e in chain}) == 130
        result = verify(stores[1])
        assert result.intact
        assert (result.sealed, result.unsealed, result.head_sequence) == (130, 0, 130)
    finally:
        for s in stores:
            s.close()


# ---------------------------------------------------------------------- scale
@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_sealing_ten_thousand_entries_in_batches(store_kind: str, tmp_path: Path) -> None:
    store: Store = MemoryStore() if store_kind == "memory" else SQLiteStore(tmp_path / "big.db")
    try:
        for start in range(0, 10_000, 2_500):
            append(store, 2_500, start=start)
        report = AuditSealer(store, key=KEY, batch_size=500).seal_all(
            datetime(2026, 11, 24, tzinfo=UTC)
        )
        assert (report.sealed, report.head_sequence, report.lost_race) == (10_000, 10_000, False)
        with UnitOfWork(store) as uow:
            checkpoints = uow.all(AuditCheckpoint)
        assert [c.sequence for c in checkpoints] == list(range(500, 10_001, 500))
        result = verify(store, key=KEY, checkpoint=report.head_hash)
        assert result.intact
        assert (result.sealed, result.unsealed) == (10_000, 0)
    finally:
        store.close()
