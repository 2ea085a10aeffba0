"""Every public service operation writes exactly one audit entry — allowed, denied or failed."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from _admin_audit import ADMIN_OPERATIONS
from _care_program_audit import CARE_PROGRAM_OPERATIONS
from _clinic_audit import CLINIC_OPERATIONS
from _concern_audit import CONCERN_OPERATIONS
from _program_audit import PROGRAM_OPERATIONS
from _template_audit import TEMPLATE_OPERATIONS
from _what_works_audit import WHAT_WORKS_OPERATIONS
from _workforce_audit import WORKFORCE_OPERATIONS
from carecoord import (
    AccessDeniedError,
    Appointment,
    AppointmentId,
    Assessment,
    AssessmentId,
    AuditAction,
    AuditEntry,
    Barrier,
    BarrierId,
    BarrierKind,
    CarePlan,
    CarePlanId,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    Consent,
    ConsentId,
    ContactChannel,
    DecisionId,
    DecisionOutcome,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalOutcome,
    HumanName,
    Intervention,
    InterventionId,
    InterventionKind,
    Membership,
    Note,
    NoteId,
    Patient,
    PatientDecision,
    PatientId,
    Period,
    ProgressReading,
    PurposeOfUse,
    Quantity,
    Referral,
    ReferralId,
    ReferralTargetKind,
    Review,
    ReviewDecision,
    ReviewId,
    StaffId,
    Target,
)
from carecoord.model import (
    AuditOutcome,
    Direction,
    Encounter,
    EncounterClass,
    EncounterId,
    InteractionParty,
    SurveyResponse,
    SurveyResponseId,
)
from carecoord.model.access import EmergencyAccess
from carecoord.model.codes import Comparator
from carecoord.service import CareCoordinator
from carecoord.storage import Store, UnitOfWork
from carecoord.testing import FixedClock
from world import (
    COORD,
    DAUGHTER,
    MA,
    NURSE,
    OUTSIDER,
    PATIENT,
    PLAN,
    T0,
    TEAM,
    make_patient,
    populate,
    staff_member,
)

Call = Callable[[CareCoordinator, StaffId], Any]

GOAL = GoalId("g-1")
TASK = InterventionId("i-1")


def _goal() -> Goal:
    return Goal(
        id=GOAL,
        description="Walk",
        targets=(Target(measure="steps", quantity=Quantity(3000, "/d", Comparator.GE)),),
    )


def _task(n: str = "i-1") -> Intervention:
    return Intervention(
        id=InterventionId(n),
        kind=InterventionKind.EDUCATION,
        description="Teach",
        created_at=T0,
        assignee_id=MA,
        due=T0 + timedelta(days=1),
    )


def _referral(n: str) -> Referral:
    return Referral(
        id=ReferralId(n),
        patient_id=PATIENT,
        requested_by=COORD,
        created_at=T0,
        target_kind=ReferralTargetKind.COMMUNITY_RESOURCE,
        target_name="Food bank",
        service="Food parcels",
    )


def _appointment(n: str) -> Appointment:
    return Appointment(
        id=AppointmentId(n),
        patient_id=PATIENT,
        start=T0 + timedelta(days=2),
        end=T0 + timedelta(days=2, hours=1),
        provider="Clinic",
        location="Room 1",
    )


def _barrier(n: str) -> Barrier:
    return Barrier(
        id=BarrierId(n),
        patient_id=PATIENT,
        kind=BarrierKind.TRANSPORT,
        identified_at=T0,
        identified_by=COORD,
    )


def _consent(n: str) -> Consent:
    return Consent(
        id=ConsentId(n),
        patient_id=PATIENT,
        recorded_at=T0,
        recorded_by=COORD,
        contact_ids=(DAUGHTER,),
    )


def _encounter(n: str) -> Encounter:
    return Encounter(
        id=EncounterId(n),
        patient_id=PATIENT,
        encounter_class=EncounterClass.INPATIENT,
        admitted_at=T0,
        recorded_by=COORD,
    )


def _survey(n: str) -> SurveyResponse:
    return SurveyResponse(
        id=SurveyResponseId(n),
        patient_id=PATIENT,
        instrument="overall",
        score=4,
        at=T0,
        recorded_by=COORD,
    )


# Operation name -> (call as the allowed actor, call as someone denied). Order matters: later
# calls rely on what earlier ones created (goal, intervention, referral, ...).
def _grant(service: CareCoordinator) -> str:
    """The id of the one emergency grant in the store."""
    with UnitOfWork(service.store) as uow:
        (grant,) = uow.all(EmergencyAccess)
    return grant.id


OPERATIONS: dict[str, tuple[Call, Call | None]] = {
    "register_staff": (
        lambda s, a: s.register_staff(staff_member(StaffId("new"), CareTeamRole.NURSE), actor=a),
        lambda s, a: s.register_staff(staff_member(StaffId("new2"), CareTeamRole.NURSE), actor=MA),
    ),
    "enrol_patient": (
        lambda s, a: s.enrol_patient(
            Patient(
                id=PatientId("p-2"),
                name=HumanName(family="Two"),
                birth_date=make_patient().birth_date,
                time_zone="UTC",
            ),
            actor=a,
        ),
        lambda s, a: s.enrol_patient(
            Patient(
                id=PatientId("p-3"),
                name=HumanName(family="Three"),
                birth_date=make_patient().birth_date,
                time_zone="UTC",
            ),
            actor=MA,
        ),
    ),
    "import_patient_record": (
        lambda s, a: s.import_patient_record(
            Patient(
                id=PatientId("p-4"),
                name=HumanName(family="Four"),
                birth_date=make_patient().birth_date,
                time_zone="UTC",
            ),
            (),
            actor=a,
        ),
        lambda s, a: s.import_patient_record(
            Patient(
                id=PatientId("p-5"),
                name=HumanName(family="Five"),
                birth_date=make_patient().birth_date,
                time_zone="UTC",
            ),
            (),
            actor=MA,
        ),
    ),
    "patient_record": (
        lambda s, a: s.patient_record(PATIENT, actor=a),
        lambda s, a: s.patient_record(PATIENT, actor=OUTSIDER),
    ),
    "caseload_patients": (
        lambda s, a: s.caseload_patients(COORD, actor=a),
        lambda s, a: s.caseload_patients(COORD, actor=MA),
    ),
    "update_patient": (
        lambda s, a: s.update_patient(s.patient(PATIENT, actor=a), actor=a),
        lambda s, a: s.update_patient(make_patient(), actor=OUTSIDER),
    ),
    "patient": (
        lambda s, a: s.patient(PATIENT, actor=a),
        lambda s, a: s.patient(PATIENT, actor=OUTSIDER),
    ),
    "form_care_team": (
        lambda s, a: s.form_care_team(
            CareTeam(
                id=CareTeamId("team-2"),
                patient_id=PATIENT,
                lead_id=a,
                members=(
                    Membership(
                        staff_id=a, role=CareTeamRole.CARE_COORDINATOR, period=Period(start=T0)
                    ),
                ),
            ),
            actor=a,
        ),
        lambda s, a: s.form_care_team(
            CareTeam(
                id=CareTeamId("team-3"),
                patient_id=PATIENT,
                lead_id=OUTSIDER,
                members=(
                    Membership(
                        staff_id=OUTSIDER,
                        role=CareTeamRole.CARE_COORDINATOR,
                        period=Period(start=T0),
                    ),
                ),
            ),
            actor=OUTSIDER,
        ),
    ),
    "add_team_member": (
        lambda s, a: s.add_team_member(TEAM, StaffId("new"), CareTeamRole.NURSE, actor=a),
        lambda s, a: s.add_team_member(TEAM, OUTSIDER, CareTeamRole.NURSE, actor=MA),
    ),
    "end_team_membership": (
        lambda s, a: s.end_team_membership(TEAM, StaffId("new"), actor=a),
        lambda s, a: s.end_team_membership(TEAM, NURSE, actor=MA),
    ),
    "change_team_lead": (
        lambda s, a: s.change_team_lead(TEAM, COORD, actor=a),
        lambda s, a: s.change_team_lead(TEAM, MA, actor=MA),
    ),
    "set_team_status": (
        lambda s, a: (
            s.set_team_status(TEAM, "suspended", actor=a, reason="Patient abroad"),
            s.set_team_status(TEAM, "active", actor=a),
        ),
        lambda s, a: s.set_team_status(TEAM, "inactive", actor=MA),
    ),
    "care_team": (
        lambda s, a: s.care_team(TEAM, actor=a),
        lambda s, a: s.care_team(TEAM, actor=OUTSIDER),
    ),
    "care_teams_of": (
        lambda s, a: s.care_teams_of(PATIENT, actor=a),
        lambda s, a: s.care_teams_of(PATIENT, actor=OUTSIDER),
    ),
    "record_assessment": (
        lambda s, a: s.record_assessment(
            Assessment(
                id=AssessmentId("as-1"), patient_id=PATIENT, performed_by=a, performed_at=T0
            ),
            actor=a,
        ),
        lambda s, a: s.record_assessment(
            Assessment(
                id=AssessmentId("as-2"), patient_id=PATIENT, performed_by=MA, performed_at=T0
            ),
            actor=MA,
        ),
    ),
    "assessments_of": (
        lambda s, a: s.assessments_of(PATIENT, actor=a),
        lambda s, a: s.assessments_of(PATIENT, actor=OUTSIDER),
    ),
    "create_care_plan": (
        lambda s, a: s.create_care_plan(
            CarePlan(id=CarePlanId("plan-2"), patient_id=PATIENT, author_id=a, created_at=T0),
            actor=a,
        ),
        lambda s, a: s.create_care_plan(
            CarePlan(id=CarePlanId("plan-3"), patient_id=PATIENT, author_id=MA, created_at=T0),
            actor=MA,
        ),
    ),
    "care_plan": (
        lambda s, a: s.care_plan(PLAN, actor=a),
        lambda s, a: s.care_plan(PLAN, actor=OUTSIDER),
    ),
    "care_plans_of": (
        lambda s, a: s.care_plans_of(PATIENT, actor=a),
        lambda s, a: s.care_plans_of(PATIENT, actor=OUTSIDER),
    ),
    "set_plan_status": (
        lambda s, a: s.set_plan_status(CarePlanId("plan-2"), "active", actor=a),
        lambda s, a: s.set_plan_status(PLAN, "on-hold", actor=MA),
    ),
    "add_goal": (
        lambda s, a: s.add_goal(PLAN, _goal(), actor=a),
        lambda s, a: s.add_goal(PLAN, _goal(), actor=MA),  # an MA does not set goals
    ),
    "set_goal_status": (
        lambda s, a: s.set_goal_status(PLAN, GOAL, "active", actor=a),
        lambda s, a: s.set_goal_status(PLAN, GOAL, "on-hold", actor=MA),
    ),
    "revise_goal": (
        lambda s, a: s.revise_goal(PLAN, GOAL, actor=a, reason="clarification", description="Run"),
        lambda s, a: s.revise_goal(PLAN, GOAL, actor=MA, reason="other", description="Swim"),
    ),
    "record_progress": (
        lambda s, a: s.record_progress(
            PLAN,
            GOAL,
            ProgressReading(measure="steps", value=1000, unit="/d", at=T0, recorded_by=a),
            actor=a,
        ),
        lambda s, a: s.record_progress(
            PLAN,
            GOAL,
            ProgressReading(measure="steps", value=1000, unit="/d", at=T0, recorded_by=OUTSIDER),
            actor=OUTSIDER,
        ),
    ),
    "add_intervention": (
        lambda s, a: s.add_intervention(PLAN, _task(), actor=a),
        lambda s, a: s.add_intervention(PLAN, _task("i-2"), actor=MA),
    ),
    "assign_intervention": (
        lambda s, a: s.assign_intervention(PLAN, TASK, MA, actor=a),
        lambda s, a: s.assign_intervention(PLAN, TASK, NURSE, actor=MA),
    ),
    "set_intervention_status": (
        lambda s, a: s.set_intervention_status(PLAN, TASK, "in-progress", actor=a),
        lambda s, a: s.set_intervention_status(PLAN, TASK, "on-hold", actor=OUTSIDER),
    ),
    "interventions_due": (
        lambda s, a: s.interventions_due(MA, actor=a, until=T0 + timedelta(days=5)),
        lambda s, a: s.interventions_due(COORD, actor=MA),
    ),
    "reviews_due": (lambda s, a: s.reviews_due(actor=a), None),
    "worklist": (
        lambda s, a: s.worklist(MA, actor=a, scope="supervisor"),
        lambda s, a: s.worklist(COORD, actor=MA),
    ),
    "metrics": (
        lambda s, a: s.metrics(T0 - timedelta(days=30), T0, actor=a),
        lambda s, a: s.metrics(T0 - timedelta(days=30), T0, actor=MA),
    ),
    "record_encounter": (
        lambda s, a: s.record_encounter(_encounter("e-1"), actor=a),
        lambda s, a: s.record_encounter(_encounter("e-2"), actor=OUTSIDER),
    ),
    "record_discharge": (
        lambda s, a: s.record_discharge(EncounterId("e-1"), T0 + timedelta(days=3), actor=a),
        lambda s, a: s.record_discharge(EncounterId("e-1"), T0, actor=OUTSIDER),
    ),
    "record_survey_response": (
        lambda s, a: s.record_survey_response(_survey("sr-1"), actor=a),
        lambda s, a: s.record_survey_response(_survey("sr-2"), actor=OUTSIDER),
    ),
    "record_review": (
        lambda s, a: s.record_review(
            Review(
                id=ReviewId("rv-1"),
                plan_id=PLAN,
                patient_id=PATIENT,
                reviewed_at=T0,
                reviewed_by=a,
                next_review_at=T0 + timedelta(days=30),
                goal_outcomes=(
                    GoalOutcome(
                        goal_id=GOAL,
                        achievement=GoalAchievementStatus.IN_PROGRESS,
                        decision=ReviewDecision.CONTINUE,
                    ),
                ),
            ),
            actor=a,
        ),
        lambda s, a: s.record_review(
            Review(
                id=ReviewId("rv-2"),
                plan_id=PLAN,
                patient_id=PATIENT,
                reviewed_at=T0,
                reviewed_by=MA,
                next_review_at=T0 + timedelta(days=30),
            ),
            actor=MA,
        ),
    ),
    "reviews_of": (
        lambda s, a: s.reviews_of(PLAN, actor=a),
        lambda s, a: s.reviews_of(PLAN, actor=OUTSIDER),
    ),
    "create_referral": (
        lambda s, a: s.create_referral(_referral("r-1"), actor=a),
        lambda s, a: s.create_referral(_referral("r-2"), actor=OUTSIDER),
    ),
    "set_referral_status": (
        lambda s, a: s.set_referral_status(ReferralId("r-1"), "sent", actor=a),
        lambda s, a: s.set_referral_status(ReferralId("r-1"), "accepted", actor=OUTSIDER),
    ),
    "record_referral_result": (
        lambda s, a: (
            s.set_referral_status(ReferralId("r-1"), "accepted", actor=a),
            s.set_referral_status(ReferralId("r-1"), "scheduled", actor=a),
            s.set_referral_status(ReferralId("r-1"), "completed", actor=a),
            s.record_referral_result(ReferralId("r-1"), "Enrolled", actor=a),
        ),
        lambda s, a: s.record_referral_result(ReferralId("r-1"), "x", actor=OUTSIDER),
    ),
    "referral": (
        lambda s, a: s.referral(ReferralId("r-1"), actor=a),
        lambda s, a: s.referral(ReferralId("r-1"), actor=OUTSIDER),
    ),
    "referrals_of": (
        lambda s, a: s.referrals_of(PATIENT, actor=a),
        lambda s, a: s.referrals_of(PATIENT, actor=OUTSIDER),
    ),
    "schedule_appointment": (
        lambda s, a: s.schedule_appointment(_appointment("ap-1"), actor=a),
        lambda s, a: s.schedule_appointment(_appointment("ap-2"), actor=OUTSIDER),
    ),
    "set_appointment_status": (
        lambda s, a: s.set_appointment_status(AppointmentId("ap-1"), "booked", actor=a),
        lambda s, a: s.set_appointment_status(AppointmentId("ap-1"), "arrived", actor=OUTSIDER),
    ),
    "appointments_of": (
        lambda s, a: s.appointments_of(PATIENT, actor=a),
        lambda s, a: s.appointments_of(PATIENT, actor=OUTSIDER),
    ),
    "record_barrier": (
        lambda s, a: s.record_barrier(_barrier("b-1"), actor=a),
        lambda s, a: s.record_barrier(_barrier("b-2"), actor=OUTSIDER),
    ),
    "resolve_barrier": (
        lambda s, a: s.resolve_barrier(BarrierId("b-1"), "Bus pass arranged", actor=a),
        lambda s, a: s.resolve_barrier(BarrierId("b-1"), "x", actor=OUTSIDER),
    ),
    "barriers_of": (
        lambda s, a: s.barriers_of(PATIENT, actor=a),
        lambda s, a: s.barriers_of(PATIENT, actor=OUTSIDER),
    ),
    "record_note": (
        lambda s, a: s.record_note(
            Note(
                id=NoteId("n-1"),
                patient_id=PATIENT,
                at=T0,
                author_id=a,
                channel=ContactChannel.PHONE,
                direction=Direction.OUTBOUND,
                party=InteractionParty.PATIENT,
                summary="Called",
            ),
            actor=a,
        ),
        lambda s, a: s.record_note(
            Note(
                id=NoteId("n-2"),
                patient_id=PATIENT,
                at=T0,
                author_id=OUTSIDER,
                channel=ContactChannel.PHONE,
                direction=Direction.OUTBOUND,
                party=InteractionParty.PATIENT,
                summary="Called",
            ),
            actor=OUTSIDER,
        ),
    ),
    "notes_of": (
        lambda s, a: s.notes_of(PATIENT, actor=a),
        lambda s, a: s.notes_of(PATIENT, actor=OUTSIDER),
    ),
    "record_decision": (
        lambda s, a: s.record_decision(
            PatientDecision(
                id=DecisionId("d-1"),
                patient_id=PATIENT,
                at=T0,
                recorded_by=a,
                recommendation="Physio",
                outcome=DecisionOutcome.DECLINED,
            ),
            actor=a,
        ),
        lambda s, a: s.record_decision(
            PatientDecision(
                id=DecisionId("d-2"),
                patient_id=PATIENT,
                at=T0,
                recorded_by=OUTSIDER,
                recommendation="Physio",
                outcome=DecisionOutcome.DECLINED,
            ),
            actor=OUTSIDER,
        ),
    ),
    "decisions_of": (
        lambda s, a: s.decisions_of(PATIENT, actor=a),
        lambda s, a: s.decisions_of(PATIENT, actor=OUTSIDER),
    ),
    "record_consent": (
        lambda s, a: s.record_consent(_consent("cs-1"), actor=a),
        lambda s, a: s.record_consent(_consent("cs-2"), actor=MA),
    ),
    "set_consent_status": (
        lambda s, a: s.set_consent_status(ConsentId("cs-1"), "inactive", actor=a),
        lambda s, a: s.set_consent_status(ConsentId("cs-1"), "inactive", actor=MA),
    ),
    "consents_of": (
        lambda s, a: s.consents_of(PATIENT, actor=a),
        lambda s, a: s.consents_of(PATIENT, actor=OUTSIDER),
    ),
    **CONCERN_OPERATIONS,  # before break_glass: the outsider has no access yet
    "break_glass": (
        lambda s, a: s.break_glass(PATIENT, "ED: unconscious, team unreachable", actor=OUTSIDER),
        None,
    ),
    "review_emergency_access": (
        lambda s, a: s.review_emergency_access(_grant(s), actor=a),  # the team lead reviews
        lambda s, a: s.review_emergency_access(_grant(s), actor=MA),
    ),
    "audit_trail": (
        lambda s, a: s.audit_trail(actor=a, patient_id=PATIENT),
        lambda s, a: s.audit_trail(actor=MA, patient_id=PATIENT),
    ),
    "staff_member": (
        lambda s, a: s.staff_member(NURSE, actor=a),
        lambda s, a: s.staff_member(COORD, actor=MA),
    ),
    "staff_members": (lambda s, a: s.staff_members(actor=a), None),  # any active staff
    "verify_audit": (
        lambda s, a: s.verify_audit(actor=a),
        lambda s, a: s.verify_audit(actor=MA),
    ),
    "verify_audit_trail": (
        lambda s, a: s.verify_audit_trail(actor=a),
        lambda s, a: s.verify_audit_trail(actor=MA),
    ),
    "audit_head": (
        lambda s, a: s.audit_head(actor=a),
        lambda s, a: s.audit_head(actor=MA),
    ),
    "tick": (lambda s, a: s.tick(), None),
    **WORKFORCE_OPERATIONS,
    **ADMIN_OPERATIONS,
    **CLINIC_OPERATIONS,
    **PROGRAM_OPERATIONS,
    **CARE_PROGRAM_OPERATIONS,
    **TEMPLATE_OPERATIONS,
    **WHAT_WORKS_OPERATIONS,
}

NOT_OPERATIONS = {
    "subscribe",
    "store",
    "clock",
    "access_policy",
    "notification_rules",
    "retry",
    "run",  # runs the operations below (and a host's own)
    "seal_audit",  # maintains the audit log itself; reads no patient data
}


def public_operations() -> set[str]:
    return {
        name
        for name, _ in inspect.getmembers(CareCoordinator)
        if not name.startswith("_") and name not in NOT_OPERATIONS
    }


def test_the_table_covers_every_public_operation() -> None:
    assert set(OPERATIONS) == public_operations()


def entries(store: Store) -> list[AuditEntry]:
    import json

    from carecoord.serialization import from_payload

    return [from_payload(json.loads(r.payload), AuditEntry) for r in store.read_all("AuditEntry")]


def test_every_operation_audits_exactly_once(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    for name, (allowed, denied) in OPERATIONS.items():
        calls = {"record_referral_result": 4, "set_team_status": 2, "update_patient": 2}.get(
            name, 1
        )
        before = len(entries(any_store))
        allowed(service, COORD)
        after = entries(any_store)
        assert len(after) == before + calls, name
        last = after[-1]
        assert last.operation == name
        assert last.outcome is AuditOutcome.SUCCESS
        if name == "break_glass":
            assert last.purpose is PurposeOfUse.ETREAT
            assert last.action is AuditAction.EXECUTE
        if denied is None:
            continue
        before_records = {
            kind: [(r.id, r.version) for r in any_store.read_all(kind)]
            for kind in ("Patient", "CareTeam", "CarePlan", "Referral", "Consent", "StaffMember")
        }
        with pytest.raises(AccessDeniedError):
            denied(service, COORD)
        after = entries(any_store)
        assert len(after) == before + calls + 1, name
        assert after[-1].operation == name
        assert after[-1].outcome is AuditOutcome.MINOR_FAILURE
        assert after[-1].detail == "AccessDeniedError"
        assert {
            kind: [(r.id, r.version) for r in any_store.read_all(kind)]
            for kind in ("Patient", "CareTeam", "CarePlan", "Referral", "Consent", "StaffMember")
        } == before_records, f"{name}: a denied operation changed data"
    # the whole trail is intact, before and after sealing
    assert service.verify_audit_trail(actor=COORD) == ()
    report = service.seal_audit()
    assert report.head_sequence == len(entries(any_store))  # tick sealed most of them
    verification = service.verify_audit(actor=COORD)
    assert verification.intact and verification.unsealed == 0
    assert verification.sealed == verification.head_sequence


def test_failed_operations_are_audited_too(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    before = len(entries(any_store))
    with pytest.raises(AccessDeniedError, match="not found or not permitted"):
        service.care_plan(CarePlanId("missing"), actor=COORD)
    with pytest.raises(Exception, match="not a registered"):
        service.patient(PATIENT, actor=StaffId("ghost"))
    trail = entries(any_store)[before:]
    assert [(e.operation, e.outcome, e.detail, e.actor) for e in trail] == [
        ("care_plan", AuditOutcome.MINOR_FAILURE, "AccessDeniedError", "coord"),
        ("patient", AuditOutcome.MINOR_FAILURE, "NotFoundError", "ghost"),
    ]


def test_break_glass_marks_later_access_etreat(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    with pytest.raises(AccessDeniedError):
        service.patient(PATIENT, actor=OUTSIDER)
    with pytest.raises(Exception, match="blank"):
        service.break_glass(PATIENT, "   ", actor=OUTSIDER)
    service.break_glass(PATIENT, "ED admission, team unreachable", actor=OUTSIDER)
    assert service.patient(PATIENT, actor=OUTSIDER).id == PATIENT
    assert entries(any_store)[-1].purpose is PurposeOfUse.ETREAT
    with pytest.raises(AccessDeniedError):  # emergency access reads and documents only
        service.update_patient(make_patient(), actor=OUTSIDER)
    clock.advance(timedelta(hours=4, seconds=1))  # expired
    with pytest.raises(AccessDeniedError):
        service.patient(PATIENT, actor=OUTSIDER)
    by_outsider = service.audit_trail(actor=COORD, actor_id=OUTSIDER)
    assert [e.operation for e in by_outsider] == [
        "patient",
        "break_glass",
        "break_glass",
        "patient",
        "update_patient",
        "patient",
    ]
    assert [e.purpose for e in by_outsider if e.outcome is AuditOutcome.SUCCESS] == [
        PurposeOfUse.ETREAT,
        PurposeOfUse.ETREAT,
    ]


def test_audit_trail_per_patient_and_actor(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    service.patient(PATIENT, actor=NURSE)
    per_patient = service.audit_trail(actor=COORD, patient_id=PATIENT)
    assert per_patient and all(e.patient_id == PATIENT for e in per_patient)
    per_nurse = service.audit_trail(actor=COORD, actor_id=NURSE)
    assert [e.operation for e in per_nurse] == ["patient"]
    assert [e.id for e in per_patient] == sorted(e.id for e in per_patient)
    service.seal_audit()
    sealed = service.audit_trail(actor=COORD, patient_id=PATIENT)
    assert [e.id for e in sealed[: len(per_patient)]] == [e.id for e in per_patient]
    numbers = [e.sequence for e in sealed if e.sequence is not None]
    assert len(numbers) == len(per_patient) + 1 and numbers == sorted(numbers)


def test_tampering_with_stored_entries_is_detected(any_store: Store) -> None:
    import json

    from carecoord.storage import RecordWrite

    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    service.seal_audit()
    checkpoint = service.audit_head(actor=COORD)
    assert service.verify_audit_trail(actor=COORD, checkpoint=checkpoint) == ()
    victim = any_store.read_all("AuditEntry")[2]
    payload = json.loads(victim.payload)
    payload["data"]["actor"] = "someone-else"
    any_store.write(
        [
            RecordWrite(
                kind="AuditEntry",
                id=victim.id,
                expected_version=victim.version,
                payload=json.dumps(payload),
            )
        ]
    )
    breaks = service.verify_audit_trail(actor=COORD, checkpoint=checkpoint)
    # the edited content, and the index row the raw write dropped
    assert {b.sequence for b in breaks} == {3}
    assert {b.problem for b in breaks} == {
        "content does not match its hash",
        "audit index row is missing",
    }


def test_supervisor_reads_reports_patients_but_cannot_change(any_store: Store) -> None:
    clock = FixedClock(T0)
    service = CareCoordinator(store=any_store, clock=clock)
    populate(service, clock)
    from world import BOSS

    assert service.patient(PATIENT, actor=BOSS).id == PATIENT  # supervises coord, nurse...
    with pytest.raises(AccessDeniedError):
        service.update_patient(make_patient(), actor=BOSS)
    assert [i.intervention.id for i in service.interventions_due(MA, actor=BOSS)] == []
