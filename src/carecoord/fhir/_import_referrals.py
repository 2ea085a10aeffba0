"""Converters of referrals (``ServiceRequest`` + its ``Task``) and appointments.

A referral is a ``ServiceRequest`` optionally tracked by a ``Task`` whose
``focus`` is the request; without carecoord's own ``businessStatus`` (a foreign
Bundle) its state is the closest one to the Task's or the request's status.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

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
    TaskStatus,
    Transition,
)
from ._common import cs
from ._import_report import current
from ._read_context import _Entry, ext_ref, ext_refs, own_id
from ._read_datatypes import history
from ._read_reader import IMPORT_STAFF_ID, UNNAMED, _Reader
from ._read_tracker import consume_all, peek, raw
from ._read_values import (
    code,
    coded,
    dt,
    fail,
    items,
    not_kept,
    obj,
    req_dt,
    req_string,
    string,
    take,
    take_code,
    top_bool,
)
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
_TASK_CODE = "http://hl7.org/fhir/CodeSystem/task-code"
_PARTICIPATION_TYPE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"

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
    def _task_of(self, e: _Entry, referral_id: str) -> _Entry | None:
        """The Task whose ``focus`` is the ServiceRequest ``e`` (looked at, nothing read)."""
        task: _Entry | None = None
        for t in self.ctx.of_type("Task"):
            if self.ctx.names(peek(t.resource, "focus"), e, "referral", referral_id):
                if task is not None:
                    fail(t.path, "a second Task for one referral")
                task = t
        return task

    def referral(self, e: _Entry) -> Referral:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        referral_id = ReferralId(own_id(r, at, "referral"))
        task = self._task_of(e, referral_id)
        status_sr = code(r, "status", at, "request-status", _RequestStatus)
        if take_code(r, "intent", at, "request-intent") is None:
            fail(f"{at}.intent", "code not in value set request-intent")
        for cc, where in items(r, "category", at):
            take(cc, where, (cs("record-category"), "referral"))
        priority = self.priority(r, at)
        requester = None
        if "requester" in r:
            requester = self.ctx.opt_ref(r["requester"], f"{at}.requester", "staff")
        if requester is None:
            current().default(
                f"{at}.requester",
                "no staff member requested it: the FHIR import's staff id",
                IMPORT_STAFF_ID,
            )
        created_at = dt(r, "authoredOn", at, required=False)
        task_at = None
        if task is not None:
            task_at = dt(task.resource, "authoredOn", task.path, required=False)
            if created_at is not None and task_at is not None and task_at != created_at:
                not_kept(f"{task.path}.authoredOn", "the referral keeps the request's time")
        if created_at is None:
            created_at = self.when(r, at, "authoredOn", task_at, "the Task's authoredOn")
        status: ReferralStatus
        hist: tuple[Transition[ReferralStatus], ...] = ()
        outcome = None
        if task is not None:
            self.use(task, ("Referral", referral_id))
            self.subject(task, "for")
            tr, tat = task.resource, task.path
            self.ctx.opt_ref(tr["focus"], f"{tat}.focus", "referral")
            own_id(tr, tat, "referral")
            code(tr, "status", tat, "task-status", TaskStatus)
            take_code(tr, "intent", tat, "task-intent")
            take(tr.get("code"), f"{tat}.code", (_TASK_CODE, "fulfill"))
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
                if "valueString" in o:
                    if outcome is not None:
                        fail(where, "a second outcome (valueString) for one referral")
                    outcome = req_string(o, "valueString", where)
                    take(
                        o.get("type"), f"{where}.type", (cs("record-category"), "referral-outcome")
                    )
            if "requester" in tr:
                by = self.ctx.opt_ref(tr["requester"], f"{tat}.requester", "staff")
                if by != requester:
                    not_kept(f"{tat}.requester", "the referral keeps the request's requester")
            if (
                "priority" in tr
                and take_code(tr, "priority", tat, "request-priority") != priority.value
            ):
                not_kept(f"{tat}.priority", "the referral keeps the request's priority")
        else:
            status = _FROM_SR[status_sr]
        target_name = self.performer(r, at)
        if task is not None:
            owner = peek(task.resource, "owner")
            if isinstance(owner, Mapping) and raw(owner) == {"display": target_name}:
                consume_all(task.resource["owner"])
        kind = coded(
            r.get("performerType"),
            f"{at}.performerType",
            cs("referral-target-kind"),
            ReferralTargetKind,
            required=False,
        )
        if kind is None:
            current().default(
                f"{at}.performerType", "no carecoord referral-target-kind", ReferralTargetKind.OTHER
            )
        based = items(r, "basedOn", at)
        plan = None if not based else self.ctx.opt_ref(based[0][0], based[0][1], "care-plan")
        intervention = ext_ref(self.ctx, r, "intervention", at, "intervention")
        return Referral(
            id=referral_id,
            patient_id=self.patient_id,
            requested_by=StaffId(requester or IMPORT_STAFF_ID),
            created_at=created_at,
            target_kind=kind or ReferralTargetKind.OTHER,
            target_name=target_name,
            service=self.service(r, at),
            reason=self.reason(r, at),
            priority=priority,
            status=status,
            plan_id=None if plan is None else CarePlanId(plan),
            intervention_id=None if intervention is None else InterventionId(intervention),
            goal_ids=tuple(GoalId(x) for x in ext_refs(self.ctx, r, "goal", at, "goal")),
            outcome=outcome,
            history=hist,
        )

    def performer(self, r: Mapping[str, Any], at: str) -> str:
        """The referral's target name: the first performer's display (else a default)."""
        performers = items(r, "performer", at)
        if performers:
            p, where = performers[0]
            name = string(obj(p, where), "display", where, required=False)
            if name is not None:
                return name
        current().default(
            f"{at}.performer", "no performer display: the target is not named", UNNAMED
        )
        return UNNAMED

    def service(self, r: Mapping[str, Any], at: str) -> str:
        """The service asked for: ``code.text``, else a coding's display, else its code."""
        if "code" not in r:
            current().default(f"{at}.code", "no code: the service is not named", UNNAMED)
            return UNNAMED
        cc = obj(r["code"], f"{at}.code")
        text = string(cc, "text", f"{at}.code", required=False)
        if text is not None:
            return text
        return self.concept_text(cc, f"{at}.code", "the service")

    def reason(self, r: Mapping[str, Any], at: str) -> str | None:
        """The first ``reasonCode``'s text (or coding display); the others are reported."""
        reasons = items(r, "reasonCode", at)
        if not reasons:
            return None
        cc, where = obj(*reasons[0]), reasons[0][1]
        text = string(cc, "text", where, required=False)
        return text if text is not None else self.concept_text(cc, where, "the reason")

    def concept_text(self, cc: Mapping[str, Any], at: str, what: str) -> str:
        """A concept's text from its first Coding: the display, else ``system|code``."""
        codings = items(cc, "coding", at)
        if not codings:
            fail(at, "a concept with neither text nor coding")
        c, where = obj(*codings[0]), codings[0][1]
        display = string(c, "display", where, required=False)
        if display is not None:
            current().default(f"{at}.text", f"no text: {what} is the coding's display")
            return display
        system = req_string(c, "system", where)
        code_ = req_string(c, "code", where)
        current().default(f"{at}.text", f"no text or display: {what} is the coding's system|code")
        return f"{system}|{code_}"

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
