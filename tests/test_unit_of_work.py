"""UnitOfWork on every built-in store: typed reads, buffered writes, versions, events, errors."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import attrs
import pytest

from carecoord import (
    Barrier,
    BarrierId,
    BarrierKind,
    CareTeamRole,
    ConflictError,
    Goal,
    GoalId,
    HumanName,
    NotFoundError,
    Patient,
    PatientId,
    StaffId,
    StaffMember,
    StorageError,
    ValidationError,
)
from carecoord.serialization import to_payload
from carecoord.storage import (
    IndexHit,
    MemoryStore,
    RecordWrite,
    Store,
    StoredRecord,
    UnitOfWork,
    WorkQuery,
)

T = datetime(2026, 11, 23, 18, tzinfo=UTC)


def staff(n: str, *, family: str = "Staff") -> StaffMember:
    return StaffMember(id=StaffId(n), name=HumanName(family=family), roles=(CareTeamRole.NURSE,))


def barrier(n: str, patient: str) -> Barrier:
    return Barrier(
        id=BarrierId(n),
        patient_id=PatientId(patient),
        kind=BarrierKind.TRANSPORT,
        identified_at=T,
        identified_by=StaffId("s-1"),
    )


def commit(store: Store, *records: object) -> None:
    with UnitOfWork(store) as uow:
        for r in records:
            uow.add(r)


def stored_ids(store: Store, kind: str) -> list[tuple[str, int]]:
    return [(r.id, r.version) for r in store.read_all(kind)]


# -------------------------------------------------------------------- reads
def test_find_get_and_version_of(any_store: Store) -> None:
    commit(any_store, staff("s-1"))
    with UnitOfWork(any_store) as uow:
        assert uow.version_of(StaffMember, "s-1") == 0  # not read yet
        found = uow.find(StaffMember, "s-1")
        assert found == staff("s-1")
        assert uow.version_of(StaffMember, "s-1") == 1
        assert uow.get(StaffMember, StaffId("s-1")) == staff("s-1")
        assert uow.find(StaffMember, "nobody") is None
        assert uow.version_of(StaffMember, "nobody") == 0
        with pytest.raises(NotFoundError, match="StaffMember nobody"):
            uow.get(StaffMember, "nobody")


def test_reads_see_the_units_own_pending_writes(any_store: Store) -> None:
    commit(any_store, staff("s-1"))
    with UnitOfWork(any_store) as uow:
        new = staff("s-2")
        uow.add(new)
        assert uow.find(StaffMember, "s-2") is new
        assert uow.version_of(StaffMember, "s-2") == 0
        changed = attrs.evolve(uow.get(StaffMember, "s-1"), active=False)
        uow.save(changed)
        assert uow.get(StaffMember, "s-1").active is False
        assert [m.id for m in uow.all(StaffMember)] == ["s-1", "s-2"]
        assert uow.all(StaffMember)[0].active is False
        assert any_store.read("StaffMember", "s-2") is None  # nothing written before commit
    assert stored_ids(any_store, "StaffMember") == [("s-1", 2), ("s-2", 1)]


def test_all_is_ordered_by_id_and_filters_by_patient(any_store: Store) -> None:
    commit(any_store, barrier("b-3", "p-1"), barrier("b-1", "p-2"), barrier("b-2", "p-1"))
    with UnitOfWork(any_store) as uow:
        uow.add(barrier("b-0", "p-1"))
        uow.add(barrier("b-9", "p-2"))
        assert [b.id for b in uow.all(Barrier)] == ["b-0", "b-1", "b-2", "b-3", "b-9"]
        assert [b.id for b in uow.all(Barrier, patient_id="p-1")] == ["b-0", "b-2", "b-3"]
        assert [b.id for b in uow.all(Barrier, patient_id="p-2")] == ["b-1", "b-9"]
        assert uow.all(Barrier, patient_id="p-3") == []
        assert uow.all(Patient) == []
        # all() records the versions it saw, so a save needs no separate get()
        assert uow.version_of(Barrier, "b-3") == 1


def test_all_puts_a_pending_change_in_place_of_the_stored_one(any_store: Store) -> None:
    commit(any_store, barrier("b-1", "p-1"))
    with UnitOfWork(any_store) as uow:
        moved = attrs.evolve(uow.get(Barrier, "b-1"), patient_id=PatientId("p-2"))
        uow.save(moved)
        # the stored copy still says p-1; the pending one (p-2) replaces it in the result
        assert [b.patient_id for b in uow.all(Barrier)] == ["p-2"]
        assert [b.patient_id for b in uow.all(Barrier, patient_id="p-2")] == ["p-2"]


# ------------------------------------------------------------------- writes
def test_add_of_an_existing_id_fails_at_commit_and_writes_nothing(any_store: Store) -> None:
    commit(any_store, staff("s-1"))
    uow = UnitOfWork(any_store)
    uow.add(staff("s-2"))
    uow.add(staff("s-1", family="Other"))  # not read, so not known to exist yet
    with pytest.raises(ConflictError) as caught:
        uow.commit()
    assert (caught.value.kind, caught.value.record_id, caught.value.expected) == (
        "StaffMember",
        "s-1",
        0,
    )
    assert stored_ids(any_store, "StaffMember") == [("s-1", 1)]
    with UnitOfWork(any_store) as check:
        assert check.get(StaffMember, "s-1") == staff("s-1")


def test_add_of_a_record_already_read_or_added_is_refused_at_once(any_store: Store) -> None:
    commit(any_store, staff("s-1"))
    with UnitOfWork(any_store) as uow:
        uow.get(StaffMember, "s-1")
        with pytest.raises(ValidationError, match="already exists"):
            uow.add(staff("s-1"))
        uow.add(staff("s-2"))
        with pytest.raises(ValidationError, match="already exists"):
            uow.add(staff("s-2", family="Twice"))
    with UnitOfWork(any_store) as check:
        assert check.get(StaffMember, "s-2") == staff("s-2")  # the first add stands


def test_save_without_reading_is_refused(any_store: Store) -> None:
    commit(any_store, staff("s-1"))
    with UnitOfWork(any_store) as uow, pytest.raises(ValidationError, match="not read"):
        uow.save(staff("s-1", family="Blind"))
    assert stored_ids(any_store, "StaffMember") == [("s-1", 1)]


def test_save_with_an_explicit_expected_version(any_store: Store) -> None:
    commit(any_store, staff("s-1"))
    with UnitOfWork(any_store) as uow:
        uow.save(staff("s-1", family="Second"), expected_version=1)
    assert uow.committed_versions == {("StaffMember", "s-1"): 2}
    stale = UnitOfWork(any_store)
    stale.save(staff("s-1", family="Stale"), expected_version=1)
    with pytest.raises(ConflictError) as caught:
        stale.commit()
    assert caught.value.expected == 1
    with UnitOfWork(any_store) as check:
        assert check.get(StaffMember, "s-1").name.family == "Second"
        assert check.version_of(StaffMember, "s-1") == 2


@pytest.mark.parametrize("bad", [True, "1", 1.0, None])
def test_expected_version_must_be_an_int(any_store: Store, bad: object) -> None:
    commit(any_store, staff("s-1"))
    with UnitOfWork(any_store) as uow:
        if bad is None:  # None means "the version read": not read here, so refused
            with pytest.raises(ValidationError, match="not read"):
                uow.save(staff("s-1"), expected_version=None)
        else:
            with pytest.raises(ValidationError, match="expected_version"):
                uow.save(staff("s-1"), expected_version=bad)  # type: ignore[arg-type]
    assert stored_ids(any_store, "StaffMember") == [("s-1", 1)]


def test_a_save_is_checked_against_the_first_version_read(any_store: Store) -> None:
    commit(any_store, staff("s-1"))
    uow = UnitOfWork(any_store)
    mine = uow.get(StaffMember, "s-1")
    with UnitOfWork(any_store) as other:  # a concurrent change commits first
        other.save(attrs.evolve(other.get(StaffMember, "s-1"), active=False))
    again = uow.get(StaffMember, "s-1")  # the identity map: the copy first read ...
    assert again is mine and again.active is True
    assert uow.version_of(StaffMember, "s-1") == 1  # ... and the version it based work on
    uow.save(attrs.evolve(mine, name=HumanName(family="Lost update")))
    with pytest.raises(ConflictError):
        uow.commit()
    with UnitOfWork(any_store) as check:
        assert check.get(StaffMember, "s-1").name.family == "Staff"
        assert check.version_of(StaffMember, "s-1") == 2


def test_a_unit_decodes_each_record_at_most_once(
    any_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carecoord.storage import _codec
    from carecoord.storage import uow as uow_module

    commit(any_store, staff("s-1"), staff("s-2"))
    decoded: list[str] = []
    real = _codec.decode_record

    def counting(stored: StoredRecord, cls: type[Any], **kwargs: Any) -> Any:
        decoded.append(stored.id)
        return real(stored, cls, **kwargs)

    monkeypatch.setattr(uow_module, "decode_record", counting)
    with UnitOfWork(any_store) as uow:
        first = uow.get(StaffMember, "s-1")
        for _ in range(5):
            assert uow.get(StaffMember, "s-1") is first
            assert uow.find(StaffMember, "s-1") is first
        listed = uow.all(StaffMember)
        assert listed[0] is first
        assert uow.all(StaffMember)[1] is listed[1]
    assert sorted(decoded) == ["s-1", "s-2"]


def test_saving_a_pending_add_again_keeps_it_a_create(any_store: Store) -> None:
    with UnitOfWork(any_store) as uow:
        uow.add(staff("s-1"))
        uow.save(staff("s-1", family="Changed"))
    assert stored_ids(any_store, "StaffMember") == [("s-1", 1)]
    with UnitOfWork(any_store) as check:
        assert check.get(StaffMember, "s-1").name.family == "Changed"


def test_commit_writes_every_pending_record_atomically(any_store: Store) -> None:
    commit(any_store, staff("s-1"))
    uow = UnitOfWork(any_store)
    uow.add(barrier("b-1", "p-1"))
    uow.add(staff("s-2"))
    uow.save(staff("s-1", family="Stale"), expected_version=7)
    with pytest.raises(ConflictError):
        uow.commit()
    assert stored_ids(any_store, "Barrier") == []
    assert stored_ids(any_store, "StaffMember") == [("s-1", 1)]


def test_committed_versions_and_index_rows(any_store: Store) -> None:
    with UnitOfWork(any_store) as uow:
        uow.add(barrier("b-1", "p-1"))
        uow.add(staff("s-1"))
    assert uow.committed_versions == {("Barrier", "b-1"): 1, ("StaffMember", "s-1"): 1}
    with UnitOfWork(any_store) as reader:
        hits: Sequence[IndexHit] = reader.query(WorkQuery(category="barrier"))
    assert [(h.kind, h.record_id, h.version, h.row.patient_id) for h in hits] == [
        ("Barrier", "b-1", 1, "p-1")
    ]


def test_queries_see_committed_index_rows_only(any_store: Store) -> None:
    with UnitOfWork(any_store) as uow:
        uow.add(barrier("b-1", "p-1"))
        assert uow.query(WorkQuery(category="barrier")) == []  # pending: not indexed yet
    with UnitOfWork(any_store) as later:
        assert [h.record_id for h in later.query(WorkQuery(category="barrier"))] == ["b-1"]


def test_a_unit_with_nothing_to_write_commits(any_store: Store) -> None:
    with UnitOfWork(any_store) as uow:
        uow.collect("only an event")
    assert uow.committed_versions == {}
    assert uow.events == ("only an event",)


# ------------------------------------------------------------------- events
def test_events_are_handed_on_only_after_commit(any_store: Store) -> None:
    with UnitOfWork(any_store) as uow:
        uow.add(staff("s-1"))
        uow.collect("first")
        uow.collect("second")
        assert uow.pending_events == ("first", "second")
        inside: tuple[object, ...] = uow.events
        assert inside == ()
    after: tuple[object, ...] = uow.events
    assert after == ("first", "second")


def test_events_are_dropped_on_rollback(any_store: Store) -> None:
    uow = UnitOfWork(any_store)

    def fail() -> None:
        with uow:
            uow.add(staff("s-1"))
            uow.collect("never")
            raise KeyError("boom")

    with pytest.raises(KeyError):
        fail()
    assert uow.events == ()
    assert uow.pending_events == ()
    assert stored_ids(any_store, "StaffMember") == []


def test_events_of_a_failed_commit_are_not_handed_on(any_store: Store) -> None:
    commit(any_store, staff("s-1"))
    uow = UnitOfWork(any_store)
    uow.add(staff("s-1"))
    uow.collect("lost")
    with pytest.raises(ConflictError):
        uow.commit()
    assert uow.events == ()


# ------------------------------------------------------- finished units refuse
USES: dict[str, Callable[[UnitOfWork], object]] = {
    "find": lambda u: u.find(StaffMember, "s-1"),
    "get": lambda u: u.get(StaffMember, "s-1"),
    "all": lambda u: u.all(StaffMember),
    "query": lambda u: u.query(WorkQuery(category="barrier")),
    "add": lambda u: u.add(staff("s-9")),
    "save": lambda u: u.save(staff("s-1"), expected_version=1),
    "collect": lambda u: u.collect("late"),
    "commit": lambda u: u.commit(),
}


def _finish(store: Store, how: str) -> UnitOfWork:
    uow = UnitOfWork(store)
    uow.add(staff("s-2"))
    if how == "committed":
        uow.commit()
    elif how == "rolled back":
        uow.rollback()
    else:  # failed: the commit hit a conflict
        uow.add(staff("s-1"))
        with pytest.raises(ConflictError):
            uow.commit()
    return uow


@pytest.mark.parametrize("how", ["committed", "rolled back", "failed"])
@pytest.mark.parametrize("use", list(USES))
def test_a_finished_unit_cannot_be_used(any_store: Store, how: str, use: str) -> None:
    commit(any_store, staff("s-1"))
    uow = _finish(any_store, how)
    before = stored_ids(any_store, "StaffMember")
    with pytest.raises(ValidationError, match=f"already {how}"):
        USES[use](uow)
    assert stored_ids(any_store, "StaffMember") == before


def test_leaving_the_block_after_an_explicit_commit_does_not_commit_again(
    any_store: Store,
) -> None:
    with UnitOfWork(any_store) as uow:
        uow.add(staff("s-1"))
        uow.commit()
    assert stored_ids(any_store, "StaffMember") == [("s-1", 1)]


# --------------------------------------------------------- corrupt payloads
SECRET = "Zebediah-Quux-1951"


def _patient_payload() -> dict[str, object]:
    patient = Patient(
        id=PatientId("p-1"),
        name=HumanName(family=SECRET),
        birth_date=date(1951, 2, 3),
        time_zone="UTC",
    )
    return to_payload(patient)


def _corrupt(kind: str) -> str:
    good = _patient_payload()
    data = dict(good["data"])  # type: ignore[call-overload]
    match kind:
        case "not-json":
            return SECRET + " {{{"
        case "not-an-object":
            return json.dumps([SECRET])
        case "wrong-type":
            return json.dumps({**good, "type": "StaffMember"})
        case "future-schema":
            return json.dumps({**good, "schema_version": 99})
        case "bad-value":
            return json.dumps({**good, "data": {**data, "birth_date": SECRET}})
        case "bad-zone":
            return json.dumps({**good, "data": {**data, "time_zone": f"{SECRET}/Nowhere"}})
        case _:
            raise AssertionError(kind)


CORRUPTIONS = ["not-json", "not-an-object", "wrong-type", "future-schema", "bad-value", "bad-zone"]


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_a_corrupt_payload_raises_storage_error_without_echoing_it(
    any_store: Store, corruption: str
) -> None:
    payload = _corrupt(corruption)
    assert SECRET in payload
    any_store.write([RecordWrite(kind="Patient", id="p-1", expected_version=0, payload=payload)])
    readers: list[Callable[[UnitOfWork], object]] = [
        lambda u: u.get(Patient, "p-1"),
        lambda u: u.find(Patient, "p-1"),
        lambda u: u.all(Patient),
    ]
    for read in readers:
        with UnitOfWork(any_store) as uow, pytest.raises(StorageError) as caught:
            read(uow)
        message = str(caught.value)
        assert "Patient" in message and "p-1" in message
        assert SECRET not in message and SECRET not in repr(caught.value)
        if corruption == "not-json":
            # json's error keeps the whole document (PHI), so it is not chained.
            assert caught.value.__cause__ is None and caught.value.__suppress_context__
            assert "position" in message
        else:
            assert caught.value.__cause__ is not None


def test_a_good_payload_next_to_a_corrupt_one_still_reads(any_store: Store) -> None:
    any_store.write(
        [
            RecordWrite(
                kind="Patient",
                id="p-1",
                expected_version=0,
                payload=json.dumps(_patient_payload()),
            ),
            RecordWrite(kind="Patient", id="p-2", expected_version=0, payload="{"),
        ]
    )
    with UnitOfWork(any_store) as uow:
        assert uow.get(Patient, "p-1").name.family == SECRET
        with pytest.raises(StorageError, match="p-2"):
            uow.get(Patient, "p-2")


# ------------------------------------------------------------ non-record types
@pytest.mark.parametrize(
    "thing",
    [
        object(),
        "StaffMember",
        Goal(id=GoalId("g-1"), description="Not a stored record on its own"),
        HumanName(family="Name"),
    ],
    ids=["object", "str", "goal", "name"],
)
def test_only_stored_record_types_are_written(any_store: Store, thing: object) -> None:
    with UnitOfWork(any_store) as uow:
        with pytest.raises(ValidationError, match="not a stored record type"):
            uow.add(thing)
        with pytest.raises(ValidationError, match="not a stored record type"):
            uow.save(thing, expected_version=1)
        with pytest.raises(ValidationError, match="not a stored record type"):
            uow.has_pending(thing)


@pytest.mark.parametrize("cls", [Goal, HumanName, str, dict])
def test_only_stored_record_types_are_read(any_store: Store, cls: type) -> None:
    with UnitOfWork(any_store) as uow:
        with pytest.raises(ValidationError, match="not a stored record type"):
            uow.find(cls, "x")
        with pytest.raises(ValidationError, match="not a stored record type"):
            uow.all(cls)
        with pytest.raises(ValidationError, match="not a stored record type"):
            uow.version_of(cls, "x")


def test_a_subclass_of_a_record_type_is_not_a_record_type(any_store: Store) -> None:
    @attrs.frozen
    class SpecialStaff(StaffMember):
        pass

    special = SpecialStaff(
        id=StaffId("s-1"), name=HumanName(family="S"), roles=(CareTeamRole.NURSE,)
    )
    with UnitOfWork(any_store) as uow, pytest.raises(ValidationError):
        uow.add(special)


# ----------------------------------------------------- a store that leaks
class LeakyStore:
    """Delegates to a MemoryStore but lets a raw driver-style error out of write()."""

    def __init__(self, error: Exception) -> None:
        self.inner = MemoryStore()
        self.error = error

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        return self.inner.read(kind, record_id)

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        return self.inner.read_all(kind, patient_id=patient_id)

    def write(self, batch: Sequence[RecordWrite]) -> None:
        raise self.error

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        return self.inner.query(query)

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("error", [OSError("disk on fire"), RuntimeError("driver bug")])
def test_a_leaked_store_error_is_wrapped_in_storage_error(error: Exception) -> None:
    leaky = LeakyStore(error)
    assert isinstance(leaky, Store)
    uow = UnitOfWork(leaky)
    uow.add(staff("s-1"))
    uow.collect("never")
    with pytest.raises(StorageError) as caught:
        uow.commit()
    assert caught.value.__cause__ is error
    assert caught.value.written is False
    assert uow.events == ()
    with pytest.raises(ValidationError, match="already failed"):
        uow.commit()


def test_a_carecoord_error_from_the_store_passes_through_unwrapped() -> None:
    leaky = LeakyStore(ConflictError("StaffMember", "s-1", 0))
    uow = UnitOfWork(leaky)
    uow.add(staff("s-1"))
    with pytest.raises(ConflictError):
        uow.commit()


class LeakyReader(LeakyStore):
    """Lets a raw driver-style error out of every read."""

    def read(self, kind: str, record_id: str) -> StoredRecord | None:
        raise self.error

    def read_all(self, kind: str, *, patient_id: str | None = None) -> Sequence[StoredRecord]:
        raise self.error

    def query(self, query: WorkQuery) -> Sequence[IndexHit]:
        raise self.error


@pytest.mark.parametrize(
    "read",
    [
        lambda u: u.find(Patient, "p-1"),
        lambda u: u.all(Patient),
        lambda u: u.query(WorkQuery(category="intervention")),
    ],
    ids=["find", "all", "query"],
)
def test_a_leaked_read_error_is_wrapped_in_storage_error(
    read: Callable[[UnitOfWork], object],
) -> None:
    error = OSError("socket closed")
    uow = UnitOfWork(LeakyReader(error))
    with pytest.raises(StorageError) as caught:
        read(uow)
    assert caught.value.__cause__ is error


def test_rollback_after_commit_keeps_the_committed_events(any_store: Store) -> None:
    uow = UnitOfWork(any_store)
    uow.add(staff("s-1"))
    uow.collect("created")
    uow.commit()
    uow.rollback()
    assert uow.events == ("created",)
    assert any_store.read("StaffMember", "s-1") is not None


@pytest.mark.parametrize("limit", [-1, True, 1.5])
def test_a_query_limit_must_be_a_non_negative_int(limit: object) -> None:
    with pytest.raises(ValidationError, match="limit"):
        WorkQuery(category="intervention", limit=limit)  # type: ignore[arg-type]
