"""Converters of the care planning resources: assessments to reviews.

``ClinicalImpression`` (assessments, with their need ``Condition`` s),
``CarePlan`` (with its ``Goal`` s and ``Task`` interventions), barrier
``Condition`` s and care-plan-review ``Basic`` resources, as methods of a
:class:`_Reader` mixin that :class:`~carecoord.fhir._import._Importer` combines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import (
    Assessment,
    AssessmentDomain,
    AssessmentId,
    Barrier,
    BarrierId,
    BarrierKind,
    BarrierResolution,
    CarePlan,
    CarePlanId,
    CarePlanIntent,
    CarePlanStatus,
    ContactId,
    Finding,
    FindingId,
    GoalAchievementStatus,
    GoalId,
    GoalOutcome,
    Intervention,
    InterventionId,
    InterventionKind,
    Need,
    NeedId,
    NeedPriority,
    NeedStatus,
    Review,
    ReviewDecision,
    ReviewId,
    StaffId,
    TaskStatus,
)
from ._common import cs
from ._derived import (
    CAREPLAN_CATEGORY,
    SDOH_BY_BARRIER,
    SDOH_BY_DOMAIN,
    SDOH_SYSTEM,
    care_plan_narrative,
)
from ._import_goals import _GoalReader
from ._import_report import current
from ._read_context import _Entry, ext_ref, ext_refs, own_id
from ._read_datatypes import cadence, code_text, history, period, ref_links
from ._read_reader import IMPORT_STAFF_ID, UNNAMED
from ._read_tracker import consume_all, peek, raw
from ._read_values import (
    a_date,
    code,
    coded,
    dt,
    ev,
    ev_string,
    ext_all,
    ext_one,
    fail,
    items,
    not_kept,
    obj,
    req_coded,
    req_dt,
    req_string,
    string,
    sub_coding,
    sub_dt,
    sub_string,
    take,
    take_code,
    top_bool,
    top_coding,
    top_dt,
    top_string,
)
from .export import STATUS_SYSTEMS

_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
_GOAL_PRIORITY = "http://terminology.hl7.org/CodeSystem/goal-priority"
_NEED_CATEGORIES = (
    ("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item"),
    ("http://hl7.org/fhir/us/core/CodeSystem/condition-category", "health-concern"),
    (cs("record-category"), "need"),
)


def _take_sdoh(r: Mapping[str, Any], at: str, code: str | None) -> None:
    """Take the SDOH category carecoord derives from a condition's domain or kind."""
    if code is not None:
        for cc, where in items(r, "category", at):
            take(cc, where, (SDOH_SYSTEM, code))


class _PlanReader(_GoalReader):
    """Assessments, needs, care plans, tasks, barriers and reviews -> carecoord (goals: base)."""

    # -- assessments and needs
    def assessment(self, e: _Entry) -> Assessment:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        findings = []
        for f, where in items(r, "finding", at):
            f = obj(f, where)
            cc = obj(f.get("itemCodeableConcept"), f"{where}.itemCodeableConcept")
            fid = top_string(f, "finding-id", where)
            if fid is None:
                fail(f"{where}.extension", "required extension finding-id missing")
            findings.append(
                Finding(
                    id=FindingId(fid),
                    domain=top_coding(
                        f, "assessment-domain", where, cs("assessment-domain"), AssessmentDomain
                    ),
                    text=req_string(cc, "text", f"{where}.itemCodeableConcept"),
                    code=code_text(cc, f, where),
                )
            )
        needs = []
        for p, where in items(r, "problem", at):
            target = self.ctx.link(
                p, where, "Condition", "problem must reference a Condition in the Bundle"
            )
            needs.append(self.guard(target, self.need))
        take_code(r, "status", at, "clinicalimpression-status")
        return Assessment(
            id=AssessmentId(own_id(r, at, "assessment")),
            patient_id=self.patient_id,
            performed_by=StaffId(self.ctx.ref(r.get("assessor"), f"{at}.assessor", "staff")),
            performed_at=req_dt(r, "effectiveDateTime", at),
            findings=tuple(findings),
            needs=tuple(needs),
        )

    def need(self, e: _Entry) -> Need:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        cc = obj(r.get("code"), f"{at}.code")
        domain = None
        for c, where in items(r, "category", at):
            domain = (
                coded(c, where, cs("assessment-domain"), AssessmentDomain, required=False) or domain
            )
            take(c, where, *_NEED_CATEGORIES)
        if domain is None:
            fail(f"{at}.category", "no assessment-domain category")
        _take_sdoh(r, at, SDOH_BY_DOMAIN.get(domain))
        status = coded(
            r.get("clinicalStatus"), f"{at}.clinicalStatus", _CLINICAL, NeedStatus, required=False
        )
        if status is None:
            current().default(f"{at}.clinicalStatus", "no clinical status", NeedStatus.ACTIVE)
        return Need(
            id=NeedId(own_id(r, at, "need")),
            domain=domain,
            description=req_string(cc, "text", f"{at}.code"),
            priority=top_coding(r, "need-priority", at, cs("need-priority"), NeedPriority),
            status=status or NeedStatus.ACTIVE,
            finding_ids=tuple(FindingId(ev_string(x, w)) for x, w in ext_all(r, "finding-id", at)),
            code=code_text(cc, r, at),
        )

    # -- plans
    def care_plan(self, e: _Entry) -> CarePlan:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        plan_id = CarePlanId(own_id(r, at, "care-plan"))
        goals = []
        for g, where in items(r, "goal", at):
            target = self.ctx.link(g, where, "Goal", "goal must reference a Goal in the Bundle")
            goals.append(self.guard(target, self.goal))
        tasks = []
        self.plan_id = plan_id
        for a, where in items(r, "activity", at):
            if "reference" not in obj(a, where):
                continue  # an activity described in place (detail): reported as dropped
            target = self.ctx.link(
                a["reference"],
                f"{where}.reference",
                "Task",
                "activity must reference a Task in the Bundle",
            )
            tasks.append(self.guard(target, self.task))
        review = ext_one(r, "review-cadence", at)
        span = None if r.get("period") is None else period(r["period"], f"{at}.period")
        author = (
            None if "author" not in r else self.ctx.opt_ref(r["author"], f"{at}.author", "staff")
        )
        if author is None:
            current().default(f"{at}.author", "no staff author", IMPORT_STAFF_ID)
        created = dt(r, "created", at, required=False)
        if created is None:
            created = self.when(
                r, at, "created", None if span is None else span.start, "the period's start"
            )
        title = string(r, "title", at, required=False)
        if title is None:
            current().default(f"{at}.title", "no title", UNNAMED)
        for cc, where in items(r, "category", at):
            take(cc, where, (CAREPLAN_CATEGORY, "assess-plan"))
        plan = CarePlan(
            id=plan_id,
            patient_id=self.patient_id,
            author_id=StaffId(author or IMPORT_STAFF_ID),
            created_at=created,
            title=title or UNNAMED,
            status=code(r, "status", at, "request-status", CarePlanStatus),
            intent=code(r, "intent", at, "care-plan-intent", CarePlanIntent),
            period=span,
            addresses=self.needs(r, at),
            goals=tuple(goals),
            interventions=tuple(tasks),
            review_cadence=None if review is None else cadence(*review),
            next_review_at=top_dt(r, "next-review-at", at),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["CarePlan"], CarePlanStatus),
        )
        text = peek(r, "text")
        if isinstance(text, Mapping) and raw(text) == care_plan_narrative(plan):
            consume_all(r["text"])  # what carecoord generates; any other narrative is dropped
        return plan

    def task(self, e: _Entry) -> Intervention:
        r, at = e.resource, e.path
        self.subject(e, "for")
        if take_code(r, "intent", at, "task-intent") is None:
            fail(f"{at}.intent", "code not in value set task-intent")
        due = window = None
        restriction = r.get("restriction")
        if restriction is not None:
            p = obj(obj(restriction, f"{at}.restriction").get("period"), f"{at}.restriction.period")
            if "start" in p:
                window = period(p, f"{at}.restriction.period")
            else:
                due = dt(p, "end", f"{at}.restriction.period")
        priority = self.priority(r, at)
        cad = ext_one(r, "cadence", at)
        owner = r.get("owner")
        for x, where in items(r, "basedOn", at):
            if self.ctx.ref(x, where, "care-plan") != self.plan_id:
                fail(where, "a plan's task is based on another plan")
        return Intervention(
            id=InterventionId(own_id(r, at, "intervention")),
            kind=req_coded(r.get("code"), f"{at}.code", cs("intervention-kind"), InterventionKind),
            description=req_string(r, "description", at),
            created_at=req_dt(r, "authoredOn", at),
            assignee_id=None
            if owner is None
            else StaffId(self.ctx.ref(owner, f"{at}.owner", "staff")),
            priority=priority,
            status=code(r, "status", at, "task-status", TaskStatus),
            due=due,
            window=window,
            cadence=None if cad is None else cadence(*cad),
            goal_ids=tuple(GoalId(x) for x in ext_refs(self.ctx, r, "goal", at, "goal")),
            barrier_ids=tuple(
                BarrierId(x) for x in ext_refs(self.ctx, r, "barrier", at, "barrier")
            ),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["Task"], TaskStatus),
        )

    # -- barriers, reviews
    def barrier(self, e: _Entry) -> Barrier:
        r, at = e.resource, e.path
        self.subject(e, "subject")
        cc = obj(r.get("code"), f"{at}.code")
        resolution = None
        found = ext_one(r, "barrier-resolution", at)
        if found is not None:
            x, where = found
            by = ext_one(x, "by", where, sub=True, required=True)
            assert by is not None
            resolution = BarrierResolution(
                at=sub_dt(x, "at", where),
                by=StaffId(
                    self.ctx.ref(
                        ev(by[0], by[1], "valueReference"), f"{by[1]}.valueReference", "staff"
                    )
                ),
                summary=str(sub_string(x, "summary", where)),
            )
        take(
            r.get("clinicalStatus"),
            f"{at}.clinicalStatus",
            (_CLINICAL, "active" if resolution is None else "resolved"),
        )
        kind = req_coded(cc, f"{at}.code", cs("barrier-kind"), BarrierKind)
        for category, where in items(r, "category", at):
            take(category, where, (cs("record-category"), "barrier"))
        _take_sdoh(r, at, SDOH_BY_BARRIER.get(kind))
        return Barrier(
            id=BarrierId(own_id(r, at, "barrier")),
            patient_id=self.patient_id,
            kind=kind,
            identified_at=req_dt(r, "recordedDate", at),
            identified_by=StaffId(self.ctx.ref(r.get("recorder"), f"{at}.recorder", "staff")),
            description=string(cc, "text", f"{at}.code", required=False),
            blocks=ref_links(r, "blocks", at),
            resolution=resolution,
        )

    def review(self, e: _Entry) -> Review:
        r, at = e.resource, e.path
        if not isinstance(r.get("code"), Mapping) or not take(
            r["code"], f"{at}.code", (cs("record-category"), "care-plan-review")
        ):
            fail(f"{at}.code", "Basic resource is not a care-plan-review")
        self.subject(e, "subject")
        plan = ext_ref(self.ctx, r, "care-plan", at, "care-plan")
        if plan is None:
            fail(f"{at}.extension", "required extension care-plan missing")
        outcomes = []
        for x, where in ext_all(r, "goal-outcome", at):
            goal = ext_one(x, "goal", where, sub=True, required=True)
            assert goal is not None
            outcomes.append(
                GoalOutcome(
                    goal_id=GoalId(
                        self.ctx.ref(
                            ev(goal[0], goal[1], "valueReference"),
                            f"{goal[1]}.valueReference",
                            "goal",
                        )
                    ),
                    achievement=sub_coding(
                        x, "achievement", where, _ACHIEVEMENT, GoalAchievementStatus
                    ),
                    decision=sub_coding(
                        x, "decision", where, cs("review-decision"), ReviewDecision
                    ),
                    comment=sub_string(x, "comment", where, required=False),
                )
            )
        reviewed_at = top_dt(r, "reviewed-at", at)
        next_at = top_dt(r, "next-review-at", at)
        if reviewed_at is None or next_at is None:
            fail(f"{at}.extension", "required extensions reviewed-at and next-review-at")
        if "created" in r and a_date(r, "created", at) != reviewed_at.date():
            not_kept(f"{at}.created", "the review date follows from reviewed-at")
        return Review(
            id=ReviewId(own_id(r, at, "review")),
            plan_id=CarePlanId(plan),
            patient_id=self.patient_id,
            reviewed_at=reviewed_at,
            reviewed_by=StaffId(self.ctx.ref(r.get("author"), f"{at}.author", "staff")),
            next_review_at=next_at,
            participants=tuple(
                StaffId(x) for x in ext_refs(self.ctx, r, "participant", at, "staff")
            ),
            patient_participated=top_bool(r, "patient-participated", at, False),
            contact_participants=tuple(
                ContactId(x) for x in ext_refs(self.ctx, r, "contact-participant", at, "contact")
            ),
            goal_outcomes=tuple(outcomes),
            summary=top_string(r, "summary", at),
            due_at=top_dt(r, "due-at", at),
        )
