"""Directory search benchmark: community services by need, language, opening time and
distance, from the index rows, next to the same raw SQL query on the same rows.

Run from the repository root, with the project's virtual environment::

    .venv/bin/python benchmarks/directory.py                    # 20,000 services
    .venv/bin/python benchmarks/directory.py --services 2000    # a quick look

It bulk-loads ``--services`` directory services straight into a
:class:`~carecoord.storage.SQLiteStore` file (``store.write`` batches of
``encode_record`` results, as ``UnitOfWork.commit`` writes them): each meets one
to three of twelve Gravity SDOH need categories, has one or two locations spread
over four metropolitan areas in four US time zones (weekday hours, some evenings
and Saturdays, on the local wall clock), speaks English and sometimes Spanish,
Chinese or Vietnamese, and is accepting, waitlisted or full. Then it measures
three searches, each the median of ``--repeat`` runs that take turns with their
floor:

* **need**: every active service meeting one need (about a sixth of the directory);
* **need + language + open + near**: a Spanish-speaking food service open on a
  Tuesday evening within 15 km of a point;
* **two needs + near**: housing or utilities within 25 km, full services left out.

carecoord's side is what ``CareCoordinator.search_directory`` runs inside its unit of
work, without the access decision and audit entry: one ``WorkQuery`` on the
``directory-service`` rows of the asked needs (``owner_id`` = the need, open = the
service is active), then :func:`carecoord.directory.search_details`: each row's
``detail`` screened for language and capacity, the rows that pass read back as
``DirectoryFacts``, filtered and ranked with their reasons.

The floor (the raw design): the same SQL on the same ``work_index`` rows through a
plain ``sqlite3`` connection (``INDEXED BY work_by_owner``: ``category``,
``owner_id IN (...)``, ``is_open = 1``), the ``|``-separated detail split by hand
and the same filter and ranking written in plain Python over tuples (no attrs
objects, no reasons). For context, the service call (access decision, audit entry,
commit) and the search without the index (every ``DirectoryService`` record decoded,
then the same pure search).

All sides must return the same services in the same order: ``same_results``. It
prints a table and writes every figure, the sizes and the machine to ``--out``
(default ``benchmarks/directory-results.json``). The database goes to a temporary
directory, removed afterwards unless ``--db-dir`` keeps it.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import shutil
import sqlite3
import sys
import tempfile
import time as clock
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, time
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from carecoord import CareCoordinator, CareTeamRole, HumanName, StaffId, StaffMember
from carecoord.directory import EARTH_RADIUS_KM, DirectoryQuery, search_details, search_facts
from carecoord.model.directory import (
    CapacityStatus,
    DirectoryFacts,
    DirectoryService,
    DirectoryServiceId,
    OpeningHours,
    ServiceLocation,
    ServiceLocationId,
    ServiceOrganization,
    ServiceOrganizationId,
)
from carecoord.serialization import from_payload
from carecoord.storage import SQLiteStore, UnitOfWork, WorkQuery
from carecoord.storage._codec import encode_record
from carecoord.testing import FixedClock

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the shared helpers sit next to this script
    sys.path.insert(0, str(HERE))

from _floors_common import alternating_medians  # noqa: E402
from _floors_common import log as _log  # noqa: E402
from _floors_common import positive as _positive  # noqa: E402

NEEDS = (
    "food-insecurity",
    "housing-instability",
    "homelessness",
    "inadequate-housing",
    "transportation-insecurity",
    "financial-insecurity",
    "utility-insecurity",
    "employment-status",
    "education-access",
    "social-connection",
    "stress",
    "intimate-partner-violence",
)
METROS = (  # (zone, latitude, longitude) of a city centre
    ("America/New_York", 40.7128, -74.0060),
    ("America/Chicago", 41.8781, -87.6298),
    ("America/Denver", 39.7392, -104.9903),
    ("America/Los_Angeles", 34.0522, -118.2437),
)
LANGUAGES = ("es", "zh", "vi")
NOW = datetime(2026, 11, 24, 18, 30, tzinfo=ZoneInfo("America/New_York"))  # a Tuesday evening
ADMIN = StaffId("admin")
CAPACITY_RANK = {"accepting": 0, "waitlist": 1, "full": 2}


def log(message: str) -> None:
    """Progress on stderr."""
    _log(message, tag="directory")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--services", type=_positive, default=20000)
    parser.add_argument("--repeat", type=_positive, default=30)
    parser.add_argument("--batch-size", type=_positive, default=2000)
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--db-dir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/directory-results.json"))
    return parser.parse_args(argv)


# ------------------------------------------------------------------- the data


def _hours(rng: random.Random) -> tuple[OpeningHours, ...]:
    closes = rng.choice((17, 17, 19, 21))
    hours = [OpeningHours(day, time(9), time(closes)) for day in range(5)]
    if rng.random() < 0.3:
        hours.append(OpeningHours(5, time(10), time(14)))
    return tuple(hours)


def _service(n: int, rng: random.Random) -> DirectoryService:
    locations = []
    for k in range(rng.choice((1, 1, 2))):
        zone, lat, lon = METROS[(n + k) % len(METROS)]
        locations.append(
            ServiceLocation(
                id=ServiceLocationId(f"loc-{n}-{k}"),
                name=f"Site {k}",
                latitude=round(lat + rng.uniform(-0.25, 0.25), 5),
                longitude=round(lon + rng.uniform(-0.3, 0.3), 5),
                time_zone=zone,
                hours=_hours(rng),
            )
        )
    languages = ("en", *sorted(rng.sample(LANGUAGES, rng.choice((0, 0, 1, 2)))))
    return DirectoryService(
        id=DirectoryServiceId(f"svc-{n}"),
        name=f"Service {n}",
        organization=ServiceOrganization(ServiceOrganizationId(f"org-{n // 5}"), f"Org {n // 5}"),
        categories=tuple(sorted(rng.sample(NEEDS, rng.choice((1, 1, 2, 3))))),
        locations=tuple(locations),
        languages=languages,
        capacity=rng.choice(
            (CapacityStatus.ACCEPTING,) * 3 + (CapacityStatus.WAITLIST, CapacityStatus.FULL)
        ),
        service_radius_km=rng.choice((None, None, 30.0)),
        active=rng.random() < 0.95,
    )


def load(store: SQLiteStore, args: argparse.Namespace) -> dict[str, int]:
    """Bulk-load the directory; returns counts."""
    rng = random.Random(args.seed)
    t0 = clock.perf_counter()
    pending, written, locations = [], 0, 0
    for n in range(args.services):
        service = _service(n, rng)
        locations += len(service.locations)
        pending.append(encode_record(service, 0))
        if len(pending) >= args.batch_size:
            store.write(pending)
            written += len(pending)
            pending = []
    if pending:
        store.write(pending)
        written += len(pending)
    log(f"loaded {written} services in {clock.perf_counter() - t0:.1f}s")
    store.optimize()
    return {"services": written, "locations": locations}


QUERIES = {
    "need": DirectoryQuery(("food-insecurity",)),
    "need_language_open_near": DirectoryQuery(
        ("food-insecurity",),
        language="es",
        open_at=NOW,
        near=(40.7306, -73.9352),
        within_km=15.0,
    ),
    "two_needs_near": DirectoryQuery(
        ("housing-instability", "utility-insecurity"),
        near=(41.8781, -87.6298),
        within_km=25.0,
        include_full=False,
    ),
}


# ------------------------------------------------------------- the questions


def store_search(store: SQLiteStore, query: DirectoryQuery) -> list[str]:
    """What ``search_directory`` runs in its unit of work (no access check, no audit)."""
    with UnitOfWork(store) as uow:
        hits = uow.query(
            WorkQuery(category="directory-service", owner_ids=query.categories, open_only=True)
        )
        rows = ((str(h.row.owner_id), h.row.detail or "") for h in hits)
        return [str(m.service_id) for m in search_details(rows, query)]


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _open(hours: str, zone: str, at: datetime, zones: dict[str, ZoneInfo]) -> bool:
    local = at.astimezone(zones.setdefault(zone, ZoneInfo(zone)))
    now = f"{local.hour:02d}{local.minute:02d}"
    day = str(local.weekday())
    for code in hours.split(","):
        weekday, _, span = code.partition(":")
        if weekday == day and span[:4] <= now < span[5:]:
            return True
    return False


def raw_search(conn: sqlite3.Connection, query: DirectoryQuery) -> list[str]:
    """The same SQL on the same rows, filtered and ranked in plain Python."""
    marks = ",".join("?" * len(query.categories))
    rows = conn.execute(
        "SELECT owner_id, detail FROM work_index INDEXED BY work_by_owner "
        f"WHERE category = 'directory-service' AND owner_id IN ({marks}) AND is_open = 1",
        query.categories,
    ).fetchall()
    wanted = None if query.language is None else query.language.lower().split("-")[0]
    zones: dict[str, ZoneInfo] = {}
    best: dict[str, tuple[float, int]] = {}
    needs: dict[str, set[str]] = {}
    for need, detail in rows:
        service, _, place, zone, hours, langs, capacity, radius = detail.split("|")
        if wanted is not None and not any(
            t.lower().split("-")[0] == wanted for t in langs.split(",")
        ):
            continue
        if not query.include_full and capacity == "full":
            continue
        distance = math.inf
        if query.near is not None and place:
            lat, _, lon = place.partition(",")
            distance = _km(query.near[0], query.near[1], float(lat), float(lon))
            if query.within_km is not None and distance > query.within_km:
                continue
            if radius and distance > float(radius):
                continue
        elif query.within_km is not None:
            continue
        if query.open_at is not None and (not zone or not _open(hours, zone, query.open_at, zones)):
            continue
        needs.setdefault(service, set()).add(need)
        held = best.get(service)
        if held is None or distance < held[0]:
            best[service] = (distance, CAPACITY_RANK[capacity])
    ranked = sorted(best, key=lambda s: (-len(needs[s]), best[s][1], best[s][0], s))
    return ranked if query.limit is None else ranked[: query.limit]


def scan_search(store: SQLiteStore, query: DirectoryQuery) -> list[str]:
    """Context: every service record decoded, then the same pure search."""
    services = [
        from_payload(json.loads(r.payload), DirectoryService)
        for r in store.read_all("DirectoryService")
    ]
    rows = (
        (need, facts)
        for s in services
        if s.active
        for need in s.categories
        for facts in DirectoryFacts.of(s)
    )
    return [str(m.service_id) for m in search_facts(rows, query)]


def _admin() -> StaffMember:
    return StaffMember(
        id=ADMIN, name=HumanName(family="Admin"), roles=(CareTeamRole.CARE_COORDINATOR,)
    )


def run(args: argparse.Namespace, where: Path) -> dict[str, Any]:
    """Load, measure, and return the results."""
    db = where / "directory.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = SQLiteStore(db)
    try:
        counts = load(store, args)
        service = CareCoordinator(store=store, clock=FixedClock(NOW))
        service.register_staff(_admin(), actor=ADMIN)
        conn = sqlite3.connect(db)
        figures: dict[str, Any] = {}
        for key, query in QUERIES.items():
            calls: list[Callable[[], object]] = [
                partial(store_search, store, query),
                partial(raw_search, conn, query),
                partial(service.search_directory, query, actor=ADMIN),
            ]
            ours_s, floor_s, service_s = alternating_medians(calls, args.repeat, warm=1)
            t0 = clock.perf_counter()
            scanned = scan_search(store, query)
            scan_s = clock.perf_counter() - t0
            found = store_search(store, query)
            via_service = [str(m.service_id) for m in service.search_directory(query, actor=ADMIN)]
            figures[key] = {
                "carecoord_s": ours_s,
                "floor_s": floor_s,
                "ratio": ours_s / floor_s if floor_s else None,
                "service_s": service_s,
                "unindexed_s": scan_s,
                "rows": len(found),
                "same_results": found == raw_search(conn, query) == scanned == via_service,
            }
        conn.close()
        return {
            "sizes": {k: v for k, v in vars(args).items() if k not in ("db_dir", "out")},
            "counts": counts,
            "floor": "same SQL on the same work_index rows via sqlite3 (INDEXED BY "
            "work_by_owner), detail split and filtered/ranked in plain Python",
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


def _table(results: dict[str, Any]) -> Iterable[str]:
    yield (
        f"{'search':<26} {'carecoord':>11} {'raw SQL':>11} {'ratio':>6} {'service':>11} "
        f"{'unindexed':>11} {'rows':>5} same"
    )
    for key, f in results["figures"].items():
        yield (
            f"{key:<26} {f['carecoord_s'] * 1e3:>9.3f}ms {f['floor_s'] * 1e3:>9.3f}ms "
            f"{f['ratio']:>6.2f} {f['service_s'] * 1e3:>9.3f}ms {f['unindexed_s'] * 1e3:>9.1f}ms "
            f"{f['rows']:>5} {f['same_results']}"
        )


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the table, write the JSON."""
    args = parse_args(argv)
    where = (
        Path(tempfile.mkdtemp(prefix="carecoord-directory-"))
        if args.db_dir is None
        else args.db_dir
    )
    where.mkdir(parents=True, exist_ok=True)
    try:
        results = run(args, where)
    finally:
        if args.db_dir is None:
            shutil.rmtree(where, ignore_errors=True)
    print("\n".join(_table(results)))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
