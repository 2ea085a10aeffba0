"""carecoord's published FHIR conformance resources, and every carecoord URL in an export.

The files of ``carecoord/fhir/conformance`` are what ``_conformance_build``
generates now (a new extension, code or identifier system fails here until
registered and regenerated); each is valid R4 (fhir.resources R4B models, the
R4 primitive formats); and in the exports of the rich record, the demo data and
generated records every URL under ``CANONICAL_BASE`` resolves to a shipped
resource: extension urls to StructureDefinitions (each extension on an element
its definition names as context, its value and parts as defined), coding
systems to CodeSystems holding the code, identifier systems to NamingSystems.
The instance checks here read the shipped JSON, not the registry they came from.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from _fhir_concerns import concerns_record
from _fhir_formats import primitive_problem
from _fhir_schema import SCHEMA
from carecoord import (
    DecisionOutcome,
    HumanName,
    Patient,
    PatientDecision,
    PatientId,
    ReferralId,
    ReferralTargetKind,
    StaffId,
)
from carecoord.fhir import (
    CANONICAL_BASE,
    CODE_SYSTEM_BASE,
    EXTENSION_BASE,
    ID_SYSTEM_BASE,
    PatientRecord,
    conformance_resources,
    export_bundle,
)
from carecoord.fhir import _conformance_build as gen
from carecoord.fhir._common import ID_SYSTEMS
from carecoord.fhir._conformance_registry import EXTENSIONS, ExtensionSpec
from carecoord.fhir.export import KIND_TYPES
from carecoord.fhir.valuesets import CODE_SYSTEMS
from carecoord.model import DecisionId, ValidationError
from test_fhir_export import rich_record
from test_fhir_programs import program_exports
from test_fhir_roundtrip import patient_records
from test_fhir_validity import demo_records

Json = dict[str, Any]
RESOURCES = conformance_resources()
BY_TYPE: dict[str, list[Json]] = {}
for _r in RESOURCES:
    BY_TYPE.setdefault(_r["resourceType"], []).append(_r)
SDS = {sd["url"]: sd for sd in BY_TYPE["StructureDefinition"]}
CODES = {c["url"]: {x["code"] for x in c.get("concept", ())} for c in BY_TYPE["CodeSystem"]}
HOST_CODES = {c["url"] for c in BY_TYPE["CodeSystem"] if c["content"] == "not-present"}
"""Code systems whose codes the host defines (care program ids): not listed."""
ID_URIS = {u["value"] for ns in BY_TYPE["NamingSystem"] for u in ns["uniqueId"]}
RESOLVABLE = set(SDS) | set(CODES) | ID_URIS

# ------------------------------------------------------- the files themselves


def test_the_files_are_what_the_generator_makes_now() -> None:
    stale = gen.differences()
    assert stale == [], f"run: python -m carecoord.fhir._conformance_build ({stale})"
    assert gen.main(["--check"]) == 0
    assert gen.main(["--markdown"]) == 0


def test_the_public_function_returns_every_file_as_new_dicts() -> None:
    assert sorted(gen.file_name(r) for r in RESOURCES) == sorted(
        p.name for p in gen.DIRECTORY.glob("*.json")
    )
    assert list(RESOURCES) == sorted(gen.build(), key=gen.file_name)
    first = conformance_resources()
    first[0]["id"] = "changed"
    assert conformance_resources()[0]["id"] != "changed"


def test_every_resource_is_valid_r4b() -> None:
    from fhir.resources.R4B import get_fhir_model_class

    for resource in RESOURCES:
        get_fhir_model_class(resource["resourceType"]).model_validate(copy.deepcopy(resource))


def _formats(resource: Json) -> Iterator[tuple[str, Any]]:
    yield "id", resource["id"]
    yield "string", resource["name"]
    for key in ("url", "baseDefinition"):
        if key in resource:
            yield "uri", resource[key]
    for element in resource.get("snapshot", {}).get("element", []):
        yield "string", element["id"]
        yield "string", element["definition"]
        if "fixedUri" in element:
            yield "uri", element["fixedUri"]
        for kind in element.get("type", ()):
            yield "uri", kind["code"]
    for concept in resource.get("concept", ()):
        yield "code", concept["code"]
        yield "string", concept["display"]
        yield "string", concept["definition"]
    for unique in resource.get("uniqueId", ()):
        yield "uri", unique["value"]
    if "date" in resource:
        yield "dateTime", resource["date"]


def test_every_primitive_has_its_r4_format() -> None:
    for resource in RESOURCES:
        for kind, value in _formats(resource):
            assert primitive_problem(kind, value) is None, (resource["id"], kind, value)


def test_canonical_urls_are_under_one_base_and_unique() -> None:
    for sd in BY_TYPE["StructureDefinition"]:
        assert sd["url"] == EXTENSION_BASE + sd["id"]
        assert (sd["type"], sd["kind"], sd["derivation"]) == (
            "Extension",
            "complex-type",
            "constraint",
        )
        assert sd["baseDefinition"] == "http://hl7.org/fhir/StructureDefinition/Extension"
        assert sd["fhirVersion"] == "4.0.1" and sd["context"]
    for system in BY_TYPE["CodeSystem"]:
        assert system["url"] == CODE_SYSTEM_BASE + system["id"]
    assert {ns["id"] for ns in BY_TYPE["NamingSystem"]} == {f"id-{k}" for k in ID_SYSTEMS}
    assert {ID_SYSTEM_BASE + kind for kind in ID_SYSTEMS} == ID_URIS
    assert all(url.startswith(CANONICAL_BASE) for url in RESOLVABLE)
    assert len(RESOLVABLE) == len(RESOURCES)
    for resource in RESOURCES:  # fixedUri, patternCoding.system, ... resolve too
        assert [p for p in url_problems(resource) if "not a published" in p] == []


def test_the_differential_is_part_of_the_snapshot() -> None:
    for sd in BY_TYPE["StructureDefinition"]:
        snapshot = {e["id"]: e for e in sd["snapshot"]["element"]}
        assert len(snapshot) == len(sd["snapshot"]["element"])
        assert snapshot["Extension.url"]["fixedUri"] == sd["url"]
        for element in sd["differential"]["element"]:
            full = snapshot[element["id"]]
            extra = element.get("constraint", [])
            assert all(c in full["constraint"] for c in extra), element["id"]
            same = {k: v for k, v in element.items() if k != "constraint"}
            assert {k: full[k] for k in same} == same, element["id"]


def test_code_systems_are_complete_with_display_and_definition() -> None:
    own = {url: s.codes for url, s in CODE_SYSTEMS.items() if url.startswith(CODE_SYSTEM_BASE)}
    assert {url: frozenset(codes) for url, codes in CODES.items()} == own
    assert {url for url, s in CODE_SYSTEMS.items() if url in own and s.pattern} == HOST_CODES
    for system in BY_TYPE["CodeSystem"]:
        if system["url"] in HOST_CODES:
            assert "concept" not in system and "count" not in system
            continue
        assert system["content"] == "complete" and system["count"] == len(system["concept"])
        for concept in system["concept"]:
            assert concept["display"] and concept["definition"]


_PAGE = Path(__file__).resolve().parents[1] / "docs" / "fhir-conformance.md"
_TABLES = re.compile(
    r"<!-- conformance-tables:start -->\n(.*)<!-- conformance-tables:end -->", re.S
)


def test_the_docs_list_what_is_published() -> None:
    from carecoord.fhir._conformance_docs import markdown

    found = _TABLES.search(_PAGE.read_text(encoding="utf-8"))
    assert found is not None
    assert found[1] == markdown(), "paste: python -m carecoord.fhir._conformance_build --markdown"


# ---------------------------------------------- the registry and the sources

_FHIR = Path(gen.__file__).parent
_SOURCES = [*sorted(_FHIR.glob("_export*.py")), _FHIR / "export.py"]
_CALLS = re.compile(r"\b(ext_url|_string_ext|cs|id_system)\(\s*\"([^\"]+)\"")


def test_every_name_the_export_writes_is_published() -> None:
    found: dict[str, set[str]] = {}
    for source in _SOURCES:
        for call, name in _CALLS.findall(source.read_text(encoding="utf-8")):
            found.setdefault("ext_url" if call == "_string_ext" else call, set()).add(name)
    assert found["ext_url"] and found["cs"]
    assert {EXTENSION_BASE + n for n in found["ext_url"]} <= set(SDS)
    assert {CODE_SYSTEM_BASE + n for n in found["cs"]} <= set(CODES)
    assert found.get("id_system", set()) | set(KIND_TYPES) <= set(ID_SYSTEMS)


def test_the_generator_rejects_an_incomplete_registry(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="value types or parts"):
        gen.structure_definition(ExtensionSpec("bare", "Bare", "No value.", contexts=("Patient",)))
    with pytest.raises(ValidationError, match="context"):
        gen.structure_definition(ExtensionSpec("lost", "Lost", "No context.", ("string",)))
    with pytest.raises(ValidationError, match="Reference"):
        gen.structure_definition(
            ExtensionSpec("t", "T", "d.", ("string",), contexts=("Patient",), targets=("Goal",))
        )
    with pytest.raises(ValidationError, match="not in both"):
        gen.code_system("no-such-system")
    (tmp_path / "CodeSystem-stale.json").write_text("{}", encoding="utf-8")
    written = gen.write(tmp_path)
    assert "CodeSystem-stale.json" in written and len(written) == len(RESOURCES) + 1
    assert gen.differences(tmp_path) == [] and gen.write(tmp_path) == []
    assert gen.main(["--bogus"]) == 2


# --------------------------------------- instances against their definitions


@dataclass
class Shape:
    """What one extension (or part) may hold, read from a StructureDefinition snapshot."""

    url: str
    types: dict[str, tuple[str, ...]]
    value_min: int
    pattern: Json | None
    parts: dict[str, tuple[int, float, Shape]] = field(default_factory=dict)


def _shape(elements: dict[str, Json], eid: str) -> Shape:
    value = elements[f"{eid}.value[x]"]
    types = {
        t["code"]: tuple(p.rsplit("/", 1)[1] for p in t.get("targetProfile", ()))
        for t in value["type"]
    }
    shape = Shape(
        elements[f"{eid}.url"]["fixedUri"],
        types if value["max"] != "0" else {},
        value["min"],
        value.get("patternCoding"),
    )
    prefix = f"{eid}.extension:"
    for sid, element in elements.items():
        if sid.startswith(prefix) and "." not in sid[len(prefix) :]:
            high = float("inf") if element["max"] == "*" else int(element["max"])
            shape.parts[element["sliceName"]] = (element["min"], high, _shape(elements, sid))
    return shape


SHAPES = {
    url: _shape({e["id"]: e for e in sd["snapshot"]["element"]}, "Extension")
    for url, sd in SDS.items()
}


def instance_problems(ext: Json, shape: Shape, path: str) -> list[str]:
    """How ``ext`` departs from ``shape`` (empty: it conforms)."""
    out = []
    if ext.get("url") != shape.url:
        out.append(f"{path}.url: expected {shape.url}")
    values = [key for key in ext if key.startswith("value")]
    if ("extension" in ext) == bool(values):
        out.append(f"{path}: ext-1")
    for key in values:
        kinds = {key[5:], key[5].lower() + key[6:]} & set(shape.types)
        if not kinds:
            out.append(f"{path}.{key}: type not allowed")
            continue
        targets = shape.types[kinds.pop()]
        if targets and ext[key].get("type") not in targets:
            out.append(f"{path}.{key}: reference target not allowed")
        if shape.pattern and any(ext[key].get(k) != v for k, v in shape.pattern.items()):
            out.append(f"{path}.{key}: does not match the pattern")
    if not values and "extension" not in ext and shape.value_min:
        out.append(f"{path}: value missing")
    counts: Counter[str] = Counter()
    for i, sub in enumerate(ext.get("extension", ())):
        part = shape.parts.get(sub.get("url"))
        if part is None:
            out.append(f"{path}.extension[{i}]: no part {sub.get('url')!r}")
            continue
        counts[sub["url"]] += 1
        out += instance_problems(sub, part[2], f"{path}.extension[{i}]")
    if "extension" in ext:
        for name, (low, high, _) in shape.parts.items():
            if not low <= counts[name] <= high:
                out.append(f"{path}: {counts[name]} {name!r} parts, expected {low}..{high}")
    return out


def _holders(node: Json, path: str, tname: str, fpath: str) -> Iterator[tuple[str, set[str], Json]]:
    """Every element holding extensions: (path, the contexts it is, the element)."""
    fields = SCHEMA.get(tname, {})
    if isinstance(node.get("extension"), list):
        yield path, {fpath, tname}, node
    for key, value in node.items():
        name = key.removeprefix("_")
        element = fields.get(name)
        if key == "extension" or element is None:
            continue
        if key.startswith("_"):
            contexts = {f"{fpath}.{name}", f"{tname}.{name}", element.type}
            yield f"{path}.{key}", contexts, value
            continue
        for i, item in enumerate(value if isinstance(value, list) else [value]):
            if isinstance(item, dict):
                yield from _holders(item, f"{path}.{key}[{i}]", element.type, f"{fpath}.{key}")


def _strings(node: Any, path: str) -> Iterator[tuple[str, str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str):
                yield f"{path}.{key}", value, node
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _strings(item, f"{path}[{i}]")


def url_problems(resource: Json, where: str = "") -> list[str]:
    """The carecoord URLs in ``resource`` that do not resolve or break their definition."""
    rtype = resource["resourceType"]
    out = []
    for path, text, owner in _strings(resource, where or rtype):
        if not text.startswith(CANONICAL_BASE):
            continue
        if text not in RESOLVABLE:
            out.append(f"{path}: {text} is not a published resource")
        elif path.endswith(".system") and "code" in owner:  # a Coding
            if text not in CODES:
                out.append(f"{path}: {text} is not a code system")
            elif owner["code"] not in CODES[text] and (
                text not in HOST_CODES or owner["code"] not in CODE_SYSTEMS[text]
            ):
                out.append(f"{path}: code {owner['code']!r} not in {text}")
        elif path.endswith(".system") and text not in ID_URIS:  # an Identifier
            out.append(f"{path}: {text} is not an identifier system")
    for path, contexts, holder in _holders(resource, where or rtype, rtype, rtype):
        counts = Counter(e.get("url") for e in holder["extension"])
        for i, ext in enumerate(holder["extension"]):
            here = f"{path}.extension[{i}]"
            sd = SDS.get(ext.get("url", ""))
            if sd is None:
                if ext.get("url", "").startswith(CANONICAL_BASE):
                    out.append(f"{here}: {ext['url']} is not an extension definition")
                continue
            if not contexts & {c["expression"] for c in sd["context"]}:
                out.append(f"{here}: {sd['id']} is not allowed on {sorted(contexts)}")
            root = sd["snapshot"]["element"][0]
            if root["max"] != "*" and counts[ext["url"]] > int(root["max"]):
                out.append(f"{here}: {sd['id']} more than {root['max']} times")
            out += instance_problems(ext, SHAPES[ext["url"]], here)
    return out


def bundle_url_problems(bundle: Json) -> list[str]:
    """:func:`url_problems` of every entry of ``bundle``."""
    out = []
    for i, entry in enumerate(bundle["entry"]):
        out += url_problems(entry["resource"], f"Bundle.entry[{i}].resource")
    return out


def _extension_names(bundle: Json) -> set[str]:
    return {
        text.removeprefix(EXTENSION_BASE)
        for _, text, _ in _strings(bundle, "")
        if text.startswith(EXTENSION_BASE)
    }


def _odd_offset_record() -> PatientRecord:
    """A decision at +15:00: FHIR cannot write that offset, so ``utc-offset`` is used."""
    patient = Patient(
        id=PatientId("p-1"),
        name=HumanName(family="Doe"),
        birth_date=date(1950, 1, 2),
        time_zone="UTC",
    )
    decision = PatientDecision(
        id=DecisionId("d-1"),
        patient_id=patient.id,
        at=datetime(2026, 11, 2, 9, tzinfo=timezone(timedelta(hours=15))),
        recorded_by=StaffId("staff-1"),
        recommendation="Join the walking group",
        outcome=DecisionOutcome.DEFERRED,
    )
    return PatientRecord(patient=patient, decisions=(decision,))


def _targets_record() -> PatientRecord:
    """The rich record with referrals to a specialist (a PractitionerRole) and financial aid."""
    record = rich_record()
    [first] = record.referrals
    more = (
        attrs.evolve(
            first,
            id=ReferralId("ref-2"),
            target_kind=ReferralTargetKind.SPECIALIST,
            target_name="Dr. Who",
        ),
        attrs.evolve(
            first,
            id=ReferralId("ref-3"),
            target_kind=ReferralTargetKind.FINANCIAL_AID,
            target_name="Rent relief fund",
        ),
    )
    return attrs.evolve(record, referrals=(first, *more))


def _revised_goal_record() -> PatientRecord:
    """The rich record with its first goal revised: new targets, the old ones kept."""
    record = rich_record()
    plan = record.plans[0]
    goal = plan.goals[0]
    author = plan.author_id
    revised = goal.revise(
        by=author,
        at=plan.created_at,
        reason="target-unrealistic",
        reason_text="Set with the patient",
        targets=(attrs.evolve(goal.targets[0], due=None), *goal.targets[1:]),
    )
    revised = revised.revise(by=author, at=plan.created_at, reason="clarification", description="x")
    return attrs.evolve(record, plans=(plan.with_goal(revised), *record.plans[1:]))


FIXED = [
    rich_record(),
    *demo_records(),
    _odd_offset_record(),
    _targets_record(),
    concerns_record(),
    _revised_goal_record(),
]


def _standalone_exports() -> Json:
    """The resources exported outside ``export_bundle`` (coverage, education, care
    programs), as one Bundle."""
    from carecoord import ContactId, Period, StaffId
    from carecoord.fhir import coverage_resource, education_procedure
    from carecoord.model import (
        Coverage,
        CoverageId,
        EducationSession,
        EducationSessionId,
        MaterialId,
        TeachBackResult,
    )

    start = datetime(2026, 1, 1, tzinfo=ZoneInfo("America/Chicago"))
    coverage = Coverage(
        id=CoverageId("cov-1"),
        patient_id=PatientId("p-1"),
        payer="Payer",
        member_id="M-1",
        period=Period(start, start + timedelta(days=365)),
        recorded_at=start,
        recorded_by=StaffId("s-1"),
    )
    session = EducationSession(
        id=EducationSessionId("edu-1"),
        patient_id=PatientId("p-1"),
        material_id=MaterialId("mat-1"),
        given_at=start,
        given_by=StaffId("s-1"),
        result=TeachBackResult.UNDERSTOOD,
        contact_id=ContactId("c-1"),
        interpreter_used=True,
    )
    resources = [coverage_resource(coverage), education_procedure(session), *program_exports()]
    return {"resourceType": "Bundle", "entry": [{"resource": r} for r in resources]}


def test_every_carecoord_url_in_the_fixed_exports_resolves_and_fits() -> None:
    seen: set[str] = set()
    for bundle in [*(export_bundle(r, include_audit=True) for r in FIXED), _standalone_exports()]:
        assert bundle_url_problems(bundle) == []
        seen |= _extension_names(bundle)
    assert seen == {spec.name for spec in EXTENSIONS if not spec.retired}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patient_records())
def test_every_carecoord_url_in_generated_exports_resolves_and_fits(record: PatientRecord) -> None:
    assert bundle_url_problems(export_bundle(record, include_audit=True)) == []


# ------------------------------------------------------ the checks can fail

_BUNDLE = export_bundle(rich_record(), include_audit=True)


def _resource(bundle: Json, rtype: str) -> Json:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype)


def _ext(resource: Json, name: str) -> Json:
    return next(e for e in resource["extension"] if e["url"] == EXTENSION_BASE + name)


def _retype(b: Json) -> None:
    _ext(_resource(b, "Patient"), "time-zone")["valueBoolean"] = True
    del _ext(_resource(b, "Patient"), "time-zone")["valueString"]


def _unknown(b: Json) -> None:
    _resource(b, "Patient")["extension"].append(
        {"url": EXTENSION_BASE + "nope", "valueString": "x"}
    )


def _wrong_place(b: Json) -> None:
    _resource(b, "Goal")["extension"].append(
        {"url": EXTENSION_BASE + "time-zone", "valueString": "UTC"}
    )


def _twice(b: Json) -> None:
    patient = _resource(b, "Patient")
    patient["extension"].append(copy.deepcopy(_ext(patient, "time-zone")))


def _missing_part(b: Json) -> None:
    history = _ext(_resource(b, "Goal"), "status-history")
    history["extension"] = [p for p in history["extension"] if p["url"] != "to"]


def _odd_part(b: Json) -> None:
    _ext(_resource(b, "Goal"), "status-history")["extension"].append(
        {"url": "why", "valueString": "x"}
    )


def _bad_code(b: Json) -> None:
    _resource(b, "Task")["code"]["coding"][0]["code"] = "juggling"


def _bad_system(b: Json) -> None:
    _resource(b, "Patient")["identifier"][0]["system"] = ID_SYSTEM_BASE + "patients"


def _bad_target(b: Json) -> None:
    _ext(_resource(b, "CareTeam"), "care-team-lead")["valueReference"]["type"] = "Patient"


def _id_as_code(b: Json) -> None:
    _resource(b, "Task")["code"]["coding"][0]["system"] = ID_SYSTEM_BASE + "goal"


def _code_as_id(b: Json) -> None:
    _resource(b, "Patient")["identifier"][0]["system"] = CODE_SYSTEM_BASE + "direction"


def _code_as_ext(b: Json) -> None:
    _ext(_resource(b, "Patient"), "time-zone")["url"] = CODE_SYSTEM_BASE + "direction"


def _bad_pattern(b: Json) -> None:
    _ext(_resource(b, "Condition"), "need-priority")["valueCoding"]["system"] = (
        CODE_SYSTEM_BASE + "direction"
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_retype, "valueBoolean: type not allowed"),
        (_unknown, "nope is not a published resource"),
        (_wrong_place, "time-zone is not allowed on"),
        (_twice, "time-zone more than 1 times"),
        (_missing_part, "0 'to' parts, expected 1..1"),
        (_odd_part, "no part 'why'"),
        (_bad_code, "code 'juggling' not in"),
        (_bad_system, "patients is not a published resource"),
        (_id_as_code, "id/goal is not a code system"),
        (_code_as_id, "direction is not an identifier system"),
        (_code_as_ext, "direction is not an extension definition"),
        (_bad_target, "reference target not allowed"),
        (_bad_pattern, "does not match the pattern"),
    ],
    ids=lambda x: getattr(x, "__name__", "")[1:],
)
def test_the_url_checks_catch(change: Any, problem: str) -> None:
    bundle = copy.deepcopy(_BUNDLE)
    change(bundle)
    problems = bundle_url_problems(bundle)
    assert any(problem in p for p in problems), problems
