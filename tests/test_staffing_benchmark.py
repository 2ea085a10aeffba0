"""benchmarks/staffing.py runs end to end on a tiny data set (correctness only, never timing)."""

from __future__ import annotations

import importlib.util
import json
from datetime import timedelta
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "staffing.py"


def test_the_staffing_benchmark_answers_like_raw_sql_and_the_raw_records(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("carecoord_benchmarks_staffing", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "staffing.json"
    argv = ["--staff", "48", "--days", "21", "--providers", "2", "--repeat", "2"]
    results = module.main([*argv, "--out", str(out), "--db-dir", str(tmp_path / "db")])
    assert json.loads(out.read_text(encoding="utf-8")) == results
    figures = results["figures"]
    assert set(figures) == {"on_duty_role_location", "on_duty_location", "free_slots_week"}
    for figure in figures.values():
        assert figure["same_results"] is True
    assert figures["free_slots_week"]["rows"] > 0
    assert figures["on_duty_location"]["rows"] >= figures["on_duty_role_location"]["rows"] >= 1
    first = module.NOW.date() - timedelta(days=21 // 2)
    working = [
        (i, n)
        for i in range(48)
        for n in range(21)
        if ((first + timedelta(days=n)).toordinal() + i) % 7 not in (5, 6)
    ]
    assert results["counts"]["shifts"] == len(working)  # five days a week each
