"""Converters of referrals: a ``ServiceRequest`` and the ``Task`` tracking it.

A referral is a ``ServiceRequest`` optionally tracked by a ``Task`` whose
``focus`` is the request; without carecoord's own ``businessStatus`` (a foreign
Bundle) its state is the closest one to the Task's or the request's status.
What refers outside the input is kept as :class:`~carecoord.model.ExternalRef`: the
target (``performer``, and the Task's ``owner`` naming the same), the
conditions it addresses (``reasonReference``; a Condition in the input is a
health concern), the records it resulted in (``Task.output.valueReference``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from ..model import (
    CarePlanId,
    ExternalRef,
    GoalId,
    HealthConcernId,
    InterventionId,
    Referral,
    ReferralId,
    ReferralStatus,
    ReferralTargetKind,
    StaffId,
    TaskStatus,
    Transition,
)
from ._common import cs, id_system
from ._derived import RESULTING_ACTIVITY, SDOH_SYSTEM, RecordIndex
from ._import_report import current
from ._read_context import _Entry, ext_ref, ext_refs, own_id
from ._read_datatypes import history
from ._read_external import external, outside_of
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
    req_string,
    string,
    take,
    take_code,
)
from .export import STATUS_SYSTEMS


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


_TARGET_TYPES = frozenset({"Organization", "PractitionerRole"})
TARGET_TYPES = ("Organization", "PractitionerRole", "Practitioner", "HealthcareService", "CareTeam")
"""What a referral's target outside the input may be (see ``Referral.target``)."""
REASON_TYPES = ("Condition", "Observation", "DiagnosticReport", "DocumentReference")
"""What a referral may address outside the input (``ServiceRequest.reasonReference``)."""
_OUTCOME_TYPES = ((SDOH_SYSTEM, RESULTING_ACTIVITY), (cs("record-category"), "referral-outcome"))


def _has(cc: Any, system: str) -> bool:
    """Whether CodeableConcept ``cc`` has a Coding of ``system`` (looks only)."""
    codings = peek(cc, "coding") if isinstance(cc, Mapping) else None
    return isinstance(codings, list) and any(
        isinstance(c, Mapping) and peek(c, "system") == system for c in codings
    )


def _is_concept(cc: Any, system: str, code: str) -> bool:
    """Whether ``cc`` is exactly one Coding ``system|code`` (a display and text allowed)."""
    if not isinstance(cc, Mapping) or not set(cc) <= {"coding", "text"}:
        return False
    codings = peek(cc, "coding")
    return (
        isinstance(codings, list)
        and len(codings) == 1
        and isinstance(codings[0], Mapping)
        and set(codings[0]) <= {"system", "code", "display"}
        and (peek(codings[0], "system"), peek(codings[0], "code")) == (system, code)
    )


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
        sdoh = []
        for cc, where in items(r, "category", at):
            if not take(cc, where, (cs("record-category"), "referral")) and _has(cc, SDOH_SYSTEM):
                sdoh.append((cc, where))
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
        activities: list[tuple[Any, str]] = []
        outcome_refs: list[ExternalRef] = []
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
                    take(o.get("type"), f"{where}.type", *_OUTCOME_TYPES)
                elif "valueReference" in o:
                    value = peek(o, "valueReference")
                    if outside_of(self.ctx, value, f"{where}.valueReference"):
                        kept = external(self.ctx, o["valueReference"], f"{where}.valueReference")
                        take(o.get("type"), f"{where}.type", (SDOH_SYSTEM, RESULTING_ACTIVITY))
                        if kept is not None and kept not in outcome_refs:
                            outcome_refs.append(kept)
                    else:
                        activities.append((o, where))
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
        kind = coded(
            r.get("performerType"),
            f"{at}.performerType",
            cs("referral-target-kind"),
            ReferralTargetKind,
            required=False,
        )
        target_name, target, outside = self.performer(r, at, task, kind, referral_id)
        if kind is None and target is not None:
            kind = self.target_kind(target)
        if kind is None:
            current().default(
                f"{at}.performerType", "no carecoord referral-target-kind", ReferralTargetKind.OTHER
            )
        reasons, concern_ids, reason_refs = self.reasons(r, at)
        based = items(r, "basedOn", at)
        plan = None if not based else self.ctx.opt_ref(based[0][0], based[0][1], "care-plan")
        intervention = ext_ref(self.ctx, r, "intervention", at, "intervention")
        referral = Referral(
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
            target=outside,
            outcome_refs=tuple(outcome_refs),
            concern_ids=tuple(concern_ids),
            reason_refs=tuple(reason_refs),
        )
        derived = (sdoh, reasons, activities)
        self.later.append(lambda ix: self._referral_derived(ix, referral, *derived))
        return referral

    def _referral_derived(
        self,
        ix: RecordIndex,
        referral: Referral,
        categories: list[tuple[Any, str]],
        reasons: list[tuple[Any, str]],
        activities: list[tuple[Any, str]],
    ) -> None:
        """Take a referral's SDOH categories, conditions and appointments if derived."""
        self.derived(
            categories,
            ix.referral_categories(referral),
            lambda cc, _, code: _is_concept(cc, SDOH_SYSTEM, code),
            "an SDOH category carecoord derives from the needs and barriers the referral "
            "addresses and its target",
        )
        self.derived(
            reasons,
            ix.referral_reasons(referral),
            lambda x, where, want: self.ctx.points_at(x, where, *want),
            "carecoord derives the conditions a referral addresses from its goals' needs and "
            "its intervention's barriers",
        )
        self.derived(
            activities,
            ix.referral_activities(referral),
            lambda o, where, cid: (
                set(o) == {"type", "valueReference"}
                and _is_concept(peek(o, "type"), SDOH_SYSTEM, RESULTING_ACTIVITY)
                and self.ctx.points_at(peek(o, "valueReference"), where, "appointment", cid)
            ),
            "carecoord keeps a referral's outcome as text, what it resulted in outside the "
            "input as a reference; the appointments it led to are the Appointments based on it",
        )

    def performer(
        self,
        r: Mapping[str, Any],
        at: str,
        task: _Entry | None,
        kind: ReferralTargetKind | None,
        referral_id: str,
    ) -> tuple[str, _Entry | None, ExternalRef | None]:
        """The referral's target: its name, the resource in the input or the one outside it.

        The first performer (else the Task's owner): an Organization or
        PractitionerRole in the input gives its name; a reference outside the
        input is kept (its display is the name); a display alone gives the
        name. The Task's owner naming the same target is taken.
        """
        owner = None if task is None else peek(task.resource, "owner")
        owner_at = "" if task is None else f"{task.path}.owner"
        performers = items(r, "performer", at)
        if performers:
            p, where = performers[0]
        elif (
            task is not None
            and isinstance(owner, Mapping)
            and (
                self._target_entry(owner, owner_at) is not None
                or isinstance(peek(owner, "display"), str)
                or outside_of(self.ctx, owner, owner_at)
            )
        ):
            p, where, owner = task.resource["owner"], owner_at, None
        else:
            current().default(f"{at}.performer", "no performer: the target is not named", UNNAMED)
            return UNNAMED, None, None
        p = obj(p, where)
        target = self._target_entry(p, where)
        kept: ExternalRef | None = None
        if target is not None:
            self.ctx.link(p, where, target.rtype, "the referral's target")
            name = self.target_name(target, kind, referral_id)
        else:
            if outside_of(self.ctx, p, where):
                kept = external(self.ctx, p, where, TARGET_TYPES)
            display = string(p, "display", where, required=False)
            if display is None:
                current().default(
                    f"{at}.performer", "no performer display: the target is not named", UNNAMED
                )
            name = display or UNNAMED
        if isinstance(owner, Mapping) and task is not None:
            if kept is not None and raw(owner) == raw(p):
                external(self.ctx, task.resource["owner"], owner_at, TARGET_TYPES)
            elif self._target_entry(owner, owner_at) is target and (
                target is not None or raw(owner) == {"display": name}
            ):
                consume_all(task.resource["owner"])
        return name, target, kept

    def _target_entry(self, p: Mapping[str, Any], at: str) -> _Entry | None:
        """The Organization or PractitionerRole in the input Reference ``p`` names, if any."""
        ref = peek(p, "reference")
        found = None if not isinstance(ref, str) else self.ctx.locate(ref, at)
        if isinstance(found, _Entry) and found.rtype in _TARGET_TYPES:
            person = peek(found.resource, "practitioner")
            if found.rtype == "Organization" or person is None:
                return found
            if isinstance(person, Mapping) and "reference" not in person:
                return found
        return None

    def target_name(self, target: _Entry, kind: ReferralTargetKind | None, referral_id: str) -> str:
        """The name of a referral target resource (shared by the referrals to it).

        The resource is mapped as part of the first referral that names it.
        """
        if not target.used:
            target.used = True
            target.target = ("Referral", referral_id)
        r, at = target.resource, target.path
        if target.rtype == "Organization":
            name = string(r, "name", at, required=False)
        elif "practitioner" in r:
            person = obj(r["practitioner"], f"{at}.practitioner")
            name = string(person, "display", f"{at}.practitioner", required=False)
        else:
            name = None
        for cc, where in items(r, "type" if target.rtype == "Organization" else "code", at):
            if kind is not None:
                take(cc, where, (cs("referral-target-kind"), kind.value))
        if name is None:
            current().default(f"{at}.name", "no name: the target is not named", UNNAMED)
        return name or UNNAMED

    def target_kind(self, target: _Entry) -> ReferralTargetKind | None:
        """The carecoord kind a target resource's type (or role code) says, if any."""
        key = "type" if target.rtype == "Organization" else "code"
        for cc, where in items(target.resource, key, target.path):
            found = coded(cc, where, cs("referral-target-kind"), ReferralTargetKind, required=False)
            if found is not None:
                return found
        return None

    def reasons(
        self, r: Mapping[str, Any], at: str
    ) -> tuple[list[tuple[Any, str]], list[HealthConcernId], list[ExternalRef]]:
        """``reasonReference`` s: derived ones (needs, barriers), health concerns, outside ones.

        A Condition in the input that became a health concern (or a
        carecoord health-concern identifier) is a concern; a reference
        outside the input is kept; the rest are what the export derives
        from the record (checked once the record is built).
        """
        derived: list[tuple[Any, str]] = []
        concerns: list[HealthConcernId] = []
        outside: list[ExternalRef] = []
        for x, where in items(r, "reasonReference", at):
            ident = peek(x, "identifier") if isinstance(x, Mapping) else None
            system = peek(ident, "system") if isinstance(ident, Mapping) else None
            target = peek(x, "reference") if isinstance(x, Mapping) else None
            found = self.ctx.locate(target, where) if isinstance(target, str) else None
            if system == id_system("health-concern") or (
                system is None
                and isinstance(found, _Entry)
                and (found.target or ("",))[0] == "HealthConcern"
            ):
                concern = HealthConcernId(self.ctx.ref(x, where, "health-concern"))
                if concern not in concerns:
                    concerns.append(concern)
            elif system not in (id_system("need"), id_system("barrier")) and outside_of(
                self.ctx, x, where
            ):
                kept = external(self.ctx, x, where, REASON_TYPES)
                if kept is not None and kept not in outside:
                    outside.append(kept)
            else:
                derived.append((x, where))
        return derived, concerns, outside

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
