"""The ``carecoord`` command line (``python -m carecoord``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="carecoord", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="create a SQLite file, enrol fictional patients and print a worklist"
    )
    demo.add_argument(
        "--db", default=None, help="database file to (re)create (default: carecoord-demo.sqlite3)"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        from .demo import DEFAULT_DB, run_demo

        run_demo(args.db or DEFAULT_DB)
    return 0


if __name__ == "__main__":
    sys.exit(main())
