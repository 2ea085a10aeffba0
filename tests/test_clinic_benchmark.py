"""benchmarks/clinic.py runs end to end on a tiny data set (correctness only, never timing)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "clinic.py"


def test_the_clinic_benchmark_answers_like_the_raw_query(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("carecoord_benchmarks_clinic", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "clinic.json"
    argv = ["--visits", "30", "--days", "3", "--movements", "500", "--repeat", "2"]
    results = module.main([*argv, "--out", str(out), "--db-dir", str(tmp_path / "db")])
    assert json.loads(out.read_text(encoding="utf-8")) == results
    board, stock = results["figures"]["day_board"], results["figures"]["on_hand"]
    assert board["same_results"] is True and board["rows"] == 30  # one day of three
    assert stock["same_results"] is True and stock["on_hand"] >= 0
    assert results["counts"]["visits"] == 90 and results["counts"]["movements"] == 500
