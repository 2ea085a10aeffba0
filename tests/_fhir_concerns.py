"""A fixed record with what is kept outside any care plan and other systems' references.

:func:`concerns_record` is :func:`test_fhir_export.rich_record` plus health
concerns (coded, SDOH-categorised, abated, entered in error, recorded by staff
and by someone another system holds), the patient's own goals (with readings,
addressing a need and a concern, expressed by the patient), a referral whose
target, reasons and outcome are other systems' records, and consents as other
systems write them (no contact, no policy rule stated, a custodian). The
conformance, Medplum and concerns tests export it.
"""

from __future__ import annotations

from datetime import date, timedelta

import attrs

from carecoord import (
    BarrierId,
    Comparator,
    Consent,
    ConsentId,
    ConsentScope,
    Goal,
    GoalId,
    HealthConcern,
    HealthConcernId,
    Identifier,
    NeedId,
    PatientGoal,
    ProgressReading,
    Quantity,
    ReferralId,
    ReferralTargetKind,
    Target,
)
from carecoord.fhir import PatientRecord
from carecoord.model import (
    Coding,
    ConcernCategory,
    ConditionClinicalStatus,
    ConditionVerificationStatus,
    ConsentPolicyRule,
    ExternalRef,
)
from test_fhir_export import COORD, PID, T0, rich_record

__all__ = ["FOOD", "HOUSING", "OWN_GOAL", "concerns_record"]

SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
FOOD = HealthConcern(
    id=HealthConcernId("concern-1"),
    patient_id=PID,
    codings=(Coding(SNOMED, "733423003", "Food insecurity"), Coding(ICD10, "Z59.41")),
    categories=(ConcernCategory.HEALTH_CONCERN,),
    sdoh_categories=("food-insecurity",),
    verification_status=ConditionVerificationStatus.CONFIRMED,
    onset=T0 - timedelta(days=90),
    recorded_at=T0,
    recorded_by=COORD,
    asserter=ExternalRef(reference="PractitionerRole/dr-water-role", display="Dr Water"),
    need_ids=(NeedId("need-1"),),
    barrier_ids=(BarrierId("barrier-1"),),
    identifiers=(Identifier("https://ehr.example.org/condition", "C-77"),),
)
HOUSING = HealthConcern(
    id=HealthConcernId("concern_2"),  # not a FHIR id: exported under a UUID
    patient_id=PID,
    text="Behind on rent, housing unstable",
    categories=(ConcernCategory.PROBLEM_LIST_ITEM, ConcernCategory.HEALTH_CONCERN),
    sdoh_categories=("housing-instability", "financial-insecurity"),
    clinical_status=ConditionClinicalStatus.RESOLVED,
    onset=T0 - timedelta(days=400),
    abatement=T0 - timedelta(days=10),
    recorder=ExternalRef(
        resource_type="PractitionerRole",
        identifier=Identifier("https://registry.example.net/npi", "1122334455"),
    ),
)
MISTAKE = HealthConcern(
    id=HealthConcernId("concern-3"),
    patient_id=PID,
    codings=(Coding(SNOMED, "44054006"),),
    categories=(ConcernCategory.ENCOUNTER_DIAGNOSIS,),
    clinical_status=None,
    verification_status=ConditionVerificationStatus.ENTERED_IN_ERROR,
)
OWN_GOAL = PatientGoal(
    patient_id=PID,
    goal=Goal(
        id=GoalId("own-goal-1"),
        description="Enough food every day",
        targets=(Target("days without a meal", quantity=Quantity(1, "/wk", Comparator.LE)),),
        addresses=(NeedId("need-1"),),
        start=date(2026, 11, 2),
    )
    .transition("active", by=COORD, at=T0)
    .with_reading(ProgressReading("days without a meal", 3, "/wk", T0, COORD)),
    concern_ids=(FOOD.id, HealthConcernId("concern-elsewhere")),
    expressed_by_patient=True,
    identifiers=(Identifier("https://ehr.example.org/goal", "G-5"),),
)


def concerns_record() -> PatientRecord:
    """The rich record with concerns, own goals and kept references (see the module)."""
    record = rich_record()
    [referral] = record.referrals
    pantry = attrs.evolve(
        referral,
        id=ReferralId("ref-pantry"),
        target_kind=ReferralTargetKind.COMMUNITY_RESOURCE,
        target_name="Coordination platform",
        target=ExternalRef(reference="Organization/coordination-platform"),
        concern_ids=(FOOD.id,),
        reason_refs=(
            ExternalRef(
                reference="https://ehr.example.org/fhir/Condition/hunger-screen", display="HVS"
            ),
        ),
        outcome_refs=(ExternalRef(resource_type="Procedure", reference="Procedure/pantry-app"),),
    )
    general = Consent(
        id=ConsentId("consent-general"),
        patient_id=PID,
        recorded_at=T0,
        recorded_by=COORD,
        policy_rule=None,
        custodians=(ExternalRef(reference="Organization/payer-1"),),
    )
    research = Consent(
        id=ConsentId("consent-research"),
        patient_id=PID,
        recorded_at=T0,
        recorded_by=COORD,
        scope=ConsentScope.RESEARCH,
        policy_rule=ConsentPolicyRule.OPTOUT,
    )
    return attrs.evolve(
        record,
        referrals=(referral, pantry),
        consents=(*record.consents, general, research),
        health_concerns=(FOOD, HOUSING, MISTAKE),
        patient_goals=(OWN_GOAL,),
    )
