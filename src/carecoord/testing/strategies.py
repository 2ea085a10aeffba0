"""Hypothesis strategies for every persisted carecoord entity (public, for host tests).

Needs the ``testing`` extra (``pip install carecoord[testing]``).

``st.from_type`` is not used on purpose: it ignores attrs validators and the
cross-field rules (a care team's lead is a member, interventions link goals of
their own plan, ...), so every strategy here builds instances by hand.

Datetimes are aware and carry one of a handful of IANA zones (including
Australia/Lord_Howe with its 30-minute DST shift); later ones are derived
with :func:`later`.
"""

from __future__ import annotations

from typing import Any

from hypothesis.strategies import SearchStrategy

from carecoord import (
    Appointment,
    Assessment,
    Barrier,
    CarePlan,
    CareTeam,
    Consent,
    Note,
    Patient,
    PatientDecision,
    Referral,
    Review,
    StaffMember,
)
from carecoord.model import Encounter, SurveyResponse

from ._strategies_admin import ADMIN_STRATEGIES
from ._strategies_care_programs import CARE_PROGRAM_STRATEGIES
from ._strategies_clinic import CLINIC_STRATEGIES

# The strategies live in one module per model area; this module is their public face.
# Names outside ``__all__`` are re-exported too (``name as name``): hosts use them.
from ._strategies_common import (
    AWARE_DATETIMES,
    ZONE_NAMES,
    ZONES,
    aware_datetimes,
    ids,
    later,
    periods,
    texts,
)
from ._strategies_common import BIRTH_DATES as BIRTH_DATES
from ._strategies_common import DATES as DATES
from ._strategies_common import DURATIONS as DURATIONS
from ._strategies_common import FLOATS as FLOATS
from ._strategies_common import MAX as MAX
from ._strategies_common import POSITIVE_DURATIONS as POSITIVE_DURATIONS
from ._strategies_common import codes as codes
from ._strategies_common import histories as histories
from ._strategies_common import optional as optional
from ._strategies_common import unique_ids as unique_ids
from ._strategies_people import care_teams, contacts, patients, staff_members
from ._strategies_people import contact_points as contact_points
from ._strategies_people import contact_preferences as contact_preferences
from ._strategies_people import human_names as human_names
from ._strategies_people import identifiers as identifiers
from ._strategies_people import quiet_hours as quiet_hours
from ._strategies_plans import assessments, cadences, care_plans, goals, interventions
from ._strategies_plans import goal_revisions as goal_revisions
from ._strategies_plans import quantities as quantities
from ._strategies_plans import ranges as ranges
from ._strategies_plans import targets as targets
from ._strategies_programs import PROGRAM_STRATEGIES
from ._strategies_records import (
    CONCERN_STRATEGIES,
    appointments,
    barriers,
    consents,
    encounters,
    notes,
    patient_decisions,
    referrals,
    reviews,
    survey_responses,
)
from ._strategies_records import codings as codings
from ._strategies_records import external_refs as external_refs
from ._strategies_records import health_concerns as health_concerns
from ._strategies_records import patient_goals as patient_goals
from ._strategies_records import refs as refs
from ._strategies_records import unique_refs as unique_refs
from ._strategies_templates import TEMPLATE_STRATEGIES
from ._strategies_workforce import WORKFORCE_STRATEGIES

__all__ = [
    "AWARE_DATETIMES",
    "ENTITY_STRATEGIES",
    "ZONES",
    "ZONE_NAMES",
    "appointments",
    "assessments",
    "aware_datetimes",
    "barriers",
    "cadences",
    "care_plans",
    "care_teams",
    "consents",
    "contacts",
    "encounters",
    "goals",
    "ids",
    "interventions",
    "later",
    "notes",
    "patient_decisions",
    "patients",
    "periods",
    "referrals",
    "reviews",
    "staff_members",
    "survey_responses",
    "texts",
]

ENTITY_STRATEGIES: dict[type, SearchStrategy[Any]] = {
    Patient: patients(),
    StaffMember: staff_members(),
    CareTeam: care_teams(),
    Assessment: assessments(),
    CarePlan: care_plans(),
    Referral: referrals(),
    Appointment: appointments(),
    Barrier: barriers(),
    Review: reviews(),
    Note: notes(),
    PatientDecision: patient_decisions(),
    Consent: consents(),
    Encounter: encounters(),
    SurveyResponse: survey_responses(),
    **CONCERN_STRATEGIES,
    **WORKFORCE_STRATEGIES,
    **ADMIN_STRATEGIES,
    **CLINIC_STRATEGIES,
    **PROGRAM_STRATEGIES,
    **TEMPLATE_STRATEGIES,
    **CARE_PROGRAM_STRATEGIES,
}
"""One strategy per persisted entity type (the record kinds of the model)."""
