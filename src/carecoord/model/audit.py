"""Audit entries shaped like FHIR AuditEvent, chained by hashes so tampering shows.

Each entry carries the hash of the entry before it; :func:`verify_chain` finds
any edit, deletion, insertion or reordering. Keep a recent head hash outside
the database (see the security docs) and pass it as ``checkpoint``: then
removing the newest entries, or rewriting the whole chain, is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum

import attrs

from ._base import aware, of_type, optional, text
from ._errors import ValidationError

__all__ = [
    "AUDIT_HEAD_ID",
    "GENESIS_HASH",
    "AuditAction",
    "AuditEntry",
    "AuditHead",
    "AuditOutcome",
    "ChainBreak",
    "PurposeOfUse",
    "audit_entry_id",
    "chain_hash",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of the first entry."""


class AuditAction(StrEnum):
    """FHIR AuditEvent.action: create, read, update, delete, execute."""

    CREATE = "C"
    READ = "R"
    UPDATE = "U"
    DELETE = "D"
    EXECUTE = "E"


class AuditOutcome(StrEnum):
    """FHIR AuditEvent.outcome: success, minor failure (e.g. denied), serious, major."""

    SUCCESS = "0"
    MINOR_FAILURE = "4"
    SERIOUS_FAILURE = "8"
    MAJOR_FAILURE = "12"


class PurposeOfUse(StrEnum):
    """FHIR PurposeOfUse codes carecoord records."""

    TREAT = "TREAT"
    ETREAT = "ETREAT"
    HOPERAT = "HOPERAT"
    HPAYMT = "HPAYMT"


def audit_entry_id(sequence: int) -> str:
    """The record id of entry ``sequence``: zero-padded, so id order is chain order."""
    return f"{sequence:020d}"


@attrs.frozen
class AuditEntry:
    """One audited access: when, who, what action on which patient's which record, why, outcome.

    ``operation`` names the service operation (``"set_intervention_status"``);
    ``entity`` is ``"Kind/id"`` of the record touched (or ``None``); ``detail``
    is a short code such as the error type of a failure — never PHI.
    """

    sequence: int = attrs.field(validator=of_type(int))
    at: datetime = attrs.field(validator=aware)
    actor: str = attrs.field(validator=text(max_len=64))
    action: AuditAction = attrs.field(validator=of_type(AuditAction))
    operation: str = attrs.field(validator=text(max_len=100))
    outcome: AuditOutcome = attrs.field(validator=of_type(AuditOutcome))
    purpose: PurposeOfUse = attrs.field(validator=of_type(PurposeOfUse))
    previous_hash: str = attrs.field(validator=text(max_len=64))
    hash: str = attrs.field(validator=text(max_len=64))
    patient_id: str | None = attrs.field(default=None, validator=optional(text(max_len=64)))
    entity: str | None = attrs.field(default=None, validator=optional(text(max_len=200)))
    detail: str | None = attrs.field(default=None, validator=optional(text(max_len=200)))

    def __attrs_post_init__(self) -> None:
        if self.sequence < 1:
            raise ValidationError("AuditEntry.sequence must be >= 1", field="sequence")

    @property
    def id(self) -> str:
        """The record id (see :func:`audit_entry_id`)."""
        return audit_entry_id(self.sequence)

    @classmethod
    def create(
        cls,
        *,
        sequence: int,
        previous_hash: str,
        at: datetime,
        actor: str,
        action: AuditAction,
        operation: str,
        outcome: AuditOutcome,
        purpose: PurposeOfUse = PurposeOfUse.TREAT,
        patient_id: str | None = None,
        entity: str | None = None,
        detail: str | None = None,
    ) -> AuditEntry:
        """Build an entry and compute its hash from its content and ``previous_hash``."""
        draft = cls(
            sequence=sequence,
            at=at,
            actor=actor,
            action=action,
            operation=operation,
            outcome=outcome,
            purpose=purpose,
            previous_hash=previous_hash,
            hash=GENESIS_HASH,
            patient_id=patient_id,
            entity=entity,
            detail=detail,
        )
        return attrs.evolve(draft, hash=chain_hash(draft))


def chain_hash(entry: AuditEntry) -> str:
    """SHA-256 over the entry's canonical content (everything but ``hash``)."""
    content = {
        "sequence": entry.sequence,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action.value,
        "operation": entry.operation,
        "outcome": entry.outcome.value,
        "purpose": entry.purpose.value,
        "previous_hash": entry.previous_hash,
        "patient_id": entry.patient_id,
        "entity": entry.entity,
        "detail": entry.detail,
    }
    blob = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


@attrs.frozen
class ChainBreak:
    """Where and how a chain failed verification."""

    sequence: int
    problem: str


def verify_chain(
    entries: Iterable[AuditEntry], *, checkpoint: str | None = None
) -> tuple[ChainBreak, ...]:
    """Check an audit chain; returns every break found (empty when intact).

    Entries are taken in the order given (the store's id order). Detects edited
    entries (hash mismatch), deleted or inserted ones (sequence gaps or a wrong
    ``previous_hash``) and reordering. ``checkpoint`` is a head hash kept outside
    the database earlier: it must still be the hash of an entry in the chain,
    otherwise the newest entries were removed or the chain was rewritten.
    """
    breaks: list[ChainBreak] = []
    previous = GENESIS_HASH
    expected_sequence = 1
    items: Sequence[AuditEntry] = tuple(entries)
    for entry in items:
        if entry.sequence != expected_sequence:
            breaks.append(ChainBreak(entry.sequence, f"expected sequence {expected_sequence}"))
        if entry.previous_hash != previous:
            breaks.append(
                ChainBreak(entry.sequence, "previous_hash does not match the entry before")
            )
        if chain_hash(entry) != entry.hash:
            breaks.append(ChainBreak(entry.sequence, "content does not match its hash"))
        previous = entry.hash
        expected_sequence = entry.sequence + 1
    if (
        checkpoint is not None
        and checkpoint != GENESIS_HASH
        and not any(entry.hash == checkpoint for entry in items)
    ):
        breaks.append(ChainBreak(expected_sequence - 1, "the kept checkpoint is not in the chain"))
    return tuple(breaks)


AUDIT_HEAD_ID = "head"
"""Record id of the single :class:`AuditHead`."""


@attrs.frozen
class AuditHead:
    """The newest entry of the chain: its sequence and hash (sequence 0: empty chain).

    Appending entries saves the head against the version read, so concurrent
    appends are serialised by optimistic concurrency and the chain never forks.
    """

    sequence: int = attrs.field(default=0, validator=of_type(int))
    hash: str = attrs.field(default=GENESIS_HASH, validator=text(max_len=64))

    @property
    def id(self) -> str:
        """Always :data:`AUDIT_HEAD_ID`."""
        return AUDIT_HEAD_ID
