"""What the FHIR export derives from the record for Gravity and US Core readers.

Some elements repeat, in the shape other FHIR readers look for, what the record
holds elsewhere: the SDOH categories of a referral or a goal (from the needs,
barriers and health concerns it addresses), US Core's ``sdoh`` category of a
health concern with SDOH categories, the conditions a referral addresses (from
its goals and its intervention), the appointments a referral led to, a goal's
status date (its last status change), a care plan's narrative, an audit
event's agent type and the record it touched. The export writes them with the functions here; the
import computes the same values from the record it built and takes such an
element only when it says exactly that (otherwise it reports it as dropped), so
the carecoord round trip stays lossless and a changed copy is never believed.

The SDOH mapping tables are the only place carecoord's codes meet the Gravity
Project's categories (the temporary code system of HL7's SDOH Clinical Care IG):
a domain or kind without an honest category is left out, never forced.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from enum import StrEnum
from html import escape
from typing import Final, TypeVar

from ..model import (
    AssessmentDomain,
    AuditAction,
    Barrier,
    BarrierKind,
    CarePlan,
    Goal,
    GoalLifecycleStatus,
    HealthConcern,
    HealthConcernId,
    Intervention,
    Need,
    Referral,
    ReferralTargetKind,
    TaskStatus,
)
from .record import PatientRecord

__all__ = [
    "AGENT_TYPE",
    "AUDIT_ENTITY_TYPE",
    "AUDIT_RECORD_KINDS",
    "CAREPLAN_CATEGORY",
    "OBJECT_ROLE",
    "PARTICIPATION_TYPE",
    "PERSON_TARGETS",
    "RECORD_CLASSES",
    "RESULTING_ACTIVITY",
    "SDOH_BY_BARRIER",
    "SDOH_BY_DOMAIN",
    "SDOH_BY_TARGET",
    "SDOH_CATEGORIES",
    "SDOH_SYSTEM",
    "XHTML",
    "RecordIndex",
    "audited_record",
    "care_plan_narrative",
    "goal_status_date",
    "target_key",
    "target_type",
]

E = TypeVar("E", bound=StrEnum)
T = TypeVar("T")

SDOH_SYSTEM: Final = (
    "http://hl7.org/fhir/us/sdoh-clinicalcare/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
)
"""The Gravity Project's temporary code system (HL7 SDOH Clinical Care IG)."""
CAREPLAN_CATEGORY: Final = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
"""US Core's CarePlan category code system (``assess-plan``)."""
PARTICIPATION_TYPE: Final = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
AUDIT_ENTITY_TYPE: Final = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE: Final = "http://terminology.hl7.org/CodeSystem/object-role"
XHTML: Final = "http://www.w3.org/1999/xhtml"

SDOH_BY_DOMAIN: Final[dict[AssessmentDomain, str]] = {
    AssessmentDomain.SOCIAL: "sdoh-category-unspecified",
    AssessmentDomain.SUPPORT_NETWORK: "social-connection",
}
"""The SDOH category of a need's assessment domain (medical, functional,
psychological and preferences needs have none)."""

SDOH_BY_BARRIER: Final[dict[BarrierKind, str]] = {
    BarrierKind.TRANSPORT: "transportation-insecurity",
    BarrierKind.COST: "medical-cost-burden",
    BarrierKind.INSURANCE: "health-insurance-coverage-status",
    BarrierKind.LANGUAGE: "language-access",
    BarrierKind.HOUSING: "housing-instability",
    BarrierKind.FOOD: "food-insecurity",
    BarrierKind.HEALTH_LITERACY: "personal-health-literacy",
    BarrierKind.TECHNOLOGY: "digital-access",
}
"""The SDOH category of a barrier's kind (caregiver availability, mobility,
scheduling and other have none)."""

SDOH_BY_TARGET: Final[dict[ReferralTargetKind, str]] = {
    ReferralTargetKind.TRANSPORT: "transportation-insecurity",
    ReferralTargetKind.FINANCIAL_AID: "financial-insecurity",
}
"""The SDOH category a referral's target kind implies (the others imply none)."""

SDOH_CATEGORIES: Final = frozenset(
    {
        "sdoh-category-unspecified",
        "food-insecurity",
        "housing-instability",
        "homelessness",
        "inadequate-housing",
        "transportation-insecurity",
        "financial-insecurity",
        "material-hardship",
        "educational-attainment",
        "employment-status",
        "veteran-status",
        "stress",
        "social-connection",
        "intimate-partner-violence",
        "elder-abuse",
        "personal-health-literacy",
        "health-insurance-coverage-status",
        "medical-cost-burden",
        "digital-literacy",
        "digital-access",
        "utility-insecurity",
        "incarceration-status",
        "language-access",
    }
)
"""The Gravity Project's SDOH category codes (the SDOH Clinical Care IG, STU 2): the codes
of a health concern's ``sdoh_categories`` the tests check an export against."""

RESULTING_ACTIVITY: Final = "resulting-activity"
"""Gravity's ``Task.output.type`` code for what a fulfilled referral resulted in."""

PERSON_TARGETS: Final = frozenset({ReferralTargetKind.PROVIDER, ReferralTargetKind.SPECIALIST})
"""Referral targets that are a person (a PractitionerRole); the others are organisations."""

AGENT_TYPE: Final[dict[AuditAction, str]] = {
    AuditAction.CREATE: "AUT",
    AuditAction.UPDATE: "AUT",
    AuditAction.DELETE: "AUT",
    AuditAction.READ: "IRCP",
    AuditAction.EXECUTE: "PRF",
}
"""The v3 ParticipationType of the audited actor, by action (as IHE BALP types its
user agent): the author of a change, the recipient of a read, the performer of work."""

AUDIT_RECORD_KINDS: Final[dict[str, str]] = {
    "Patient": "patient",
    "StaffMember": "staff",
    "CareTeam": "care-team",
    "Assessment": "assessment",
    "CarePlan": "care-plan",
    "Goal": "goal",
    "Intervention": "intervention",
    "Referral": "referral",
    "Appointment": "appointment",
    "Barrier": "barrier",
    "Review": "review",
    "Note": "note",
    "PatientDecision": "decision",
    "Consent": "consent",
    "HealthConcern": "health-concern",
    "PatientGoal": "goal",
}
"""The carecoord id kind of an audit entry's ``entity`` (``"CarePlan/plan-1"``), by class."""

RECORD_CLASSES: Final[dict[str, tuple[str, ...]]] = {
    kind: tuple(name for name, named in AUDIT_RECORD_KINDS.items() if named == kind)
    for kind in [*AUDIT_RECORD_KINDS.values(), "need"]
} | {"need": ("Need",)}
"""The carecoord classes of each id kind a derived reference may name (a goal: a plan's or
a patient's own)."""


def target_type(kind: ReferralTargetKind) -> str:
    """The resource type a referral's target is written as."""
    return "PractitionerRole" if kind in PERSON_TARGETS else "Organization"


def target_key(kind: ReferralTargetKind, name: str) -> str:
    """The stable key of a referral target: equal for every referral to the same target."""
    return f"referral-target|{kind.value}|{name}"


def audited_record(entity: str | None) -> tuple[str, str] | None:
    """``(kind, id)`` of the record an audit entry's ``entity`` names, if FHIR has it."""
    if entity is None or "/" not in entity:
        return None
    name, _, rid = entity.partition("/")
    kind = AUDIT_RECORD_KINDS.get(name)
    return None if kind is None or not rid else (kind, rid)


def goal_status_date(goal: Goal) -> date | None:
    """The day the goal's lifecycle status took effect (its last recorded change)."""
    return goal.history[-1].at.date() if goal.history else None


def _unique(values: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(values))


def _counts(label: str, values: Iterable[E], enum: type[E]) -> str:
    found = list(values)
    parts = [f"{member.value} {found.count(member)}" for member in enum if member in found]
    return f"{label}: {len(found)}" + (f" ({', '.join(parts)})" if parts else "")


def care_plan_narrative(plan: CarePlan) -> dict[str, str]:
    """The plan's generated narrative: statuses and counts only.

    No title, description or date: free text may hold anything, and a
    narrative is shown wherever the resource goes, so it says only what the
    structured elements say of the plan's state.
    """
    lines = [
        f"Status: {plan.status.value}; intent: {plan.intent.value}",
        _counts("Goals", (g.lifecycle_status for g in plan.goals), GoalLifecycleStatus),
        _counts("Tasks", (i.status for i in plan.interventions), TaskStatus),
        f"Needs addressed: {len(plan.addresses)}",
    ]
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return {
        "status": "generated",
        "div": f'<div xmlns="{XHTML}"><p>Care plan</p><ul>{items}</ul></div>',
    }


class RecordIndex:
    """The record's needs, goals, interventions, barriers and concerns by id (the first of an id).

    A plan's goal comes before a patient's own goal of the same id.
    """

    def __init__(self, record: PatientRecord) -> None:
        self.record = record
        self.needs: dict[str, Need] = {}
        self.goals: dict[str, Goal] = {}
        self.interventions: dict[str, Intervention] = {}
        self.barriers: dict[str, Barrier] = {str(x.id): x for x in record.barriers}
        self.concerns: dict[str, HealthConcern] = {}
        for concern in record.health_concerns:
            self.concerns.setdefault(str(concern.id), concern)
        for assessment in record.assessments:
            for need in assessment.needs:
                self.needs.setdefault(str(need.id), need)
        for plan in record.plans:
            for goal in plan.goals:
                self.goals.setdefault(str(goal.id), goal)
            for item in plan.interventions:
                self.interventions.setdefault(str(item.id), item)
        for own in record.patient_goals:
            self.goals.setdefault(str(own.id), own.goal)

    def referral_reasons(self, referral: Referral) -> tuple[tuple[str, str], ...]:
        """``(kind, id)`` of the conditions a referral addresses, in order.

        The needs its goals address (goals of the record), then the barriers
        its intervention addresses: the record links a referral to conditions
        only through these.
        """
        found: list[tuple[str, str]] = []
        for goal_id in referral.goal_ids:
            goal = self.goals.get(str(goal_id))
            if goal is not None:
                found += [("need", str(n)) for n in goal.addresses]
        if referral.intervention_id is not None:
            item = self.interventions.get(str(referral.intervention_id))
            if item is not None:
                found += [("barrier", str(x)) for x in item.barrier_ids]
        return _unique(found)

    def categories(self, reasons: Iterable[tuple[str, str]]) -> Iterator[str]:
        """The SDOH categories of the conditions ``reasons`` names (those in the record)."""
        for kind, cid in reasons:
            code: str | None = None
            if kind == "need" and (need := self.needs.get(cid)) is not None:
                code = SDOH_BY_DOMAIN.get(need.domain)
            elif kind == "barrier" and (barrier := self.barriers.get(cid)) is not None:
                code = SDOH_BY_BARRIER.get(barrier.kind)
            if code is not None:
                yield code

    def concern_categories(self, concern_ids: Iterable[HealthConcernId]) -> Iterator[str]:
        """The SDOH categories of the health concerns ``concern_ids`` names (of the record)."""
        for cid in concern_ids:
            concern = self.concerns.get(str(cid))
            if concern is not None:
                yield from concern.sdoh_categories

    def referral_categories(self, referral: Referral) -> tuple[str, ...]:
        """The referral's SDOH categories: its conditions', its concerns', its target kind's."""
        codes = list(self.categories(self.referral_reasons(referral)))
        codes += self.concern_categories(referral.concern_ids)
        if referral.target_kind in SDOH_BY_TARGET:
            codes.append(SDOH_BY_TARGET[referral.target_kind])
        return _unique(codes)

    def goal_categories(
        self, goal: Goal, concern_ids: Iterable[HealthConcernId] = ()
    ) -> tuple[str, ...]:
        """The goal's SDOH categories: those of the needs and health concerns it addresses."""
        codes = list(self.categories(("need", str(n)) for n in goal.addresses))
        codes += self.concern_categories(concern_ids)
        return _unique(codes)

    def referral_activities(self, referral: Referral) -> tuple[str, ...]:
        """The ids of the appointments made for a referral, in record order."""
        return tuple(str(a.id) for a in self.record.appointments if a.referral_id == referral.id)
