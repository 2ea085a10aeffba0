"""Converters of referrals (``ServiceRequest`` + its ``Task``) and appointments.

A referral is a ``ServiceRequest`` optionally tracked by a ``Task`` whose
``focus`` is the request; without carecoord's own ``businessStatus`` (a foreign
Bundle) its state is the closest one to the Task's or the request's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from ..model import (
    Appointment,
    AppointmentId,
    AppointmentStatus,
    CarePlanId,
    GoalId,
    InterventionId,
    Referral,
    ReferralId,
    ReferralStatus,
    ReferralTargetKind,
    StaffId,
    TaskPriority,
    TaskStatus,
    Transition,
)
from ._common import cs
from ._read_context import _Entry, _Reader, ext_ref, ext_refs, own_id
from ._read_datatypes import history
from ._read_values import code, coded, fail, items, obj, req_coded, req_dt, req_string, top_bool
from .export import STATUS_SYSTEMS
from .valuesets import code_in


class _RequestStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    ON_HOLD = "on-hold"
    REVOKED = "revoked"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"
    UNKNOWN = "unknown"


# Without a carecoord businessStatus (a foreign Bundle), the closest referral state.
_FROM_TASK: dict[str, ReferralStatus] = {
    "draft": ReferralStatus.DRAFT,
    "requested": ReferralStatus.SENT,
    "received": ReferralStatus.RECEIVED,
    "accepted": ReferralStatus.ACCEPTED,
    "ready": ReferralStatus.ACCEPTED,
    "in-progress": ReferralStatus.IN_PROGRESS,
    "on-hold": ReferralStatus.IN_PROGRESS,
    "completed": ReferralStatus.COMPLETED,
    "rejected": ReferralStatus.DECLINED,
    "cancelled": ReferralStatus.CANCELLED,
    "failed": ReferralStatus.FAILED,
    "entered-in-error": ReferralStatus.ENTERED_IN_ERROR,
}
_FROM_SR: dict[_RequestStatus, ReferralStatus] = {
    _RequestStatus.DRAFT: ReferralStatus.DRAFT,
    _RequestStatus.ACTIVE: ReferralStatus.SENT,
    _RequestStatus.ON_HOLD: ReferralStatus.SENT,
    _RequestStatus.UNKNOWN: ReferralStatus.SENT,
    _RequestStatus.REVOKED: ReferralStatus.CANCELLED,
    _RequestStatus.COMPLETED: ReferralStatus.COMPLETED,
    _RequestStatus.ENTERED_IN_ERROR: ReferralStatus.ENTERED_IN_ERROR,
}


class _ReferralReader(_Reader):
    """ServiceRequest (+ Task) and Appointment -> carecoord."""

    # -- referrals, appointments
    def referral(self, e: _Entry) -> Referral:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        referral_id = ReferralId(own_id(r, at, "referral"))
        task: _Entry | None = None
        for t in self.ctx.of_type("Task"):
            focus = t.resource.get("focus")
            if focus is None:
                continue
            target = self.ctx.resolve(obj(focus, f"{t.path}.focus"), f"{t.path}.focus")
            if target is e or (
                target is None and self.ctx.ref(focus, f"{t.path}.focus", "referral") == referral_id
            ):
                if task is not None:
                    fail(t.path, "a second Task for one referral")
                task = t
        status_sr = code(r, "status", at, "request-status", _RequestStatus)
        if not code_in("request-intent", r.get("intent")):
            fail(f"{at}.intent", "code not in value set request-intent")
        status: ReferralStatus
        hist: tuple[Transition[ReferralStatus], ...] = ()
        outcome = None
        if task is not None:
            self.use(task)
            self.subject(task, "for")
            tr, tat = task.resource, task.path
            code(tr, "status", tat, "task-status", TaskStatus)
            found = coded(
                tr.get("businessStatus"),
                f"{tat}.businessStatus",
                cs("referral-status"),
                ReferralStatus,
                required=False,
            )
            task_status = tr.get("status")
            status = (
                found
                if found is not None
                else _FROM_TASK.get(task_status, ReferralStatus.SENT)
                if isinstance(task_status, str)
                else ReferralStatus.SENT
            )
            hist = history(self.ctx, tr, tat, STATUS_SYSTEMS["Referral"], ReferralStatus)
            for o, where in items(tr, "output", tat):
                o = obj(o, where)
                outcome = req_string(o, "valueString", where)
        else:
            status = _FROM_SR[status_sr]
        priority = r.get("priority", "routine")
        if not code_in("request-priority", priority):
            fail(f"{at}.priority", "code not in value set request-priority")
        performers = items(r, "performer", at)
        if len(performers) != 1:
            fail(f"{at}.performer", "expected exactly one performer")
        based = items(r, "basedOn", at)
        reasons = items(r, "reasonCode", at)
        intervention = ext_ref(self.ctx, r, "intervention", at, "intervention")
        return Referral(
            id=referral_id,
            patient_id=self.patient_id,
            requested_by=StaffId(self.ctx.ref(r.get("requester"), f"{at}.requester", "staff")),
            created_at=req_dt(r, "authoredOn", at),
            target_kind=req_coded(
                r.get("performerType"),
                f"{at}.performerType",
                cs("referral-target-kind"),
                ReferralTargetKind,
            ),
            target_name=req_string(obj(*performers[0]), "display", performers[0][1]),
            service=req_string(obj(r.get("code"), f"{at}.code"), "text", f"{at}.code"),
            reason=None if not reasons else req_string(obj(*reasons[0]), "text", reasons[0][1]),
            priority=TaskPriority(priority),
            status=status,
            plan_id=None
            if not based
            else CarePlanId(self.ctx.ref(based[0][0], based[0][1], "care-plan")),
            intervention_id=None if intervention is None else InterventionId(intervention),
            goal_ids=tuple(GoalId(x) for x in ext_refs(self.ctx, r, "goal", at, "goal")),
            outcome=outcome,
            history=hist,
        )

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
                c.get("code")
                for cc, w in items(p, "type", where)
                for c, _ in items(obj(cc, w), "coding", w)
                if isinstance(c, Mapping)
            ]
            if "PPRF" in kinds:
                provider = req_string(actor, "display", f"{where}.actor")
            elif "LOC" in kinds or actor.get("type") == "Location":
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
