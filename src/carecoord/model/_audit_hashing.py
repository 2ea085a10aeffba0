"""The audit log's hashing: entry hashes and checkpoint signatures.

SHA-256 over a domain prefix and canonical JSON, or HMAC-SHA256 when a
``key`` (at least 16 bytes) is given. Datetimes are hashed as their UTC
instant, local wall time and zone name, so changing only the zone changes
the hash. Re-exported by :mod:`carecoord.model.audit`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from ._errors import ValidationError

if TYPE_CHECKING:
    from .audit import AuditEntry

__all__ = ["chain_hash", "checkpoint_signature"]

_ENTRY_DOMAIN = b"carecoord-audit-v2\n"
_CHECKPOINT_DOMAIN = b"carecoord-audit-checkpoint-v2\n"
_MIN_KEY_BYTES = 16


def _check_key(key: bytes | None) -> bytes | None:
    if key is None:
        return None
    if not isinstance(key, bytes):
        raise ValidationError("the audit key must be bytes", field="key")
    if len(key) < _MIN_KEY_BYTES:
        raise ValidationError(f"the audit key must be at least {_MIN_KEY_BYTES} bytes", field="key")
    return key


def _digest(domain: bytes, content: dict[str, Any], key: bytes | None) -> str:
    # Imported on first use, not with carecoord (most programs never hash).
    import hashlib
    import hmac
    import json

    blob = domain + json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    key = _check_key(key)
    if key is None:
        return hashlib.sha256(blob).hexdigest()
    return hmac.new(key, blob, hashlib.sha256).hexdigest()


def _zone(value: datetime) -> str:
    tz = value.tzinfo
    if isinstance(tz, ZoneInfo) and tz.key:
        return tz.key
    offset = value.utcoffset()
    seconds = int(offset.total_seconds()) if offset is not None else 0
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    text_ = f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
    return text_ + (f":{seconds % 60:02d}" if seconds % 60 else "")


def _moment(value: datetime | None) -> dict[str, str] | None:
    """A datetime for hashing: the UTC instant, the local wall time and the zone name."""
    if value is None:
        return None
    return {
        "utc": value.astimezone(UTC).isoformat(timespec="microseconds"),
        "local": value.isoformat(timespec="microseconds"),
        "zone": _zone(value),
    }


def chain_hash(entry: AuditEntry, key: bytes | None = None) -> str:
    """The hex digest binding every field of ``entry`` except ``hash``.

    SHA-256 (HMAC-SHA256 with ``key``, at least 16 bytes) over a domain prefix
    and canonical JSON of: id, sequence, previous_hash, at and sealed_at (each
    as UTC instant, local wall time and zone name, so changing only the zone
    changes the hash), actor, action, operation, outcome, purpose, patient_id,
    entity and detail.
    """
    content = {
        "id": entry.id,
        "sequence": entry.sequence,
        "previous_hash": entry.previous_hash,
        "sealed_at": _moment(entry.sealed_at),
        "at": _moment(entry.at),
        "actor": entry.actor,
        "action": entry.action.value,
        "operation": entry.operation,
        "outcome": entry.outcome.value,
        "purpose": entry.purpose.value,
        "patient_id": entry.patient_id,
        "entity": entry.entity,
        "detail": entry.detail,
    }
    return _digest(_ENTRY_DOMAIN, content, key)


def checkpoint_signature(
    sequence: int, hash: str, sealed_at: datetime, key: bytes | None = None
) -> str:
    """The hex SHA-256 (HMAC-SHA256 with ``key``) over a checkpoint's sequence, hash and time."""
    content = {"sequence": sequence, "hash": hash, "sealed_at": _moment(sealed_at)}
    return _digest(_CHECKPOINT_DOMAIN, content, key)
