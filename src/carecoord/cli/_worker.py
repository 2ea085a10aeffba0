"""The host's background work: ``worker`` (a loop), and one-shot ``tick`` and ``dispatch``.

One worker cycle runs three steps, each finished before the next starts:

1. ``tick``: :meth:`~carecoord.CareCoordinator.tick` announces what fell due
   (each announcement once ever: a marker record with a stable id; a second
   worker's create of the same marker conflicts and announces nothing) and
   seals the audit entries appended so far;
2. ``dispatch``: a :class:`~carecoord.outbox.Dispatcher` delivers the due
   notifications (each claimed with a lease first, so two workers never
   deliver the same one in the same pass);
3. ``seal``: :meth:`~carecoord.CareCoordinator.seal_audit` chains what the
   host recorded meanwhile (each batch commits against the audit head it
   read: of two sealers one wins, the other seals nothing and says so).

After each cycle the worker prints one health line, a JSON object, on standard
output. A step that raises a carecoord error (or an OS error) is reported on
standard error and in the health line, and the next step still runs. SIGTERM
and SIGINT let the running step finish, print the health line and exit 0.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from ..model import CareCoordError, ValidationError
from ._common import EXIT_ERROR, EXIT_OK, UsageError, add_store_options, open_service
from ._notifiers import add_notifier_options, notifier

if TYPE_CHECKING:
    from ..outbox import Dispatcher
    from ..service import CareCoordinator

__all__ = ["HEALTH_FIELDS", "add_commands"]

HEALTH_FIELDS = (
    "at",
    "worker",
    "cycle",
    "ticked",
    "dispatched",
    "retried",
    "failed",
    "skipped",
    "sealed",
    "duration_s",
    "last_error",
)
"""The keys of a health line, in the order they are written."""

_Step = Callable[[dict[str, Any]], None]


def _dispatcher(args: argparse.Namespace, service: CareCoordinator) -> Dispatcher:
    from ..outbox import Dispatcher

    chosen = notifier(args)
    try:
        return Dispatcher(
            service.store,
            chosen,
            service.clock,
            timeout=args.timeout,
            batch_size=args.batch_size,
            worker_id=args.worker_id,
        )
    except ValidationError as exc:
        raise UsageError(f"{exc.field or 'option'}: {exc}") from None


def _steps(service: CareCoordinator, dispatcher: Dispatcher) -> list[tuple[str, _Step]]:
    def tick(health: dict[str, Any]) -> None:
        report = service.tick()
        health["ticked"] += report.total
        health["sealed"] += report.sealed

    def dispatch(health: dict[str, Any]) -> None:
        report = dispatcher.dispatch()
        health["dispatched"] += report.delivered
        health["retried"] += report.retried
        health["failed"] += report.failed
        health["skipped"] += report.skipped

    def seal(health: dict[str, Any]) -> None:
        health["sealed"] += service.seal_audit().sealed

    return [("tick", tick), ("dispatch", dispatch), ("seal", seal)]


def _cycle(
    number: int,
    worker: str,
    steps: list[tuple[str, _Step]],
    stop: threading.Event,
    err: TextIO,
) -> dict[str, Any]:
    """Run the steps (stopping between two when ``stop`` is set); the cycle's health line."""
    started = time.monotonic()
    health: dict[str, Any] = dict.fromkeys(HEALTH_FIELDS, 0)
    health.update(at=datetime.now(UTC).isoformat(), worker=worker, cycle=number, last_error=None)
    for name, step in steps:
        if stop.is_set():
            break
        try:
            step(health)
        except (CareCoordError, OSError) as exc:
            # carecoord's messages carry identifiers and codes only, never PHI.
            health["last_error"] = type(exc).__name__
            err.write(f"carecoord worker: {name}: {type(exc).__name__}: {exc}\n")
            err.flush()
    health["duration_s"] = round(time.monotonic() - started, 3)
    return health


@contextlib.contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (main thread only); the old handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, handle) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _worker(args: argparse.Namespace, out: TextIO) -> int:
    if not args.interval > 0:
        raise UsageError("--interval must be a number of seconds > 0")
    service = open_service(args)
    try:
        dispatcher = _dispatcher(args, service)
        steps = _steps(service, dispatcher)
        stop = threading.Event()
        health: dict[str, Any] = {}
        with _stop_on_signals(stop):
            number = 0
            while True:
                number += 1
                health = _cycle(number, dispatcher.worker_id, steps, stop, sys.stderr)
                out.write(json.dumps(health) + "\n")
                out.flush()
                if args.once or stop.is_set() or stop.wait(args.interval):
                    break
        dispatcher.close()
    finally:
        service.store.close()
    return EXIT_ERROR if args.once and health.get("last_error") else EXIT_OK


def _tick(args: argparse.Namespace, out: TextIO) -> int:
    service = open_service(args)
    try:
        report = service.tick()
    finally:
        service.store.close()
    counts = {
        "announced": report.total,
        "overdue": report.overdue,
        "escalated": report.escalated,
        "reviews_due": report.reviews_due,
        "referrals_stalled": report.referrals_stalled,
        "sealed": report.sealed,
    }
    if args.format == "json":
        out.write(json.dumps(counts, sort_keys=True) + "\n")
    else:
        out.write(
            f"tick: announced {report.total} (overdue {report.overdue}, escalated "
            f"{report.escalated}, reviews due {report.reviews_due}, referrals stalled "
            f"{report.referrals_stalled}); sealed {report.sealed} audit entries\n"
        )
    return EXIT_OK


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    service = open_service(args)
    try:
        dispatcher = _dispatcher(args, service)
        report = dispatcher.dispatch()
        dispatcher.close()
    finally:
        service.store.close()
    counts = {
        "delivered": report.delivered,
        "retried": report.retried,
        "in_doubt": report.in_doubt,
        "failed": report.failed,
        "skipped": report.skipped,
    }
    if args.format == "json":
        out.write(json.dumps(counts, sort_keys=True) + "\n")
    else:
        out.write(
            f"dispatch: delivered {report.delivered}, retried {report.retried} "
            f"({report.in_doubt} in doubt), failed {report.failed}, skipped {report.skipped}\n"
        )
    return EXIT_OK


def _dispatch_options(parser: argparse.ArgumentParser) -> None:
    add_notifier_options(parser)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=100,
        help="notifications tried per pass at most (default: 100)",
    )
    parser.add_argument(
        "--worker-id",
        help="this dispatcher's name in the leases it takes (default: a random "
        "'dispatcher-...' id); an operational name, never PHI",
    )


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add worker, tick and dispatch to the command line."""
    worker = commands.add_parser(
        "worker",
        help="run tick, the outbox dispatcher and audit sealing in a loop "
        "(one JSON health line per cycle; SIGTERM/SIGINT finish the step and exit 0)",
    )
    add_store_options(worker)
    _dispatch_options(worker)
    worker.add_argument(
        "--interval",
        type=float,
        default=60.0,
        help="seconds to wait after a cycle before the next (default: 60)",
    )
    worker.add_argument(
        "--once",
        action="store_true",
        help="run one cycle and exit (exit code 1 if a step failed)",
    )
    worker.set_defaults(run=_worker)

    tick = commands.add_parser(
        "tick", help="announce what fell due (overdue tasks, reviews, stalled referrals), once"
    )
    add_store_options(tick)
    tick.add_argument("--format", choices=("table", "json"), default="table")
    tick.set_defaults(run=_tick)

    dispatch = commands.add_parser("dispatch", help="deliver the due notifications, one pass")
    add_store_options(dispatch)
    _dispatch_options(dispatch)
    dispatch.add_argument("--format", choices=("table", "json"), default="table")
    dispatch.set_defaults(run=_dispatch)
