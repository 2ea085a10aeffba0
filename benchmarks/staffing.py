"""Staffing benchmarks: "who is on duty now" and "free slots this week", indexed, next to the
same raw query.

Run from the repository root, with the project's virtual environment::

    .venv/bin/python benchmarks/staffing.py                          # 2,000 staff, a year
    .venv/bin/python benchmarks/staffing.py --staff 200 --days 60    # a quick look

It bulk-loads, straight into a :class:`~carecoord.storage.SQLiteStore` file
(``store.write`` batches of ``encode_record`` results, as ``UnitOfWork.commit``
writes them): ``--staff`` members over ``--locations`` locations in four roles,
each working five shifts a week (a fixed day, evening or night shift, on the
wall clock of America/Chicago, so the year's DST changes are in the data) for
``--days`` days around a fixed "now", two weeks of time off each (5% on
leave now), and for ``--providers`` providers a schedule of weekday sessions
(09:00-12:00 and 13:00-17:00, 20-minute slots) published for the whole
window, a quarter of the slots booked. Then it measures, each as the median
of ``--repeat`` runs that take turns with their floor:

* **on duty (role, location)**: who of one role is on duty at one location
  now: the index rows the service reads (``duty`` rows of ``location|role``,
  one due range, then the time off of those on shift) and the pure rule, in a
  unit of work; the floor is the same two SQL queries through a plain
  ``sqlite3`` connection and the same filtering in Python. For context, the
  service call (``CareCoordinator.on_duty``: access decision, audit entry,
  commit) and the question asked of the raw records without the index
  (``json_extract`` over every shift).
* **on duty (location)**: every role at one location (one query per role).
* **free slots this week**: a provider's free slots in the next seven days:
  the ``slot`` index rows of one provider in one due range, as calendar
  entries; the floor the same SQL through ``sqlite3``; for context the service
  call and the raw records without the index.

Both sides must return the same staff (or slots): ``same_results``. It prints a
table and writes every figure, the sizes and the machine to ``--out`` (default
``benchmarks/staffing-results.json``). The database goes to a temporary
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
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from carecoord import (
    AppointmentId,
    Cadence,
    CareCoordinator,
    CareTeamRole,
    HumanName,
    PatientId,
    StaffId,
    StaffMember,
)
from carecoord.model import localize
from carecoord.model.scheduling import Schedule, ScheduleId, SessionPattern
from carecoord.model.workforce import LocationId, Shift, ShiftId, ShiftKind, TimeOff, TimeOffId
from carecoord.service._staffing import absences_of, duty_spans
from carecoord.storage import SQLiteStore, UnitOfWork, WorkQuery
from carecoord.storage._codec import encode_record
from carecoord.storage.port import to_micros
from carecoord.testing import FixedClock
from carecoord.workforce import on_duty, slots_from_schedule

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the shared helpers sit next to this script
    sys.path.insert(0, str(HERE))

from _floors_common import alternating_medians  # noqa: E402
from _floors_common import log as _log  # noqa: E402
from _floors_common import positive as _positive  # noqa: E402

ZONE = ZoneInfo("America/Chicago")
NOW = datetime(2026, 11, 23, 10, 30, tzinfo=ZONE)
ROLES = (
    CareTeamRole.NURSE,
    CareTeamRole.MEDICAL_ASSISTANT,
    CareTeamRole.PRIMARY_CARE_PROVIDER,
    CareTeamRole.LEAD_MEDICAL_ASSISTANT,
)
SHIFTS = ((7, 15), (15, 23), (23, 7))
ADMIN = StaffId("admin")
MAX_SHIFT_MICROS = 72 * 3600 * 1_000_000


def log(message: str) -> None:
    """Progress on stderr."""
    _log(message, tag="staffing")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--staff", type=_positive, default=2000)
    parser.add_argument("--locations", type=_positive, default=20)
    parser.add_argument("--days", type=_positive, default=365)
    parser.add_argument("--providers", type=_positive, default=50)
    parser.add_argument("--repeat", type=_positive, default=50)
    parser.add_argument("--batch-size", type=_positive, default=2000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--db-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/staffing-results.json"))
    return parser.parse_args(argv)


# ------------------------------------------------------------------- the data


def _role(index: int, locations: int) -> CareTeamRole:
    """Staff ``index`` works at location ``index % locations``; roles take turns per location."""
    return ROLES[(index // locations) % len(ROLES)]


def _member(index: int, role: CareTeamRole) -> StaffMember:
    return StaffMember(
        id=StaffId(f"s{index}"),
        name=HumanName(family=f"Staff {index}"),
        roles=(role,),
        time_zone="America/Chicago",
        supervisor_id=ADMIN,
    )


def _shifts(
    index: int, role: CareTeamRole, location: LocationId, days: Iterable[date]
) -> Iterable[Shift]:
    begin, end = SHIFTS[index % 3]
    for day in days:
        if (day.toordinal() + index) % 7 in (5, 6):
            continue  # two days off a week
        start = localize(datetime.combine(day, time(begin)), ZONE)
        stop_day = day + timedelta(days=1) if end < begin else day
        yield Shift(
            id=ShiftId(f"s{index}.{day.isoformat()}"),
            staff_id=StaffId(f"s{index}"),
            role=role,
            location_id=location,
            start=start,
            end=localize(datetime.combine(stop_day, time(end)), ZONE),
            kind=ShiftKind.ON_CALL
            if role is CareTeamRole.LEAD_MEDICAL_ASSISTANT
            else ShiftKind.ON_SITE,
        )


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
    """Bulk-load staff, shifts, time off, schedules and slots; returns counts and picks."""
    rng = random.Random(args.seed)
    first = NOW.date() - timedelta(days=args.days // 2)
    days = [first + timedelta(days=n) for n in range(args.days)]
    locations = [LocationId(f"loc-{n}") for n in range(args.locations)]
    admin = StaffMember(
        id=ADMIN, name=HumanName(family="Admin"), roles=(CareTeamRole.CARE_COORDINATOR,)
    )
    counts: dict[str, int] = {}
    t0 = clock.perf_counter()
    roles = [_role(i, len(locations)) for i in range(args.staff)]
    staff = [admin, *(_member(i, roles[i]) for i in range(args.staff))]
    counts["staff"] = _write(store, staff, args.batch_size)
    counts["shifts"] = _write(
        store,
        (
            s
            for i in range(args.staff)
            for s in _shifts(i, roles[i], locations[i % len(locations)], days)
        ),
        args.batch_size,
    )
    leave = []
    for i in range(args.staff):
        if rng.random() < 0.05:
            start = NOW - timedelta(days=rng.randint(0, 13))
        else:
            start = localize(datetime.combine(rng.choice(days), time(0)), ZONE)
        leave.append(
            TimeOff(
                id=TimeOffId(f"leave-{i}"),
                staff_id=StaffId(f"s{i}"),
                start=start,
                end=start + timedelta(days=14),
            )
        )
    counts["time_off"] = _write(store, leave, args.batch_size)
    pcps = [
        i for i in range(args.staff) if ROLES[i % len(ROLES)] is CareTeamRole.PRIMARY_CARE_PROVIDER
    ]
    providers = pcps[: args.providers]
    window = (
        localize(datetime.combine(first, time(0)), ZONE),
        localize(datetime.combine(first + timedelta(days=args.days), time(0)), ZONE),
    )
    slot_count = 0
    for i in providers:
        monday = localize(datetime.combine(first - timedelta(days=first.weekday()), time(9)), ZONE)
        sessions = tuple(
            SessionPattern(
                cadence=Cadence.weeks(1, monday.replace(hour=h) + timedelta(days=d)),
                ends=time(e),
                slot_minutes=20,
            )
            for d in range(5)
            for h, e in ((9, 12), (13, 17))
        )
        schedule = Schedule(
            id=ScheduleId(f"sched-{i}"),
            provider_id=StaffId(f"s{i}"),
            location_id=locations[i % len(locations)],
            sessions=sessions,
        )
        slots = slots_from_schedule(schedule, *window)
        slots = [
            s.booked(AppointmentId(f"ap-{s.id}"[:64]), PatientId(f"p-{n % 997}"))
            if rng.random() < 0.25
            else s
            for n, s in enumerate(slots)
        ]
        slot_count += _write(store, [schedule, *slots], args.batch_size)
    counts["slots_and_schedules"] = slot_count
    log(f"loaded {sum(counts.values())} records in {clock.perf_counter() - t0:.1f}s")
    store.optimize()
    return {
        "counts": counts,
        "location": locations[0],
        "role": CareTeamRole.NURSE,
        "provider": StaffId(f"s{providers[0]}") if providers else None,
        "window": window,
    }


# ------------------------------------------------------------- the questions


def store_on_duty(store: SQLiteStore, location: LocationId, role: CareTeamRole | None) -> list[str]:
    """Who is on duty now, through the store's index rows and the pure rule (no audit)."""
    with UnitOfWork(store) as uow:
        spans = duty_spans(
            uow, NOW, NOW + timedelta(microseconds=1), location_id=location, role=role
        )
        away = absences_of(uow, {s.staff_id for s in spans}, NOW, NOW + timedelta(microseconds=1))
        return sorted(str(s.staff_id) for s in on_duty(spans, away, NOW))


def raw_on_duty(
    conn: sqlite3.Connection, location: LocationId, roles: Sequence[CareTeamRole]
) -> list[str]:
    """The same question as plain SQL over the same index table, filtered the same way."""
    now = to_micros(NOW)
    staff: set[str] = set()
    for role in roles:
        rows = conn.execute(
            "SELECT detail, changed_at FROM work_index INDEXED BY work_by_owner "
            "WHERE category = 'duty' AND owner_id = ? AND is_open = 1 AND priority = 0 "
            "AND due_key > ? AND due_key <= ? AND changed_at <= ?",
            (f"{location}|{role.value}", now, now + MAX_SHIFT_MICROS, now),
        ).fetchall()
        staff.update(r[0] for r in rows)
    if not staff:
        return []
    marks = ",".join("?" * len(staff))
    away = {
        r[0]
        for r in conn.execute(
            f"SELECT owner_id FROM work_index INDEXED BY work_by_owner WHERE category = 'time-off' "
            f"AND owner_id IN ({marks}) AND is_open = 1 AND due_key > ? AND changed_at <= ?",
            (*staff, now, now),
        )
    }
    return sorted(staff - away)


def scan_on_duty(conn: sqlite3.Connection, location: LocationId, role: CareTeamRole) -> list[str]:
    """Context: the same question asked of the raw records, without the index."""
    rows = conn.execute(
        "SELECT json_extract(payload, '$.data.staff_id') FROM records WHERE kind = 'Shift' "
        "AND json_extract(payload, '$.data.location_id') = ? "
        "AND json_extract(payload, '$.data.role') = ? "
        "AND json_extract(payload, '$.data.status') = 'planned' "
        "AND unixepoch(substr(json_extract(payload, '$.data.start'), 1, 25)) <= ? "
        "AND unixepoch(substr(json_extract(payload, '$.data.end'), 1, 25)) > ?",
        (str(location), role.value, int(NOW.timestamp()), int(NOW.timestamp())),
    ).fetchall()
    staff = {r[0] for r in rows}
    away = {
        r[0]
        for r in conn.execute(
            "SELECT json_extract(payload, '$.data.staff_id') FROM records WHERE kind = 'TimeOff' "
            "AND json_extract(payload, '$.data.cancelled') = 0 "
            "AND unixepoch(substr(json_extract(payload, '$.data.start'), 1, 25)) <= ? "
            "AND unixepoch(substr(json_extract(payload, '$.data.end'), 1, 25)) > ?",
            (int(NOW.timestamp()), int(NOW.timestamp())),
        )
    }
    return sorted(staff - away)


def store_free_slots(store: SQLiteStore, provider: StaffId) -> list[str]:
    """A provider's free slots this week, from the ``slot`` index rows (no audit)."""
    with UnitOfWork(store) as uow:
        hits = uow.query(
            WorkQuery(
                category="slot",
                owner_ids=(str(provider),),
                due_from=NOW,
                due_before=NOW + timedelta(days=7),
            )
        )
        return [h.row.item_id for h in hits]


def raw_free_slots(conn: sqlite3.Connection, provider: StaffId) -> list[str]:
    """The same question as plain SQL over the index table."""
    rows = conn.execute(
        "SELECT item_id FROM work_index INDEXED BY work_by_owner WHERE category = 'slot' "
        "AND owner_id = ? AND is_open = 1 AND priority = 0 AND due_key >= ? AND due_key < ? "
        "ORDER BY due_key, item_id",
        (str(provider), to_micros(NOW), to_micros(NOW + timedelta(days=7))),
    ).fetchall()
    return [r[0] for r in rows]


def scan_free_slots(conn: sqlite3.Connection, provider: StaffId) -> list[str]:
    """Context: the raw records, without the index."""
    rows = conn.execute(
        "SELECT id, unixepoch(substr(json_extract(payload, '$.data.start'), 1, 25)) AS at "
        "FROM records WHERE kind = 'Slot' AND json_extract(payload, '$.data.provider_id') = ? "
        "AND json_extract(payload, '$.data.status') = 'free' AND at >= ? AND at < ? "
        "ORDER BY at, id",
        (str(provider), int(NOW.timestamp()), int((NOW + timedelta(days=7)).timestamp())),
    ).fetchall()
    return [r[0] for r in rows]


def medians(calls: Sequence[Callable[[], object]], repeat: int) -> list[float]:
    """Median seconds of each call over ``repeat`` runs, taking turns (one warm-up run)."""
    return alternating_medians(calls, repeat, warm=1)


def run(args: argparse.Namespace, where: Path) -> dict[str, Any]:
    """Load, measure, and return the results."""
    store = SQLiteStore(where / "staffing.sqlite3")
    try:
        picks = load(store, args)
        conn = sqlite3.connect(where / "staffing.sqlite3")
        service = CareCoordinator(store=store, clock=FixedClock(NOW))
        location, role, provider = picks["location"], picks["role"], picks["provider"]
        figures: dict[str, Any] = {}

        def measure(
            key: str,
            ours: Callable[[], list[str]],
            floor: Callable[[], list[str]],
            service_call: Callable[[], object],
            scan: Callable[[], list[str]],
        ) -> None:
            ours_s, floor_s, service_s = medians([ours, floor, service_call], args.repeat)
            t0 = clock.perf_counter()
            scanned = scan()
            scan_s = clock.perf_counter() - t0
            found = ours()
            figures[key] = {
                "carecoord_s": ours_s,
                "floor_s": floor_s,
                "ratio": ours_s / floor_s if floor_s else None,
                "service_s": service_s,
                "unindexed_s": scan_s,
                "rows": len(found),
                "same_results": found == floor() == scanned,
            }

        measure(
            "on_duty_role_location",
            lambda: store_on_duty(store, location, role),
            lambda: raw_on_duty(conn, location, [role]),
            lambda: service.on_duty(actor=ADMIN, role=role, location_id=location),
            lambda: scan_on_duty(conn, location, role),
        )
        measure(
            "on_duty_location",
            lambda: store_on_duty(store, location, None),
            lambda: raw_on_duty(conn, location, list(CareTeamRole)),
            lambda: service.on_duty(actor=ADMIN, location_id=location),
            lambda: sorted({s for r in ROLES for s in scan_on_duty(conn, location, r)}),
        )
        if provider is not None:
            measure(
                "free_slots_week",
                lambda: store_free_slots(store, provider),
                lambda: raw_free_slots(conn, provider),
                lambda: service.free_slots(provider, NOW, NOW + timedelta(days=7), actor=ADMIN),
                lambda: scan_free_slots(conn, provider),
            )
        conn.close()
        return {
            "sizes": {k: v for k, v in vars(args).items() if k not in ("db_dir", "out")},
            "counts": picks["counts"],
            "figures": figures,
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "sqlite": sqlite3.sqlite_version,
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
            },
        }
    finally:
        store.close()


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, write the JSON."""
    args = parse_args(argv)
    where = (
        Path(tempfile.mkdtemp(prefix="carecoord-staffing-")) if args.db_dir is None else args.db_dir
    )
    where.mkdir(parents=True, exist_ok=True)
    try:
        results = run(args, where)
    finally:
        if args.db_dir is None:
            shutil.rmtree(where, ignore_errors=True)
    print(
        f"{'question':<26} {'carecoord':>11} {'raw SQL':>11} {'ratio':>6} {'service':>11} "
        f"{'unindexed':>11} {'rows':>5} same"
    )
    for key, f in results["figures"].items():
        print(
            f"{key:<26} {f['carecoord_s'] * 1e3:>9.3f}ms {f['floor_s'] * 1e3:>9.3f}ms "
            f"{f['ratio']:>6.2f} {f['service_s'] * 1e3:>9.3f}ms {f['unindexed_s'] * 1e3:>9.1f}ms "
            f"{f['rows']:>5} {f['same_results']}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
