"""Export the demo's patients as FHIR R4 Bundles, then import one back.

Run with ``python examples/fhir_export.py [--out-dir DIR]``; without a directory
the files go to a temporary one. The summary names ids, resource types and
counts only, never PHI.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

from carecoord.demo import build_demo_data, load_demo
from carecoord.fhir import PatientRecord, export_bundle, import_bundle
from carecoord.service import CareCoordinator
from carecoord.storage import MemoryStore
from carecoord.testing import FixedClock


def export_demo(out_dir: Path) -> list[Path]:
    """Load the demo into an in-memory store and write one Bundle per patient."""
    data = build_demo_data()
    store = MemoryStore()
    load_demo(CareCoordinator(store=store, clock=FixedClock(data.now)), data)
    written = []
    for patient in data.patients:
        record = PatientRecord.from_store(store, patient.id, include_audit=True)
        bundle = export_bundle(record, include_audit=True)
        # The Bundle reads back into the very same record.
        assert import_bundle(bundle).record == record
        path = out_dir / f"{patient.id}.fhir.json"
        path.write_text(json.dumps(bundle, indent=2, sort_keys=True), encoding="utf-8")
        counts = Counter(e["resource"]["resourceType"] for e in bundle["entry"])
        summary = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
        print(f"{patient.id}: {len(bundle['entry'])} resources -> {path.name} ({summary})")
        written.append(path)
    return written


def main(argv: list[str]) -> None:
    """Export into ``--out-dir DIR`` (created if needed) or into a temporary directory.

    Unknown arguments are ignored, so the example also runs under a test runner.
    """
    parser = argparse.ArgumentParser(description="Export the demo patients as FHIR Bundles.")
    parser.add_argument("--out-dir", type=Path, default=None, help="directory for the JSON files")
    out_dir: Path | None = parser.parse_known_args(argv[1:])[0].out_dir
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        files = export_demo(out_dir)
        print(f"Wrote {len(files)} Bundles to {out_dir}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        files = export_demo(Path(tmp))
        print(f"Wrote {len(files)} Bundles to a temporary directory (removed on exit)")


if __name__ == "__main__":
    main(sys.argv)
