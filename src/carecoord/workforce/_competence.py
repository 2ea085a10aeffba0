"""Competency currency, protocol compliance, load (see :mod:`carecoord.workforce`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import attrs

from ..model import StaffId, ValidationError
from ..model._base import ensure_aware, instant
from ..model.training import (
    Competency,
    CompetencyId,
    Protocol,
    ProtocolStepId,
    TrainingRecord,
    TrainingRecordId,
)

__all__ = [
    "CompetencyStanding",
    "CompetencyStatus",
    "ComplianceRate",
    "Credential",
    "competency_standing",
    "compliance_rate",
    "credential_of",
    "least_loaded",
    "missing_competencies",
    "protocol_complete",
]

# ------------------------------------------------------------ competencies


@attrs.frozen
class Credential:
    """A training record as the currency rules read it."""

    record_id: TrainingRecordId
    staff_id: StaffId
    competency_id: CompetencyId
    completed_at: datetime
    expires_at: datetime | None
    signed_off: bool

    def current_at(self, moment: datetime) -> bool:
        """Signed off, completed by ``moment`` and not expired at it."""
        now = instant(moment)
        return (
            self.signed_off
            and instant(self.completed_at) <= now
            and (self.expires_at is None or now < instant(self.expires_at))
        )


def credential_of(record: TrainingRecord) -> Credential:
    """The credential a training record gives."""
    return Credential(
        record.id,
        record.staff_id,
        record.competency_id,
        record.completed_at,
        record.expires_at,
        record.is_signed_off,
    )


class CompetencyStatus(StrEnum):
    """Where a staff member stands in one competency at one moment."""

    CURRENT = "current"
    """Signed off and valid beyond the competency's warning window."""
    EXPIRING = "expiring"
    """Signed off and valid, but expiring within the warning window."""
    EXPIRED = "expired"
    """Held once, no longer valid."""
    AWAITING_SIGN_OFF = "awaiting-sign-off"
    """Training completed, not signed off yet."""
    MISSING = "missing"
    """Never trained."""


@attrs.frozen
class CompetencyStanding:
    """A staff member's standing in one competency: status, valid until, from which record."""

    staff_id: StaffId
    competency_id: CompetencyId
    status: CompetencyStatus
    expires_at: datetime | None = None
    record_id: TrainingRecordId | None = None

    @property
    def is_current(self) -> bool:
        """Whether the competency counts now (current or expiring)."""
        return self.status in (CompetencyStatus.CURRENT, CompetencyStatus.EXPIRING)


_NEVER = datetime.max.replace(tzinfo=UTC)


def _valid_until(credential: Credential) -> datetime:
    return _NEVER if credential.expires_at is None else instant(credential.expires_at)


def competency_standing(
    staff_id: StaffId,
    competency: Competency,
    credentials: Iterable[Credential],
    moment: datetime,
) -> CompetencyStanding:
    """Where ``staff_id`` stands in ``competency`` at ``moment``, from their credentials.

    The credential valid longest decides: current (expiring when it expires
    within ``competency.warn_days``); else the latest expired one (expired);
    else an unsigned one (awaiting sign-off); else missing.
    """
    ensure_aware(moment, "moment")
    mine = [c for c in credentials if c.staff_id == staff_id and c.competency_id == competency.id]
    current = [c for c in mine if c.current_at(moment)]
    if current:
        best = max(current, key=_valid_until)
        warn = timedelta(days=competency.warn_days)
        expiring = (
            best.expires_at is not None and instant(best.expires_at) - instant(moment) <= warn
        )
        status = CompetencyStatus.EXPIRING if expiring else CompetencyStatus.CURRENT
        return CompetencyStanding(staff_id, competency.id, status, best.expires_at, best.record_id)
    lapsed = [c for c in mine if c.signed_off and c.expires_at is not None]
    lapsed = [c for c in lapsed if instant(c.expires_at) <= instant(moment)]  # type: ignore[arg-type]
    if lapsed:
        last = max(lapsed, key=_valid_until)
        return CompetencyStanding(
            staff_id, competency.id, CompetencyStatus.EXPIRED, last.expires_at, last.record_id
        )
    waiting = [c for c in mine if not c.signed_off]
    if waiting:
        first = min(waiting, key=lambda c: instant(c.completed_at))
        return CompetencyStanding(
            staff_id, competency.id, CompetencyStatus.AWAITING_SIGN_OFF, None, first.record_id
        )
    return CompetencyStanding(staff_id, competency.id, CompetencyStatus.MISSING)


def missing_competencies(
    staff_id: StaffId,
    required: Iterable[CompetencyId],
    credentials: Iterable[Credential],
    moment: datetime,
) -> tuple[CompetencyId, ...]:
    """The competencies of ``required`` in which ``staff_id`` is not current at ``moment``."""
    ensure_aware(moment, "moment")
    held = {c.competency_id for c in credentials if c.staff_id == staff_id and c.current_at(moment)}
    return tuple(c for c in dict.fromkeys(required) if c not in held)


# -------------------------------------------------------------- protocols


def protocol_complete(protocol: Protocol, steps_done: Iterable[ProtocolStepId]) -> bool:
    """Whether ``steps_done`` holds every required step of ``protocol`` (unknown steps are
    refused: a checklist records only the protocol's own steps)."""
    done = set(steps_done)
    known = {step.id for step in protocol.steps}
    if not done <= known:
        raise ValidationError("steps_done names a step the protocol does not have", field="steps")
    return protocol.complete_with(done)


@attrs.frozen
class ComplianceRate:
    """Protocol compliance over ``[start, end)``: ``numerator`` of ``denominator``.

    ``denominator``: interventions of a kind with a protocol, assigned to
    ``staff_id`` (everyone counted, for a team total: ``staff_id`` ``None``),
    completed in the period. ``numerator``: those of them whose protocol
    checklist was recorded complete with the work. ``rate`` is their
    quotient, ``None`` when nothing was due to follow a protocol.
    """

    staff_id: StaffId | None
    numerator: int
    denominator: int
    start: datetime
    end: datetime

    @property
    def rate(self) -> float | None:
        """``numerator / denominator`` (``None`` for an empty denominator)."""
        return None if self.denominator == 0 else self.numerator / self.denominator


def compliance_rate(
    staff_id: StaffId | None,
    completed: Iterable[tuple[str, datetime]],
    complete_ids: Iterable[str],
    start: datetime,
    end: datetime,
) -> ComplianceRate:
    """The compliance of ``completed`` work: ``(intervention id, completed at)`` pairs,
    counted when completed in ``[start, end)``; ``complete_ids`` are the interventions
    whose checklist was recorded complete."""
    lo, hi = instant(ensure_aware(start, "start")), instant(ensure_aware(end, "end"))
    done = set(complete_ids)
    counted = {item for item, at in completed if lo <= instant(at) < hi}
    return ComplianceRate(staff_id, len(counted & done), len(counted), start, end)


def least_loaded(
    candidates: Iterable[StaffId], loads: Mapping[StaffId, int]
) -> list[tuple[StaffId, int]]:
    """``candidates`` with their open work (0 when unknown), the least loaded first
    (ties by staff id)."""
    return sorted(
        ((c, loads.get(c, 0)) for c in dict.fromkeys(candidates)), key=lambda p: (p[1], p[0])
    )
