"""``import carecoord`` loads what it needs, the rest on first use (issue 12).

No timing here (see ``benchmarks/import_time.py``): these tests look at which
modules a fresh interpreter has loaded after an import.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import carecoord.model

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "import_time.py"

# Loaded on first use, never by ``import carecoord``.
LAZY_MODULES = {
    # storage, FHIR, notifications, the service, the command line
    "sqlite3",
    "_sqlite3",
    "psycopg",
    "psycopg_pool",
    "carecoord.storage",
    "carecoord.storage.sqlite",
    "carecoord.storage.postgres",
    "carecoord.fhir",
    "carecoord.notify",
    "carecoord.service",
    "carecoord.cli",
    "carecoord.outbox",
    "carecoord.serialization",
    "carecoord.caseload",
    "carecoord.metrics",
    "carecoord.worklist",
    "cattrs",
    # standard library modules only some functions need
    "statistics",
    "decimal",
    "csv",
    "email",
    "html",
    "json",
    "uuid",
    "hmac",
    "hashlib",
    "secrets",
    "random",
    "calendar",
    "locale",
    "argparse",
    "dateutil",  # month arithmetic is stdlib; dateutil is not imported at all
    # the model's submodules: each loads with the first of its names used
    "attrs",
    "carecoord.model._base",
    "carecoord.model.people",
    "carecoord.model.plan",
    "carecoord.model.records",
    "carecoord.model.audit",
    "carecoord.model.outbox",
    "carecoord.model.cadence",
}


def _loaded_after(code: str) -> set[str]:
    """Modules a fresh interpreter loads while running ``code``."""
    probe = (
        "import sys\n"
        "before = set(sys.modules)\n"
        f"{code}\n"
        "loaded = sorted(set(sys.modules) - before)\n"
        "import json\n"
        "print(json.dumps(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def _family(loaded: set[str], names: set[str]) -> set[str]:
    """The members of ``names`` that are loaded, counting a package's submodules."""
    return {n for n in names if any(m == n or m.startswith(n + ".") for m in loaded)}


def test_import_carecoord_loads_none_of_the_lazy_modules() -> None:
    loaded = _loaded_after("import carecoord")
    assert "carecoord" in loaded  # the probe works
    assert _family(loaded, LAZY_MODULES) == set()


def test_import_carecoord_model_loads_no_submodule() -> None:
    loaded = _loaded_after("import carecoord.model")
    assert {m for m in loaded if m.startswith("carecoord.model.")} == set()


def test_a_name_loads_only_its_submodule_and_what_that_needs() -> None:
    loaded = _loaded_after("from carecoord import Cadence")
    assert "carecoord.model.cadence" in loaded
    assert _family(loaded, LAZY_MODULES) == {
        "attrs",
        "carecoord.model._base",
        "carecoord.model.cadence",
    }


def test_the_whole_model_needs_none_of_the_first_use_modules() -> None:
    loaded = _loaded_after("from carecoord.model import *")
    assert "carecoord.model.audit" in loaded
    first_use = {"uuid", "hmac", "json", "secrets", "random", "calendar", "locale", "dateutil"}
    assert _family(loaded, first_use) == set()
    assert _family(loaded, {"carecoord.storage", "carecoord.service", "cattrs"}) == set()


def test_first_use_imports_work_in_a_fresh_interpreter() -> None:
    code = (
        "import carecoord\n"
        "from datetime import UTC, datetime\n"
        "assert len(carecoord.PatientId.new()) == 32\n"
        "assert carecoord.model.new_audit_entry_id(datetime(2026, 1, 1, tzinfo=UTC))\n"
        "assert carecoord.model.people.Patient is carecoord.Patient\n"
        "assert len(carecoord.model.checkpoint_signature(1, '0' * 64, datetime.now(UTC))) == 64\n"
    )
    loaded = _loaded_after(code)
    assert {"uuid", "hmac", "json"} <= loaded


def test_model_exports_match_each_submodules_all() -> None:
    exports = carecoord.model._EXPORTS
    everything: set[str] = set()
    for module, names in exports.items():
        submodule = importlib.import_module(f"carecoord.model.{module}")
        assert set(names) <= set(submodule.__all__), module
        for name in names:
            assert getattr(carecoord.model, name) is getattr(submodule, name), name
        everything |= set(submodule.__all__)
    flat = [name for names in exports.values() for name in names]
    assert len(flat) == len(set(flat))
    assert set(flat) == set(carecoord.model.__all__) == everything


def test_unknown_names_still_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        carecoord.model.no_such_name  # noqa: B018
    assert "Patient" in dir(carecoord.model)


def test_import_time_benchmark_runs() -> None:
    out = subprocess.run(
        [sys.executable, str(BENCHMARK), "--runs", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    assert "ratio carecoord / dependencies" in out
