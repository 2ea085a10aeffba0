"""Dependencies point inward: checked on the source, import by import."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "carecoord"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every carecoord module ``path`` imports (relative imports resolved)."""
    here = _module_name(path)
    package = here if path.name == "__init__.py" else here.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("carecoord")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if not target.startswith("carecoord"):
                continue
            if node.module is None:  # ``from .. import events``: the submodules named
                found |= {f"{target}.{a.name}" for a in node.names}
            else:
                found.add(target)
    return found


def _files(*subpaths: str) -> list[Path]:
    files: list[Path] = []
    for sub in subpaths:
        target = PACKAGE / sub
        files += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return files


def _allowed(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # files: (what they may import)
    "model": (("model",), ("carecoord.model",)),
    "rules": (
        (
            "events",
            "worklist.py",
            "caseload.py",
            "metrics.py",
            "_metric_rules.py",
            "_metric_counting.py",
            "_metric_facts.py",
            "display.py",
            "workforce",
            "clinic",
            "directory",
            "programs",
            "templates",
            "screening.py",
            "what_works.py",
        ),
        (
            "carecoord.model",
            "carecoord.events",
            "carecoord.workforce",
            "carecoord.clinic",
            "carecoord.directory",
            "carecoord.programs",
            "carecoord.templates",
            "carecoord.display",
            "carecoord.caseload",  # the deprecated carecoord.worklist re-exports DueIntervention
            "carecoord.metrics",
            "carecoord._metric_rules",
            "carecoord._metric_counting",
            "carecoord._metric_facts",
            "carecoord.what_works",
        ),
    ),
    # the codec edge: the converter, the generated codec and the JSON text module
    "serialization": (
        ("serialization.py", "_json.py", "_fastcodec"),
        ("carecoord.model", "carecoord._json", "carecoord._fastcodec"),
    ),
    "retry": (("retry.py",), ("carecoord.model",)),
    # the chart edge: the model and the pure rules; nothing imports it (see below)
    "plot": (
        ("plot.py",),
        ("carecoord.model", "carecoord.caseload", "carecoord.display"),
    ),
    # use cases: the model, the pure rules, the ports and the unit of work; never an
    # adapter of its own choosing (the memory store default is built lazily, in a method)
    "service": (
        ("service",),
        (
            "carecoord.model",
            "carecoord.access",
            "carecoord.events",
            "carecoord.caseload",
            "carecoord.metrics",
            "carecoord.what_works",
            "carecoord.workforce",
            "carecoord.clinic",
            "carecoord.directory",
            "carecoord.programs",
            "carecoord.templates",
            "carecoord.screening",
            "carecoord.notify.rules",
            "carecoord.storage.port",
            "carecoord.storage.uow",
            "carecoord.storage.memory",
            "carecoord.storage.records",
            "carecoord.retry",
            "carecoord.service",
        ),
    ),
    "adapters": (
        ("storage", "notify", "fhir"),
        (
            "carecoord.model",
            "carecoord.events",
            "carecoord.storage",
            "carecoord.notify",
            "carecoord.fhir",
            "carecoord.serialization",
            "carecoord._json",
            "carecoord._fastcodec",
            "carecoord._metric_facts",
            "carecoord._metric_counting",
            "carecoord.screening",
            "carecoord.progress",
            "carecoord.retry",
        ),
    ),
}


@pytest.mark.parametrize("layer", list(RULES))
def test_layer_imports_point_inward(layer: str) -> None:
    paths, allowed = RULES[layer]
    files = _files(*paths)
    assert files
    wrong = {
        f"{_module_name(path)} imports {target}"
        for path in files
        for target in _imports(path)
        if not _allowed(target, allowed)
    }
    assert not wrong, sorted(wrong)


EDGE_MODULES = ("carecoord.plot",)
"""Modules at the edge: they use the rest, nothing in the package imports them."""


def test_nothing_imports_the_edge_modules() -> None:
    wrong = {
        f"{_module_name(path)} imports {target}"
        for path in _files(".")
        for target in _imports(path)
        if _module_name(path) not in EDGE_MODULES and _allowed(target, EDGE_MODULES)
    }
    assert not wrong, sorted(wrong)


def test_the_checker_sees_relative_imports() -> None:
    found = _imports(PACKAGE / "service" / "runner.py")
    assert {"carecoord.model", "carecoord.storage.uow", "carecoord.access"} <= found


def test_only_the_entry_point_imports_the_command_line() -> None:
    """``carecoord.cli`` is the outermost layer: nothing of the library depends on it."""
    outside = [p for p in _files(".") if "cli" not in p.relative_to(PACKAGE).parts]
    wrong = {
        _module_name(path)
        for path in outside
        if any(_allowed(target, ("carecoord.cli",)) for target in _imports(path))
    }
    assert wrong == {"carecoord.__main__"}
