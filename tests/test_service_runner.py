"""The operation runner: a host's own operations, the pipeline's guarantees, the public surface."""

from __future__ import annotations

import pytest

import carecoord
import carecoord.service
from carecoord import (
    AccessDeniedError,
    CareCoordinator,
    CarePlan,
    Context,
    NotFoundError,
    Operation,
    PatientId,
    ValidationError,
    operation,
)
from carecoord import events as ev
from carecoord.access import Permission
from carecoord.model.audit import AuditAction, AuditEntry, AuditOutcome
from carecoord.storage import MemoryStore, UnitOfWork
from carecoord.testing import FixedClock, RecordingEventSink
from world import COORD, MA, PATIENT, T0, populate


@operation(AuditAction.READ)
def open_interventions(ctx: Context, patient_id: PatientId) -> int:
    """How many open interventions the patient's plans hold (a host's own read)."""
    ctx.allow(patient_id, Permission.READ, f"Patient/{patient_id}")
    plans = ctx.uow.all(CarePlan, patient_id=str(patient_id))
    return sum(1 for plan in plans for item in plan.interventions if item.is_open)


@operation(AuditAction.UPDATE, name="touch_patient")
def touch(ctx: Context, patient_id: PatientId) -> None:
    """A host's own write that announces an event (handed on only after commit)."""
    ctx.allow(patient_id, Permission.EDIT_PATIENT, f"Patient/{patient_id}")
    ctx.emit(ev.PatientUpdated(**ctx.common(patient_id)))


@operation(AuditAction.READ)
def forgetful(ctx: Context) -> int:
    """Decides no access: the runner refuses it."""
    return 1


@operation(AuditAction.UPDATE)
def explode(ctx: Context, patient_id: PatientId) -> None:
    ctx.allow(patient_id, Permission.EDIT_PATIENT)
    ctx.emit(ev.PatientUpdated(**ctx.common(patient_id)))
    raise NotFoundError("something the operation needed is missing")


def entries(service: CareCoordinator) -> list[AuditEntry]:
    with UnitOfWork(service.store) as uow:
        return uow.all(AuditEntry)


@pytest.fixture
def service() -> CareCoordinator:
    clock = FixedClock(T0)
    service = CareCoordinator(store=MemoryStore(), clock=clock)
    populate(service, clock)
    return service


def test_a_host_operation_runs_through_the_pipeline(service: CareCoordinator) -> None:
    before = len(entries(service))
    assert service.run(open_interventions, PATIENT, actor=COORD) >= 0
    trail = entries(service)
    assert len(trail) == before + 1
    last = trail[-1]
    assert (last.operation, last.action, last.outcome, last.patient_id) == (
        "open_interventions",
        AuditAction.READ,
        AuditOutcome.SUCCESS,
        str(PATIENT),
    )
    assert isinstance(open_interventions, Operation)
    assert open_interventions.name == "open_interventions"


def test_a_host_operation_is_access_checked_and_denials_are_audited(
    service: CareCoordinator,
) -> None:
    from world import OUTSIDER

    with pytest.raises(AccessDeniedError):
        service.run(open_interventions, PATIENT, actor=OUTSIDER)
    last = entries(service)[-1]
    assert (last.operation, last.outcome, last.detail) == (
        "open_interventions",
        AuditOutcome.MINOR_FAILURE,
        "AccessDeniedError",
    )


def test_events_reach_handlers_only_after_commit(service: CareCoordinator) -> None:
    sink = RecordingEventSink()
    service.subscribe(sink)
    service.run(touch, PATIENT, actor=COORD)
    assert [type(e).__name__ for e in sink.events] == ["PatientUpdated"]
    assert entries(service)[-1].operation == "touch_patient"
    sink.clear()
    with pytest.raises(NotFoundError):
        service.run(explode, PATIENT, actor=COORD)
    assert sink.events == []  # the failed unit's events are dropped
    assert entries(service)[-1].outcome is AuditOutcome.MINOR_FAILURE


def test_an_operation_that_decides_no_access_fails_closed(service: CareCoordinator) -> None:
    with pytest.raises(AccessDeniedError, match="made no access decision"):
        service.run(forgetful, actor=MA)
    assert entries(service)[-1].operation == "forgetful"


def test_bad_operations_and_actors_are_typed_errors(service: CareCoordinator) -> None:
    with pytest.raises(ValidationError):
        service.run(lambda ctx: 1, actor=COORD)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        operation("R")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="actor"):
        service.run(open_interventions, PATIENT, actor="cc-1")  # type: ignore[arg-type]


def test_operations_compose_in_one_context(service: CareCoordinator) -> None:
    @operation(AuditAction.READ)
    def twice(ctx: Context, patient_id: PatientId) -> int:
        return open_interventions(ctx, patient_id) * 2

    once = service.run(open_interventions, PATIENT, actor=COORD)
    assert service.run(twice, PATIENT, actor=COORD) == 2 * once


def test_service_surface() -> None:
    assert carecoord.CareCoordinator is carecoord.service.CareCoordinator
    for name in carecoord.service.__all__:
        assert getattr(carecoord.service, name) is not None
    assert {"CareCoordinator", "Context", "Operation", "operation", "RetryPolicy"} <= set(
        carecoord.__all__
    )


def test_the_policy_gets_lazy_staff_lines_and_grants(service: CareCoordinator) -> None:
    from carecoord.access import AccessDecision, AccessRequest, CareTeamPolicy
    from world import BOSS, NURSE, OUTSIDER

    seen: list[dict[str, object]] = []

    class Spy:
        """Looks at the lazy parts while deciding (they read through the open unit)."""

        def decide(self, request: AccessRequest) -> AccessDecision:
            try:
                request.staff[OUTSIDER]
                missing = False
            except KeyError:
                missing = True
            seen.append(
                {
                    "staff": set(request.staff),
                    "len": len(request.staff),
                    "nurse": request.staff[NURSE].id if NURSE in request.staff else None,
                    "outsider missing": missing,
                    "grants": [g.staff_id for g in request.emergency],
                }
            )
            return CareTeamPolicy().decide(request)

    spying = CareCoordinator(store=service.store, clock=service.clock, access_policy=Spy())
    spying.patient(PATIENT, actor=BOSS)  # a supervisor: the policy walks reporting lines
    first = seen[-1]
    assert {BOSS, COORD, NURSE, MA} <= first["staff"]  # type: ignore[operator]
    assert first["len"] == len(first["staff"])  # type: ignore[arg-type]
    assert first["nurse"] == NURSE and first["outsider missing"] is True
    assert first["grants"] == []
    spying.break_glass(PATIENT, "unconscious in the ED", actor=OUTSIDER)
    spying.patient(PATIENT, actor=OUTSIDER)
    assert seen[-1]["grants"] == [OUTSIDER]


def test_a_members_read_decodes_no_other_staff(
    service: CareCoordinator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typing import Any

    from carecoord.storage import _codec
    from carecoord.storage import uow as uow_module

    decoded: list[str] = []
    real = _codec.decode_record

    def counting(stored: Any, cls: type[Any], **kwargs: Any) -> Any:
        decoded.append(stored.kind)
        return real(stored, cls, **kwargs)

    monkeypatch.setattr(uow_module, "decode_record", counting)
    service.patient(PATIENT, actor=COORD)
    assert sorted(decoded) == ["Patient", "StaffMember"]  # the actor and the patient only
