"""Coverage and prior authorisations: the state machine, the service steps and the
administration worklist of authorisations pending or expiring."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from carecoord import (
    AccessDeniedError,
    InvalidTransitionError,
    NotFoundError,
    Period,
    ReasonRequiredError,
    ValidationError,
)
from carecoord.events import AuthorizationStatusChanged
from carecoord.model.administration import (
    AUTHORIZATION_MACHINE,
    AuthorizationStatus,
    Coverage,
    CoverageId,
    CoverageStatus,
    PriorAuthorization,
    PriorAuthorizationId,
    SubscriberRelationship,
)
from carecoord.service import CareCoordinator
from carecoord.service.admin_worklist import AdminItemKind
from carecoord.storage import Store
from carecoord.testing import FixedClock, RecordingEventSink
from world import COORD, MA, NURSE, OUTSIDER, PATIENT, T0, populate

DAY = timedelta(days=1)
World = tuple[CareCoordinator, FixedClock, RecordingEventSink]
COVERAGE = Coverage(
    id=CoverageId("cov-1"),
    patient_id=PATIENT,
    payer="Acme Health",
    member_id="M-123",
    period=Period(start=T0 - 365 * DAY),
    recorded_at=T0,
    recorded_by=COORD,
    plan_name="Gold",
)


def authorization(n: int, **changes: object) -> PriorAuthorization:
    values: dict[str, object] = {
        "id": PriorAuthorizationId(f"pa-{n}"),
        "patient_id": PATIENT,
        "coverage_id": COVERAGE.id,
        "service": "Home oxygen",
        "requested_by": NURSE,
        "created_at": T0,
        "submit_by": T0 + 2 * DAY,
    }
    values.update(changes)
    return PriorAuthorization(**values)  # type: ignore[arg-type]


@pytest.fixture
def world(any_store: Store) -> World:
    clock = FixedClock(T0)
    sink = RecordingEventSink()
    service = CareCoordinator(store=any_store, clock=clock, event_handlers=[sink])
    populate(service, clock)
    service.record_coverage(COVERAGE, actor=COORD)
    return service, clock, sink


def test_the_authorisation_machine() -> None:
    a = authorization(1)
    assert a.is_pending and a.next_due == T0 + 2 * DAY
    sent = a.submit(by=NURSE, at=T0, decision_due=T0 + 5 * DAY, payer_reference="REF-9")
    assert sent.status is AuthorizationStatus.SUBMITTED and sent.next_due == T0 + 5 * DAY
    with pytest.raises(ReasonRequiredError):
        sent.deny("  ", by=NURSE, at=T0)
    denied = sent.deny("Not medically necessary", by=NURSE, at=T0 + DAY)
    appealed = denied.submit(by=NURSE, at=T0 + 2 * DAY)
    approved = appealed.approve(Period(T0, T0 + 30 * DAY), by=NURSE, at=T0 + 3 * DAY, units=10)
    assert approved.expires_at == T0 + 30 * DAY and approved.next_due == T0 + 30 * DAY
    assert not approved.is_expired(T0 + 29 * DAY) and approved.is_expired(T0 + 30 * DAY)
    assert [t.to_status.value for t in approved.history] == [
        "submitted",
        "denied",
        "submitted",
        "approved",
    ]
    with pytest.raises(InvalidTransitionError):
        a.approve(Period(T0, T0 + DAY), by=NURSE, at=T0)
    with pytest.raises(ValidationError, match="with an end"):
        sent.approve(Period(T0), by=NURSE, at=T0)
    with pytest.raises(ValidationError, match="own method"):
        a.transition("submitted", by=NURSE, at=T0)
    assert AUTHORIZATION_MACHINE.is_terminal(AuthorizationStatus.CANCELLED)
    assert "Home oxygen" not in repr(approved) and "REF-9" not in repr(approved)


def test_coverage_is_recorded_in_order_of_benefit(world: World) -> None:
    service, _, _ = world
    secondary = Coverage(
        id=CoverageId("cov-2"),
        patient_id=PATIENT,
        payer="Medicaid",
        member_id="X-1",
        period=Period(start=T0 - DAY, end=T0 + 365 * DAY),
        recorded_at=T0,
        recorded_by=COORD,
        relationship=SubscriberRelationship.CHILD,
        order=2,
    )
    service.record_coverage(secondary, actor=COORD)
    assert [c.id for c in service.coverages_of(PATIENT, actor=MA)] == ["cov-1", "cov-2"]
    ended = attrs.evolve(secondary, status=CoverageStatus.CANCELLED)
    service.record_coverage(ended, actor=COORD)
    assert not service.coverages_of(PATIENT, actor=MA)[1].covers(T0)
    assert COVERAGE.covers(T0) and "M-123" not in repr(COVERAGE)
    with pytest.raises(AccessDeniedError):
        service.record_coverage(secondary, actor=OUTSIDER)


def test_authorisation_steps_are_announced_to_the_requester(world: World) -> None:
    service, clock, sink = world
    service.request_authorization(authorization(1), actor=NURSE)
    service.submit_authorization(PriorAuthorizationId("pa-1"), actor=NURSE)
    clock.advance(DAY)
    decided = service.decide_authorization(
        PriorAuthorizationId("pa-1"),
        approved=True,
        period=Period(T0, T0 + 60 * DAY),
        units=12,
        actor=COORD,
    )
    assert decided.approved_units == 12 and decided.decided_at == T0 + DAY
    changes = [e for e in sink.events if isinstance(e, AuthorizationStatusChanged)]
    assert [(e.from_status, e.to_status, e.owner_id) for e in changes] == [
        ("draft", "submitted", NURSE),
        ("submitted", "approved", NURSE),
    ]
    with pytest.raises(ValidationError, match="approved period"):
        service.decide_authorization(PriorAuthorizationId("pa-1"), approved=True, actor=COORD)
    with pytest.raises(NotFoundError, match="coverage"):
        service.request_authorization(authorization(2, coverage_id=CoverageId("nope")), actor=NURSE)
    with pytest.raises(ValidationError, match="draft"):
        service.request_authorization(
            authorization(3, status=AuthorizationStatus.SUBMITTED), actor=NURSE
        )
    with pytest.raises(AccessDeniedError):
        service.request_authorization(authorization(4), actor=OUTSIDER)
    assert [a.id for a in service.authorizations_of(PATIENT, actor=MA)] == ["pa-1"]


def test_worklist_shows_authorisations_pending_or_expiring(world: World) -> None:
    service, clock, _ = world
    ids = [PriorAuthorizationId(f"pa-{n}") for n in range(1, 6)]
    for n in range(1, 6):
        service.request_authorization(authorization(n), actor=NURSE)
    service.submit_authorization(ids[1], actor=NURSE, decision_due=T0 + 10 * DAY)
    for index, days in ((2, 20), (3, 90)):  # approved: one runs out soon, one much later
        service.submit_authorization(ids[index], actor=NURSE)
        service.decide_authorization(
            ids[index], approved=True, period=Period(T0, T0 + days * DAY), actor=COORD
        )
    service.cancel_authorization(ids[4], "Service no longer needed", actor=NURSE)

    now = service.administration_worklist(actor=COORD)
    assert [(i.item_id, i.status, i.overdue) for i in now.authorizations_pending] == [
        ("pa-1", "draft", False),
        ("pa-2", "submitted", False),
    ]
    assert [i.item_id for i in now.authorizations_expiring] == ["pa-3"]
    assert {i.kind for i in now.items} == {
        AdminItemKind.AUTHORIZATION_PENDING,
        AdminItemKind.AUTHORIZATION_EXPIRING,
    }
    # three weeks on: the draft missed its deadline, pa-3 expired, pa-4 not yet in sight
    clock.advance(21 * DAY)
    later = service.administration_worklist(actor=COORD)
    assert [(i.item_id, i.overdue) for i in later.authorizations_pending] == [
        ("pa-1", True),
        ("pa-2", True),
    ]
    assert [(i.item_id, i.overdue) for i in later.authorizations_expiring] == [("pa-3", True)]
    soon = service.administration_worklist(actor=COORD, expiring_within=70 * DAY)
    assert [i.item_id for i in soon.authorizations_expiring] == ["pa-3", "pa-4"]
    # one owner's items; an outsider sees none of the patient's
    assert service.administration_worklist(actor=COORD, owner_id=MA).items == ()
    assert service.administration_worklist(actor=OUTSIDER).items == ()
