"""The audit hash chain detects any edit, deletion, insertion or reordering."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord.model.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditEntry,
    AuditOutcome,
    PurposeOfUse,
    chain_hash,
    verify_chain,
)

T0 = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("Europe/Berlin"))
N = 6


def build_chain(n: int = N) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous = GENESIS_HASH
    for i in range(1, n + 1):
        entry = AuditEntry.create(
            sequence=i,
            previous_hash=previous,
            at=T0 + timedelta(minutes=i),
            actor=f"staff-{i % 2}",
            action=AuditAction.READ if i % 2 else AuditAction.UPDATE,
            operation="patient" if i % 2 else "update_patient",
            outcome=AuditOutcome.SUCCESS,
            purpose=PurposeOfUse.TREAT,
            patient_id=f"p-{i % 3}",
            entity=f"Patient/p-{i % 3}",
        )
        entries.append(entry)
        previous = entry.hash
    return entries


def test_intact_chain_verifies() -> None:
    chain = build_chain()
    assert verify_chain(chain) == ()
    assert verify_chain(chain, checkpoint=chain[-1].hash) == ()
    assert verify_chain(chain, checkpoint=chain[2].hash) == ()
    assert verify_chain([]) == ()


def test_hash_is_deterministic_and_content_bound() -> None:
    chain = build_chain()
    assert all(chain_hash(e) == e.hash for e in chain)
    assert len({e.hash for e in chain}) == N


EDITS: dict[str, Any] = {
    "actor": "intruder",
    "operation": "export",
    "patient_id": "p-999",
    "entity": "CarePlan/x",
    "detail": "AccessDeniedError",
    "action": AuditAction.DELETE,
    "outcome": AuditOutcome.MINOR_FAILURE,
    "purpose": PurposeOfUse.ETREAT,
}


@pytest.mark.parametrize("position", range(N))
@pytest.mark.parametrize("field", [*EDITS, "at"])
def test_editing_any_field_of_any_entry_is_detected(position: int, field: str) -> None:
    chain = build_chain()
    value: Any = chain[position].at + timedelta(seconds=1) if field == "at" else EDITS[field]
    chain[position] = attrs.evolve(chain[position], **{field: value})
    breaks = verify_chain(chain)
    assert breaks
    assert breaks[0].sequence == position + 1


@pytest.mark.parametrize("position", range(N))
def test_editing_and_rehashing_one_entry_breaks_the_next_link(position: int) -> None:
    chain = build_chain()
    forged = attrs.evolve(chain[position], actor="intruder")
    chain[position] = attrs.evolve(forged, hash=chain_hash(forged))
    breaks = verify_chain(chain, checkpoint=build_chain()[-1].hash)
    assert breaks  # either the next entry's link or, for the last one, the checkpoint


@pytest.mark.parametrize("position", range(N))
def test_deleting_any_entry_is_detected(position: int) -> None:
    chain = build_chain()
    head = chain[-1].hash
    del chain[position]
    assert verify_chain(chain, checkpoint=head)


def test_deleting_newest_entries_needs_the_checkpoint() -> None:
    chain = build_chain()
    head = chain[-1].hash
    truncated = chain[:-2]
    assert verify_chain(truncated) == ()  # indistinguishable without a kept head ...
    assert verify_chain(truncated, checkpoint=head)  # ... caught with it


@pytest.mark.parametrize(("a", "b"), [(0, 1), (1, 4), (N - 2, N - 1), (0, N - 1)])
def test_reordering_is_detected(a: int, b: int) -> None:
    chain = build_chain()
    chain[a], chain[b] = chain[b], chain[a]
    assert verify_chain(chain)


def test_inserting_a_forged_entry_is_detected() -> None:
    chain = build_chain()
    forged = AuditEntry.create(
        sequence=3,
        previous_hash=chain[1].hash,
        at=T0,
        actor="intruder",
        action=AuditAction.READ,
        operation="patient",
        outcome=AuditOutcome.SUCCESS,
    )
    chain.insert(2, forged)
    assert verify_chain(chain)


def test_rewritten_chain_is_caught_by_checkpoint() -> None:
    original = build_chain()
    rewritten = build_chain()
    rewritten[0] = AuditEntry.create(
        sequence=1,
        previous_hash=GENESIS_HASH,
        at=T0,
        actor="intruder",
        action=AuditAction.READ,
        operation="patient",
        outcome=AuditOutcome.SUCCESS,
    )
    previous = rewritten[0].hash
    for i in range(1, N):
        entry = attrs.evolve(rewritten[i], previous_hash=previous)
        rewritten[i] = attrs.evolve(entry, hash=chain_hash(entry))
        previous = rewritten[i].hash
    assert verify_chain(rewritten) == ()  # internally consistent ...
    assert verify_chain(rewritten, checkpoint=original[3].hash)  # ... but not the kept one


def test_sequence_must_be_positive() -> None:
    from carecoord import ValidationError

    with pytest.raises(ValidationError):
        AuditEntry.create(
            sequence=0,
            previous_hash=GENESIS_HASH,
            at=T0,
            actor="a",
            action=AuditAction.READ,
            operation="x",
            outcome=AuditOutcome.SUCCESS,
        )
