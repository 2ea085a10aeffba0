"""The ``carecoord`` command line: the demo, worklists, metrics, audit checks, exchange, hosting.

Every command that reads a store names the acting staff member
(``--actor``): the service checks their access and audits the read, exactly
as it does for a host application. Output carries identifiers and codes only,
never names or free text; ``--format json`` prints plain records for scripts.

The store is a SQLite file (``--db``) or a PostgreSQL schema (``--dsn``, or
the ``CARECOORD_DSN`` environment variable; ``--schema``). For hosts,
``worker`` runs tick, the notification dispatcher and audit sealing in a
loop; ``tick`` and ``dispatch`` run one pass; ``migrate`` and ``copy`` set up
and fill a store. ``carecoord --version`` prints the installed version.

Run ``carecoord --help`` (or ``python -m carecoord --help``) for the commands.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from ..model import CareCoordError
from . import _exchange, _records, _stores, _worker
from ._common import EXIT_ERROR, EXIT_OK, EXIT_TAMPERED, EXIT_USAGE, CommandError, UsageError
from ._exchange import export_path

__all__ = ["EXIT_ERROR", "EXIT_OK", "EXIT_TAMPERED", "EXIT_USAGE", "main", "version"]

# The names the command line's tests have always imported from here.
_CommandError = CommandError
_UsageError = UsageError
_export_path = export_path


def version() -> str:
    """The installed carecoord's version (``carecoord.__version__``: the package metadata)."""
    from .. import __version__

    return __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="carecoord",
        description="carecoord: the demo, worklists, metrics, audit checks, FHIR exchange "
        "and the host's worker.",
    )
    parser.add_argument("--version", action="version", version=f"carecoord {version()}")
    commands = parser.add_subparsers(dest="command", required=True)
    _records.add_commands(commands)
    _exchange.add_commands(commands)
    _worker.add_commands(commands)
    _stores.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run the command line; returns the process exit code (0 ok, 1 error, 2 usage, 3 tampered)."""
    parser = _parser()
    args = parser.parse_args(argv)
    stream = out if out is not None else sys.stdout
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return run(args, stream)
    except UsageError as exc:
        parser.exit(EXIT_USAGE, f"carecoord {args.command}: {exc}\n")
    except CommandError as exc:
        sys.stderr.write(f"carecoord {args.command}: {exc}\n")
        return EXIT_ERROR
    except CareCoordError as exc:
        # carecoord's messages carry identifiers and codes only, never PHI.
        sys.stderr.write(f"carecoord {args.command}: {type(exc).__name__}: {exc}\n")
        return EXIT_ERROR
