"""How long ``import carecoord`` takes next to importing its own dependencies.

Issue 12's target: ``import carecoord`` stays under 1.3x ``import attrs, cattrs,
dateutil``. Run from the repository root::

    .venv/bin/python benchmarks/import_time.py            # 21 runs of each
    .venv/bin/python benchmarks/import_time.py --runs 51

Each statement runs in a fresh interpreter, the kinds interleaved so that a
change in the machine's load hits them alike. It prints the median wall time
of each (and the median CPU time, user + system, which other work on the
machine disturbs less) and the ratios carecoord / dependencies. For context it
also times loading the whole model (carecoord's names load on first use, so
``import carecoord`` alone builds none of the model's classes).

The children write and reuse compiled bytecode in a temporary cache directory
(``PYTHONPYCACHEPREFIX``), as an installed package would have: with
``PYTHONDONTWRITEBYTECODE`` set, carecoord's own modules would be compiled from
source on every run while the dependencies' wheels ship their ``.pyc`` files.
``--as-is`` keeps the environment unchanged instead.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import resource
except ImportError:  # not on Windows: wall time only
    resource = None  # type: ignore[assignment]

STATEMENTS = {
    "python": "pass",
    "carecoord": "import carecoord",
    "dependencies": "import attrs, cattrs, dateutil",
    # Context: carecoord's names load on first use; this uses every model class.
    "whole model": "from carecoord.model import *",
}


def _children_cpu() -> float:
    if resource is None:
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(python: str, statement: str, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh interpreter running ``statement``."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run([python, "-c", statement], env=env, check=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def measure(python: str, runs: int, env: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds per statement, after one warm-up run of each."""
    names = list(STATEMENTS)
    for name in names:
        _run(python, STATEMENTS[name], env)  # warm the file cache and the bytecode cache
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for i in range(runs):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate the order
            samples[name].append(_run(python, STATEMENTS[name], env))
    return {
        name: (
            statistics.median(wall for wall, _ in got),
            statistics.median(cpu for _, cpu in got),
        )
        for name, got in samples.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each statement (21)")
    parser.add_argument("--python", default=sys.executable, help="interpreter (this one)")
    parser.add_argument(
        "--as-is", action="store_true", help="keep the environment's bytecode settings"
    )
    args = parser.parse_args(argv)

    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="carecoord-pycache-") as cache:
        if not args.as_is:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
        result = measure(args.python, max(1, args.runs), env)

    print(f"import time, median of {args.runs} fresh interpreters each ({args.python})")
    print(f"{'':14}{'wall ms':>10}{'CPU ms':>10}")
    for name, statement in STATEMENTS.items():
        wall, cpu = result[name]
        print(f"{name:14}{wall * 1e3:10.1f}{cpu * 1e3:10.1f}   python -c {statement!r}")
    (cc_wall, cc_cpu), (dep_wall, dep_cpu) = result["carecoord"], result["dependencies"]
    bare_wall, bare_cpu = result["python"]
    print(
        f"ratio carecoord / dependencies: {cc_wall / dep_wall:.2f} wall, {cc_cpu / dep_cpu:.2f} CPU"
    )
    if dep_wall > bare_wall and dep_cpu > bare_cpu:
        print(
            "  interpreter start-up subtracted: "
            f"{(cc_wall - bare_wall) / (dep_wall - bare_wall):.2f} wall, "
            f"{(cc_cpu - bare_cpu) / (dep_cpu - bare_cpu):.2f} CPU"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
