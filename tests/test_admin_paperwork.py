"""Forms (the state machine, overdue forms on the worklist), payment plans (a missed
instalment), education with teach-back (the follow-up, the metric) and screening answers
raising barriers and needs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from carecoord import (
    AccessDeniedError,
    Barrier,
    BarrierId,
    BarrierKind,
    Goal,
    GoalId,
    InvalidTransitionError,
    NotFoundError,
    ReasonRequiredError,
    StaffId,
    ValidationError,
)
from carecoord.events import FormStatusChanged
from carecoord.model.education import (
    EducationMaterial,
    EducationSession,
    EducationSessionId,
    MaterialFormat,
    MaterialId,
    TeachBackResult,
)
from carecoord.model.paperwork import (
    FORM_MACHINE,
    DocumentAttachment,
    FormId,
    FormStatus,
    FormType,
    Instalment,
    PatientForm,
    PaymentPlan,
    PaymentPlanId,
)
from carecoord.model.social import (
    LivingSituation,
    ScreeningAnswer,
    ScreeningId,
    ScreeningResponse,
    TransportAccess,
)
from carecoord.service import CareCoordinator
from carecoord.storage import Store
from carecoord.testing import FixedClock, RecordingEventSink
from world import COORD, DAUGHTER, MA, NURSE, OUTSIDER, PATIENT, PLAN, T0, populate

DAY = timedelta(days=1)
World = tuple[CareCoordinator, FixedClock, RecordingEventSink]


@pytest.fixture
def world(any_store: Store) -> World:
    clock = FixedClock(T0)
    sink = RecordingEventSink()
    service = CareCoordinator(store=any_store, clock=clock, event_handlers=[sink])
    populate(service, clock)
    return service, clock, sink


def form(n: int, **changes: object) -> PatientForm:
    values: dict[str, object] = {
        "id": FormId(f"f-{n}"),
        "patient_id": PATIENT,
        "form_type": FormType.FINANCIAL_ASSISTANCE,
        "purpose": "Hospital charity care",
        "created_at": T0,
        "created_by": COORD,
        "due": T0 + 7 * DAY,
        "helper_id": MA,
        "helper_contact_id": DAUGHTER,
    }
    values.update(changes)
    return PatientForm(**values)  # type: ignore[arg-type]


def test_the_form_state_machine() -> None:
    f = form(1)
    assert f.is_open and not f.is_overdue(T0) and f.is_overdue(T0 + 7 * DAY)
    sent = f.transition("in-progress", by=MA, at=T0).transition("submitted", by=MA, at=T0)
    assert not sent.is_overdue(T0 + 30 * DAY)  # submitted: the patient's part is done
    with pytest.raises(ReasonRequiredError):
        sent.transition("rejected", by=MA, at=T0)
    rejected = sent.transition("rejected", by=MA, at=T0, reason="Missing income proof")
    assert rejected.rejection_reason == "Missing income proof"
    assert rejected.is_overdue(T0 + 7 * DAY)  # back with the patient
    accepted = rejected.transition("submitted", by=MA, at=T0).transition("accepted", by=MA, at=T0)
    assert not accepted.is_open and accepted.rejection_reason is None
    with pytest.raises(InvalidTransitionError):
        accepted.transition("in-progress", by=MA, at=T0)
    with pytest.raises(InvalidTransitionError):
        f.transition("accepted", by=MA, at=T0)  # never accepted without being submitted
    assert FORM_MACHINE.is_terminal(FormStatus.ACCEPTED)
    assert "income" not in repr(rejected) and "charity" not in repr(rejected)


def test_forms_through_the_service_and_the_overdue_worklist(world: World) -> None:
    service, clock, sink = world
    service.add_form(form(1), actor=MA)
    service.add_form(form(2, due=T0 + 30 * DAY), actor=MA)
    service.add_form(form(3, due=T0 + 2 * DAY), actor=MA)
    service.set_form_status(FormId("f-3"), "submitted", actor=MA)
    document = DocumentAttachment(
        reference="https://dms.example/doc/77",
        content_type="application/pdf",
        attached_at=T0,
        attached_by=MA,
    )
    attached = service.attach_form_document(FormId("f-3"), document, actor=MA)
    assert attached.document == document and "dms.example" not in repr(attached)
    service.set_form_status(FormId("f-3"), "rejected", reason="Unsigned", actor=COORD)
    changes = [e for e in sink.events if isinstance(e, FormStatusChanged)]
    assert [(e.to_status, e.owner_id) for e in changes] == [("submitted", MA), ("rejected", MA)]
    assert service.administration_worklist(actor=COORD).forms_overdue == ()
    clock.advance(8 * DAY)
    overdue = service.administration_worklist(actor=COORD).forms_overdue
    assert [(i.item_id, i.status, i.owner_id) for i in overdue] == [
        ("f-3", "rejected", MA),
        ("f-1", "needed", MA),
    ]
    assert [f.id for f in service.forms_of(PATIENT, actor=NURSE)] == ["f-1", "f-2", "f-3"]
    with pytest.raises(NotFoundError):
        service.add_form(form(4, helper_id=StaffId("ghost")), actor=MA)
    with pytest.raises(AccessDeniedError):
        service.add_form(form(5), actor=OUTSIDER)


def _cost_barrier(service: CareCoordinator) -> BarrierId:
    barrier = Barrier(
        id=BarrierId("b-cost"),
        patient_id=PATIENT,
        kind=BarrierKind.COST,
        identified_at=T0,
        identified_by=COORD,
    )
    service.record_barrier(barrier, actor=COORD)
    return barrier.id


def payment_plan(barrier: BarrierId) -> PaymentPlan:
    return PaymentPlan(
        id=PaymentPlanId("pp-1"),
        patient_id=PATIENT,
        barrier_id=barrier,
        creditor="General Hospital",
        total=30000,
        currency="USD",
        instalments=tuple(
            Instalment(number=n, due_at=T0 + 30 * n * DAY, amount=10000) for n in (1, 2, 3)
        ),
        agreed_at=T0,
        agreed_by=MA,
    )


def test_a_missed_instalment_is_on_the_worklist(world: World) -> None:
    service, clock, _ = world
    plan = service.agree_payment_plan(payment_plan(_cost_barrier(service)), actor=MA)
    (barrier,) = service.barriers_of(PATIENT, actor=COORD)
    assert barrier.is_resolved and "pp-1" in barrier.resolution.summary  # type: ignore[union-attr]
    clock.advance(31 * DAY)
    service.record_instalment_paid(plan.id, 1, actor=MA)
    assert service.administration_worklist(actor=COORD).instalments_missed == ()
    clock.advance(31 * DAY)  # instalment 2 was due yesterday and is not paid
    (missed,) = service.administration_worklist(actor=COORD).instalments_missed
    assert (missed.item_id, missed.owner_id, missed.overdue) == ("pp-1/2", MA, True)
    (stored,) = service.payment_plans_of(PATIENT, actor=NURSE)
    assert stored.paid == 10000 and [i.number for i in stored.missed(clock.now())] == [2]
    with pytest.raises(ValidationError, match="already paid"):
        service.record_instalment_paid(plan.id, 1, actor=MA)
    with pytest.raises(ValidationError, match="add up"):
        PaymentPlan(**{**_fields(plan), "total": 1})  # type: ignore[arg-type]
    assert "General Hospital" not in repr(stored)


def _fields(plan: PaymentPlan) -> dict[str, object]:
    import attrs

    return attrs.asdict(plan, recurse=False)


def test_a_payment_plan_resolves_only_an_open_cost_barrier(world: World) -> None:
    service, _, _ = world
    transport = Barrier(
        id=BarrierId("b-ride"),
        patient_id=PATIENT,
        kind=BarrierKind.TRANSPORT,
        identified_at=T0,
        identified_by=COORD,
    )
    service.record_barrier(transport, actor=COORD)
    with pytest.raises(ValidationError, match="cost or insurance"):
        service.agree_payment_plan(payment_plan(transport.id), actor=MA)
    with pytest.raises(NotFoundError):
        service.agree_payment_plan(payment_plan(BarrierId("nope")), actor=MA)
    assert service.payment_plans_of(PATIENT, actor=MA) == []


def _education_world(service: CareCoordinator) -> None:
    service.save_material(
        EducationMaterial(
            id=MaterialId("insulin-es"),
            title="Cómo inyectarse insulina",
            topic="insulin",
            language="es",
            format=MaterialFormat.VIDEO,
            reading_grade=5,
        ),
        actor=COORD,
    )
    service.add_goal(
        PLAN,
        Goal(id=GoalId("g-1"), description="Self-inject insulin", start=T0.date()),
        actor=COORD,
    )


def session(n: int, result: TeachBackResult, **changes: object) -> EducationSession:
    values: dict[str, object] = {
        "id": EducationSessionId(f"ed-{n}"),
        "patient_id": PATIENT,
        "material_id": MaterialId("insulin-es"),
        "given_at": T0,
        "given_by": NURSE,
        "result": result,
        "plan_id": PLAN,
        "goal_ids": (GoalId("g-1"),),
    }
    values.update(changes)
    return EducationSession(**values)  # type: ignore[arg-type]


def test_not_understood_schedules_a_follow_up(world: World) -> None:
    service, _, _ = world
    _education_world(service)
    stored = service.record_education(
        session(1, TeachBackResult.NOT_UNDERSTOOD), actor=NURSE, follow_up_in=3 * DAY
    )
    assert stored.follow_up_id is not None
    plan = service.care_plan(PLAN, actor=NURSE)
    follow = plan.intervention(stored.follow_up_id)
    assert (follow.kind.value, follow.assignee_id, follow.due, follow.goal_ids) == (
        "education",
        NURSE,
        T0 + 3 * DAY,
        (GoalId("g-1"),),
    )
    # understood: nothing to follow up; taught to the daughter, a caregiver
    calm = service.record_education(
        session(2, TeachBackResult.UNDERSTOOD, contact_id=DAUGHTER), actor=NURSE
    )
    assert calm.follow_up_id is None and not calm.to_patient
    assert len(service.care_plan(PLAN, actor=NURSE).interventions) == 1
    with pytest.raises(ValidationError, match="care plan"):
        service.record_education(
            session(3, TeachBackResult.NOT_UNDERSTOOD, plan_id=None, goal_ids=()), actor=NURSE
        )
    with pytest.raises(NotFoundError, match="catalogue"):
        service.record_education(
            session(4, TeachBackResult.UNDERSTOOD, material_id=MaterialId("nope")), actor=NURSE
        )
    assert [s.id for s in service.education_of(PATIENT, actor=MA)] == ["ed-1", "ed-2"]
    assert [m.id for m in service.materials(actor=MA, language="es")] == ["insulin-es"]
    assert service.materials(actor=MA, language="en") == []


def test_teach_back_success_metric(world: World) -> None:
    service, clock, _ = world
    _education_world(service)
    results = [TeachBackResult.UNDERSTOOD] * 3 + [
        TeachBackResult.PARTLY,
        TeachBackResult.NOT_UNDERSTOOD,
    ]
    for n, result in enumerate(results):
        service.record_education(session(n, result), actor=NURSE)
    clock.advance(40 * DAY)
    service.record_education(
        session(9, TeachBackResult.UNDERSTOOD, given_at=clock.now()), actor=NURSE
    )
    metric = service.teach_back_success(T0, T0 + 30 * DAY, actor=COORD)
    assert (metric.numerator, metric.denominator, metric.rate) == (3, 5, 0.6)
    empty = service.teach_back_success(T0 - 30 * DAY, T0, actor=COORD)
    assert empty.rate is None
    with pytest.raises(AccessDeniedError):
        service.teach_back_success(T0, T0 + DAY, actor=NURSE)


def test_screening_answers_raise_barriers_and_needs(world: World) -> None:
    service, _, _ = world
    answers = (
        ScreeningAnswer("71802-3", "LA30190-5"),  # no housing
        ScreeningAnswer("93030-5", "LA30133-5"),  # no transport to appointments
        ScreeningAnswer("54899-0", "LA44-3"),  # preferred language: raises nothing
    )
    stored = service.record_screening(
        ScreeningResponse(
            id=ScreeningId("scr-1"), patient_id=PATIENT, at=T0, recorded_by=MA, answers=answers
        ),
        actor=COORD,
    )
    barriers = {b.kind: b for b in service.barriers_of(PATIENT, actor=COORD)}
    assert set(barriers) == {BarrierKind.HOUSING, BarrierKind.TRANSPORT}
    assert set(stored.barrier_ids) == {b.id for b in barriers.values()}
    (assessment,) = service.assessments_of(PATIENT, actor=COORD)
    assert [n.code for n in assessment.needs] == ["homelessness", "transportation-insecurity"]
    assert stored.need_ids == tuple(n.id for n in assessment.needs)
    context = service.social_context_of(PATIENT, actor=MA)
    assert context is not None
    assert (context.living_situation, context.transport) == (
        LivingSituation.HOMELESS,
        TransportAccess.NONE,
    )
    # screening again: the open barriers are linked, not raised twice
    again = service.record_screening(
        ScreeningResponse(
            id=ScreeningId("scr-2"), patient_id=PATIENT, at=T0, recorded_by=MA, answers=answers
        ),
        actor=COORD,
    )
    assert set(again.barrier_ids) == set(stored.barrier_ids)
    assert len(service.barriers_of(PATIENT, actor=COORD)) == 2
    clear = service.record_screening(
        ScreeningResponse(
            id=ScreeningId("scr-3"),
            patient_id=PATIENT,
            at=T0,
            recorded_by=MA,
            answers=(ScreeningAnswer("93030-5", "LA32-8"),),  # no
        ),
        actor=COORD,
    )
    assert clear.barrier_ids == () and clear.need_ids == ()
    assert [s.id for s in service.screenings_of(PATIENT, actor=MA)] == ["scr-1", "scr-2", "scr-3"]
    with pytest.raises(AccessDeniedError):
        service.record_screening(
            ScreeningResponse(
                id=ScreeningId("scr-4"), patient_id=PATIENT, at=T0, recorded_by=MA, answers=()
            ),
            actor=MA,
        )
