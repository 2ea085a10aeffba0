"""examples/coordinator.ipynb: committed without outputs, and it runs from top to bottom.

Executed with nbclient on an IPython kernel of this interpreter (both in the
``test`` extra); skipped, saying why, only when nbclient is not installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "examples" / "coordinator.ipynb"
TIMEOUT = 180  # seconds per cell; the whole notebook takes a few seconds
PHI = ("Rivera", "Okafor", "Lindqvist", "Doe", "Roe", "Poe", "HbA1c under", "glucose", "1951")
"""Names and free text of the demo data that no output may show."""


def _cells() -> list[dict[str, Any]]:
    cells: list[dict[str, Any]] = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    return cells


def test_the_notebook_is_committed_without_outputs() -> None:
    code = [c for c in _cells() if c["cell_type"] == "code"]
    assert len(code) >= 8
    for cell in code:
        assert cell["outputs"] == [], cell["id"]
        assert cell["execution_count"] is None, cell["id"]


def _run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The notebook's code cells after running it on a kernel of this interpreter."""
    # the kernel's connection file and IPython's profile go to the test's folder
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (test extra)")
    import nbformat
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:  # ipykernel's spec runs "python", which jupyter_client maps to sys.executable
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:  # pragma: no cover - ipykernel comes with the test extra
        pytest.fail("no python3 kernel: install ipykernel (in the test extra)")
    notebook = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    client = nbclient.NotebookClient(
        notebook,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # the working folder of the kernel
    )
    client.execute()
    return [c for c in notebook.cells if c.cell_type == "code"]


def _outputs(cell: dict[str, Any], kind: str) -> list[str]:
    found = []
    for output in cell["outputs"]:
        data = output.get("data", {})
        if kind in data:
            found.append(data[kind])
    return found


def test_the_notebook_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cells = {c["id"]: c for c in _run(tmp_path, monkeypatch)}
    for cell in cells.values():
        assert not [o for o in cell["outputs"] if o["output_type"] == "error"], cell["id"]
    # the worklist and the metrics render as carecoord's HTML tables, times compact
    (worklist,) = _outputs(cells["worklist"], "text/html")
    assert '<table class="carecoord">' in worklist
    assert "Worklist of staff-coordinator (supervisor) as of Thu 26 Nov" in worklist
    assert "(times in America/Chicago)" in worklist
    assert "staff-nurse" in worklist and "staff-lead-ma" in worklist
    (metrics,) = _outputs(cells["metrics"], "text/html")
    assert "caseload_size" in metrics
    assert _outputs(cells["metrics-frame"], "text/html")  # a pandas frame
    # the two charts are images
    for chart in ("goal", "overdue"):
        assert _outputs(cells[chart], "image/png"), chart
    # no output shows a name or free text of the demo data
    shown = json.dumps(
        [
            {k: v for k, v in o.get("data", {}).items() if not k.startswith("image/")}
            | {"text": o.get("text", "")}
            for c in cells.values()
            for o in c["outputs"]
        ]
    )
    assert "staff-coordinator" in shown  # the check sees the text outputs
    for secret in PHI:
        assert secret not in shown, secret
