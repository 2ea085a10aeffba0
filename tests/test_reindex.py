"""reindex: index rows derived again in place, payloads unchanged, concurrent saves left alone."""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import pytest

from carecoord import ConflictError, StorageError, ValidationError
from carecoord.storage import MemoryStore, RecordWrite, SQLiteStore, Store, WorkQuery
from carecoord.storage._codec import encode_record
from carecoord.storage.reindex import reindex
from carecoord.testing import ForwardingStore
from world import MA, PATIENT, TEAM, make_patient, make_team


def stale(store: Store) -> None:
    """A patient and a care team written as an older version would: without index rows."""
    for record in (make_patient(), make_team()):
        write = encode_record(record, 0)
        store.write([attrs.evolve(write, index=())])


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest) -> Store:
    return MemoryStore() if request.param == "memory" else SQLiteStore()


def members(store: Store) -> list[str]:
    hits = store.query(WorkQuery(category="member", patient_ids=(str(PATIENT),)))
    return sorted(h.row.owner_id or "" for h in hits)


def test_reindex_derives_the_rows_and_keeps_the_payload(store: Store) -> None:
    stale(store)
    before = store.read("CareTeam", str(TEAM))
    assert before is not None
    assert members(store) == []
    report = reindex(store)
    assert report.counts["CareTeam"] == 1
    assert report.counts["Patient"] == 1
    assert report.total == 2
    assert str(MA) in members(store)
    after = store.read("CareTeam", str(TEAM))
    assert after is not None
    assert after.payload == before.payload
    assert after.version == before.version + 1


def test_reindex_of_some_kinds_only(store: Store) -> None:
    stale(store)
    progress: list[tuple[str, int, int]] = []
    report = reindex(store, kinds=["Patient"], progress=lambda *a: progress.append(a))
    assert dict(report.counts) == {"Patient": 1}
    assert progress == [("Patient", 1, 1)]
    assert members(store) == []


class SavedMeanwhile(ForwardingStore):
    """Saves the care team (with its rows) just before reindex's first write lands."""

    def __init__(self, inner: Store) -> None:
        super().__init__(inner)
        self.raced = False

    def write(self, batch: Sequence[RecordWrite]) -> None:
        if not self.raced and any(w.kind == "CareTeam" for w in batch):
            self.raced = True
            current = self.inner.read("CareTeam", str(TEAM))
            assert current is not None
            self.inner.write([encode_record(make_team(), current.version)])
        super().write(batch)


def test_a_record_saved_meanwhile_is_left_as_saved() -> None:
    inner = MemoryStore()
    stale(inner)
    store = SavedMeanwhile(inner)
    report = reindex(store, kinds=["CareTeam"])
    assert store.raced
    assert report.counts["CareTeam"] == 0  # the concurrent save already wrote fresh rows
    found = inner.read("CareTeam", str(TEAM))
    assert found is not None and found.version == 2
    assert str(MA) in members(inner)


class AlwaysConflicts(ForwardingStore):
    def write(self, batch: Sequence[RecordWrite]) -> None:
        raise ConflictError(batch[0].kind, batch[0].id, batch[0].expected_version)


def test_a_store_that_keeps_conflicting_gives_up_with_conflict_error() -> None:
    inner = MemoryStore()
    stale(inner)
    with pytest.raises(ConflictError):
        reindex(AlwaysConflicts(inner), kinds=["Patient"])


def test_a_damaged_record_stops_the_batch_before_anything_is_written(store: Store) -> None:
    stale(store)
    store.write([RecordWrite(kind="CareTeam", id="broken", expected_version=0, payload="{")])
    with pytest.raises(StorageError, match="CareTeam broken"):
        reindex(store, kinds=["CareTeam"])
    assert members(store) == []


@pytest.mark.parametrize(
    ("options", "field"),
    [({"kinds": ["Nope"]}, "kinds"), ({"batch_size": 0}, "batch_size")],
)
def test_bad_arguments_are_refused(options: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        reindex(MemoryStore(), **options)  # type: ignore[arg-type]
    assert caught.value.field == field
