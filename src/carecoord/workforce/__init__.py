"""Pure staffing rules: who is on duty, rota gaps, shifts and slots from patterns, currency.

Imports only the model; nothing here does I/O. The service reads what these
rules need from the store's index rows (a shift as a :class:`DutySpan`, time
off as an :class:`Absence`, a training record as a :class:`Credential`) and
never decodes a record to answer "who is on duty"; the ``*_of`` helpers turn
model objects into the same values, for hosts and tests. The values the staffing
use cases return (:class:`RotaGap`, :class:`Suggestion`, :class:`CalendarEntry`,
:class:`StaffingWorklist`, ...) are defined here too.

Every comparison is by instant (UTC), so daylight-saving changes neither open
nor hide a gap: a night shift 23:00-07:00 over a spring-forward night is seven
hours long, over a fall-back night nine, and either way it meets the
07:00 shift. Patterns are read on the wall clock of their cadence's zone.
"""

from __future__ import annotations

from ._competence import (
    CompetencyStanding,
    CompetencyStatus,
    ComplianceRate,
    Credential,
    competency_standing,
    compliance_rate,
    credential_of,
    least_loaded,
    missing_competencies,
    protocol_complete,
)
from ._duty import (
    Absence,
    CoverageGap,
    DutySpan,
    absence_of,
    coverage_gaps,
    is_on_duty,
    on_duty,
    shifts_from_pattern,
    slots_from_schedule,
    span_of,
)
from ._views import (
    CalendarEntry,
    ComplianceReport,
    OpenItem,
    RotaGap,
    StaffingCategory,
    StaffingItem,
    StaffingWorklist,
    Suggestion,
    SupervisedMember,
    TimeOffReport,
)

__all__ = [
    "Absence",
    "CalendarEntry",
    "CompetencyStanding",
    "CompetencyStatus",
    "ComplianceRate",
    "ComplianceReport",
    "CoverageGap",
    "Credential",
    "DutySpan",
    "OpenItem",
    "RotaGap",
    "StaffingCategory",
    "StaffingItem",
    "StaffingWorklist",
    "Suggestion",
    "SupervisedMember",
    "TimeOffReport",
    "absence_of",
    "competency_standing",
    "compliance_rate",
    "coverage_gaps",
    "credential_of",
    "is_on_duty",
    "least_loaded",
    "missing_competencies",
    "on_duty",
    "protocol_complete",
    "shifts_from_pattern",
    "slots_from_schedule",
    "span_of",
]
