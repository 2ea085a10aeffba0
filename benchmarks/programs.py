"""Care-program benchmark: eligible-not-enrolled over a large population, as carecoord
answers it, next to the same question as one hand-written SQL query on the same rows.

Run from the repository root, with the project's virtual environment::

    .venv/bin/python benchmarks/programs.py                      # 100,000 patients
    .venv/bin/python benchmarks/programs.py --patients 5000      # a quick look
    .venv/bin/python benchmarks/programs.py --quick              # 2,000 patients
    .venv/bin/python benchmarks/programs.py --db-dir /tmp/p --reuse  # load once, rerun

It bulk-loads, straight into a :class:`~carecoord.storage.SQLiteStore` file
(``store.write`` batches of ``encode_record`` results, as ``UnitOfWork.commit`` writes
them): ``--patients`` patients (each with a care team the coordinator is on), an active
type 2 diabetes ``HealthConcern`` for about ``--share`` of them (others get another
condition), a ``hospice`` fact for some, and an open enrolment in the program for a
fifth of the diabetics. Birth dates keep every patient years away from the 18th
birthday, so a UTC-date age test (the raw query's) and carecoord's local-date test agree.

Then it measures, as the median of ``--repeat`` runs, the program "diabetes, 18 or
older, not in hospice" (``all_of`` condition + age, ``none_of`` fact):

* **carecoord**: ``CareCoordinator.eligible_not_enrolled`` (access decision, candidate
  search on the most selective criterion's ``eligibility`` rows, the candidates' own
  rows, the pure evaluation, the enrolment rows, the readable-patient check, audit
  entry, commit).
* **raw SQL**: the same population as one SQL statement over the same ``work_index``
  rows and indexes (the design a team would write by hand against these tables): the
  condition rows joined to the birth row, ``NOT EXISTS`` the hospice fact row and an
  open enrolment row. No access check, no audit.

Both must give the same patients (``same_results``). It prints a table and writes the
figures as JSON to ``--out`` (default ``benchmarks/programs-results.json``).
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from carecoord import (
    CareCoordinator,
    CareTeam,
    CareTeamId,
    CareTeamRole,
    CareTeamStatus,
    HealthConcern,
    HealthConcernId,
    HumanName,
    Membership,
    Patient,
    PatientId,
    Period,
    StaffId,
    StaffMember,
)
from carecoord.model import Coding, ConditionClinicalStatus
from carecoord.model.programs import (
    CareProgram,
    CareProgramId,
    Criterion,
    Eligibility,
    PatientFact,
    ProgramEnrolment,
)
from carecoord.storage import SQLiteStore
from carecoord.storage._codec import encode_record
from carecoord.storage.port import to_micros
from carecoord.testing import FixedClock

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the shared helpers sit next to this script
    sys.path.insert(0, str(HERE))

from _floors_common import alternating_medians  # noqa: E402
from _floors_common import log as _log  # noqa: E402
from _floors_common import positive as _positive  # noqa: E402

NOW = datetime(2026, 11, 23, 15, tzinfo=UTC)
COORD = StaffId("coord")
PROGRAM = CareProgramId("diabetes")
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
DEFAULT_OUT = Path(__file__).resolve().parent / "programs-results.json"
ELIGIBILITY = Eligibility(
    all_of=(Criterion.condition("E11", "E11.9"), Criterion.age(min_age=18)),
    none_of=(Criterion.fact("hospice", "yes"),),
)
RAW = """
SELECT c.patient_id FROM work_index c
WHERE c.category = 'eligibility' AND c.owner_id IN ('condition:E11', 'condition:E11.9')
  AND c.is_open = 1
  AND EXISTS (SELECT 1 FROM work_index b WHERE b.category = 'eligibility'
              AND b.patient_id = c.patient_id AND b.owner_id = 'age:birth' AND b.due_at < ?)
  AND NOT EXISTS (SELECT 1 FROM work_index h WHERE h.category = 'eligibility'
              AND h.patient_id = c.patient_id AND h.owner_id = 'fact:hospice=yes')
  AND NOT EXISTS (SELECT 1 FROM work_index e WHERE e.category = 'program-enrolment'
              AND e.patient_id = c.patient_id AND e.owner_id = ? AND e.is_open = 1)
GROUP BY c.patient_id ORDER BY c.patient_id
"""
"""The raw design: one statement over the same ``work_index`` rows (see the module doc)."""


def log(message: str) -> None:
    """Progress on stderr."""
    _log(message, tag="programs")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module documentation)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--patients", type=_positive, default=100_000)
    parser.add_argument("--quick", action="store_true", help="2,000 patients, 3 repeats")
    parser.add_argument("--share", type=float, default=0.1)
    parser.add_argument("--repeat", type=_positive, default=10)
    parser.add_argument("--batch-size", type=_positive, default=2000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--db-dir", type=Path, default=None)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --db-dir: measure the store a previous run loaded there (same sizes)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    if args.quick:
        args.patients, args.repeat = 2000, 3
    return args


def _population(count: int, share: float, rng: random.Random) -> Iterable[object]:
    start = NOW - timedelta(days=400)
    for n in range(count):
        pid = PatientId(f"p-{n:06d}")
        year = rng.choice((rng.randint(1930, 2000), rng.randint(2012, 2020)))
        yield Patient(
            id=pid,
            name=HumanName(family=f"P{n}"),
            birth_date=date(year, rng.randint(1, 12), rng.randint(1, 28)),
            time_zone=rng.choice(("America/Chicago", "America/New_York", "Pacific/Honolulu")),
        )
        yield CareTeam(
            id=CareTeamId(f"t-{n}"),
            patient_id=pid,
            lead_id=COORD,
            members=(Membership(COORD, CareTeamRole.CARE_COORDINATOR, Period(start)),),
            status=CareTeamStatus.ACTIVE,
        )
        diabetic = rng.random() < share
        yield HealthConcern(
            id=HealthConcernId(f"hc-{n}"),
            patient_id=pid,
            codings=(Coding(ICD, rng.choice(("E11", "E11.9")) if diabetic else "I10"),),
            clinical_status=ConditionClinicalStatus.ACTIVE,
        )
        if rng.random() < 0.05:
            yield PatientFact(PatientFact.id_for(pid, "hospice"), pid, "hospice", "yes", start)
        if diabetic and rng.random() < 0.2:
            yield ProgramEnrolment(
                ProgramEnrolment.id_for(PROGRAM, pid, 1), PROGRAM, pid, start, COORD
            )


def load(store: SQLiteStore, args: argparse.Namespace) -> dict[str, Any]:
    """Bulk-load the coordinator, the program and the population."""
    t0 = clock.perf_counter()
    head: list[object] = [
        StaffMember(id=COORD, name=HumanName(family="Coord"), roles=(CareTeamRole.CASE_MANAGER,)),
        CareProgram(id=PROGRAM, name="Diabetes", owner_id=COORD, eligibility=ELIGIBILITY),
    ]
    rng = random.Random(args.seed)
    records = 0
    pending = [encode_record(r, 0) for r in head]
    for record in _population(args.patients, args.share, rng):
        pending.append(encode_record(record, 0))
        if len(pending) >= args.batch_size:
            store.write(pending)
            records += len(pending)
            pending = []
    store.write(pending)
    records += len(pending)
    seconds = round(clock.perf_counter() - t0, 1)
    log(f"{records} records written in {seconds} s")
    return {"patients": args.patients, "records": records, "seconds_to_load": seconds}


def figures(store: SQLiteStore, db: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Time carecoord's service call and the raw statement; compare their answers."""
    service = CareCoordinator(store=store, clock=FixedClock(NOW))

    def through_service() -> list[str]:
        found = service.eligible_not_enrolled(PROGRAM, actor=COORD, limit=None)
        return [str(r.patient_id) for r in found]

    cutoff = to_micros(datetime(NOW.year - 18, NOW.month, NOW.day, tzinfo=UTC))
    with sqlite3.connect(db) as conn:

        def raw() -> list[str]:
            return [row[0] for row in conn.execute(RAW, (cutoff, str(PROGRAM)))]

        ours, theirs = through_service(), raw()
        service_s, raw_s = alternating_medians([through_service, raw], args.repeat, warm=1)
        service_ms, raw_ms = round(service_s * 1000, 3), round(raw_s * 1000, 3)
        plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + RAW, (cutoff, "x"))]
    return {
        "eligible_not_enrolled": len(ours),
        "service_ms": service_ms,
        "raw_ms": raw_ms,
        "same_results": ours == theirs,
        "raw_plan": plan,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Load, measure, print; returns (and writes to ``--out``) the figures."""
    args = parse_args(argv)
    folder = args.db_dir or Path(tempfile.mkdtemp(prefix="carecoord-programs-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "programs.sqlite3"
    loaded = folder / "programs-load.json"
    sizes = {"patients": args.patients, "share": args.share, "seed": args.seed}
    reuse = args.reuse and args.db_dir is not None and db.exists() and loaded.exists()
    if reuse:
        saved = json.loads(loaded.read_text(encoding="utf-8"))
        reuse = saved.get("sizes") == sizes
    if not reuse:
        loaded.unlink(missing_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = SQLiteStore(db)
    try:
        if reuse:
            counts = saved["counts"]
            log(f"reusing the {counts['records']} records loaded in {db}")
        else:
            counts = load(store, args)
            store.optimize()
            loaded.write_text(json.dumps({"sizes": sizes, "counts": counts}), encoding="utf-8")
        found = figures(store, db, args)
    finally:
        store.close()
        if args.db_dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    results = {
        "sizes": {"patients": args.patients, "share": args.share, "repeat": args.repeat},
        "counts": counts,
        "figures": found,
        "raw_design": "one SQL statement over work_index: condition rows, EXISTS birth row, "
        "NOT EXISTS hospice fact row and open enrolment row (same indexes)",
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
    }
    print(f"{'question':<44} {'carecoord':>12} {'raw SQL':>10}")
    label = f"eligible not enrolled ({args.patients:,} patients)"
    print(f"{label:<44} {found['service_ms']:>9} ms {found['raw_ms']:>7} ms")
    print(f"{found['eligible_not_enrolled']} patients; same results: {found['same_results']}")
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return results


if __name__ == "__main__":
    main()
