"""The public surface of the carecoord package."""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
import json
import pkgutil
import subprocess
import sys
import warnings
from types import ModuleType

import pytest

import carecoord
import carecoord.errors
import carecoord.model
from carecoord._former import FORMER_NAMES

PRESENTATION_MODULES = {"_html"}
"""Model submodules whose names are public through carecoord.display, not the top level."""

MODEL_MODULES = tuple(
    sorted(
        m.name
        for m in pkgutil.iter_modules(carecoord.model.__path__)
        if m.name not in PRESENTATION_MODULES
    )
)
"""Every other submodule of carecoord.model; its public names are all in carecoord.model."""

ERROR_NAMES = {
    "AccessDeniedError",
    "CareCoordError",
    "CompetencyMissingError",
    "ConflictError",
    "FhirImportError",
    "GoalClosedError",
    "InvalidTransitionError",
    "LotExpiredError",
    "MissingExtraError",
    "NaiveDatetimeError",
    "NotFoundError",
    "OffDutyError",
    "OutOfStockError",
    "ReasonRequiredError",
    "SlotTakenError",
    "StorageError",
    "StructureError",
    "ValidationError",
}


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"carecoord.model.{name}")


def test_documented_imports_work() -> None:
    from carecoord import (
        Appointment,
        Assessment,
        Barrier,
        Cadence,
        CarePlan,
        CareTeam,
        Goal,
        Intervention,
        Patient,
        Referral,
        Review,
    )

    classes = [
        Patient,
        CareTeam,
        CarePlan,
        Goal,
        Intervention,
        Review,
        Referral,
        Appointment,
        Barrier,
        Assessment,
        Cadence,
    ]
    for cls in classes:
        assert inspect.isclass(cls)
        assert cls.__module__.startswith("carecoord.model.")


def test_all_is_explicit_unique_and_resolvable() -> None:
    names = carecoord.__all__
    assert isinstance(names, list)
    assert all(isinstance(n, str) for n in names)
    assert len(names) == len(set(names))
    missing = [n for n in names if not hasattr(carecoord, n)]
    assert missing == []
    assert "__version__" in names
    assert carecoord.__version__ == importlib.metadata.version("carecoord")  # one source


def test_all_lists_every_public_top_level_name() -> None:
    public = {
        name
        for name, value in vars(carecoord).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert public <= set(carecoord.__all__)


def test_star_import_matches_all() -> None:
    namespace: dict[str, object] = {}
    exec("from carecoord import *", namespace)
    exported = {n for n in namespace if n != "__builtins__"}
    assert exported == set(carecoord.__all__)


def test_model_submodules_are_found() -> None:
    expected = {"_base", "_errors", "cadence", "codes", "machine", "people", "plan", "records"}
    assert expected <= set(MODEL_MODULES)


@pytest.mark.parametrize("name", MODEL_MODULES)
def test_model_submodule_names_are_reexported(name: str) -> None:
    module = _module(name)
    names = module.__all__
    assert len(names) == len(set(names))
    assert names, f"carecoord.model.{name} exports nothing"
    for public in names:
        assert not public.startswith("_")
        assert hasattr(module, public), public
        assert public in carecoord.model.__all__, public
        assert getattr(carecoord.model, public) is getattr(module, public), public


def test_model_package_all_is_reexported() -> None:
    model_names = carecoord.model.__all__
    assert len(model_names) == len(set(model_names))
    reexported = {n for m in MODEL_MODULES for n in _module(m).__all__}
    assert set(model_names) == reexported


CURATED = {
    # the service
    *("CareCoordinator", "Context", "Operation", "operation", "RetryPolicy"),
    # the serialization edge
    *("SCHEMA_VERSION", "dumps", "from_payload", "loads", "make_converter", "to_payload"),
    # worklists and metrics
    *("Worklist", "WorklistCategory", "WorklistItem", "WorklistScope", "DueIntervention"),
    *("Metric", "MetricKind", "MetricReport"),
    # identifiers
    *("EntityId", "PatientId", "StaffId", "CareTeamId", "AssessmentId", "FindingId", "NeedId"),
    *("CarePlanId", "GoalId", "InterventionId", "ReferralId", "AppointmentId", "BarrierId"),
    *("ReviewId", "NoteId", "DecisionId", "ConsentId", "ContactId", "HealthConcernId"),
    # people and teams
    *("Patient", "HumanName", "Identifier", "ContactPoint", "Contact", "ContactPreferences"),
    *("ContactChannel", "ContactRelationship", "QuietHours", "Address", "AdministrativeGender"),
    *("StaffMember", "CareTeam", "CareTeamRole", "CareTeamStatus", "Membership", "Period"),
    # assessment and plan
    *("Assessment", "AssessmentDomain", "Finding", "Need", "NeedPriority", "NeedStatus"),
    *("CarePlan", "CarePlanStatus", "CarePlanIntent", "Goal", "GoalLifecycleStatus"),
    *("GoalAchievementStatus", "GoalPriority", "Target", "Quantity", "Range", "Comparator"),
    *("ProgressReading", "Intervention", "InterventionKind", "TaskStatus", "TaskPriority"),
    *("Cadence", "CadenceUnit"),
    # coordination records
    *("Referral", "ReferralStatus", "ReferralTargetKind", "Appointment", "AppointmentStatus"),
    *("Barrier", "BarrierKind", "BarrierResolution", "Review", "ReviewDecision", "GoalOutcome"),
    *("Note", "PatientDecision", "DecisionOutcome", "Consent", "ConsentStatus", "ConsentScope"),
    *("HealthConcern", "PatientGoal", "Transition"),
    # audit and access
    *("AuditEntry", "AuditAction", "PurposeOfUse"),
    # the error tree
    *ERROR_NAMES,
    "__version__",
}
"""The curated top level (issue 17): a change to it is a change of the public API."""


def test_the_top_level_is_the_curated_list() -> None:
    assert set(carecoord.__all__) == CURATED
    for name in CURATED - {"__version__"}:
        value = getattr(carecoord, name)
        home = importlib.import_module(value.__module__) if hasattr(value, "__module__") else None
        assert home is None or getattr(home, name, value) is value, name
    for name in CURATED & set(carecoord.model.__all__):
        assert getattr(carecoord, name) is getattr(carecoord.model, name), name


def test_storage_internals_left_the_top_level() -> None:
    internals = {"AUDIT_HEAD_ID", "AuditHead", "TimedEventMarker", "stable_id", "chain_hash"}
    internals |= {"GENESIS_HASH", "new_audit_entry_id", "TASK_MACHINE", "REFERRAL_MACHINE"}
    assert not internals & set(carecoord.__all__)
    assert not internals & set(dir(carecoord))


@pytest.mark.parametrize("name", sorted(FORMER_NAMES))
def test_a_former_top_level_name_still_works_and_warns(name: str) -> None:
    home = {"interventions_due": "carecoord.worklist", "WorkItem": "carecoord.caseload"}.get(
        name, "carecoord.model"
    )
    with pytest.warns(DeprecationWarning, match=f"carecoord.{name} is deprecated"):
        value = getattr(carecoord, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert value is getattr(importlib.import_module(home), name)
    assert name not in carecoord.__all__ and name not in vars(carecoord)  # warns every time


def test_former_names_are_the_0_1_model_names_only() -> None:
    model_names = set(carecoord.model.__all__) | {"interventions_due", "WorkItem"}
    assert model_names >= FORMER_NAMES
    assert not FORMER_NAMES & CURATED
    # a model name added after 0.1 was never top-level: no deprecation path for it
    with pytest.raises(AttributeError, match="no attribute 'CareProgram'"):
        carecoord.CareProgram  # noqa: B018


def test_importing_the_curated_names_does_not_warn() -> None:
    code = "import warnings; warnings.simplefilter('error'); from carecoord import *"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_serialization_edge_is_exported() -> None:
    from carecoord import serialization

    for name in ("SCHEMA_VERSION", "dumps", "loads", "from_payload", "to_payload"):
        assert name in carecoord.__all__
        assert getattr(carecoord, name) is getattr(serialization, name)
    assert carecoord.make_converter is serialization.make_converter
    for name in serialization.__all__:
        assert hasattr(serialization, name)


def test_errors_module_exports_the_full_tree() -> None:
    assert set(carecoord.errors.__all__) == ERROR_NAMES
    assert len(carecoord.errors.__all__) == len(ERROR_NAMES)
    for name in ERROR_NAMES:
        cls = getattr(carecoord.errors, name)
        assert cls is getattr(carecoord, name)
        assert issubclass(cls, carecoord.errors.CareCoordError)
        assert issubclass(cls, Exception)


def test_every_error_class_in_the_package_is_in_the_tree() -> None:
    found: set[type] = set()
    for module in (carecoord, carecoord.model, carecoord.errors, _module("_errors")):
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, BaseException):
                found.add(value)
    assert found
    for cls in found:
        assert issubclass(cls, carecoord.CareCoordError), cls
        assert cls.__name__ in ERROR_NAMES


def test_error_tree_shape() -> None:
    e = carecoord.errors
    assert issubclass(e.ValidationError, ValueError)
    assert issubclass(e.NaiveDatetimeError, e.ValidationError)
    assert issubclass(e.ReasonRequiredError, e.ValidationError)
    assert issubclass(e.StructureError, e.ValidationError)
    assert issubclass(e.NotFoundError, LookupError)
    assert issubclass(e.AccessDeniedError, PermissionError)
    for name in ("InvalidTransitionError", "ConflictError", "StorageError"):
        assert not issubclass(getattr(e, name), e.ValidationError)
    assert e.CareCoordError.__bases__ == (Exception,)


def _fresh_import_modules() -> set[str]:
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        "import carecoord\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return set(json.loads(out))


def test_import_does_not_load_sqlite3() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import carecoord, sys; print('sqlite3' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert out.strip() == "False"


def test_import_does_not_load_storage_or_network_modules() -> None:
    loaded = _fresh_import_modules()
    assert "carecoord" in loaded  # the probe works
    forbidden = {
        "sqlite3",
        "_sqlite3",
        "socket",
        "ssl",
        "http.client",
        "urllib.request",
        "smtplib",
        "asyncio",
        "requests",
        "httpx",
        "aiohttp",
        "apprise",
        "pandas",
        "carecoord.storage",
        "carecoord.storage.sqlite",
        "carecoord.notify",
        "carecoord.notify.apprise",
        # loaded on first use, to keep the import fast
        "cattrs",
        "carecoord.serialization",
        "carecoord.caseload",
        "carecoord.metrics",
    }
    assert loaded & forbidden == set()


def test_presentation_helpers_are_public_through_display() -> None:
    import carecoord.display
    import carecoord.model._html

    for name in carecoord.model._html.__all__:
        assert name in carecoord.display.__all__
        assert getattr(carecoord.display, name) is getattr(carecoord.model._html, name)


def test_lazy_names_resolve_to_their_modules() -> None:
    import carecoord.caseload
    import carecoord.metrics
    import carecoord.serialization

    assert carecoord.Worklist is carecoord.caseload.Worklist
    assert carecoord.MetricReport is carecoord.metrics.MetricReport
    assert carecoord.to_payload is carecoord.serialization.to_payload
    assert {"Worklist", "to_payload"} <= set(dir(carecoord))
    with pytest.raises(AttributeError):
        carecoord.no_such_name  # noqa: B018
