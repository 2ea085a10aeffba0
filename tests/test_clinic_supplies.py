"""Supplies: the stock ledger and its running balance, first expiry first out, expiry,
partial receipts of orders, transfers, the reorder and expiring-lots worklists, low-stock
notification, and two people taking the last unit at once on every store."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from _clinic_world import ANNEX, CLINIC, MAIN, STRANGER, item, opened, visit
from _pg import ThrowawayStore, postgres_dsn
from carecoord import AccessDeniedError, ConflictError, StaffId, ValidationError
from carecoord.clinic import allocate, post, reorder_lines
from carecoord.events import StockLow, SupplyOrderStatusChanged
from carecoord.model import AuditOutcome
from carecoord.model.clinic import VisitId
from carecoord.model.outbox import Notification
from carecoord.model.supplies import (
    Lot,
    LotExpiredError,
    LotNumber,
    MovementKind,
    MovementReason,
    OrderLine,
    OutOfStockError,
    StockMovement,
    SupplyItem,
    SupplyItemId,
    SupplyOrder,
    SupplyOrderId,
    SupplyOrderStatus,
    SupplyReceipt,
)
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore, SQLiteStore, Store, UnitOfWork
from carecoord.testing import FixedClock, RacingStore, RecordingEventSink
from world import CHICAGO, COORD, LEAD_MA, MA, NURSE, PATIENT

GLOVES = SupplyItemId("gloves-main")
GLOVES_ANNEX = SupplyItemId("gloves-annex")
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=CHICAGO)
L1, L2, L3 = LotNumber("L1"), LotNumber("L2"), LotNumber("L3")


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def each_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store
    if request.param == "memory":
        made = MemoryStore()
    elif request.param == "sqlite":
        made = SQLiteStore(tmp_path / "supplies.db")
    else:
        made = ThrowawayStore(postgres_dsn())
    try:
        yield made
    finally:
        made.close()


def stocked(store: Store | None = None, **kw: object) -> tuple[CareCoordinator, FixedClock]:
    service, clock = opened(store, **kw)  # type: ignore[arg-type]
    clock.set(NOW)
    service.save_supply_item(item(GLOVES), actor=LEAD_MA)
    return service, clock


def ledger(store: Store, item_id: SupplyItemId) -> list[StockMovement]:
    with UnitOfWork(store) as uow:
        return sorted(
            (m for m in uow.all(StockMovement) if m.item_id == item_id), key=lambda m: m.sequence
        )


def balance_holds(store: Store, item_id: SupplyItemId) -> int:
    """The ledger adds up to the running balance, and no balance was ever negative."""
    moves = ledger(store, item_id)
    assert [m.sequence for m in moves] == list(range(1, len(moves) + 1))
    total = 0
    for move in moves:
        total += move.quantity
        assert move.item_balance == total >= 0 and move.lot_balance >= 0
    with UnitOfWork(store) as uow:
        stored = uow.get(SupplyItem, item_id)
    assert stored.on_hand == total and stored.sequence == len(moves)
    return total


def test_the_ledger_first_expiry_first_out_and_expiry(any_store: Store) -> None:
    service, clock = stocked(any_store)
    service.receive_stock(GLOVES, 10, L2, expires_on=date(2027, 1, 31), actor=LEAD_MA)
    service.receive_stock(GLOVES, 4, L1, expires_on=date(2026, 11, 30), actor=LEAD_MA)
    service.receive_stock(GLOVES, 3, L3, actor=LEAD_MA)  # no expiry date: used last
    used = service.use_supply(GLOVES, 6, actor=MA)
    assert [(m.lot_number, m.quantity, m.lot_balance, m.item_balance) for m in used] == [
        ("L1", -4, 0, 13),
        ("L2", -2, 8, 11),
    ]
    assert [lot.number for lot in service.supply_item(GLOVES, actor=MA).lots] == ["L2", "L3"]
    assert balance_holds(any_store, GLOVES) == 11
    lines = service.stock_ledger(GLOVES, NOW, NOW + timedelta(minutes=1), actor=MA)
    assert [(x.sequence, x.kind, x.quantity, x.item_balance) for x in lines] == [
        (1, MovementKind.RECEIVED, 10, 10),
        (2, MovementKind.RECEIVED, 4, 14),
        (3, MovementKind.RECEIVED, 3, 17),
        (4, MovementKind.USED, -4, 13),
        (5, MovementKind.USED, -2, 11),
    ]
    # Lot L2 is usable through Jan 31 (clinic time); from Feb 1 it is expired.
    clock.set(datetime(2027, 1, 31, 23, 30, tzinfo=CHICAGO))
    assert service.expiring_lots(CLINIC, within_days=0, actor=MA)[0].expired is False
    clock.set(datetime(2027, 2, 1, 0, 30, tzinfo=CHICAGO))  # still Jan 31 in UTC
    (expired,) = service.expiring_lots(CLINIC, within_days=0, actor=MA)
    assert (expired.item_id, expired.lot_number, expired.on_hand, expired.expired) == (
        GLOVES,
        L2,
        8,
        True,
    )
    with pytest.raises(LotExpiredError):
        service.use_supply(GLOVES, 1, lot=L2, actor=MA)
    with pytest.raises(OutOfStockError):  # 3 usable (L3), 8 expired
        service.use_supply(GLOVES, 4, actor=MA)
    # expired stock is not usable stock: the item is due for reordering
    (line,) = service.reorder_list(CLINIC, actor=MA)
    assert (line.item_id, line.usable, line.on_order, line.suggested) == (GLOVES, 3, 0, 17)
    wasted = service.waste_stock(GLOVES, L2, 8, MovementReason.EXPIRED, actor=MA)
    assert (wasted.kind, wasted.quantity, wasted.reason) == (MovementKind.WASTED, -8, "expired")
    assert service.expiring_lots(CLINIC, actor=MA) == []  # L3 has no expiry date
    assert balance_holds(any_store, GLOVES) == 3


def test_orders_receive_in_part_and_post_to_the_ledger(any_store: Store) -> None:
    sink = RecordingEventSink()
    service, _ = stocked(any_store, sink=sink)
    service.save_supply_item(item("masks-main", code="mask"), actor=LEAD_MA)
    order = SupplyOrder(
        id=SupplyOrderId("po-1"),
        clinic_id=CLINIC,
        location_id=MAIN,
        created_at=NOW,
        created_by=MA,
        lines=(
            OrderLine(GLOVES, 20),
            OrderLine(SupplyItemId("masks-main"), 10),
        ),
        supplier="Acme Medical",
    )
    made = service.create_supply_order(order, actor=LEAD_MA)
    assert (made.status, made.created_by) == (SupplyOrderStatus.DRAFT, LEAD_MA)
    drafted = service.reorder_list(CLINIC, actor=MA)  # a draft is not on order yet
    assert [(x.item_id, x.on_order, x.suggested) for x in drafted] == [
        (GLOVES, 0, 20),
        ("masks-main", 0, 20),
    ]
    with pytest.raises(ValidationError):  # nothing is received before the order is placed
        service.receive_supply_order(
            SupplyOrderId("po-1"), [SupplyReceipt(GLOVES, 5, L1)], actor=LEAD_MA
        )
    service.place_supply_order(SupplyOrderId("po-1"), actor=LEAD_MA)
    assert service.reorder_list(CLINIC, actor=MA) == []  # everything is on order
    partial, moves = service.receive_supply_order(
        SupplyOrderId("po-1"),
        [
            SupplyReceipt(GLOVES, 8, L1, date(2027, 6, 30)),
            SupplyReceipt(GLOVES, 4, L2, date(2027, 9, 30)),
        ],
        actor=LEAD_MA,
    )
    assert partial.status is SupplyOrderStatus.PARTLY_RECEIVED
    assert [(x.item_id, x.received, x.outstanding) for x in partial.lines] == [
        (GLOVES, 12, 8),
        ("masks-main", 0, 10),
    ]
    assert [(m.kind, m.quantity, m.order_id) for m in moves] == [
        (MovementKind.RECEIVED, 8, "po-1"),
        (MovementKind.RECEIVED, 4, "po-1"),
    ]
    with pytest.raises(ValidationError):  # more than is outstanding
        service.receive_supply_order(
            SupplyOrderId("po-1"), [SupplyReceipt(GLOVES, 9, L1)], actor=LEAD_MA
        )
    assert balance_holds(any_store, GLOVES) == 12  # nothing of the refused receipt was written
    done, _ = service.receive_supply_order(
        SupplyOrderId("po-1"),
        [SupplyReceipt(GLOVES, 8, L1), SupplyReceipt(SupplyItemId("masks-main"), 10, L3)],
        actor=LEAD_MA,
    )
    assert done.status is SupplyOrderStatus.RECEIVED
    assert [step.to_status for step in done.history] == [  # one step per delivery
        SupplyOrderStatus.ORDERED,
        SupplyOrderStatus.PARTLY_RECEIVED,
        SupplyOrderStatus.RECEIVED,
    ]
    assert service.supply_item(GLOVES, actor=MA).lot(L1) == Lot(L1, 16, date(2027, 6, 30))
    assert service.supply_orders(CLINIC, actor=MA) == []
    assert [o.id for o in service.supply_orders(CLINIC, open_only=False, actor=MA)] == ["po-1"]
    changes = [e.to_status for e in sink.of_type(SupplyOrderStatusChanged)]
    assert changes == ["ordered", "partly-received", "received"]
    # a second order, cancelled after part of it came: what came stays
    service.create_supply_order(
        SupplyOrder(
            id=SupplyOrderId("po-2"),
            clinic_id=CLINIC,
            location_id=MAIN,
            created_at=NOW,
            created_by=LEAD_MA,
            lines=(OrderLine(GLOVES, 5),),
        ),
        actor=LEAD_MA,
    )
    service.place_supply_order(SupplyOrderId("po-2"), actor=LEAD_MA)
    service.receive_supply_order(
        SupplyOrderId("po-2"), [SupplyReceipt(GLOVES, 2, L1)], actor=LEAD_MA
    )
    cancelled = service.cancel_supply_order(SupplyOrderId("po-2"), "supplier out", actor=LEAD_MA)
    assert cancelled.status is SupplyOrderStatus.CANCELLED and cancelled.lines[0].received == 2
    assert balance_holds(any_store, GLOVES) == 22  # 12 + 8 + 2
    with pytest.raises(AccessDeniedError):  # not a stock keeper of the main site
        service.place_supply_order(SupplyOrderId("po-2"), actor=MA)


def test_low_stock_notifies_the_inventory_owner(any_store: Store) -> None:
    sink = RecordingEventSink()
    service, _ = stocked(any_store, sink=sink)
    service.receive_stock(GLOVES, 7, L1, actor=LEAD_MA)
    service.use_supply(GLOVES, 1, actor=MA)  # 6 left: above the reorder point (5)
    assert sink.of_type(StockLow) == []
    service.use_supply(GLOVES, 2, actor=MA)  # 4 left: crossed
    service.use_supply(GLOVES, 1, actor=MA)  # 3 left: already low, not announced again
    (low,) = sink.of_type(StockLow)
    assert (low.item_id, low.usable, low.reorder_point, low.owner_id) == (
        GLOVES,
        4,
        5,
        LEAD_MA,
    )
    with UnitOfWork(any_store) as uow:
        told = [n for n in uow.all(Notification) if n.event == "StockLow"]
    assert [n.recipient_id for n in told] == [LEAD_MA]
    assert "4 usable left" in told[0].body and told[0].patient_id is None
    (line,) = service.reorder_list(CLINIC, location_id=MAIN, actor=LEAD_MA)
    assert (line.usable, line.suggested) == (3, 17)


def test_use_is_linked_to_the_visit_or_intervention(any_store: Store) -> None:
    service, _ = stocked(any_store)
    service.receive_stock(GLOVES, 5, L1, actor=LEAD_MA)
    service.open_visit(visit("v-1", NOW - timedelta(minutes=10)), actor=MA)
    (move,) = service.use_supply(GLOVES, 2, visit_id=VisitId("v-1"), actor=MA)
    assert (move.visit_id, move.patient_id) == ("v-1", PATIENT)
    with pytest.raises(AccessDeniedError):  # the outsider works here but may not document
        service.use_supply(GLOVES, 1, visit_id=VisitId("v-1"), actor=StaffId("outsider"))
    lines = service.stock_ledger(GLOVES, NOW, NOW + timedelta(hours=1), actor=MA)
    assert [x.patient_id for x in lines] == [None, PATIENT]
    hidden = service.stock_ledger(GLOVES, NOW, NOW + timedelta(hours=1), actor=StaffId("outsider"))
    assert [x.patient_id for x in hidden] == [None, None]
    with pytest.raises(ValidationError):  # both halves of an intervention link
        service.use_supply(GLOVES, 1, plan_id=None, intervention_id="i-1", actor=MA)  # type: ignore[arg-type]
    with pytest.raises(AccessDeniedError):
        service.use_supply(GLOVES, 1, actor=STRANGER)


def test_transfers_keep_lots_and_expiry_dates(any_store: Store) -> None:
    service, _ = stocked(any_store)
    service.save_supply_item(item(GLOVES_ANNEX, location=ANNEX), actor=NURSE)
    service.receive_stock(GLOVES, 6, L1, expires_on=date(2027, 3, 1), actor=LEAD_MA)
    moves = service.transfer_stock(GLOVES, GLOVES_ANNEX, 4, actor=LEAD_MA)
    out, into = moves
    assert (out.kind, out.quantity, into.kind, into.quantity) == (
        MovementKind.TRANSFERRED_OUT,
        -4,
        MovementKind.TRANSFERRED_IN,
        4,
    )
    assert (out.counterpart, into.counterpart) == (into.id, out.id)
    assert service.supply_item(GLOVES_ANNEX, actor=NURSE).lots == (Lot(L1, 4, date(2027, 3, 1)),)
    assert balance_holds(any_store, GLOVES) == 2 and balance_holds(any_store, GLOVES_ANNEX) == 4
    with pytest.raises(AccessDeniedError):  # the annex's keeper does not send the main site's
        service.transfer_stock(GLOVES, GLOVES_ANNEX, 1, actor=NURSE)
    service.save_supply_item(item("mask-annex", location=ANNEX, code="mask"), actor=NURSE)
    with pytest.raises(ValidationError):  # another product
        service.transfer_stock(GLOVES, SupplyItemId("mask-annex"), 1, actor=LEAD_MA)
    with pytest.raises(OutOfStockError):
        service.transfer_stock(GLOVES, GLOVES_ANNEX, 3, actor=LEAD_MA)
    adjusted = service.adjust_stock(GLOVES, L1, -2, "count-correction", actor=LEAD_MA)
    assert adjusted.item_balance == 0
    with pytest.raises(OutOfStockError):  # a count cannot go below zero
        service.adjust_stock(GLOVES, L1, -1, "count-correction", actor=LEAD_MA)
    with pytest.raises(AccessDeniedError):
        service.adjust_stock(GLOVES, L1, 1, "count-correction", actor=MA)


def test_items_keep_their_stock_when_their_levels_change(any_store: Store) -> None:
    service, _ = stocked(any_store)
    service.receive_stock(GLOVES, 6, L1, actor=LEAD_MA)
    changed = service.save_supply_item(item(GLOVES, par_level=50, reorder_point=10), actor=LEAD_MA)
    assert (changed.par_level, changed.on_hand, changed.sequence) == (50, 6, 1)
    with pytest.raises(ValidationError):  # the unit stays
        service.save_supply_item(item(GLOVES, unit="{box}"), actor=LEAD_MA)
    with pytest.raises(ValidationError):  # stock comes through the ledger
        service.save_supply_item(item("new", lots=(Lot(L1, 3),), sequence=1), actor=LEAD_MA)
    with pytest.raises(AccessDeniedError):
        service.save_supply_item(item(GLOVES), actor=MA)
    assert service.save_supply_item(item(GLOVES), actor=COORD).par_level == 20  # manage-staff


def test_two_users_take_the_last_unit_and_one_wins(each_store: Store) -> None:
    racing = RacingStore(each_store, "SupplyItem")
    service, _ = stocked(racing)
    service.receive_stock(GLOVES, 1, L1, actor=LEAD_MA)
    racing.armed = True
    outcomes: dict[str, object] = {}

    def take(actor: StaffId) -> None:
        try:
            outcomes[actor] = service.use_supply(GLOVES, 1, actor=actor)
        except Exception as exc:  # kept for the assertions below
            outcomes[actor] = exc

    threads = [threading.Thread(target=take, args=(who,)) for who in (MA, LEAD_MA)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [who for who, result in outcomes.items() if isinstance(result, list)]
    lost = [result for result in outcomes.values() if isinstance(result, OutOfStockError)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert balance_holds(each_store, GLOVES) == 0
    assert [(m.kind, m.by) for m in ledger(each_store, GLOVES)] == [
        (MovementKind.RECEIVED, LEAD_MA),
        (MovementKind.USED, won[0]),
    ]
    trail = service.audit_trail(actor=COORD, actor_id=MA) + service.audit_trail(
        actor=COORD, actor_id=LEAD_MA
    )
    uses = sorted(e.outcome for e in trail if e.operation == "use_supply")
    assert uses == sorted([AuditOutcome.SUCCESS, AuditOutcome.MINOR_FAILURE])


def test_two_units_of_work_race_on_an_item(each_store: Store) -> None:
    service, _ = stocked(each_store)
    service.receive_stock(GLOVES, 1, L1, actor=LEAD_MA)
    first, second = UnitOfWork(each_store), UnitOfWork(each_store)
    for uow in (first, second):
        found = uow.get(SupplyItem, GLOVES)
        moved, movement = post(
            found, kind=MovementKind.USED, lot_number=L1, quantity=-1, at=NOW, by=MA
        )
        uow.save(moved)
        uow.add(movement)
    first.commit()
    with pytest.raises(ConflictError) as info:
        second.commit()
    assert (info.value.kind, info.value.record_id, info.value.expected) == ("SupplyItem", GLOVES, 2)
    assert balance_holds(each_store, GLOVES) == 0  # nothing of the losing batch was written


def test_stock_rules_on_their_own() -> None:
    stock = item("x", lots=(Lot(L1, 2, date(2027, 1, 1)), Lot(L2, 5, date(2026, 12, 1))))
    assert allocate(stock, 6, date(2026, 11, 1)) == [(L2, 5), (L1, 1)]
    assert allocate(stock, 1, date(2026, 12, 2)) == [(L1, 1)]  # L2 expired
    with pytest.raises(OutOfStockError):
        allocate(stock, 3, date(2026, 12, 2))
    with pytest.raises(ValidationError):
        allocate(stock, 0, date(2026, 11, 1))
    with pytest.raises(ValidationError):  # a lot has one expiry date
        post(
            stock,
            kind=MovementKind.RECEIVED,
            lot_number=L1,
            quantity=1,
            at=NOW,
            by=MA,
            expires_on=date(2027, 2, 1),
        )
    with pytest.raises(ValidationError):  # the sign follows the kind
        post(stock, kind=MovementKind.USED, lot_number=L1, quantity=1, at=NOW, by=MA)
    lines = reorder_lines(
        [(SupplyItemId("a"), MAIN, 10, 5, 20), (SupplyItemId("b"), MAIN, 10, 5, 20)],
        expired={SupplyItemId("a"): 6},
        on_order={SupplyItemId("b"): 0},
    )
    assert [(x.item_id, x.usable, x.suggested) for x in lines] == [("a", 4, 16)]
    with pytest.raises(ValidationError):
        item("y", par_level=3, reorder_point=4)
