"""The staffing record kinds and their index rows (registered in :mod:`.records`).

Pure: imports only the model. Every staffing question the service answers runs
on these rows; none decodes a shift, a time off, a training record or a slot:

===================  ===========================  ==========================================
category             ``owner_id``                 row
===================  ===========================  ==========================================
``shift``            the staff member             a shift: ``changed_at`` start, ``due_at``
                                                  end, ``status`` on-site/on-call, open while
                                                  planned, ``detail`` ``role|location``
``duty``             ``location|role``            the same shift, ``detail`` the staff member
``time-off``         the staff member             ``changed_at`` start, ``due_at`` end,
                                                  ``status`` the kind, open unless cancelled,
                                                  ``detail`` the covering member
``rota``             the rota's owner             open while active, ``status`` the shift
                                                  kind, ``detail`` ``location|role``
``training``         the staff member             ``status`` the competency, ``changed_at``
                                                  completed, ``due_at`` expiry, open once
                                                  signed off, ``detail`` the signer
``protocol``         who did the work             ``item_id`` the intervention, ``detail``
                                                  its plan, ``status`` complete/incomplete,
                                                  ``due_at`` and ``changed_at`` when
``schedule``         the provider                 open while active, ``detail`` the location
``slot``             the provider                 ``due_at`` start, ``changed_at`` end,
                                                  ``status`` the slot status, open while
                                                  free, ``patient_id`` whom it is booked for,
                                                  ``detail`` ``location|schedule|appointment``
``slot-location``    the location                 the same slot, ``detail``
                                                  ``provider|schedule|appointment``
===================  ===========================  ==========================================

A shift lasts at most :data:`~carecoord.model.workforce.MAX_SHIFT`, so "on
duty at *t*" is a due range (ends after *t*, at most that long after) read
from the ``duty`` rows of one location and role.
"""

from __future__ import annotations

from typing import Any

from .._fastcodec import builder
from ..model.scheduling import Schedule, Slot
from ..model.training import ProtocolCompletion, StaffingPolicy, TrainingRecord
from ..model.workforce import Rota, Shift, TimeOff
from .port import IndexRow

__all__ = ["WORKFORCE_RECORD_TYPES", "duty_key", "workforce_rows"]

WORKFORCE_RECORD_TYPES: tuple[type[Any], ...] = (
    Shift,
    TimeOff,
    Rota,
    TrainingRecord,
    StaffingPolicy,
    ProtocolCompletion,
    Schedule,
    Slot,
)
"""The staffing record kinds (part of :data:`~carecoord.storage.RECORD_TYPES`)."""


def duty_key(location_id: str, role: str) -> str:
    """The ``owner_id`` of the ``duty`` rows of one location and role."""
    return f"{location_id}|{role}"


def workforce_rows(record: object) -> tuple[IndexRow, ...]:
    """The index rows of a staffing record (empty for any other record)."""
    row = builder(IndexRow)  # every datetime here is a model one (aware)
    match record:
        case Shift():
            planned = record.is_planned
            kind = record.kind._value_
            role, location = record.role._value_, str(record.location_id)
            return (
                row(
                    category="shift",
                    item_id=str(record.id),
                    patient_id=None,
                    owner_id=str(record.staff_id),
                    status=kind,
                    is_open=planned,
                    priority=0,
                    due_at=record.end,
                    changed_at=record.start,
                    detail=f"{role}|{location}",
                ),
                row(
                    category="duty",
                    item_id=str(record.id),
                    patient_id=None,
                    owner_id=duty_key(location, role),
                    status=kind,
                    is_open=planned,
                    priority=0,
                    due_at=record.end,
                    changed_at=record.start,
                    detail=str(record.staff_id),
                ),
            )
        case TimeOff():
            return (
                row(
                    category="time-off",
                    item_id=str(record.id),
                    patient_id=None,
                    owner_id=str(record.staff_id),
                    status=record.kind._value_,
                    is_open=not record.cancelled,
                    priority=0,
                    due_at=record.end,
                    changed_at=record.start,
                    detail=None if record.covered_by is None else str(record.covered_by),
                ),
            )
        case Rota():
            return (
                row(
                    category="rota",
                    item_id=str(record.id),
                    patient_id=None,
                    owner_id=str(record.owner_id),
                    status=record.kind._value_,
                    is_open=record.active,
                    priority=0,
                    due_at=None,
                    changed_at=None,
                    detail=f"{record.location_id}|{record.role._value_}",
                ),
            )
        case TrainingRecord():
            return (
                row(
                    category="training",
                    item_id=str(record.id),
                    patient_id=None,
                    owner_id=str(record.staff_id),
                    status=str(record.competency_id),
                    is_open=record.is_signed_off,
                    priority=0,
                    due_at=record.expires_at,
                    changed_at=record.completed_at,
                    detail=None if record.signed_off_by is None else str(record.signed_off_by),
                ),
            )
        case ProtocolCompletion():
            return (
                row(
                    category="protocol",
                    item_id=str(record.intervention_id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.staff_id),
                    status="complete" if record.complete else "incomplete",
                    is_open=False,
                    priority=0,
                    due_at=record.at,  # a period's checklists are a due range
                    changed_at=record.at,
                    detail=str(record.plan_id),
                ),
            )
        case Schedule():
            return (
                row(
                    category="schedule",
                    item_id=str(record.id),
                    patient_id=None,
                    owner_id=str(record.provider_id),
                    status="active" if record.active else "inactive",
                    is_open=record.active,
                    priority=0,
                    due_at=None,
                    changed_at=None,
                    detail=str(record.location_id),
                ),
            )
        case Slot():
            return _slot_rows(record)
        case StaffingPolicy():
            return ()
        case _:
            return ()


def _slot_rows(slot: Slot) -> tuple[IndexRow, ...]:
    row = builder(IndexRow)
    appointment = "" if slot.appointment_id is None else str(slot.appointment_id)
    common: dict[str, Any] = {
        "item_id": str(slot.id),
        "patient_id": None if slot.booked_for is None else str(slot.booked_for),
        "status": slot.status._value_,
        "is_open": slot.is_free,
        "priority": 0,
        "due_at": slot.start,
        "changed_at": slot.end,
    }
    return (
        row(
            category="slot",
            owner_id=str(slot.provider_id),
            detail=f"{slot.location_id}|{slot.schedule_id}|{appointment}",
            **common,
        ),
        row(
            category="slot-location",
            owner_id=str(slot.location_id),
            detail=f"{slot.provider_id}|{slot.schedule_id}|{appointment}",
            **common,
        ),
    )
