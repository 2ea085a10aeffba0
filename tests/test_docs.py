"""Every ```python block in README.md and docs/ runs (blocks of a file share a namespace)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


SNIPPET = re.compile(r"^--8<--\n(\S+)\n--8<--$", re.MULTILINE)


def _blocks(path: Path) -> list[str]:
    """The page's python blocks, with block-form ``--8<--`` snippets inlined."""
    blocks = FENCE.findall(path.read_text(encoding="utf-8"))
    return [
        SNIPPET.sub(lambda m: (ROOT / m.group(1)).read_text(encoding="utf-8"), block)
        for block in blocks
    ]


def test_docs_have_examples() -> None:
    assert sum(len(_blocks(p)) for p in DOCS) >= 8


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    namespace: dict[str, object] = {"__name__": f"docs_{path.stem}"}
    for number, block in enumerate(_blocks(path), start=1):
        code = compile(block, f"{path.name}[block {number}]", "exec")
        exec(code, namespace)


# ------------------------------------------------------- the reference and the pages

REFERENCE = ROOT / "docs" / "reference"
DIRECTIVE = re.compile(r"^::: (carecoord[\w.]*)$", re.MULTILINE)


def _public_modules() -> set[str]:
    """Every module of carecoord whose dotted path has no ``_`` part (packages included)."""
    src = ROOT / "src"
    found = set()
    for path in (src / "carecoord").rglob("*.py"):
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or parts[:2] in {("carecoord", "cli")}:
            continue
        found.add(".".join(parts))
    return found


NOT_IN_REFERENCE = {
    "carecoord.model": "re-exports its submodules, each on a reference page",
    "carecoord.service": "re-exports CareCoordinator and the runner, both on a reference page",
    "carecoord.worklist": "deprecated (one worklist API: carecoord.caseload)",
}
"""Public modules the reference leaves out, and why."""


def _documented() -> set[str]:
    return {m for page in REFERENCE.glob("*.md") for m in DIRECTIVE.findall(page.read_text())}


def _covered(module: str, documented: set[str]) -> bool:
    """A module is covered by its own directive or by its package's, when the package
    re-exports the module's public names (its ``__all__``)."""
    if module in documented:
        return True
    import importlib

    parent = module.rpartition(".")[0]
    while parent:
        if parent in documented:
            names = set(getattr(importlib.import_module(module), "__all__", ()))
            if names and names <= set(getattr(importlib.import_module(parent), "__all__", ())):
                return True
        parent = parent.rpartition(".")[0]
    return False


def test_every_public_module_is_in_the_api_reference() -> None:
    documented = _documented()
    missing = sorted(
        m
        for m in _public_modules()
        if m != "carecoord"
        and not _covered(m, documented)
        and m not in NOT_IN_REFERENCE
        and not m.startswith(("carecoord.service.", "carecoord.demo"))  # the facade's handlers
    )
    assert missing == []
    assert {"carecoord.service.coordinator", "carecoord.model.people"} <= documented


def test_the_api_reference_pages_are_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    for page in REFERENCE.glob("*.md"):
        assert f"reference/{page.name}" in nav, page.name


def test_code_blocks_fit_the_page() -> None:
    """Lines in code blocks are at most 100 characters (the page is widened for them)."""
    fence = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
    long = [
        f"{path.relative_to(ROOT)}: {line[:40]}..."
        for path in DOCS
        for block in fence.findall(path.read_text(encoding="utf-8"))
        for line in block.splitlines()
        if len(line) > 100
    ]
    assert long == []


def test_the_service_page_lists_every_constructor_parameter() -> None:
    import inspect

    from carecoord import CareCoordinator

    page = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    for name in inspect.signature(CareCoordinator.__init__).parameters:
        if name != "self":
            assert f"`{name}`" in page, name


def test_sphinx_roles_become_code_spans_in_the_reference() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sphinx_roles", ROOT / "docs" / "_griffe" / "sphinx_roles.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = (
        "See :class:`~carecoord.model.people.Patient`, :func:`carecoord.caseload.work_item`"
        " and :meth:`CareCoordinator.worklist <carecoord.CareCoordinator.worklist>`."
    )
    assert module.plain(text) == (
        "See `Patient`, `carecoord.caseload.work_item` and `CareCoordinator.worklist`."
    )
    assert module.plain("no roles here") == "no roles here"
