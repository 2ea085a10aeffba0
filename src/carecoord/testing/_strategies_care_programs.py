"""Strategies for the care-program records: programs with their eligibility, patient
facts and enrolment periods (import from :mod:`.strategies`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carecoord.model import AssessmentDomain, CareTeamRole, ConsentId, PatientId, StaffId
from carecoord.model.programs import (
    CareProgram,
    CareProgramId,
    CareProgramStatus,
    Criterion,
    Eligibility,
    PatientFact,
    ProgramEnrolment,
)

from ._strategies_common import AWARE_DATETIMES, ids, optional, texts

__all__ = [
    "CARE_PROGRAM_STRATEGIES",
    "CONDITION_CODES",
    "FACT_KEYS",
    "FACT_VALUES",
    "NEED_CODES",
    "care_programs",
    "criteria",
    "eligibilities",
    "patient_facts",
    "program_enrolments",
]

CONDITION_CODES = ("E11", "I10", "J44", "I50", "N18")
"""The condition codes the generated criteria and concerns use."""
NEED_CODES = ("food", "housing", "transport", "meds")
"""The need codes the generated criteria and assessments use."""
FACT_KEYS = ("discharged-30d", "payer", "smoker")
"""The fact keys the generated criteria and facts use."""
FACT_VALUES = ("yes", "no", "medicaid")
"""The fact values the generated criteria and facts use."""
_REASONS = st.sampled_from(("goal-met", "moved-away", "declined", "deceased"))


def _codes(pool: tuple[str, ...]) -> SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True).map(tuple)


@st.composite
def criteria(draw: st.DrawFn) -> Criterion:
    """One criterion of any kind, over the small code pools of this module."""
    kind = draw(st.sampled_from(("condition", "need", "domain", "age", "fact")))
    if kind == "condition":
        return Criterion.condition(*draw(_codes(CONDITION_CODES)))
    if kind == "need":
        return Criterion.need(*draw(_codes(NEED_CODES)))
    if kind == "domain":
        return Criterion.need_domain(*draw(_codes(tuple(d.value for d in AssessmentDomain))))
    if kind == "age":
        low = draw(st.none() | st.integers(0, 90))
        high = draw(st.none() | st.integers(low or 0, 110))
        if low is None and high is None:
            low = 18
        return Criterion.age(low, high)
    values = draw(st.lists(st.sampled_from(FACT_VALUES), max_size=2, unique=True))
    return Criterion.fact(draw(st.sampled_from(FACT_KEYS)), *values)


@st.composite
def eligibilities(draw: st.DrawFn) -> Eligibility:
    """An eligibility with at least one positive criterion."""
    all_of = draw(st.lists(criteria(), max_size=2, unique=True))
    any_of = draw(st.lists(criteria(), min_size=0 if all_of else 1, max_size=2, unique=True))
    none_of = draw(st.lists(criteria(), max_size=2, unique=True))
    return Eligibility(tuple(all_of), tuple(any_of), tuple(none_of))


@st.composite
def care_programs(draw: st.DrawFn) -> CareProgram:
    """A care program with an owner, a small team and eligibility."""
    return CareProgram(
        id=draw(ids(CareProgramId)),
        name=draw(texts(30)),
        owner_id=draw(ids(StaffId)),
        eligibility=draw(eligibilities()),
        description=draw(optional(texts(60))),
        team=tuple(draw(st.lists(ids(StaffId), max_size=3, unique=True))),
        team_roles=tuple(draw(st.lists(st.sampled_from(CareTeamRole), max_size=2, unique=True))),
        requires_consent=draw(st.booleans()),
        status=draw(st.sampled_from(CareProgramStatus)),
    )


@st.composite
def patient_facts(draw: st.DrawFn) -> PatientFact:
    """A fact the host recorded about a patient."""
    patient, key = draw(ids(PatientId)), draw(st.sampled_from(FACT_KEYS))
    return PatientFact(
        id=PatientFact.id_for(patient, key),
        patient_id=patient,
        key=key,
        value=draw(st.sampled_from(FACT_VALUES)),
        recorded_at=draw(AWARE_DATETIMES),
        recorded_by=draw(optional(ids(StaffId))),
    )


@st.composite
def program_enrolments(draw: st.DrawFn) -> ProgramEnrolment:
    """An enrolment period, open or closed."""
    program, patient = draw(ids(CareProgramId)), draw(ids(PatientId))
    sequence = draw(st.integers(1, 4))
    start: datetime = draw(AWARE_DATETIMES)
    enrolment = ProgramEnrolment(
        id=ProgramEnrolment.id_for(program, patient, sequence),
        program_id=program,
        patient_id=patient,
        enrolled_at=start,
        enrolled_by=draw(ids(StaffId)),
        sequence=sequence,
        reason=draw(st.none() | st.just("eligible")),
        consent_id=draw(optional(ids(ConsentId))),
    )
    if draw(st.booleans()):
        days = draw(st.integers(0, 400))
        enrolment = enrolment.disenrol(
            by=draw(ids(StaffId)), at=start + timedelta(days=days), reason=draw(_REASONS)
        )
    return enrolment


CARE_PROGRAM_STRATEGIES: dict[type, SearchStrategy[Any]] = {
    CareProgram: care_programs(),
    PatientFact: patient_facts(),
    ProgramEnrolment: program_enrolments(),
}
"""The care-program record kinds' strategies (part of ``ENTITY_STRATEGIES``)."""
