"""The audit model: unsealed entries, sealing, and a hash chain that shows any tampering."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest

from carecoord import ValidationError
from carecoord.model.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditCheckpoint,
    AuditEntry,
    AuditHead,
    AuditOutcome,
    AuditVerification,
    ChainBreak,
    PurposeOfUse,
    chain_hash,
    checkpoint_signature,
    new_audit_entry_id,
    verify_chain,
)
from carecoord.serialization import from_payload, to_payload

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 23, 9, tzinfo=BERLIN)
SEALED_AT = datetime(2026, 11, 23, 10, tzinfo=BERLIN)
KEY = b"k" * 32
N = 6


def unsealed(i: int) -> AuditEntry:
    return AuditEntry.create(
        at=T0 + timedelta(minutes=i),
        actor=f"staff-{i % 2}",
        action=AuditAction.READ if i % 2 else AuditAction.UPDATE,
        operation="patient" if i % 2 else "update_patient",
        outcome=AuditOutcome.SUCCESS,
        purpose=PurposeOfUse.TREAT,
        patient_id=f"p-{i % 3}",
        entity=f"Patient/p-{i % 3}",
    )


def build_chain(n: int = N, key: bytes | None = None) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous = GENESIS_HASH
    for i in range(1, n + 1):
        entry = unsealed(i).seal(i, previous, sealed_at=SEALED_AT, key=key)
        entries.append(entry)
        previous = entry.hash or ""
    return entries


def problems(breaks: tuple[ChainBreak, ...]) -> set[str]:
    return {b.problem for b in breaks}


def test_create_is_unsealed_with_a_time_sortable_id() -> None:
    entry = unsealed(1)
    assert not entry.sealed
    assert (entry.sequence, entry.hash, entry.previous_hash, entry.sealed_at) == (None,) * 4
    assert re.fullmatch(r"[0-9a-f]{16}-[0-9a-f]{16}", entry.id)
    micros = int(entry.id[:16], 16)
    assert datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=micros) == entry.at


def test_ids_sort_by_instant_and_are_unique() -> None:
    times = [T0 + timedelta(microseconds=i) for i in range(50)]
    utc_times = [t.astimezone(UTC) for t in times]
    ids = [new_audit_entry_id(t) for t in times]
    assert sorted(ids) == ids
    assert [new_audit_entry_id(t)[:16] for t in utc_times] == [i[:16] for i in ids]
    assert len({new_audit_entry_id(T0) for _ in range(200)}) == 200


def test_id_needs_an_aware_time_after_1970() -> None:
    with pytest.raises(ValidationError):
        new_audit_entry_id(datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        new_audit_entry_id(datetime(1969, 12, 31, tzinfo=UTC))


def test_intact_chain_verifies() -> None:
    chain = build_chain()
    assert all(e.sealed for e in chain)
    assert verify_chain(chain) == ()
    assert verify_chain(chain, checkpoint=chain[-1].hash) == ()
    assert verify_chain(chain, checkpoint=chain[2].hash) == ()
    assert verify_chain(chain, checkpoint=GENESIS_HASH) == ()
    assert verify_chain([]) == ()


def test_order_of_the_input_does_not_matter() -> None:
    chain = build_chain()
    shuffled = chain[:]
    random.Random(7).shuffle(shuffled)
    assert verify_chain(shuffled) == ()


def test_keyed_chain_verifies_only_with_its_key() -> None:
    chain = build_chain(key=KEY)
    assert verify_chain(chain, key=KEY) == ()
    assert problems(verify_chain(chain)) == {"content does not match its hash"}
    assert verify_chain(build_chain(), key=KEY)
    assert verify_chain(chain, key=b"x" * 32)


def test_hash_is_deterministic_and_content_bound() -> None:
    chain = build_chain()
    assert all(chain_hash(e) == e.hash for e in chain)
    assert len({e.hash for e in chain}) == N
    assert chain_hash(chain[0], KEY) != chain_hash(chain[0])


def test_hash_survives_serialization_with_the_zone() -> None:
    entry = build_chain(1)[0]
    back = from_payload(to_payload(entry), AuditEntry)
    assert back == entry
    assert back.at.tzinfo == BERLIN
    assert chain_hash(back) == entry.hash


NEW_YORK = ZoneInfo("America/New_York")
FIELD_EDITS: dict[str, Any] = {
    "id": lambda e: new_audit_entry_id(e.at),
    "sequence": lambda e: e.sequence + 1,
    "previous_hash": lambda e: "f" * 64,
    "sealed_at": lambda e: e.sealed_at + timedelta(microseconds=1),
    "sealed_at zone": lambda e: e.sealed_at.astimezone(NEW_YORK),
    "at": lambda e: e.at + timedelta(microseconds=1),
    "at zone": lambda e: e.at.astimezone(ZoneInfo("Europe/Paris")),  # same instant and offset
    "at fixed offset": lambda e: e.at.astimezone(timezone(timedelta(hours=1))),
    "actor": lambda e: "intruder",
    "action": lambda e: AuditAction.DELETE,
    "operation": lambda e: "export",
    "outcome": lambda e: AuditOutcome.MINOR_FAILURE,
    "purpose": lambda e: PurposeOfUse.ETREAT,
    "patient_id": lambda e: "p-999",
    "entity": lambda e: "CarePlan/x",
    "detail": lambda e: "AccessDeniedError",
}


def _edit(entry: AuditEntry, edit: str) -> AuditEntry:
    field = edit.split(" ")[0]
    return attrs.evolve(entry, **{field: FIELD_EDITS[edit](entry)})


@pytest.mark.parametrize("edit", FIELD_EDITS)
def test_every_field_changes_the_hash(edit: str) -> None:
    entry = build_chain(2)[1]
    edited = _edit(entry, edit)
    assert to_payload(edited) != to_payload(entry)  # datetimes compare as instants
    assert chain_hash(edited) != entry.hash
    assert chain_hash(edited, KEY) != chain_hash(entry, KEY)


def test_removing_a_field_value_changes_the_hash() -> None:
    entry = build_chain(1)[0]
    assert chain_hash(attrs.evolve(entry, patient_id=None)) != entry.hash
    assert chain_hash(attrs.evolve(entry, entity=None)) != entry.hash


@pytest.mark.parametrize("position", range(N))
@pytest.mark.parametrize("edit", [e for e in FIELD_EDITS if e != "sequence"])
def test_editing_any_field_of_any_entry_is_detected(position: int, edit: str) -> None:
    chain = build_chain()
    chain[position] = _edit(chain[position], edit)
    breaks = verify_chain(chain)
    assert breaks
    assert breaks[0].sequence == position + 1
    assert breaks[0].entry_id == chain[position].id


@pytest.mark.parametrize("position", range(N))
def test_editing_and_rehashing_one_entry_breaks_the_next_link(position: int) -> None:
    chain = build_chain()
    head = chain[-1].hash
    forged = attrs.evolve(chain[position], actor="intruder")
    chain[position] = attrs.evolve(forged, hash=chain_hash(forged))
    assert verify_chain(chain, checkpoint=head)  # next link or, for the last, the checkpoint


@pytest.mark.parametrize("position", range(N))
def test_deleting_any_entry_is_detected(position: int) -> None:
    chain = build_chain()
    head = chain[-1].hash
    del chain[position]
    assert verify_chain(chain, checkpoint=head)


def test_deleting_newest_entries_needs_a_checkpoint() -> None:
    chain = build_chain()
    head = chain[-1].hash
    truncated = chain[:-2]
    assert verify_chain(truncated) == ()  # indistinguishable without a kept head ...
    assert problems(verify_chain(truncated, checkpoint=head)) == {
        "the kept checkpoint is not in the chain"
    }
    stored = AuditCheckpoint.create(sequence=N, hash=head or "", sealed_at=SEALED_AT, count=N)
    assert problems(verify_chain(truncated, checkpoints=[stored])) == {
        "checkpoint is beyond the end of the chain"
    }


def test_swapping_sequences_is_detected() -> None:
    chain = build_chain()
    a, b = chain[1], chain[4]
    chain[1] = attrs.evolve(a, sequence=b.sequence)
    chain[4] = attrs.evolve(b, sequence=a.sequence)
    assert "content does not match its hash" in problems(verify_chain(chain))


def test_duplicate_sequence_is_detected() -> None:
    chain = build_chain()
    copy = unsealed(99).seal(3, chain[1].hash or "", sealed_at=SEALED_AT)
    breaks = verify_chain([*chain, copy])
    assert ChainBreak(3, "duplicate sequence", max(copy.id, chain[2].id)) in breaks


def test_inserting_a_forged_entry_is_detected() -> None:
    chain = build_chain()
    forged = unsealed(3).seal(3, chain[1].hash or "", sealed_at=SEALED_AT)
    later = [attrs.evolve(e, sequence=(e.sequence or 0) + 1) for e in chain[2:]]
    assert verify_chain([*chain[:2], forged, *later])


def test_rewritten_chain_is_caught_by_the_kept_checkpoint() -> None:
    original = build_chain()
    rewritten = [attrs.evolve(e, actor="intruder") for e in original]
    previous = GENESIS_HASH
    for i, entry in enumerate(rewritten):
        entry = attrs.evolve(entry, previous_hash=previous)
        rewritten[i] = attrs.evolve(entry, hash=chain_hash(entry))
        previous = rewritten[i].hash or ""
    assert verify_chain(rewritten) == ()  # internally consistent ...
    assert verify_chain(rewritten, checkpoint=original[3].hash)  # ... but not the kept one


def test_rewriting_without_the_key_is_detected() -> None:
    chain = build_chain(key=KEY)
    rewritten: list[AuditEntry] = []
    previous = GENESIS_HASH
    for entry in chain:
        forged = attrs.evolve(entry, actor="intruder", previous_hash=previous)
        forged = attrs.evolve(forged, hash=chain_hash(forged))  # the attacker has no key
        rewritten.append(forged)
        previous = forged.hash or ""
    assert problems(verify_chain(rewritten, key=KEY)) == {"content does not match its hash"}


def test_unsealed_entries_are_reported() -> None:
    entry = unsealed(1)
    assert verify_chain([entry]) == (ChainBreak(None, "entry is not sealed", entry.id),)


def checkpoints_for(chain: list[AuditEntry], key: bytes | None = None) -> list[AuditCheckpoint]:
    return [
        AuditCheckpoint.create(
            sequence=seq, hash=chain[seq - 1].hash or "", sealed_at=SEALED_AT, count=3, key=key
        )
        for seq in (3, 6)
    ]


def test_stored_checkpoints_verify() -> None:
    chain = build_chain(key=KEY)
    stored = checkpoints_for(chain, KEY)
    assert [c.id for c in stored] == ["00000000000000000003", "00000000000000000006"]
    assert verify_chain(chain, key=KEY, checkpoints=stored) == ()
    assert all(c.signature_valid(KEY) for c in stored)
    assert not stored[0].signature_valid()


def test_checkpoint_problems_are_detected() -> None:
    chain = build_chain()
    good = checkpoints_for(chain)
    cases: dict[str, list[AuditCheckpoint]] = {
        "checkpoint signature does not verify": [attrs.evolve(good[0], sequence=2), good[1]],
        "checkpoint does not match the chain": [
            AuditCheckpoint.create(sequence=3, hash="a" * 64, sealed_at=SEALED_AT, count=3),
            good[1],
        ],
        "checkpoint count does not match the chain": [attrs.evolve(good[0], count=2), good[1]],
        "entries after the newest checkpoint": [good[0]],
    }
    for problem, stored in cases.items():
        assert problem in problems(verify_chain(chain, checkpoints=stored)), problem
    moved = AuditCheckpoint.create(
        sequence=6, hash=chain[5].hash or "", sealed_at=SEALED_AT + timedelta(seconds=1), count=3
    )
    assert "checkpoint does not match the chain" in problems(
        verify_chain(chain, checkpoints=[good[0], moved])
    )


def test_sealing_rules() -> None:
    entry = build_chain(1)[0]
    with pytest.raises(ValidationError):
        entry.seal(2, entry.hash or "", sealed_at=SEALED_AT)
    with pytest.raises(ValidationError):
        unsealed(1).seal(0, GENESIS_HASH, sealed_at=SEALED_AT)
    with pytest.raises(ValidationError):
        unsealed(1).seal(1, "not-a-hash", sealed_at=SEALED_AT)
    with pytest.raises(ValidationError):
        unsealed(1).seal(1, GENESIS_HASH, sealed_at=datetime(2026, 1, 1))
    with pytest.raises(ValidationError):
        attrs.evolve(entry, sealed_at=None)  # all sealing fields, or none
    with pytest.raises(ValidationError):
        attrs.evolve(unsealed(1), sequence=1)


@pytest.mark.parametrize("key", [b"short", "a-string-key-of-32-characters!!!"])
def test_keys_must_be_long_enough_bytes(key: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        unsealed(1).seal(1, GENESIS_HASH, sealed_at=SEALED_AT, key=key)
    assert caught.value.field == "key"
    with pytest.raises(ValidationError):
        checkpoint_signature(1, GENESIS_HASH, SEALED_AT, key)


def test_head_and_verification_values() -> None:
    head = AuditHead()
    assert (head.id, head.sequence, head.hash, head.sealed_at) == ("head", 0, GENESIS_HASH, None)
    with pytest.raises(ValidationError):
        AuditHead(sequence=-1)
    result = AuditVerification(
        breaks=(), sealed=3, unsealed=1, head_sequence=3, head_hash=GENESIS_HASH
    )
    assert result.intact
    assert not attrs.evolve(result, breaks=(ChainBreak(1, "duplicate sequence"),)).intact


def test_messages_never_echo_values() -> None:
    with pytest.raises(ValidationError) as caught:
        attrs.evolve(unsealed(1), actor="x" * 65)
    assert "x" * 10 not in str(caught.value)
    with pytest.raises(ValidationError) as caught:
        attrs.evolve(build_chain(1)[0], hash="secret-value")
    assert "secret-value" not in str(caught.value)
