from pathlib import Path

import pytest

from carecoord.__main__ import main
from carecoord.storage import SQLiteStore


def test_demo_creates_database_and_prints_worklist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite3"
    assert main(["demo", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Worklist for staff-coordinator" in out
    assert out.count("OVERDUE") == 3
    assert "Doe" not in out  # identifiers only, no names
    store = SQLiteStore(db)
    try:
        assert len(store.read_all("CarePlan")) == 3
        assert store.integrity_check()
    finally:
        store.close()
    # Running it again replaces the demo file instead of failing on existing records.
    assert main(["demo", "--db", str(db)]) == 0
