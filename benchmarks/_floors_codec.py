"""The stored-text round trip, the monthly cadence and the import time.

Nothing here imports :mod:`orjson` at module level: the stdlib-backend figure
runs this module in a child process where ``orjson`` cannot be imported by
carecoord (``sys.modules["orjson"] = None``), and hands the floor its own,
earlier imported, reference.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from _floors_common import Figure, figure, per_call_medians
from _floors_data import Staff, full_plan

from carecoord import Cadence, CarePlan
from carecoord.serialization import dumps as payload_text
from carecoord.serialization import to_payload
from carecoord.storage import StoredRecord, index_rows
from carecoord.storage._codec import decode_record, encode_record

__all__ = [
    "cadence",
    "codec",
    "import_time",
    "monthly_floor",
    "monthly_floor_tight",
    "round_trip",
]

HERE = Path(__file__).resolve().parent


def codec_backend() -> str:
    """The JSON backend carecoord's codec uses in this process."""
    module = sys.modules.get("carecoord._json")
    backend = getattr(module, "backend", None)
    if callable(backend):
        return str(backend())
    return "stdlib (no backend switch in this carecoord)"


# ------------------------------------------------------------- round trip
def round_trip(orjson: ModuleType | None, budget: float, rounds: int) -> dict[str, Any]:
    """Two round trips of the full plan vs ``orjson.dumps`` + ``orjson.loads`` of its payload
    dict, seconds per call (taking turns round by round): the store's (``encode_record`` +
    ``decode_record``, index rows included) and the stored text's alone
    (``serialization.dumps`` + ``decode_record`` of that text)."""
    plan = full_plan(Staff())
    payload = to_payload(plan)
    write = encode_record(plan, 0)

    def carecoord_round() -> object:
        w = encode_record(plan, 0)
        stored = StoredRecord(kind=w.kind, id=w.id, version=1, payload=w.payload)
        return decode_record(stored, CarePlan)

    def text_round() -> object:
        stored = StoredRecord(kind=write.kind, id=write.id, version=1, payload=payload_text(plan))
        return decode_record(stored, CarePlan)

    decoded = carecoord_round()
    same = to_payload(decoded) == payload
    same_text = payload_text(plan) == write.payload and to_payload(text_round()) == payload
    calls: list[Callable[[], object]] = [carecoord_round, text_round]
    if orjson is not None:
        dumps, loads = orjson.dumps, orjson.loads

        def floor_round() -> object:
            return loads(dumps(payload))

        floor_same = floor_round() == json.loads(write.payload)
        same, same_text = same and floor_same, same_text and floor_same
        calls.append(floor_round)
    medians = per_call_medians(calls, budget, rounds)
    # Where the store's path spends its time (context, not the figure): the stored
    # text alone (what serialization.dumps writes), the index rows written with it
    # (worklist and metric-fact rows, which the floor has no counterpart of), and
    # the read back.
    stored = StoredRecord(kind=write.kind, id=write.id, version=1, payload=write.payload)
    parts = per_call_medians(
        [
            lambda: payload_text(plan),
            lambda: index_rows(plan),
            lambda: decode_record(stored, CarePlan),
        ],
        budget,
        rounds,
    )
    return {
        "carecoord_s": medians[0],
        "text_s": medians[1],
        "floor_s": medians[2] if orjson is not None else None,
        "payload_bytes": len(write.payload.encode()),
        "backend": codec_backend(),
        "same_results": same,
        "same_text_results": same_text,
        "parts_s": dict(zip(("payload_text", "index_rows", "decode_record"), parts, strict=True)),
    }


_CHILD = """
import json, sys
sys.path.insert(0, {here!r})
import orjson
sys.modules["orjson"] = None  # carecoord cannot import it: its stdlib backend runs
import _floors_codec
print(json.dumps(_floors_codec.round_trip(orjson, {budget!r}, {rounds!r})))
"""


def round_trip_stdlib(budget: float, rounds: int) -> dict[str, Any]:
    """:func:`round_trip` in a child process where carecoord cannot import orjson."""
    code = _CHILD.format(here=str(HERE), budget=budget, rounds=rounds)
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def codec(args: Any) -> list[Figure]:
    """Both round trips with the orjson backend (this process) and with the stdlib backend."""
    orjson: ModuleType | None
    try:
        import orjson
    except ImportError:
        orjson = None
    figures = []
    fast = round_trip(orjson, args.round_seconds, args.rounds) if orjson is not None else None
    if fast is not None:
        figures += _codec_figures(
            fast,
            "orjson",
            "orjson installed",
            "",
            "orjson.dumps + orjson.loads of the same payload dict",
            3.0,
        )
    slow = (
        round_trip_stdlib(args.round_seconds, args.rounds)
        if orjson is not None
        else round_trip(None, args.round_seconds, args.rounds)
    )
    figures += _codec_figures(
        slow,
        "stdlib",
        "stdlib backend",
        ", orjson blocked (child process)" if orjson is not None else "",
        (
            "orjson.dumps + orjson.loads of the same payload dict (same child process)"
            if orjson is not None
            else "orjson is not installed (the fast extra)"
        ),
        6.0,
    )
    return figures


def _codec_figures(
    got: dict[str, Any], backend: str, label: str, where: str, floor_label: str, ratio: float
) -> list[Figure]:
    """The store's round trip and the stored text's, next to the same floor."""
    details = {k: got[k] for k in ("payload_bytes", "backend", "parts_s")}
    return [
        figure(
            f"codec_{backend}",
            f"full plan round trip, {label}",
            "us",
            got["carecoord_s"],
            got["floor_s"],
            carecoord_label=f"encode_record + decode_record (the store's path){where}",
            floor_label=floor_label,
            target=f"within {ratio:g}x",
            target_ratio=ratio,
            same_results=got["same_results"],
            details=details,
        ),
        figure(
            f"codec_text_{backend}",
            f"full plan stored text round trip, {label}",
            "us",
            got["text_s"],
            got["floor_s"],
            carecoord_label=(
                "serialization.dumps + decode_record of that text (no index rows)" + where
            ),
            floor_label=floor_label,
            target=f"within {ratio:g}x",
            target_ratio=ratio,
            same_results=got["same_text_results"],
            details=details,
        ),
    ]


# ----------------------------------------------------------------- cadence
NEW_YORK = ZoneInfo("America/New_York")
_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def anchors() -> list[datetime]:
    """Monthly anchors at 02:30 New York time on every day of January 2026: the 29th to
    31st clamp to shorter months, and 02:30 falls in the spring-forward gap on some
    second Sundays of March (2026-03-08, 2027-03-14, ...)."""
    return [datetime(2026, 1, day, 2, 30, tzinfo=NEW_YORK) for day in range(1, 32)]


def _month_days(year: int, month0: int) -> int:
    if month0 == 1 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS[month0]


def monthly_floor(anchor: datetime, end: datetime) -> list[datetime]:
    """Monthly occurrences from ``anchor`` before ``end``, by hand with the same DST rule:
    add months to the anchor's wall time (day clamped), ``replace(tzinfo=zone)``, and when
    the wall time does not round-trip through UTC (a spring-forward gap) take the time
    the round trip gives (shifted forward by the gap)."""
    zone = anchor.tzinfo
    assert zone is not None
    wall = anchor.replace(tzinfo=None)
    year0, month0, day0 = wall.year, wall.month - 1, wall.day
    stop = end.astimezone(UTC)
    out: list[datetime] = []
    k = 0
    while True:
        years, month = divmod(month0 + k, 12)
        year = year0 + years
        local = wall.replace(
            year=year, month=month + 1, day=min(day0, _month_days(year, month)), tzinfo=zone
        )
        utc = local.astimezone(UTC)
        if utc >= stop:
            return out
        back = utc.astimezone(zone)
        if back.replace(tzinfo=None) != local.replace(tzinfo=None):
            local = back  # in a spring-forward gap: shifted forward by the gap
        out.append(local)
        k += 1


def monthly_floor_tight(anchor: datetime, end: datetime) -> list[datetime]:
    """:func:`monthly_floor` with cheaper stdlib calls: the datetime constructor instead of
    ``replace``, and the UTC round trip as ``utcoffset`` + ``fromutc`` on wall times
    tagged with the zone (same-tzinfo comparisons are plain field comparisons)."""
    zone = anchor.tzinfo
    assert isinstance(zone, ZoneInfo)
    year0, month0, day0 = anchor.year, anchor.month - 1, anchor.day
    hour, minute, second, micro = anchor.hour, anchor.minute, anchor.second, anchor.microsecond
    stop = end.astimezone(UTC).replace(tzinfo=zone)  # UTC wall time, tagged with the zone
    utcoffset, fromutc = zone.utcoffset, zone.fromutc
    out: list[datetime] = []
    k = 0
    while True:
        years, month = divmod(month0 + k, 12)
        year = year0 + years
        day = day0 if day0 <= 28 else min(day0, _month_days(year, month))
        local = datetime(year, month + 1, day, hour, minute, second, micro, zone)
        utc = local - utcoffset(local)  # type: ignore[operator]
        if utc >= stop:
            return out
        back = fromutc(utc)
        out.append(back)  # == local, or local shifted forward by a gap
        k += 1


def cadence(args: Any) -> Figure:
    """``Cadence.months(1, anchor).between(anchor, anchor + years)`` per occurrence vs
    :func:`monthly_floor`."""
    starts = anchors()
    ends = [a.replace(year=a.year + args.cadence_years) for a in starts]
    cadences = [Cadence.months(1, a) for a in starts]
    pairs = list(zip(cadences, starts, ends, strict=True))

    def carecoord_all() -> list[list[datetime]]:
        return [list(c.between(a, e)) for c, a, e in pairs]

    def floor_all() -> list[list[datetime]]:
        return [monthly_floor(a, e) for _, a, e in pairs]

    def tight_all() -> list[list[datetime]]:
        return [monthly_floor_tight(a, e) for _, a, e in pairs]

    def by_index() -> list[list[datetime]]:
        return [
            [c.occurrence(k) for k in range(len(o))] for c, o in zip(cadences, ours, strict=True)
        ]

    ours, theirs = carecoord_all(), floor_all()
    total = sum(len(o) for o in ours)

    def text(runs: list[list[datetime]]) -> list[list[str]]:
        return [[f"{o.isoformat()} {o.tzinfo}" for o in run] for run in runs]

    same = text(ours) == text(theirs) == text(tight_all()) == text(by_index())
    shifted = sum(1 for run in ours for o in run if (o.hour, o.minute) != (2, 30))
    c_s, simple_s, tight_s, k_s = per_call_medians(
        [carecoord_all, floor_all, tight_all, by_index], args.round_seconds, args.rounds
    )
    floors = {"replace_astimezone": simple_s, "constructor_fromutc": tight_s}
    best = min(floors, key=lambda name: floors[name])
    f_s = floors[best]
    return figure(
        "cadence",
        "monthly cadence, per occurrence",
        "us",
        c_s / total,
        f_s / total,
        carecoord_label=(
            f"Cadence.months(1, anchor).between(anchor, anchor + {args.cadence_years} years), "
            "America/New_York"
        ),
        floor_label=(
            "stdlib by hand, the faster of: month add with the day clamped, "
            "replace(tzinfo=zone), gap check through UTC (astimezone both ways); the same "
            "with the datetime constructor and utcoffset/fromutc"
            f" [{best}]"
        ),
        target="within 2x",
        target_ratio=2.0,
        same_results=same,
        details={
            "cadences": len(pairs),
            "occurrences": total,
            "shifted_by_gap": shifted,
            "occurrence_k_us": k_s / total * 1e6,
            "floors_us": {name: value / total * 1e6 for name, value in floors.items()},
            "floor_design": best,
        },
    )


# ------------------------------------------------------------------ import
_MODULES = {"python-dateutil": "dateutil", "attrs": "attrs", "cattrs": "cattrs"}


def dependency_modules() -> list[str]:
    """The modules of carecoord's required dependencies (extras left out)."""
    names = []
    for requirement in importlib.metadata.requires("carecoord") or []:
        if "extra ==" in requirement:
            continue
        match = re.match(r"[A-Za-z0-9_.-]+", requirement)
        if match:
            dist = match.group().lower()
            names.append(_MODULES.get(dist, dist.replace("-", "_")))
    return names


def _own_measure(python: str, runs: int, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each statement in fresh interpreters, taking turns
    (used when ``benchmarks/import_time.py`` is not there)."""
    statements = {
        "python": "pass",
        "carecoord": "import carecoord",
        "dependencies": f"import {', '.join(dependency_modules())}",
    }

    def once(statement: str) -> tuple[float, float]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([python, "-c", statement], env=env, check=True, capture_output=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        return wall, cpu

    for statement in statements.values():
        once(statement)  # warm the file cache and the bytecode cache
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in statements}
    for _ in range(runs):
        for name, statement in statements.items():
            samples[name].append(once(statement))
    return {
        name: (statistics.median(w for w, _ in got), statistics.median(c for _, c in got))
        for name, got in samples.items()
    }


def import_time(args: Any) -> Figure:
    """``python -c "import carecoord"`` vs ``python -c "import attrs, cattrs, dateutil"``:
    medians of fresh interpreters, taking turns. Uses ``benchmarks/import_time.py``'s
    ``measure`` when it is there (its environment: bytecode cached in a temporary
    directory, as an installed package has it)."""
    try:
        import import_time as shared

        measure = shared.measure
        dependencies = shared.STATEMENTS["dependencies"]
        source = "benchmarks/import_time.py"
    except (ImportError, AttributeError, KeyError):
        measure = _own_measure
        dependencies = f"import {', '.join(dependency_modules())}"
        source = "benchmarks/_floors_codec.py"
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="carecoord-pycache-") as cache:
        env["PYTHONPYCACHEPREFIX"] = cache
        result = measure(sys.executable, args.import_runs, env)
    (c_wall, c_cpu), (d_wall, d_cpu) = result["carecoord"], result["dependencies"]
    b_wall, b_cpu = result["python"]
    return figure(
        "import",
        "import carecoord (fresh interpreter)",
        "ms",
        c_wall,
        d_wall,
        carecoord_label='python -c "import carecoord" (median wall time)',
        floor_label=f"python -c {dependencies!r}: its required dependencies",
        target="under 1.3x",
        target_ratio=1.3,
        details={
            "runs": args.import_runs,
            "source": source,
            "bare_interpreter_ms": b_wall * 1e3,
            "cpu_ms": {"carecoord": c_cpu * 1e3, "dependencies": d_cpu * 1e3, "bare": b_cpu * 1e3},
            "cpu_ratio": c_cpu / d_cpu if d_cpu else None,
            "ratio_without_startup": (
                (c_wall - b_wall) / (d_wall - b_wall) if d_wall > b_wall else None
            ),
        },
    )
