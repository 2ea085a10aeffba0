"""benchmarks/directory.py runs end to end on a small directory (correctness only, never
timing): the indexed search, the raw SQL floor, the service and the unindexed scan agree."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "directory.py"


def test_the_directory_benchmark_answers_like_raw_sql_and_the_records(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("carecoord_benchmarks_directory", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "directory.json"
    argv = ["--services", "1500", "--repeat", "2", "--db-dir", str(tmp_path / "db")]
    results = module.main([*argv, "--out", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == results
    figures = results["figures"]
    assert set(figures) == {"need", "need_language_open_near", "two_needs_near"}
    for figure in figures.values():
        assert figure["same_results"] is True
    assert results["counts"]["services"] == 1500
    assert results["counts"]["locations"] >= 1500
    # one need of twelve, one to three each, 95% active: roughly 12% of the directory
    assert 100 <= figures["need"]["rows"] <= 400
    assert figures["two_needs_near"]["rows"] > 0
    assert figures["need_language_open_near"]["rows"] < figures["need"]["rows"]
