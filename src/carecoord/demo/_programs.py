"""The demo's programs part: a diabetes-management care program with two enrolled
patients, and a small community resource directory.

All invented; printed as identifiers, codes and counts only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, time

from ..directory import DirectoryQuery
from ..model import PatientId, StaffId
from ..model.directory import (
    DirectoryService,
    DirectoryServiceId,
    OpeningHours,
    ServiceCost,
    ServiceLocation,
    ServiceLocationId,
    ServiceOrganization,
    ServiceOrganizationId,
)
from ..model.programs import CareProgram, CareProgramId, Criterion, Eligibility
from ..service import CareCoordinator

__all__ = ["DEMO_PROGRAM", "demo_directory", "show_programs"]

DEMO_PROGRAM = CareProgramId("prog-diabetes")
"""The demo's care program."""


def demo_directory() -> tuple[DirectoryService, ...]:
    """Two community services in Chicago: a food pantry and a ride programme."""
    weekdays = tuple(OpeningHours(day, time(9), time(17)) for day in range(5))
    return (
        DirectoryService(
            id=DirectoryServiceId("svc-pantry"),
            name="Westside food pantry",
            organization=ServiceOrganization(ServiceOrganizationId("org-westside"), "Westside Aid"),
            categories=("food-insecurity",),
            locations=(
                ServiceLocation(
                    ServiceLocationId("loc-pantry"),
                    "Pantry hall",
                    41.881,
                    -87.700,
                    "America/Chicago",
                    weekdays,
                ),
            ),
            languages=("en", "es"),
            cost=ServiceCost.FREE,
        ),
        DirectoryService(
            id=DirectoryServiceId("svc-rides"),
            name="Medical rides",
            organization=ServiceOrganization(
                ServiceOrganizationId("org-rides"), "Ride Share Co-op"
            ),
            categories=("transportation-insecurity",),
            languages=("en",),
        ),
    )


def show_programs(
    service: CareCoordinator,
    now: datetime,
    *,
    coordinator: StaffId,
    nurse: StaffId,
    patients: Sequence[PatientId],
    out: Callable[[str], None],
) -> None:
    """Save the directory and a diabetes program (owner ``coordinator``, ``nurse`` on its
    team), record the fact that makes the first two ``patients`` eligible, enrol them,
    and print the program's population, enrolments and a directory search."""
    for entry in demo_directory():
        service.save_directory_service(entry, actor=coordinator)
    service.save_care_program(
        CareProgram(
            id=DEMO_PROGRAM,
            name="Diabetes management",
            owner_id=coordinator,
            eligibility=Eligibility(
                all_of=(Criterion.fact("diabetes-registry", "yes"), Criterion.age(min_age=18)),
            ),
            team=(nurse,),
        ),
        actor=coordinator,
    )
    for patient in patients[:2]:
        service.record_patient_fact(patient, "diabetes-registry", "yes", actor=coordinator)
    eligible = service.eligible_not_enrolled(DEMO_PROGRAM, actor=coordinator)
    out(f"Program {DEMO_PROGRAM}: {len(eligible)} eligible, not enrolled:")
    for result in eligible:
        out(f"  {result.patient_id}  {result.explain()}")
        service.enrol(DEMO_PROGRAM, result.patient_id, actor=coordinator, reason="eligible")
    enrolled = service.program_enrolments(DEMO_PROGRAM, actor=nurse)
    out(f"Enrolled in {DEMO_PROGRAM}: {', '.join(e.patient_id for e in enrolled)}")
    work = service.program_worklist(DEMO_PROGRAM, actor=nurse)
    out(f"Program worklist: {len(work)} open items")
    matches = service.search_directory(
        DirectoryQuery(("food-insecurity",), language="es", open_at=now.replace(hour=10)),
        actor=coordinator,
    )
    out(f"Directory: {len(demo_directory())} services; food help in Spanish open at 10:00:")
    for match in matches:
        out(f"  {match.service_id}")
