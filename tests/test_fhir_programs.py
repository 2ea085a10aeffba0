"""FHIR R4 export of care programs (PlanDefinition) and enrolments (EpisodeOfCare),
validated by the ``fhir.resources`` R4B models (R4B leaves both as in R4) and by the
independent R4 checker (``_fhir_checks``), for samples and generated records."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _care_program_samples import CARE_PROGRAM_SAMPLES
from _fhir_checks import bundle_problems, external_references
from carecoord import ConsentId, PatientId, StaffId, ValidationError
from carecoord.fhir import episode_of_care, program_definition
from carecoord.fhir._common import cs, ext_url, id_system
from carecoord.fhir.valuesets import CODE_SYSTEMS
from carecoord.model.programs import (
    CareProgram,
    CareProgramId,
    CareProgramStatus,
    ProgramEnrolment,
)
from carecoord.testing.strategies import ENTITY_STRATEGIES

CHICAGO = ZoneInfo("America/Chicago")


def program() -> CareProgram:
    made: CareProgram = CARE_PROGRAM_SAMPLES["CareProgram"]()
    return made


def closed() -> ProgramEnrolment:
    made: ProgramEnrolment = CARE_PROGRAM_SAMPLES["ProgramEnrolment"]()
    return made


def opened() -> ProgramEnrolment:
    start = datetime(2026, 3, 2, 9, 30, tzinfo=CHICAGO)
    return ProgramEnrolment(
        id=ProgramEnrolment.id_for(program().id, PatientId("p-2"), 2),
        program_id=program().id,
        patient_id=PatientId("p-2"),
        enrolled_at=start,
        enrolled_by=StaffId("nurse"),
        sequence=2,
    )


def program_exports() -> list[dict[str, Any]]:
    """The program and two enrolments (one closed, with a consent; one open), exported
    (used by ``test_fhir_conformance`` too)."""
    return [
        program_definition(program()),
        episode_of_care(closed(), program()),
        episode_of_care(opened(), program()),
    ]


def _bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
    entries = [
        {"fullUrl": f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, r['id'])}", "resource": r}
        for r in resources
    ]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _valid(resource: dict[str, Any]) -> None:
    from fhir.resources.R4B.episodeofcare import EpisodeOfCare
    from fhir.resources.R4B.plandefinition import PlanDefinition

    model: dict[str, Any] = {"EpisodeOfCare": EpisodeOfCare, "PlanDefinition": PlanDefinition}
    text = json.loads(json.dumps(resource))
    model[resource["resourceType"]].model_validate(copy.deepcopy(text))
    if resource["resourceType"] == "EpisodeOfCare":
        assert bundle_problems(_bundle([text])) == []


def test_an_enrolment_is_an_episode_of_care() -> None:
    resource = episode_of_care(closed(), program())
    _valid(resource)
    enrolment = closed()
    assert resource["status"] == "finished"
    assert resource["identifier"] == [
        {"system": id_system("program-enrolment"), "value": str(enrolment.id)}
    ]
    assert resource["type"] == [
        {"coding": [{"system": cs("care-program"), "code": "dm", "display": "Diabetes management"}]}
    ]
    assert resource["patient"]["identifier"] == {"system": id_system("patient"), "value": "p-1"}
    assert resource["careManager"]["identifier"]["value"] == "coord"
    assert resource["period"] == {
        "start": "2026-01-05T09:00:00+00:00",
        "end": "2026-01-05T09:00:00+00:00",
    }
    assert resource["statusHistory"] == [{"status": "active", "period": resource["period"]}]
    (consent,) = resource["extension"]
    assert consent["url"] == ext_url("enrolment-consent")
    assert consent["valueReference"]["identifier"] == {
        "system": id_system("consent"),
        "value": "consent-1",
    }
    assert "managingOrganization" not in resource and "team" not in resource
    assert "goal-met" not in json.dumps(resource)  # the host's reason codes are not written
    assert episode_of_care(closed(), program()) == resource  # stable


def test_an_open_enrolment_is_active_and_keeps_its_zone() -> None:
    resource = episode_of_care(opened(), program())
    _valid(resource)
    assert resource["status"] == "active" and "statusHistory" not in resource
    assert "end" not in resource["period"] and "extension" not in resource
    assert resource["period"]["start"] == "2026-03-02T09:30:00-06:00"
    assert resource["period"]["_start"]["extension"][0]["valueString"] == "America/Chicago"
    bundle = _bundle(program_exports()[1:])
    assert bundle_problems(bundle) == []
    assert external_references(bundle) == set()  # references by identifier only


def test_the_enrolment_must_be_in_the_program() -> None:
    other = attrs.evolve(program(), id=CareProgramId("other"))
    with pytest.raises(ValidationError):
        episode_of_care(closed(), other)


def test_a_program_is_a_plan_definition() -> None:
    resource = program_definition(program())
    _valid(resource)
    assert resource["status"] == "active" and resource["id"] == "dm"
    assert "url" not in resource
    assert resource["identifier"] == [{"system": id_system("care-program"), "value": "dm"}]
    assert resource["type"]["coding"][0]["code"] == "clinical-protocol"
    assert resource["usage"] == (
        "Eligible: all of: condition E11 in http://hl7.org/fhir/sid/icd-10-cm; "
        "any of: age 18-75, fact payer=medicaid; none of: need hospice"
    )
    assert resource["topic"][0]["coding"][0]["code"] == "dm"
    retired = program_definition(attrs.evolve(program(), status=CareProgramStatus.RETIRED))
    assert retired["status"] == "retired"
    odd = program_definition(attrs.evolve(program(), id=CareProgramId("dm:2026_v1")))
    assert odd["id"] != "dm:2026_v1" and odd["identifier"][0]["value"] == "dm:2026_v1"
    assert "dm:2026_v1" in CODE_SYSTEMS[cs("care-program")]  # any program id is a code
    assert "not an id" not in CODE_SYSTEMS[cs("care-program")]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    found=ENTITY_STRATEGIES[CareProgram],
    enrolment=ENTITY_STRATEGIES[ProgramEnrolment],
    consent=st.none() | st.just(ConsentId("c-1")),
)
def test_generated_programs_and_enrolments_export_valid_resources(
    found: CareProgram, enrolment: ProgramEnrolment, consent: ConsentId | None
) -> None:
    enrolment = attrs.evolve(
        enrolment,
        id=ProgramEnrolment.id_for(found.id, enrolment.patient_id, enrolment.sequence),
        program_id=found.id,
        consent_id=consent,
    )
    _valid(program_definition(found))
    resource = episode_of_care(enrolment, found)
    _valid(resource)
    assert resource["status"] == ("active" if enrolment.is_open else "finished")
    assert ("extension" in resource) == (consent is not None)
