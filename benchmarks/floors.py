"""carecoord against the hard floors of issue 12: each figure next to its floor, in one run.

Run from the repository root, with the project's virtual environment::

    .venv/bin/python benchmarks/floors.py                     # full size (about 15 minutes)
    .venv/bin/python benchmarks/floors.py --patients 2000 --load-patients 1000   # a quick look
    .venv/bin/python benchmarks/floors.py --only codec        # one figure
    .venv/bin/python benchmarks/floors.py --db-dir /tmp/floors  # keep the data set, reuse it

Figures: the overdue worklist (SQLite and PostgreSQL), the round trip of a full care
plan (orjson and stdlib backends; the store's path with its index rows, and the stored
text alone), the month's metrics through the service, a monthly cadence, the bulk load
through the unit of work, ``interventions_due``, and the import time. See
``benchmarks/README.md`` for each floor and target. It prints a table and writes the
figures, floors, ratios, targets, the sizes and the machine to ``--out`` (default
``benchmarks/floors-results.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # the helper modules sit next to this script
    sys.path.insert(0, str(HERE))

import _floors_build  # noqa: E402
import _floors_codec  # noqa: E402
import _floors_load  # noqa: E402
import _floors_sql  # noqa: E402
from _floors_common import Figure, log, machine, table  # noqa: E402
from _floors_common import positive as _positive  # noqa: E402
from _floors_data import NOW, Staff  # noqa: E402

from carecoord.storage import SQLiteStore  # noqa: E402

__all__ = ["FIGURES", "main", "parse_args"]

DSN_ENV = "CARECOORD_TEST_POSTGRES_DSN"

FIGURES = ("codec", "cadence", "import", "bulk_load", "worklist", "interventions_due", "metrics")
"""The figure groups ``--only`` selects, in the order they run (``worklist`` is SQLite and,
with a DSN, PostgreSQL; ``codec`` is the orjson and the stdlib backend)."""

DATASET_FIGURES = frozenset({"worklist", "interventions_due", "metrics"})


def _seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, not {value}")
    return value


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    size = parser.add_argument_group("sizes (defaults: the issue's)")
    size.add_argument(
        "--patients",
        type=_positive,
        default=100_000,
        help="patients in the data set, ~10 interventions each (default 100,000: ~1M)",
    )
    size.add_argument("--coordinators", type=_positive, default=40, help="default 40")
    size.add_argument(
        "--load-patients",
        type=_positive,
        default=20_000,
        help="patients whose records the bulk load writes (default 20,000: ~124,000 records)",
    )
    size.add_argument("--batch-size", type=_positive, default=1000, help="records per unit")
    size.add_argument("--seed", type=int, default=20261123)
    how = parser.add_argument_group("measurement")
    how.add_argument("--limit", type=_positive, default=100, help="worklist rows (first N)")
    how.add_argument("--repeat", type=_positive, default=200, help="worklist runs (median)")
    how.add_argument("--due-rows", type=_positive, default=200, help="interventions_due rows")
    how.add_argument("--due-repeat", type=_positive, default=20, help="interventions_due runs")
    how.add_argument("--metrics-repeat", type=_positive, default=1, help="service metrics runs")
    how.add_argument("--metrics-floor-repeat", type=_positive, default=3)
    how.add_argument("--round-seconds", type=_seconds, default=0.2, help="length of a timing round")
    how.add_argument("--rounds", type=_positive, default=7, help="timing rounds (median)")
    how.add_argument("--cadence-years", type=_positive, default=10)
    how.add_argument("--import-runs", type=_positive, default=11, help="fresh processes each")
    run = parser.add_argument_group("what and where")
    run.add_argument(
        "--only",
        action="append",
        choices=FIGURES,
        metavar="NAME",
        help=f"run only this figure (repeatable): {', '.join(FIGURES)}",
    )
    run.add_argument("--out", type=Path, default=HERE / "floors-results.json")
    run.add_argument(
        "--db-dir",
        type=Path,
        default=None,
        help="keep the data set here and reuse it in later runs (default: a temp dir)",
    )
    run.add_argument(
        "--pg-dsn",
        default=os.environ.get(DSN_ENV) or None,
        help=f"PostgreSQL for the worklist figure (default: ${DSN_ENV}; none: skipped)",
    )
    run.add_argument(
        "--pg-schema",
        default="carecoord_floors",
        help="schema for the PostgreSQL data set (kept with --db-dir, else dropped)",
    )
    run.add_argument(
        "--build-workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes generating the data set (default: 2, or 1 on one CPU)",
    )
    run.add_argument("--build-batch", type=_positive, default=1000, help="records per write")
    args = parser.parse_args(argv)
    if not args.pg_schema.isidentifier() or args.pg_schema.lower() != args.pg_schema:
        parser.error("--pg-schema must be a lower-case identifier")
    return args


def _postgres(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(server version, None) when the server answers, else (None, why the figure is skipped)."""
    if not args.pg_dsn:
        return None, f"no PostgreSQL: pass --pg-dsn or set {DSN_ENV}"
    try:
        import psycopg

        with psycopg.connect(args.pg_dsn, connect_timeout=5, autocommit=True) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except ImportError:
        return None, "psycopg is not installed (the postgres extra)"
    except Exception as exc:
        return None, f"PostgreSQL unreachable ({type(exc).__name__})"
    return (str(row[0]) if row else "unknown"), None


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the figures, print the table, write the JSON; return the results."""
    started = time.perf_counter()
    args = parse_args(argv)
    selected = [f for f in FIGURES if args.only is None or f in args.only]
    staff = Staff(args.coordinators)
    figures: list[Figure] = []
    skipped: dict[str, str] = {}
    errors: dict[str, str] = {}
    pg_version, pg_problem = _postgres(args) if "worklist" in selected else (None, None)
    if "worklist" in selected and pg_problem is not None:
        skipped["worklist_postgres"] = pg_problem
    temporary = args.db_dir is None
    db_dir = Path(tempfile.mkdtemp(prefix="carecoord-floors-")) if temporary else args.db_dir
    db_dir.mkdir(parents=True, exist_ok=True)
    pg_schema = args.pg_schema if pg_version is not None else None
    dataset: dict[str, Any] | None = None
    timings: dict[str, float] = {}

    def timed(name: str, run: Callable[[], Figure | list[Figure]]) -> None:
        log(f"{name} ...")
        t0 = time.perf_counter()
        try:
            got = run()
        except Exception as exc:  # one broken figure does not lose the others
            traceback.print_exc()
            errors[name] = f"{type(exc).__name__}: {exc}"
            return
        finally:
            timings[name] = time.perf_counter() - t0
        figures.extend(got if isinstance(got, list) else [got])

    try:
        if "codec" in selected:
            timed("codec", lambda: _floors_codec.codec(args))
        if "cadence" in selected:
            timed("cadence", lambda: _floors_codec.cadence(args))
        if "import" in selected:
            timed("import", lambda: _floors_codec.import_time(args))
        if "bulk_load" in selected:
            timed("bulk_load", lambda: _floors_load.bulk_load(args, db_dir, staff))
        if DATASET_FIGURES & set(selected):
            db_path = db_dir / "floors.sqlite3"
            t0 = time.perf_counter()
            worklist_pg = "worklist" in selected and pg_schema is not None
            dataset = _floors_build.prepare(
                args, staff, db_path, pg_schema if worklist_pg else None
            )
            timings["dataset"] = time.perf_counter() - t0
            store = SQLiteStore(db_path)
            try:
                if "worklist" in selected:
                    timed(
                        "worklist_sqlite",
                        lambda: _floors_sql.worklist_sqlite(args, store, db_path, staff),
                    )
                    if worklist_pg:
                        assert pg_schema is not None
                        timed(
                            "worklist_postgres",
                            lambda: _floors_sql.worklist_postgres(args, pg_schema, staff),
                        )
                if "interventions_due" in selected:
                    timed(
                        "interventions_due",
                        lambda: _floors_sql.interventions_due(args, store, staff),
                    )
                if "metrics" in selected:
                    timed("metrics", lambda: _floors_load.metrics(args, store, db_path, staff))
            finally:
                store.close()
    finally:
        if temporary:
            shutil.rmtree(db_dir, ignore_errors=True)
            if pg_schema is not None and "worklist" in selected:
                _floors_build.drop_pg_schema(args.pg_dsn, pg_schema)
    results: dict[str, Any] = {
        "sizes": {
            "patients": args.patients,
            "coordinators": args.coordinators,
            "load_patients": args.load_patients,
            "batch_size": args.batch_size,
            "seed": args.seed,
            "now": NOW.isoformat(),
            "limit": args.limit,
            "repeat": args.repeat,
            "rounds": args.rounds,
            "round_seconds": args.round_seconds,
            "only": args.only,
        },
        "machine": machine(pg_version),
        "dataset": dataset,
        "figures": figures,
        "skipped": skipped,
        "errors": errors,
        "targets_met": {f["key"]: f["met"] for f in figures if f["met"] is not None},
        "all_same_results": all(f["same_results"] is not False for f in figures),
        "timings_s": timings,
        "wall_s": time.perf_counter() - started,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(header(results))
    print()
    print(table(figures, skipped))
    for name, problem in errors.items():
        print(f"FAILED {name}: {problem}")
    print(f"\nfigures written to {args.out} ({results['wall_s'] / 60:.1f} minutes)")
    return results


def header(results: dict[str, Any]) -> str:
    """The first line of the table: the sizes and the machine."""
    info, where = results["dataset"], results["machine"]
    counts = (info or {}).get("counts") or {}
    data = (
        f"{counts.get('patients', 0):,} patients, {counts.get('interventions', 0):,} "
        f"interventions, {counts.get('records', 0):,} records; "
        if counts
        else ""
    )
    pg = f", PostgreSQL {where['postgresql']}" if where.get("postgresql") else ""
    return (
        f"carecoord floors: {data}seed {results['sizes']['seed']}; Python {where['python']}, "
        f"{where['cpu_count']} CPUs, SQLite {where['sqlite']}{pg}, orjson {where['orjson']}"
    )


if __name__ == "__main__":
    main()
