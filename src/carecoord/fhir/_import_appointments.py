"""Converter of appointments (``Appointment``): the patient, a provider and a location.

A mixin of :class:`~carecoord.fhir._import._Importer`, on the reader base.
"""

from __future__ import annotations

from ..model import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    InterventionId,
    ReferralId,
    StaffId,
)
from ._read_context import _Entry, ext_ref, own_id
from ._read_datatypes import history
from ._read_reader import _Reader
from ._read_tracker import peek
from ._read_values import code, fail, items, obj, req_dt, req_string, take, take_code, top_bool
from .export import STATUS_SYSTEMS
from .valuesets import code_in

__all__ = ["_AppointmentReader"]

_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"


class _AppointmentReader(_Reader):
    """Appointment -> carecoord."""

    def appointment(self, e: _Entry) -> Appointment:
        r, at = e.resource, e.path
        provider = location = None
        patient_seen = False
        for p, where in items(r, "participant", at):
            p = obj(p, where)
            if not code_in("participationstatus", p.get("status")):
                fail(f"{where}.status", "code not in value set participationstatus")
            actor = obj(p.get("actor"), f"{where}.actor")
            kinds = [
                code
                for cc, w in items(p, "type", where)
                for code in ("PPRF", "LOC")
                if take(cc, w, (_PARTICIPATION_TYPE, code))
            ]
            if "PPRF" in kinds:
                provider = req_string(actor, "display", f"{where}.actor")
            elif "LOC" in kinds or peek(actor, "type") == "Location":
                take_code(actor, "type", f"{where}.actor", "resource-types")
                location = req_string(actor, "display", f"{where}.actor")
            elif actor.get("type") == "Patient" or "identifier" in actor or "reference" in actor:
                if self.ctx.ref(actor, f"{where}.actor", "patient") != self.patient_id:
                    fail(f"{where}.actor", "refers to another patient")
                patient_seen = True
        if not patient_seen:
            fail(f"{at}.participant", "the patient is not a participant")
        if provider is None or location is None:
            fail(f"{at}.participant", "needs a provider (PPRF) and a location (LOC) participant")
        based = items(r, "basedOn", at)
        booked = ext_ref(self.ctx, r, "booked-by", at, "staff")
        intervention = ext_ref(self.ctx, r, "intervention", at, "intervention")
        return Appointment(
            id=AppointmentId(own_id(r, at, "appointment")),
            patient_id=self.patient_id,
            start=req_dt(r, "start", at),
            end=req_dt(r, "end", at),
            provider=provider,
            location=location,
            status=code(r, "status", at, "appointmentstatus", AppointmentStatus),
            transport_needed=top_bool(r, "transport-needed", at, False),
            referral_id=None
            if not based
            else ReferralId(self.ctx.ref(based[0][0], based[0][1], "referral")),
            intervention_id=None if intervention is None else InterventionId(intervention),
            booked_by=None if booked is None else StaffId(booked),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["Appointment"], AppointmentStatus),
        )
