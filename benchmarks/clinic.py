"""Clinic benchmarks: the day's board of a busy clinic and the on-hand figure of an item with a
long ledger, as carecoord answers them, next to the raw query.

Run from the repository root, with the project's virtual environment::

    .venv/bin/python benchmarks/clinic.py                             # 400 visits, 100,000 moves
    .venv/bin/python benchmarks/clinic.py --movements 5000 --days 5   # a quick look

It bulk-loads, straight into a :class:`~carecoord.storage.SQLiteStore` file
(``store.write`` batches of ``encode_record`` results, as ``UnitOfWork.commit``
writes them): one clinic with ``--visits`` (400) visits a day for ``--days`` (30)
days around a fixed day (America/Chicago wall clock, every state of the day's
flow represented), and one supply item whose ledger has ``--movements``
(100,000) movements (receipts and uses over a few lots, posted with the same
rule the service uses, so the item's running balance is the ledger's sum). Then
it measures, each as the median of ``--repeat`` runs:

* **the day's board**: carecoord reads the ``visit`` index rows of the clinic
  in one due range (the local day) and builds the board lines (the pure rule),
  in a unit of work; the service call (``CareCoordinator.day_board``: access
  decision, the readable-patient check, audit entry, commit) for context; the
  raw query asks the records themselves (``json_extract`` over every visit of
  the clinic, the day's kept in Python).
* **on hand**: carecoord reads the item's running balance (one record); the
  service call (``CareCoordinator.supply_item``) for context; the indexed ledger
  sum (the ``stock-movement`` index rows of the item); the raw query sums the
  movements' quantities out of their records (``json_extract``).

Every side must give the same answer (``same_results``). It prints a table, and
with ``--out`` writes the figures as JSON. The database goes to a temporary
directory, removed afterwards unless ``--db-dir`` keeps it.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time as clock
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from carecoord import CareCoordinator, CareTeamRole, HumanName, PatientId, StaffId, StaffMember
from carecoord.clinic import board_entry, day_bounds, post
from carecoord.model import localize
from carecoord.model.clinic import Clinic, ClinicId, ClinicLocation, RoomId, Visit, VisitId
from carecoord.model.clinic import VisitState as V
from carecoord.model.supplies import (
    LotNumber,
    MovementKind,
    StockMovement,
    SupplyCode,
    SupplyItem,
    SupplyItemId,
)
from carecoord.model.workforce import LocationId
from carecoord.service._clinic_access import snapshot
from carecoord.storage import SQLiteStore, UnitOfWork, WorkQuery
from carecoord.storage._codec import encode_record
from carecoord.testing import FixedClock

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the shared helpers sit next to this script
    sys.path.insert(0, str(HERE))

from _floors_common import log as _log  # noqa: E402
from _floors_common import median_ms as _median_ms  # noqa: E402
from _floors_common import positive as _positive  # noqa: E402

ZONE = ZoneInfo("America/Chicago")
DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 13, 0, tzinfo=ZONE)
ADMIN, LEAD = StaffId("admin"), StaffId("lead-ma")
CLINIC, SITE = ClinicId("bench-clinic"), LocationId("bench-site")
ITEM = SupplyItemId("bench-gloves")
_FLOWS: tuple[tuple[V, ...], ...] = (
    (V.ARRIVED, V.CHECKED_IN, V.ROOMED, V.WITH_PROVIDER, V.CHECKED_OUT),
    (V.ARRIVED, V.CHECKED_IN, V.ROOMED, V.WITH_PROVIDER),
    (V.ARRIVED, V.CHECKED_IN, V.ROOMED),
    (V.ARRIVED, V.CHECKED_IN),
    (V.ARRIVED, V.CHECKED_IN, V.LEFT_WITHOUT_BEING_SEEN),
    (V.NO_SHOW,),
    (),
)


def log(message: str) -> None:
    """Progress on stderr."""
    _log(message, tag="clinic")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--visits", type=_positive, default=400)
    parser.add_argument("--days", type=_positive, default=30)
    parser.add_argument("--movements", type=_positive, default=100_000)
    parser.add_argument("--repeat", type=_positive, default=30)
    parser.add_argument("--batch-size", type=_positive, default=2000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--db-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=None)
    return parser.parse_args(argv)


# ------------------------------------------------------------------- the data


def _visits(day: date, count: int, rng: random.Random) -> Iterable[Visit]:
    opened = localize(datetime.combine(day, time(6)), ZONE)
    for n in range(count):
        start = localize(datetime.combine(day, time(7)), ZONE) + timedelta(minutes=n * 600 // count)
        visit = Visit(
            id=VisitId(f"v{day.isoformat()}-{n}"),
            patient_id=PatientId(f"p{rng.randrange(5000)}"),
            clinic_id=CLINIC,
            location_id=SITE,
            scheduled_start=start,
            opened_at=opened,
            opened_by=LEAD,
        )
        at = start - timedelta(minutes=10)
        for state in rng.choice(_FLOWS):
            at += timedelta(minutes=rng.randint(1, 25))
            room = RoomId(f"exam-{n % 12}") if state is V.ROOMED else None
            visit = visit.moved(state, by=LEAD, at=at, room=room)
        yield visit


def _ledger(count: int, rng: random.Random) -> tuple[SupplyItem, list[StockMovement]]:
    item = SupplyItem(
        id=ITEM,
        clinic_id=CLINIC,
        location_id=SITE,
        code=SupplyCode("gloves-m"),
        unit="{pair}",
        par_level=400,
        reorder_point=100,
    )
    moves: list[StockMovement] = []
    at = NOW - timedelta(days=365)
    step = timedelta(days=365) / (count + 1)
    for n in range(count):
        at += step
        lots = item.lots
        if not lots or (n % 10 == 0 and len(lots) < 4):
            lot = LotNumber(f"L{n}")
            kind, quantity = MovementKind.RECEIVED, rng.randint(50, 200)
        else:
            found = rng.choice(lots)
            lot, kind = found.number, MovementKind.USED
            quantity = -rng.randint(1, min(found.on_hand, 8))
        item, movement = post(item, kind=kind, lot_number=lot, quantity=quantity, at=at, by=LEAD)
        moves.append(movement)
    return item, moves


def _write(store: SQLiteStore, records: Iterable[object], batch: int) -> int:
    pending, written = [], 0
    for record in records:
        pending.append(encode_record(record, 0))
        if len(pending) >= batch:
            store.write(pending)
            written += len(pending)
            pending = []
    if pending:
        store.write(pending)
        written += len(pending)
    return written


def load(store: SQLiteStore, args: argparse.Namespace) -> dict[str, Any]:
    """Bulk-load the staff, the clinic, the visits and the item with its ledger."""
    rng = random.Random(args.seed)
    t0 = clock.perf_counter()
    staff = [
        StaffMember(id=ADMIN, name=HumanName(family="Admin"), roles=(CareTeamRole.CASE_MANAGER,)),
        StaffMember(
            id=LEAD,
            name=HumanName(family="Lead"),
            roles=(CareTeamRole.LEAD_MEDICAL_ASSISTANT,),
            time_zone="America/Chicago",
        ),
        Clinic(
            id=CLINIC,
            time_zone="America/Chicago",
            lead_id=LEAD,
            locations=(ClinicLocation(SITE, inventory_owner_id=LEAD),),
        ),
    ]
    counts: dict[str, float] = {"staff_and_clinic": _write(store, staff, args.batch_size)}
    first = DAY - timedelta(days=args.days // 2)
    days = [first + timedelta(days=n) for n in range(args.days)]
    counts["visits"] = _write(
        store, (v for d in days for v in _visits(d, args.visits, rng)), args.batch_size
    )
    log(f"{counts['visits']} visits written")
    item, moves = _ledger(args.movements, rng)
    counts["movements"] = _write(store, moves, args.batch_size)
    counts["items"] = _write(store, [item], args.batch_size)
    log(f"{counts['movements']} movements written, on hand {item.on_hand}")
    counts["seconds_to_load"] = round(clock.perf_counter() - t0, 1)
    return counts


# -------------------------------------------------------------- the questions


def board_figures(store: SQLiteStore, db: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The day's board: index rows and the pure rule, the service call, the raw records."""
    service = CareCoordinator(store=store, clock=FixedClock(NOW))
    place = Clinic(
        id=CLINIC,
        time_zone="America/Chicago",
        lead_id=LEAD,
        locations=(ClinicLocation(SITE, inventory_owner_id=LEAD),),
    )
    start, end = day_bounds(DAY, ZONE)

    def indexed() -> list[str]:
        with UnitOfWork(store) as uow:
            query = WorkQuery(
                category="visit",
                owner_ids=(str(CLINIC),),
                open_only=False,
                due_from=start,
                due_before=end,
            )
            entries = [board_entry(snapshot(h), place, NOW) for h in uow.query(query)]
        return sorted(e.visit_id for e in entries)

    def through_service() -> list[str]:
        return sorted(e.visit_id for e in service.day_board(CLINIC, day=DAY, actor=LEAD).entries)

    raw_conn = sqlite3.connect(db)

    def raw() -> list[str]:
        rows = raw_conn.execute(
            "SELECT id, json_extract(payload, '$.data.scheduled_start') FROM records "
            "WHERE kind = 'Visit' AND json_extract(payload, '$.data.clinic_id') = ?",
            (str(CLINIC),),
        ).fetchall()
        lo, hi = start.timestamp(), end.timestamp()
        found = []
        for vid, text in rows:
            moment = datetime.fromisoformat(text.split("[")[0]).timestamp()
            if lo <= moment < hi:
                found.append(vid)
        return sorted(found)

    figures: dict[str, Any] = {}
    for name, work in (("carecoord", indexed), ("service", through_service), ("raw", raw)):
        figures[f"{name}_ms"], figures[f"{name}_result"] = _median_ms(work, args.repeat)
    raw_conn.close()
    results = [figures.pop(f"{n}_result") for n in ("carecoord", "service", "raw")]
    figures["rows"] = len(results[0])
    figures["same_results"] = results[0] == results[1] == results[2]
    return figures


def on_hand_figures(store: SQLiteStore, db: Path, args: argparse.Namespace) -> dict[str, Any]:
    """On hand: the running balance, the service call, the indexed ledger, the raw records."""
    service = CareCoordinator(store=store, clock=FixedClock(NOW))
    conn = sqlite3.connect(db)

    def balance() -> int:
        with UnitOfWork(store) as uow:
            return uow.get(SupplyItem, ITEM).on_hand

    def through_service() -> int:
        return service.supply_item(ITEM, actor=LEAD).on_hand

    def indexed_ledger() -> int:
        rows = conn.execute(
            "SELECT detail FROM work_index WHERE category = 'stock-movement' AND owner_id = ?",
            (str(ITEM),),
        ).fetchall()
        return sum(int(detail.split("|")[1]) for (detail,) in rows)

    def raw() -> int:
        (total,) = conn.execute(
            "SELECT SUM(json_extract(payload, '$.data.quantity')) FROM records "
            "WHERE kind = 'StockMovement' AND json_extract(payload, '$.data.item_id') = ?",
            (str(ITEM),),
        ).fetchone()
        return int(total)

    figures: dict[str, Any] = {}
    sides = (
        ("carecoord", balance),
        ("service", through_service),
        ("indexed_ledger", indexed_ledger),
        ("raw", raw),
    )
    answers = []
    for name, work in sides:
        figures[f"{name}_ms"], answer = _median_ms(work, args.repeat)
        answers.append(answer)
    conn.close()
    figures["on_hand"] = answers[0]
    figures["same_results"] = len(set(answers)) == 1
    return figures


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Load, measure, print; returns (and with ``--out`` writes) the figures."""
    args = parse_args(argv)
    folder = args.db_dir or Path(tempfile.mkdtemp(prefix="carecoord-clinic-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "clinic.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = SQLiteStore(db)
    try:
        counts = load(store, args)
        store.optimize()
        figures = {
            "day_board": board_figures(store, db, args),
            "on_hand": on_hand_figures(store, db, args),
        }
    finally:
        store.close()
        if args.db_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    results = {
        "sizes": {
            "visits_per_day": args.visits,
            "days": args.days,
            "movements": args.movements,
            "repeat": args.repeat,
        },
        "counts": counts,
        "figures": figures,
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    board, stock = figures["day_board"], figures["on_hand"]
    print(f"{'question':<34} {'carecoord':>10} {'service':>10} {'indexed':>10} {'raw':>10}")
    print(
        f"{'day board (' + str(board['rows']) + ' visits)':<34} {board['carecoord_ms']:>8} ms "
        f"{board['service_ms']:>7} ms {'-':>10} {board['raw_ms']:>7} ms"
    )
    print(
        f"{'on hand (' + str(args.movements) + ' movements)':<34} {stock['carecoord_ms']:>8} ms "
        f"{stock['service_ms']:>7} ms {stock['indexed_ledger_ms']:>7} ms {stock['raw_ms']:>7} ms"
    )
    print(f"same results: board {board['same_results']}, on hand {stock['same_results']}")
    if args.out is not None:
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
