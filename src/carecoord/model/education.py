"""Patient education: a catalogue of materials and the education given, with teach-back.

An :class:`EducationMaterial` is one catalogue entry (a leaflet, a video, ...):
its topic, language, reading level, format and where to find it. An
:class:`EducationSession` records education given: which material, to whom
(the patient, or one of their contacts such as a caregiver), by whom, when,
and the teach-back result (:class:`TeachBackResult`), linked to the goals it
serves. A result of *not understood* schedules a follow-up (an intervention
of the care plan, named in ``follow_up_id``).

Pure: no I/O. Titles, topics, links and notes stay out of ``repr``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from ._base import (
    CarePlanId,
    ContactId,
    EntityId,
    GoalId,
    InterventionId,
    PatientId,
    StaffId,
    aware,
    of_type,
    optional,
    text,
    tuple_of,
)
from ._errors import ValidationError
from .people import _language

__all__ = [
    "EducationMaterial",
    "EducationSession",
    "EducationSessionId",
    "MaterialFormat",
    "MaterialId",
    "TeachBackResult",
]


class MaterialId(EntityId):
    """Identifier of an :class:`EducationMaterial`."""

    __slots__ = ()


class EducationSessionId(EntityId):
    """Identifier of an :class:`EducationSession`."""

    __slots__ = ()


class MaterialFormat(StrEnum):
    """The form a material takes."""

    PRINT = "print"
    VIDEO = "video"
    AUDIO = "audio"
    WEB = "web"
    INTERACTIVE = "interactive"
    PICTORIAL = "pictorial"
    IN_PERSON = "in-person"


class TeachBackResult(StrEnum):
    """How well the learner explained it back in their own words."""

    UNDERSTOOD = "understood"
    PARTLY = "partly-understood"
    NOT_UNDERSTOOD = "not-understood"


def _grade(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 16
    ):
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be a school grade from 1 to 16",
            field=attr.name,
        )


@attrs.frozen
class EducationMaterial:
    """One entry of the education catalogue.

    ``reading_grade`` is the reading level as a school grade (1-16, for
    example 6 for plain language); ``link`` is where the host keeps it.
    ``active`` false retires it from new use.
    """

    id: MaterialId = attrs.field(validator=of_type(MaterialId))
    title: str = attrs.field(validator=text(max_len=200), repr=False)
    topic: str = attrs.field(validator=text(max_len=200), repr=False)
    language: str = attrs.field(validator=_language)
    format: MaterialFormat = attrs.field(validator=of_type(MaterialFormat))
    reading_grade: int | None = attrs.field(default=None, validator=_grade)
    link: str | None = attrs.field(default=None, validator=optional(text(max_len=2000)), repr=False)
    active: bool = attrs.field(default=True, validator=of_type(bool))


@attrs.frozen
class EducationSession:
    """Education given to the patient (``contact_id`` ``None``) or one of their contacts.

    ``goal_ids`` are goals of ``plan_id`` the education serves (a plan is
    needed to link goals and to schedule a follow-up). ``follow_up_id`` is
    the intervention scheduled because the learner did not understand.
    ``interpreter_used`` records that an interpreter took part; ``note`` is
    free text.
    """

    id: EducationSessionId = attrs.field(validator=of_type(EducationSessionId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    material_id: MaterialId = attrs.field(validator=of_type(MaterialId))
    given_at: datetime = attrs.field(validator=aware)
    given_by: StaffId = attrs.field(validator=of_type(StaffId))
    result: TeachBackResult = attrs.field(validator=of_type(TeachBackResult))
    contact_id: ContactId | None = attrs.field(default=None, validator=optional(of_type(ContactId)))
    plan_id: CarePlanId | None = attrs.field(default=None, validator=optional(of_type(CarePlanId)))
    goal_ids: tuple[GoalId, ...] = attrs.field(default=(), validator=tuple_of(GoalId, unique=True))
    interpreter_used: bool = attrs.field(default=False, validator=of_type(bool))
    follow_up_id: InterventionId | None = attrs.field(
        default=None, validator=optional(of_type(InterventionId))
    )
    note: str | None = attrs.field(default=None, validator=optional(text(max_len=4000)), repr=False)

    def __attrs_post_init__(self) -> None:
        if (self.goal_ids or self.follow_up_id) and self.plan_id is None:
            raise ValidationError(
                "goals and a follow-up belong to a care plan: give plan_id", field="plan_id"
            )

    @property
    def to_patient(self) -> bool:
        """Whether the patient (not a contact) was taught."""
        return self.contact_id is None

    @property
    def understood(self) -> bool:
        """Whether teach-back showed full understanding."""
        return self.result is TeachBackResult.UNDERSTOOD
