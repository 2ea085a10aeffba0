"""Domain events of care programs. Part of :mod:`carecoord.events` (import them from there)."""

from __future__ import annotations

import attrs

from ._base import DomainEvent

__all__ = ["DisenrolledFromProgram", "EnrolledInProgram"]


@attrs.frozen(kw_only=True)
class EnrolledInProgram(DomainEvent):
    """A patient was enrolled in care program ``program_id`` (period ``sequence``)."""

    program_id: str
    enrolment_id: str
    sequence: int
    owner_id: str


@attrs.frozen(kw_only=True)
class DisenrolledFromProgram(DomainEvent):
    """A patient's enrolment in care program ``program_id`` ended, for ``reason`` (a code)."""

    program_id: str
    enrolment_id: str
    reason: str
    owner_id: str
