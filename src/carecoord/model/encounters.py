"""Hospital encounters and patient survey responses, as the host records them.

Both are small records the quality metrics need (:mod:`carecoord.metrics`):
admissions and discharges for the 30-day readmission rate, survey scores for
patient satisfaction. Neither holds free text.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import attrs

from ._base import EntityId, PatientId, StaffId, aware, finite, instant, of_type, optional, text
from ._errors import ValidationError

__all__ = [
    "Encounter",
    "EncounterClass",
    "EncounterId",
    "SurveyResponse",
    "SurveyResponseId",
]


class EncounterId(EntityId):
    """Identifier of an :class:`Encounter`."""

    __slots__ = ()


class SurveyResponseId(EntityId):
    """Identifier of a :class:`SurveyResponse`."""

    __slots__ = ()


class EncounterClass(StrEnum):
    """FHIR R4 Encounter.class (HL7 v3 ActEncounterCode)."""

    AMBULATORY = "AMB"
    EMERGENCY = "EMER"
    FIELD = "FLD"
    HOME_HEALTH = "HH"
    INPATIENT = "IMP"
    INPATIENT_ACUTE = "ACUTE"
    INPATIENT_NON_ACUTE = "NONAC"
    OBSERVATION = "OBSENC"
    PRE_ADMISSION = "PRENC"
    SHORT_STAY = "SS"
    VIRTUAL = "VR"

    @property
    def is_inpatient(self) -> bool:
        """Whether this class is an inpatient stay (counts for readmissions)."""
        return self in _INPATIENT


_INPATIENT = frozenset(
    {
        EncounterClass.INPATIENT,
        EncounterClass.INPATIENT_ACUTE,
        EncounterClass.INPATIENT_NON_ACUTE,
    }
)


@attrs.frozen
class Encounter:
    """A hospital or clinic encounter of a patient: when admitted, when discharged.

    ``discharged_at`` is ``None`` while the patient is still admitted.
    ``planned`` marks a planned admission (for example elective surgery); a
    planned admission does not count as a readmission.
    """

    id: EncounterId = attrs.field(validator=of_type(EncounterId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    encounter_class: EncounterClass = attrs.field(validator=of_type(EncounterClass))
    admitted_at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId = attrs.field(validator=of_type(StaffId))
    discharged_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    planned: bool = attrs.field(default=False, validator=of_type(bool))

    def __attrs_post_init__(self) -> None:
        if self.discharged_at is not None and instant(self.discharged_at) < instant(
            self.admitted_at
        ):
            raise ValidationError(
                "Encounter.discharged_at must not be before admitted_at", field="discharged_at"
            )

    @property
    def is_inpatient(self) -> bool:
        """Whether the encounter is an inpatient stay."""
        return self.encounter_class.is_inpatient


@attrs.frozen
class SurveyResponse:
    """A patient's score on a satisfaction survey item.

    ``instrument`` is a code naming the survey question (for example
    ``"cahps-overall"``); ``score`` lies on the closed scale
    ``scale_min``..``scale_max``.
    """

    id: SurveyResponseId = attrs.field(validator=of_type(SurveyResponseId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    instrument: str = attrs.field(validator=text(max_len=200))
    score: float = attrs.field(validator=finite)
    at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId = attrs.field(validator=of_type(StaffId))
    scale_min: float = attrs.field(default=1.0, validator=finite)
    scale_max: float = attrs.field(default=5.0, validator=finite)

    def __attrs_post_init__(self) -> None:
        if not self.scale_min < self.scale_max:
            raise ValidationError(
                "SurveyResponse.scale_min must be below scale_max", field="scale_max"
            )
        if not self.scale_min <= self.score <= self.scale_max:
            raise ValidationError("SurveyResponse.score must lie on its scale", field="score")

    @property
    def normalised(self) -> float:
        """The score as a fraction of the scale: 0.0 at ``scale_min``, 1.0 at ``scale_max``."""
        return (self.score - self.scale_min) / (self.scale_max - self.scale_min)
