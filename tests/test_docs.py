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
