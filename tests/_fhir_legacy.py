"""A fixed record for the test of Bundles written by an earlier carecoord export.

``tests/fhir_examples/carecoord-previous-dialect.json`` is what carecoord's export
wrote for :func:`legacy_record` before it followed Gravity and US Core (goal
readings as ``progress-reading`` extensions, referral targets as a display
only, notes without a sender, audit sequences as text). It was made once with
that export (``git show 5106d2a:src/carecoord/fhir/export.py``); this module
imports nothing but the model, so it runs under that version too.
"""

from __future__ import annotations

from datetime import timedelta

import attrs

from carecoord import AuditAction, AuditEntry, ContactChannel, Note, NoteId
from carecoord.fhir import PatientRecord
from carecoord.model import GENESIS_HASH, AuditOutcome, Direction, InteractionParty
from test_fhir_export import COORD, NURSE, PID, T0, rich_record

__all__ = ["legacy_record"]


def legacy_record() -> PatientRecord:
    """The rich record with fixed audit ids and an inbound note from the patient."""
    record = rich_record()
    sealed = attrs.evolve(
        AuditEntry.create(
            at=T0,
            actor=str(COORD),
            action=AuditAction.READ,
            operation="get_patient",
            outcome=AuditOutcome.SUCCESS,
            patient_id=str(PID),
            entity="CarePlan/plan-1",
        ),
        id="legacy-audit-1",
    ).seal(1, GENESIS_HASH, sealed_at=T0 + timedelta(minutes=5))
    unsealed = attrs.evolve(
        AuditEntry.create(
            at=T0 + timedelta(minutes=1),
            actor=str(NURSE),
            action=AuditAction.UPDATE,
            operation="set_intervention_status",
            outcome=AuditOutcome.MINOR_FAILURE,
            patient_id=str(PID),
            detail="AccessDeniedError",
        ),
        id="legacy-audit-2",
    )
    call_back = Note(
        id=NoteId("note-2"),
        patient_id=PID,
        at=T0 + timedelta(days=1),
        author_id=COORD,
        channel=ContactChannel.PHONE,
        direction=Direction.INBOUND,
        party=InteractionParty.PATIENT,
        summary="Patient called back",
        staff_ids=(NURSE,),
    )
    return attrs.evolve(record, notes=(*record.notes, call_back), audit_entries=(sealed, unsealed))
