"""Audit entries shaped like FHIR AuditEvent, in a tamper-evident, append-only log.

The log works like Certificate Transparency (Trillian): appending an entry is
contention-free, and the chain is built later.

* In the request path an operation writes one unsealed :class:`AuditEntry`
  (:meth:`AuditEntry.create`): a new record with a unique, time-sortable id and
  no link to any other entry, so concurrent operations never touch a shared row.
* A *sealer* (one at a time, see :mod:`carecoord.service.sealing`) later takes
  the unsealed entries in batches, gives each the next ``sequence``, links it
  to its predecessor by ``previous_hash`` and stores its ``hash``
  (:meth:`AuditEntry.seal`). It moves the :class:`AuditHead` forward and writes
  an :class:`AuditCheckpoint` per batch.
* :func:`verify_chain` finds edited, deleted, inserted, duplicated or
  reordered sealed entries and checkpoints that no longer match the chain.

Hashes are SHA-256, or HMAC-SHA256 when a ``key`` is given: with a key kept out
of the database, nobody who can only write the database can recompute a
consistent chain. Without a key, keep a recent head hash outside the database
(see the security docs) and pass it as ``checkpoint``: then rewriting the whole
chain, or cutting off its newest entries, is caught too. The hashing itself
(:func:`chain_hash`, :func:`checkpoint_signature`) lives in the private
``_audit_hashing`` module and is re-exported here.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs

from ._audit_hashing import chain_hash, checkpoint_signature
from ._base import (
    aware,
    ensure_aware,
    instant,
    non_negative_int,
    of_type,
    optional,
    positive_int,
    text,
)
from ._errors import ValidationError

__all__ = [
    "AUDIT_HEAD_ID",
    "GENESIS_HASH",
    "AuditAction",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "AuditOutcome",
    "AuditVerification",
    "ChainBreak",
    "PurposeOfUse",
    "chain_hash",
    "checkpoint_signature",
    "new_audit_entry_id",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
"""The ``previous_hash`` of the first sealed entry (and the hash of an empty chain)."""

AUDIT_HEAD_ID = "head"
"""Record id of the single :class:`AuditHead`."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEX = frozenset("0123456789abcdef")


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


# ------------------------------------------------------------------ helpers
def _hex64(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: 64 lowercase hex digits (a SHA-256 digest); never echoes the value."""
    if not isinstance(value, str) or len(value) != 64 or not _HEX.issuperset(value):
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be 64 lowercase hex digits", field=attr.name
        )


def new_audit_entry_id(at: datetime) -> str:
    """A fresh, unique audit entry id that sorts by time.

    Format: 16 lowercase hex digits of the microseconds from the Unix epoch to
    the UTC instant ``at``, a ``-``, 6 hex digits of a per-process counter,
    then 10 random hex digits, e.g. ``00064a1f0c3b2e00-00002a9f2c4e1a7b``.
    Ids of entries made at different instants sort in time order, and entries
    one process makes at the same instant sort in the order they were made;
    the random part makes concurrent appends from many processes
    collision-free without coordination.
    """
    ensure_aware(at, "at")
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    if micros < 0:
        raise ValidationError("audit times before 1970 are not supported", field="at")
    return f"{micros:016x}-{next(_APPENDS) % 0x1000000:06x}{os.urandom(5).hex()}"


_APPENDS = itertools.count()
"""Orders the ids one process makes at the same instant."""


# -------------------------------------------------------------------- entry
@attrs.frozen
class AuditEntry:
    """One audited access: when, who, what action on which patient's which record, why, outcome.

    ``id`` comes from :func:`new_audit_entry_id`. ``operation`` names the
    service operation (``"set_intervention_status"``); ``entity`` is
    ``"Kind/id"`` of the record touched (or ``None``); ``detail`` is a short
    code such as the error type of a failure — never PHI.

    The sealing fields ``sequence``, ``previous_hash``, ``hash`` and
    ``sealed_at`` are all ``None`` until a sealer links the entry into the
    chain (:meth:`seal`), then all set.
    """

    id: str = attrs.field(validator=text(max_len=64))
    at: datetime = attrs.field(validator=aware)
    actor: str = attrs.field(validator=text(max_len=64))
    action: AuditAction = attrs.field(validator=of_type(AuditAction))
    operation: str = attrs.field(validator=text(max_len=100))
    outcome: AuditOutcome = attrs.field(validator=of_type(AuditOutcome))
    purpose: PurposeOfUse = attrs.field(validator=of_type(PurposeOfUse))
    patient_id: str | None = attrs.field(default=None, validator=optional(text(max_len=64)))
    entity: str | None = attrs.field(default=None, validator=optional(text(max_len=200)))
    detail: str | None = attrs.field(default=None, validator=optional(text(max_len=200)))
    sequence: int | None = attrs.field(default=None, validator=optional(positive_int))
    previous_hash: str | None = attrs.field(default=None, validator=optional(_hex64))
    hash: str | None = attrs.field(default=None, validator=optional(_hex64))
    sealed_at: datetime | None = attrs.field(default=None, validator=optional(aware))

    def __attrs_post_init__(self) -> None:
        sealing = (self.sequence, self.previous_hash, self.hash, self.sealed_at)
        if any(v is None for v in sealing) and any(v is not None for v in sealing):
            raise ValidationError(
                "AuditEntry sequence, previous_hash, hash and sealed_at must be set together",
                field="sequence",
            )

    @property
    def sealed(self) -> bool:
        """Whether a sealer has linked this entry into the chain."""
        return (
            self.sequence is not None and self.hash is not None and self.previous_hash is not None
        )

    @classmethod
    def create(
        cls,
        *,
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
        """A new, unsealed entry with a fresh id (see :func:`new_audit_entry_id`)."""
        return cls(
            id=new_audit_entry_id(at),
            at=at,
            actor=actor,
            action=action,
            operation=operation,
            outcome=outcome,
            purpose=purpose,
            patient_id=patient_id,
            entity=entity,
            detail=detail,
        )

    def seal(
        self,
        sequence: int,
        previous_hash: str,
        *,
        sealed_at: datetime,
        key: bytes | None = None,
    ) -> AuditEntry:
        """This entry linked into the chain at ``sequence`` after ``previous_hash``.

        The hash is computed by :func:`chain_hash` (HMAC-SHA256 with ``key``).
        Sealing an already sealed entry raises :class:`ValidationError`.
        """
        if self.sealed:
            raise ValidationError("the audit entry is already sealed", field="sequence")
        draft = attrs.evolve(
            self,
            sequence=sequence,
            previous_hash=previous_hash,
            hash=GENESIS_HASH,
            sealed_at=sealed_at,
        )
        return attrs.evolve(draft, hash=chain_hash(draft, key))


# ------------------------------------------------------- head and checkpoints
@attrs.frozen
class AuditHead:
    """The sealer's position: the newest sealed sequence and its hash (0: nothing sealed).

    Only sealers write it. A sealer saves it against the version it read, so
    of two concurrent sealers one commits and the other's commit raises
    :class:`~carecoord.ConflictError` and seals nothing.
    """

    sequence: int = attrs.field(default=0, validator=non_negative_int)
    hash: str = attrs.field(default=GENESIS_HASH, validator=_hex64)
    sealed_at: datetime | None = attrs.field(default=None, validator=optional(aware))

    @property
    def id(self) -> str:
        """Always :data:`AUDIT_HEAD_ID`."""
        return AUDIT_HEAD_ID


@attrs.frozen
class AuditCheckpoint:
    """What one seal batch produced: its last ``sequence``, that entry's ``hash``, when, how many.

    ``signature`` is :func:`checkpoint_signature` (keyed when the sealer has a
    key). The id is the zero-padded sequence, so id order is chain order.
    """

    sequence: int = attrs.field(validator=positive_int)
    hash: str = attrs.field(validator=_hex64)
    sealed_at: datetime = attrs.field(validator=aware)
    count: int = attrs.field(validator=positive_int)
    signature: str = attrs.field(validator=_hex64)

    @property
    def id(self) -> str:
        """The record id: the sequence as 20 zero-padded digits."""
        return f"{self.sequence:020d}"

    @classmethod
    def create(
        cls,
        *,
        sequence: int,
        hash: str,
        sealed_at: datetime,
        count: int,
        key: bytes | None = None,
    ) -> AuditCheckpoint:
        """A checkpoint with its signature computed."""
        return cls(
            sequence=sequence,
            hash=hash,
            sealed_at=sealed_at,
            count=count,
            signature=checkpoint_signature(sequence, hash, sealed_at, key),
        )

    def signature_valid(self, key: bytes | None = None) -> bool:
        """Whether ``signature`` matches the content (under ``key``)."""
        expected = checkpoint_signature(self.sequence, self.hash, self.sealed_at, key)
        from hmac import compare_digest  # on first use, not with carecoord

        return compare_digest(expected, self.signature)


# --------------------------------------------------------------- verification
@attrs.frozen
class ChainBreak:
    """Where and how the log failed verification.

    ``problem`` is a short fixed phrase (never a stored value); ``sequence`` and
    ``entry_id`` locate it when known.
    """

    sequence: int | None
    problem: str
    entry_id: str | None = None


@attrs.frozen
class AuditVerification:
    """The result of verifying a stored audit log.

    ``sealed`` entries are in the chain; ``unsealed`` ones wait for the sealer
    (the window the chain does not cover yet). ``head_sequence`` and
    ``head_hash`` are the stored head: keep ``head_hash`` outside the database
    and pass it back as ``checkpoint`` to later verifications.
    """

    breaks: tuple[ChainBreak, ...]
    sealed: int
    unsealed: int
    head_sequence: int
    head_hash: str

    @property
    def intact(self) -> bool:
        """True when no break was found."""
        return not self.breaks


def verify_chain(
    entries: Iterable[AuditEntry],
    *,
    checkpoint: str | None = None,
    key: bytes | None = None,
    checkpoints: Iterable[AuditCheckpoint] = (),
) -> tuple[ChainBreak, ...]:
    """Check the sealed entries of a log; returns every break found (empty when intact).

    ``entries`` are sorted by sequence here. Problems reported:

    * ``"entry is not sealed"`` — an unsealed entry was passed;
    * ``"sequence gap before this entry"`` — entries were deleted;
    * ``"duplicate sequence"`` — an entry was inserted or copied;
    * ``"previous_hash does not match the entry before"`` — a broken link;
    * ``"content does not match its hash"`` — edited, or hashed with another key;
    * ``"checkpoint signature does not verify"``,
      ``"checkpoint does not match the chain"`` (hash or time differ),
      ``"checkpoint is beyond the end of the chain"`` (newest entries removed),
      ``"checkpoint count does not match the chain"`` and
      ``"entries after the newest checkpoint"`` — for the stored ``checkpoints``;
    * ``"the kept checkpoint is not in the chain"`` — ``checkpoint``, a head
      hash kept outside the database, is no entry's hash any more: the chain
      was truncated or rewritten.
    """
    from hmac import compare_digest  # on first use, not with carecoord

    breaks: list[ChainBreak] = []
    sealed: list[AuditEntry] = []
    for entry in entries:
        if entry.sealed:
            sealed.append(entry)
        else:
            breaks.append(ChainBreak(None, "entry is not sealed", entry.id))
    sealed.sort(key=lambda e: (e.sequence or 0, e.id))
    by_sequence: dict[int, AuditEntry] = {}
    link, last = GENESIS_HASH, 0
    for entry in sealed:
        seq = entry.sequence or 0
        if seq in by_sequence:
            breaks.append(ChainBreak(seq, "duplicate sequence", entry.id))
            expected_link = by_sequence[seq].previous_hash
        else:
            if seq != last + 1:
                breaks.append(ChainBreak(seq, "sequence gap before this entry", entry.id))
            expected_link = link
            by_sequence[seq] = entry
        if entry.previous_hash != expected_link:
            breaks.append(
                ChainBreak(seq, "previous_hash does not match the entry before", entry.id)
            )
        if not compare_digest(chain_hash(entry, key), entry.hash or ""):
            breaks.append(ChainBreak(seq, "content does not match its hash", entry.id))
        if by_sequence[seq] is entry:  # of duplicates, the first links on
            link, last = entry.hash or GENESIS_HASH, seq
    breaks.extend(_check_checkpoints(by_sequence, last, checkpoints, key))
    if (
        checkpoint is not None
        and checkpoint != GENESIS_HASH
        and not any(entry.hash == checkpoint for entry in sealed)
    ):
        breaks.append(ChainBreak(None, "the kept checkpoint is not in the chain"))
    return tuple(breaks)


def _check_checkpoints(
    by_sequence: dict[int, AuditEntry],
    last: int,
    checkpoints: Iterable[AuditCheckpoint],
    key: bytes | None,
) -> list[ChainBreak]:
    breaks: list[ChainBreak] = []
    previous = 0
    ordered = sorted(checkpoints, key=lambda c: c.sequence)
    for cp in ordered:
        if not cp.signature_valid(key):
            breaks.append(ChainBreak(cp.sequence, "checkpoint signature does not verify"))
        entry = by_sequence.get(cp.sequence)
        if cp.sequence > last:
            breaks.append(ChainBreak(cp.sequence, "checkpoint is beyond the end of the chain"))
        elif (
            entry is None
            or entry.hash != cp.hash
            or entry.sealed_at is None
            or instant(entry.sealed_at) != instant(cp.sealed_at)
        ):
            entry_id = None if entry is None else entry.id
            breaks.append(ChainBreak(cp.sequence, "checkpoint does not match the chain", entry_id))
        if cp.count != cp.sequence - previous:
            breaks.append(ChainBreak(cp.sequence, "checkpoint count does not match the chain"))
        previous = cp.sequence
    if ordered and ordered[-1].sequence < last:
        newest = by_sequence.get(last)
        breaks.append(
            ChainBreak(
                last, "entries after the newest checkpoint", None if newest is None else newest.id
            )
        )
    return breaks
