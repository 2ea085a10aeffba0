"""The patient's language and communication needs, social context and SDOH screening.

:class:`CommunicationNeeds` (one stored record per patient, its id the
patient's id) says whether the patient needs an interpreter and in which
language, and which language each of the patient's contacts prefers: the
:class:`~carecoord.model.people.Contact` itself has no language, so it is
kept here, by contact id. Notifications are written in the recipient's
language from it (see :mod:`carecoord.notify.rules`).

:class:`SocialContext` (one per patient) holds living situation, transport
access and caregiver availability as codes. A :class:`ScreeningResponse`
keeps the answers of a social needs screening as LOINC question and answer
codes; the screening rules (:data:`carecoord.screening.SCREENING_RULES`, data) say
which answers raise a barrier and a need.

Pure: no I/O. BCP-47 language tags, codes and ids only, no free text.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from ._base import (
    BarrierId,
    ContactId,
    EntityId,
    NeedId,
    PatientId,
    StaffId,
    aware,
    of_type,
    optional,
    text,
    tuple_of,
)
from ._errors import NotFoundError, ValidationError
from .people import _language

__all__ = [
    "LOINC",
    "CaregiverAvailability",
    "CommunicationNeeds",
    "ContactLanguage",
    "LivingSituation",
    "ScreeningAnswer",
    "ScreeningId",
    "ScreeningResponse",
    "SocialContext",
    "TransportAccess",
    "primary_language",
]


def primary_language(tag: str) -> str:
    """The primary language subtag of a BCP-47 tag, lower case (``es`` of ``es-MX``)."""
    return tag.split("-", 1)[0].lower()


@attrs.frozen
class ContactLanguage:
    """The language one contact of the patient prefers, and whether they need an interpreter."""

    contact_id: ContactId = attrs.field(validator=of_type(ContactId))
    language: str = attrs.field(validator=_language)
    interpreter_needed: bool = attrs.field(default=False, validator=of_type(bool))


def _unique_contacts(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    ids = [c.contact_id for c in value]
    if len(set(ids)) != len(ids):
        raise ValidationError("CommunicationNeeds.contacts names a contact twice", field=attr.name)


@attrs.frozen
class CommunicationNeeds:
    """How to talk to a patient and their contacts: interpreter need and languages.

    ``interpreter_language`` is the language the interpreter must speak (for
    a patient whose ``language`` is Spanish, usually ``es``); it is only set
    when ``interpreter_needed``. ``contacts`` gives the preferred language of
    contacts whose language differs from the patient's or is known; a contact
    not listed is written to in the patient's language. The record's ``id``
    is the patient's id (one per patient).
    """

    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    recorded_at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId = attrs.field(validator=of_type(StaffId))
    interpreter_needed: bool = attrs.field(default=False, validator=of_type(bool))
    interpreter_language: str | None = attrs.field(default=None, validator=optional(_language))
    contacts: tuple[ContactLanguage, ...] = attrs.field(
        default=(), validator=[tuple_of(ContactLanguage), _unique_contacts]
    )

    def __attrs_post_init__(self) -> None:
        if self.interpreter_language is not None and not self.interpreter_needed:
            raise ValidationError(
                "CommunicationNeeds.interpreter_language is only set when an interpreter is needed",
                field="interpreter_language",
            )

    @property
    def id(self) -> PatientId:
        """The record's id: the patient's."""
        return self.patient_id

    def contact(self, contact_id: ContactId) -> ContactLanguage:
        """The language entry of ``contact_id`` or :class:`NotFoundError`."""
        for entry in self.contacts:
            if entry.contact_id == contact_id:
                return entry
        raise NotFoundError(f"no language recorded for contact {contact_id}")

    def language_of(self, contact_id: ContactId) -> str | None:
        """The preferred language of ``contact_id``, ``None`` when none is recorded."""
        for entry in self.contacts:
            if entry.contact_id == contact_id:
                return entry.language
        return None

    def interpreter_for_patient(self, patient_language: str) -> str | None:
        """The language an interpreter for the patient must speak, ``None`` when none is
        needed (``interpreter_language``, else the patient's own language)."""
        if not self.interpreter_needed:
            return None
        return self.interpreter_language or patient_language


# ------------------------------------------------------------ social context


class LivingSituation(StrEnum):
    """Where and how the patient lives."""

    STABLE_HOUSING = "stable-housing"
    UNSTABLE_HOUSING = "unstable-housing"
    HOMELESS = "homeless"
    ASSISTED_LIVING = "assisted-living"
    CARE_HOME = "care-home"


class TransportAccess(StrEnum):
    """How the patient gets to care."""

    OWN_VEHICLE = "own-vehicle"
    PUBLIC_TRANSIT = "public-transit"
    RELIES_ON_OTHERS = "relies-on-others"
    NONE = "none"


class CaregiverAvailability(StrEnum):
    """How much a caregiver is there for the patient."""

    FULL_TIME = "full-time"
    PART_TIME = "part-time"
    OCCASIONAL = "occasional"
    NONE = "none"


@attrs.frozen
class SocialContext:
    """The patient's social context as structured data (one record per patient, its id the
    patient's): living situation, living alone, transport, caregiver availability."""

    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    recorded_at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId = attrs.field(validator=of_type(StaffId))
    living_situation: LivingSituation | None = attrs.field(
        default=None, validator=optional(of_type(LivingSituation))
    )
    lives_alone: bool | None = attrs.field(default=None, validator=optional(of_type(bool)))
    transport: TransportAccess | None = attrs.field(
        default=None, validator=optional(of_type(TransportAccess))
    )
    caregiver_availability: CaregiverAvailability | None = attrs.field(
        default=None, validator=optional(of_type(CaregiverAvailability))
    )

    @property
    def id(self) -> PatientId:
        """The record's id: the patient's."""
        return self.patient_id


# ------------------------------------------------------------------ screening

LOINC = "http://loinc.org"
"""The LOINC code system: screening questions and answers are LOINC codes."""


class ScreeningId(EntityId):
    """Identifier of a :class:`ScreeningResponse`."""

    __slots__ = ()


@attrs.frozen
class ScreeningAnswer:
    """One answered screening question: a LOINC question code and answer code
    (``71802-3`` housing status answered ``LA30190-5``, no housing)."""

    question: str = attrs.field(validator=text(max_len=20))
    answer: str = attrs.field(validator=text(max_len=20))


@attrs.frozen
class ScreeningResponse:
    """A social needs screening of the patient and what it raised.

    ``barrier_ids`` and ``need_ids`` are filled in by the service with the
    barriers and needs the answers raised (:data:`carecoord.screening.SCREENING_RULES`).
    """

    id: ScreeningId = attrs.field(validator=of_type(ScreeningId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId = attrs.field(validator=of_type(StaffId))
    answers: tuple[ScreeningAnswer, ...] = attrs.field(validator=tuple_of(ScreeningAnswer))
    barrier_ids: tuple[BarrierId, ...] = attrs.field(
        default=(), validator=tuple_of(BarrierId, unique=True)
    )
    need_ids: tuple[NeedId, ...] = attrs.field(default=(), validator=tuple_of(NeedId, unique=True))

    def __attrs_post_init__(self) -> None:
        questions = [a.question for a in self.answers]
        if len(set(questions)) != len(questions):
            raise ValidationError("a screening answers each question once", field="answers")
