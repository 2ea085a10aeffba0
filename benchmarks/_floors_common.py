"""Shared pieces of ``benchmarks/floors.py``: timing, figure records, the machine, the table."""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "Figure",
    "alternating_medians",
    "log",
    "machine",
    "median_ms",
    "per_call_medians",
    "table",
]

Figure = dict[str, Any]
"""One figure: key, label, display unit, carecoord_s and floor_s (seconds), ratio, target,
met, same_results and details."""


def log(message: str, *, tag: str = "floors") -> None:
    """A progress message on stderr (never patient data), ``[tag]`` first."""
    print(f"[{tag}] {message}", file=sys.stderr, flush=True)


def positive(text: str) -> int:
    """An argparse ``type``: an integer of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, not {value}")
    return value


def alternating_medians(
    calls: Sequence[Callable[[], object]], repeat: int, *, warm: int = 2
) -> list[float]:
    """Median seconds of each call over ``repeat`` runs; the calls take turns in every run,
    so a change of load on the machine hits them all alike."""
    for _ in range(warm):
        for call in calls:
            call()
    spent: list[list[float]] = [[] for _ in calls]
    for _ in range(repeat):
        for call, times in zip(calls, spent, strict=True):
            t0 = time.perf_counter()
            call()
            times.append(time.perf_counter() - t0)
    return [statistics.median(times) for times in spent]


def median_ms(work: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """Median milliseconds of ``repeat`` runs of ``work`` (rounded to a microsecond), and
    what the last run returned."""
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = work()
        times.append((time.perf_counter() - t0) * 1000)
    return round(statistics.median(times), 3), result


def per_call_medians(
    calls: Sequence[Callable[[], object]], budget: float, rounds: int
) -> list[float]:
    """Median seconds per call of each of ``calls`` (fast ones), in ``rounds`` rounds of
    about ``budget`` seconds each; the calls take turns round by round."""
    numbers = []
    for call in calls:
        t0 = time.perf_counter()
        call()  # warm up, and calibrate the calls per round
        numbers.append(max(1, int(budget / max(time.perf_counter() - t0, 1e-7))))
    # calibrate again now that caches are warm
    for index, call in enumerate(calls):
        t0 = time.perf_counter()
        for _ in range(min(numbers[index], 50)):
            call()
        each = (time.perf_counter() - t0) / min(numbers[index], 50)
        numbers[index] = max(1, int(budget / max(each, 1e-7)))
    spent: list[list[float]] = [[] for _ in calls]
    for _ in range(rounds):
        for call, number, times in zip(calls, numbers, spent, strict=True):
            t0 = time.perf_counter()
            for _ in range(number):
                call()
            times.append((time.perf_counter() - t0) / number)
    return [statistics.median(times) for times in spent]


def figure(
    key: str,
    label: str,
    unit: str,
    carecoord: float | None,
    floor: float | None,
    *,
    carecoord_label: str,
    floor_label: str,
    target: str,
    target_ratio: float | None = None,
    target_value: float | None = None,
    same_results: bool | None = None,
    details: dict[str, Any] | None = None,
) -> Figure:
    """A figure record: the ratio carecoord / floor and whether the target is met."""
    ratio = carecoord / floor if carecoord is not None and floor else None
    checks = []
    if target_ratio is not None:
        checks.append(ratio is not None and ratio <= target_ratio)
    if target_value is not None:
        checks.append(carecoord is not None and carecoord <= target_value)
    return {
        "key": key,
        "label": label,
        "unit": unit,
        "carecoord_s": carecoord,
        "carecoord_label": carecoord_label,
        "floor_s": floor,
        "floor_label": floor_label,
        "ratio": ratio,
        "target": target,
        "target_ratio": target_ratio,
        "target_value": target_value,
        "met": all(checks) if checks else None,
        "same_results": same_results,
        "details": details or {},
    }


def machine(postgresql: str | None = None) -> dict[str, Any]:
    """Where the figures were taken."""
    import carecoord

    try:
        import orjson

        orjson_version: str | None = orjson.__version__
    except ImportError:
        orjson_version = None
    try:
        load: list[float] | None = list(os.getloadavg())
    except OSError:
        load = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgresql,
        "orjson": orjson_version,
        "carecoord": getattr(carecoord, "__version__", None),
        "load_average_at_end": load,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }


_SCALE = {"s": 1.0, "ms": 1e3, "us": 1e6}


def amount(seconds: float | None, unit: str) -> str:
    """``seconds`` shown in ``unit`` (s, ms or us), three significant figures or so."""
    if seconds is None:
        return "n/a"
    value = seconds * _SCALE[unit]
    digits = 0 if value >= 100 else 1 if value >= 10 else 2 if value >= 1 else 3
    return f"{value:,.{digits}f} {unit}"


def table(figures: Sequence[Figure], skipped: dict[str, str]) -> str:
    """The figures as a plain-text table: figure, carecoord, floor, ratio, target, met."""
    rows = [("figure", "carecoord", "floor", "ratio", "target", "met")]
    for fig in figures:
        met = fig["met"]
        rows.append(
            (
                fig["label"],
                amount(fig["carecoord_s"], fig["unit"]),
                amount(fig["floor_s"], fig["unit"]),
                "n/a" if fig["ratio"] is None else f"{fig['ratio']:,.2f}x",
                fig["target"],
                "" if met is None else "met" if met else "NOT MET",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    floors = [f"  {fig['label']}: {fig['floor_label']}" for fig in figures]
    lines += ["", "floors:", *floors]
    lines += [f"skipped {name}: {why}" for name, why in skipped.items()]
    return "\n".join(lines)
