"""benchmarks/programs.py runs end to end on a tiny data set (correctness only, never timing)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "programs.py"


def test_the_programs_benchmark_answers_like_the_raw_query(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("carecoord_benchmarks_programs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "programs.json"
    argv = ["--patients", "300", "--share", "0.3", "--repeat", "2", "--out", str(out)]
    results = module.main([*argv, "--db-dir", str(tmp_path / "db")])
    assert json.loads(out.read_text(encoding="utf-8")) == results
    found = results["figures"]
    assert found["same_results"] is True and found["eligible_not_enrolled"] > 10
    assert results["counts"]["patients"] == 300
