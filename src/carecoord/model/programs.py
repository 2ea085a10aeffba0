"""Care programs: who is eligible, who is enrolled, and the facts the host records.

A :class:`CareProgram` (diabetes management, transitions of care after discharge, ...)
has an owner and a team (staff ids and/or care-team roles), a status (``active`` or
``retired``) and a declarative :class:`Eligibility`: :class:`Criterion` values combined
as *all of* / *any of* / *none of*. A criterion is one of

* ``condition``: an active :class:`~carecoord.model.concerns.HealthConcern` coded with
  one of ``codes`` (a coding's ``code``, in ``system`` when one is given);
* ``need``: an active assessment :class:`~carecoord.model.plan.Need` whose ``code`` is
  one of ``codes``; ``need-domain``: an active need in one of the domains ``codes``;
* ``age``: the patient's age in whole years, on the local date of the moment asked
  about in the patient's own time zone, within ``min_age`` .. ``max_age`` (inclusive);
* ``fact``: a :class:`PatientFact` the host recorded under ``key`` (with one of the
  values ``codes`` when given, any value otherwise).

A :class:`ProgramEnrolment` is one *period* of a patient in a program: ``enrolled``
from ``enrolled_at`` until it is disenrolled (``disenrolled_at``, who, and a reason
code). Re-enrolling after a disenrolment creates a **new record** (``sequence`` + 1),
so every record is one closed or open period and a patient has at most one open
enrolment per program. Enrolment may rely on a
:class:`~carecoord.model.consents.Consent` (``consent_id``).

Names and descriptions of programs are not PHI but are free text: kept out of
``repr``. A fact's ``value`` and every enrolment are PHI (they say something about a
patient); codes and ids only appear in ``repr``. Pure: no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

import attrs

from ._base import (
    ConsentId,
    EntityId,
    PatientId,
    StaffId,
    aware,
    instant,
    of_type,
    optional,
    positive_int,
    revision_field,
    text,
    tuple_of,
)
from ._errors import InvalidTransitionError, ValidationError
from .codes import AssessmentDomain, CareTeamRole
from .outbox import stable_id

__all__ = [
    "CareProgram",
    "CareProgramId",
    "CareProgramStatus",
    "Criterion",
    "CriterionKind",
    "Eligibility",
    "EnrolmentStatus",
    "PatientFact",
    "PatientFactId",
    "ProgramEnrolment",
    "ProgramEnrolmentId",
]

_CODE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
"""A key or reason code: lowercase letters, digits and single hyphens."""
MAX_CRITERIA = 16
"""At most this many criteria in each of ``all_of``, ``any_of`` and ``none_of``."""
MAX_CODES = 64
"""At most this many codes in one criterion."""
MAX_AGE = 150


class CareProgramId(EntityId):
    """Identifier of a :class:`CareProgram`."""

    __slots__ = ()


class ProgramEnrolmentId(EntityId):
    """Identifier of a :class:`ProgramEnrolment` (see :meth:`ProgramEnrolment.id_for`)."""

    __slots__ = ()


class PatientFactId(EntityId):
    """Identifier of a :class:`PatientFact` (see :meth:`PatientFact.id_for`)."""

    __slots__ = ()


class CareProgramStatus(StrEnum):
    """Whether a program takes new enrolments."""

    ACTIVE = "active"
    RETIRED = "retired"


class EnrolmentStatus(StrEnum):
    """Where an enrolment period is: ``enrolled`` (open) or ``disenrolled`` (closed)."""

    ENROLLED = "enrolled"
    DISENROLLED = "disenrolled"


class CriterionKind(StrEnum):
    """What a :class:`Criterion` looks at."""

    CONDITION = "condition"
    NEED = "need"
    NEED_DOMAIN = "need-domain"
    AGE = "age"
    FACT = "fact"


def _code_text(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a lowercase-dashed code of at most 64 characters."""
    if not isinstance(value, str) or len(value) > 64 or not _CODE.fullmatch(value):
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be a lowercase-dashed code",
            field=attr.name,
        )


def _token(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, str) or value != value.strip() or "\n" in value:
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be a code without surrounding spaces",
            field=attr.name,
        )
    text(max_len=200)(inst, attr, value)


def _tokens(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(str, unique=True)(inst, attr, value)
    if len(value) > MAX_CODES:
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must hold at most {MAX_CODES} codes",
            field=attr.name,
        )
    for item in value:
        _token(inst, attr, item)


def _age(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_AGE:
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be a whole age 0-{MAX_AGE}", field=attr.name
        )


@attrs.frozen
class Criterion:
    """One test of :class:`Eligibility` (see the module documentation for each kind).

    Build one with :meth:`condition`, :meth:`need`, :meth:`need_domain`, :meth:`age`
    or :meth:`fact`. ``codes`` are condition codes, need codes, need domains or fact
    values by kind; ``system`` narrows condition codes to one code system; ``key`` is
    a fact's key; ``min_age`` / ``max_age`` bound an age (inclusive, either optional).
    """

    kind: CriterionKind = attrs.field(validator=of_type(CriterionKind))
    codes: tuple[str, ...] = attrs.field(default=(), validator=_tokens)
    system: str | None = attrs.field(default=None, validator=optional(text(max_len=500)))
    key: str | None = attrs.field(default=None, validator=optional(_code_text))
    min_age: int | None = attrs.field(default=None, validator=optional(_age))
    max_age: int | None = attrs.field(default=None, validator=optional(_age))

    def __attrs_post_init__(self) -> None:
        kind = self.kind
        if kind is not CriterionKind.AGE and (self.min_age is not None or self.max_age is not None):
            raise ValidationError("Criterion: only an age criterion has ages", field="min_age")
        if kind is not CriterionKind.CONDITION and self.system is not None:
            raise ValidationError(
                "Criterion: only a condition criterion has a system", field="system"
            )
        if (kind is CriterionKind.FACT) != (self.key is not None):
            raise ValidationError("Criterion: a fact criterion (only) has a key", field="key")
        if kind is CriterionKind.AGE:
            if self.codes:
                raise ValidationError("Criterion: an age criterion has no codes", field="codes")
            if self.min_age is None and self.max_age is None:
                raise ValidationError("Criterion: an age criterion needs a bound", field="min_age")
            if (
                self.min_age is not None
                and self.max_age is not None
                and self.max_age < self.min_age
            ):
                raise ValidationError(
                    "Criterion.max_age must not be below min_age", field="max_age"
                )
        elif kind is not CriterionKind.FACT and not self.codes:
            raise ValidationError("Criterion: name at least one code", field="codes")
        if kind is CriterionKind.NEED_DOMAIN:
            known = {d.value for d in AssessmentDomain}
            if not set(self.codes) <= known:
                raise ValidationError(
                    "Criterion: need domains are AssessmentDomain codes", field="codes"
                )

    @classmethod
    def condition(cls, *codes: str, system: str | None = None) -> Self:
        """An active health concern coded with one of ``codes`` (in ``system`` if given)."""
        return cls(CriterionKind.CONDITION, tuple(codes), system=system)

    @classmethod
    def need(cls, *codes: str) -> Self:
        """An active assessment need whose ``code`` is one of ``codes``."""
        return cls(CriterionKind.NEED, tuple(codes))

    @classmethod
    def need_domain(cls, *domains: AssessmentDomain | str) -> Self:
        """An active assessment need in one of ``domains``."""
        return cls(
            CriterionKind.NEED_DOMAIN,
            tuple(d.value if isinstance(d, AssessmentDomain) else d for d in domains),
        )

    @classmethod
    def age(cls, min_age: int | None = None, max_age: int | None = None) -> Self:
        """An age in whole years from ``min_age`` to ``max_age`` (inclusive)."""
        return cls(CriterionKind.AGE, min_age=min_age, max_age=max_age)

    @classmethod
    def fact(cls, key: str, *values: str) -> Self:
        """A fact recorded under ``key`` (with one of ``values`` when given)."""
        return cls(CriterionKind.FACT, tuple(values), key=key)

    def tokens(self) -> tuple[str, ...]:
        """The eligibility index keys (``EligibilityFact.tokens``, in
        :mod:`carecoord.model.eligibility`) a patient meeting this criterion has one of
        (empty for an age criterion, which is a range of birth dates)."""
        match self.kind:
            case CriterionKind.AGE:
                return ()
            case CriterionKind.FACT:
                if not self.codes:
                    return (f"fact:{self.key}",)
                return tuple(f"fact:{self.key}={value}" for value in self.codes)
            case _:
                return tuple(f"{self.kind.value}:{code}" for code in self.codes)

    def describe(self) -> str:
        """A short, PHI-free description (``condition E11|44054006``, ``age 18-75``)."""
        match self.kind:
            case CriterionKind.AGE:
                low = "" if self.min_age is None else str(self.min_age)
                high = "" if self.max_age is None else str(self.max_age)
                return f"age {low}-{high}"
            case CriterionKind.FACT:
                return f"fact {self.key}" + (f"={'|'.join(self.codes)}" if self.codes else "")
            case _:
                where = f" in {self.system}" if self.system else ""
                return f"{self.kind.value} {'|'.join(self.codes)}{where}"


def _criteria(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    tuple_of(Criterion, unique=True)(inst, attr, value)
    if len(value) > MAX_CRITERIA:
        raise ValidationError(
            f"Eligibility.{attr.name} must hold at most {MAX_CRITERIA} criteria", field=attr.name
        )


@attrs.frozen
class Eligibility:
    """Who may join a program: every ``all_of`` criterion holds, at least one ``any_of``
    criterion holds (when there are any), and no ``none_of`` criterion holds.

    At least one of ``all_of`` and ``any_of`` is given: the eligible population is found
    from the patients meeting a positive criterion (an indexed search), never by
    reading every patient.
    """

    all_of: tuple[Criterion, ...] = attrs.field(default=(), validator=_criteria)
    any_of: tuple[Criterion, ...] = attrs.field(default=(), validator=_criteria)
    none_of: tuple[Criterion, ...] = attrs.field(default=(), validator=_criteria)

    def __attrs_post_init__(self) -> None:
        if not self.all_of and not self.any_of:
            raise ValidationError(
                "Eligibility needs an all_of or any_of criterion (a positive one)",
                field="all_of",
            )


def _unique(of: type) -> Any:
    return tuple_of(of, unique=True)


@attrs.frozen
class CareProgram:
    """A care program: eligibility, owner, team and status.

    ``team`` are staff ids and ``team_roles`` care-team roles of the program team
    (a patient's care-team member holding such a role works the program's patients);
    the owner and team see the program worklist. ``requires_consent``: enrolment
    needs an active consent of the patient (``Consent.status`` active, its period
    covering the moment). ``revision`` guards updates against stale copies. A retired
    program takes no new enrolments.
    """

    id: CareProgramId = attrs.field(validator=of_type(CareProgramId))
    name: str = attrs.field(validator=text(max_len=200), repr=False)
    owner_id: StaffId = attrs.field(validator=of_type(StaffId))
    eligibility: Eligibility = attrs.field(validator=of_type(Eligibility))
    description: str | None = attrs.field(
        default=None, validator=optional(text(max_len=2000)), repr=False
    )
    team: tuple[StaffId, ...] = attrs.field(default=(), validator=_unique(StaffId))
    team_roles: tuple[CareTeamRole, ...] = attrs.field(default=(), validator=_unique(CareTeamRole))
    requires_consent: bool = attrs.field(default=False, validator=of_type(bool))
    status: CareProgramStatus = attrs.field(
        default=CareProgramStatus.ACTIVE, validator=of_type(CareProgramStatus)
    )
    revision: int = revision_field()

    @property
    def is_active(self) -> bool:
        """Whether the program takes new enrolments."""
        return self.status is CareProgramStatus.ACTIVE

    def staff(self) -> tuple[StaffId, ...]:
        """The owner and the team members, owner first."""
        return tuple(dict.fromkeys((self.owner_id, *self.team)))


@attrs.frozen
class PatientFact:
    """A fact the host records about a patient for program eligibility
    (``discharged-30d`` = ``yes``, ``payer`` = ``medicaid``, ...).

    One record per (patient, ``key``): recording the key again replaces the value
    (:meth:`id_for` is the record id). ``value`` is a short coded value and PHI
    (kept out of ``repr``).
    """

    id: PatientFactId = attrs.field(validator=of_type(PatientFactId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    key: str = attrs.field(validator=_code_text)
    value: str = attrs.field(validator=_token, repr=False)
    recorded_at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))

    def __attrs_post_init__(self) -> None:
        if self.id != self.id_for(self.patient_id, self.key):
            raise ValidationError("PatientFact.id must be PatientFact.id_for(patient, key)")

    @staticmethod
    def id_for(patient_id: PatientId | str, key: str) -> PatientFactId:
        """The record id of ``patient_id``'s fact ``key`` (deterministic)."""
        return PatientFactId("fact-" + stable_id("fact", str(patient_id), key))


@attrs.frozen
class ProgramEnrolment:
    """One period of a patient in a care program (PHI).

    ``status`` is ``enrolled`` (open: ``disenrolled_at`` is ``None``) or
    ``disenrolled`` (``disenrolled_at``, ``disenrolled_by`` and a
    ``disenrolment_reason`` code given). ``sequence`` numbers the patient's periods
    in the program from 1; :meth:`id_for` derives the id from program, patient and
    sequence, so two racing enrolments of one patient in one program make the same
    record and only one can be created. ``reason`` is an optional enrolment reason
    code, ``consent_id`` the consent it relies on.
    """

    id: ProgramEnrolmentId = attrs.field(validator=of_type(ProgramEnrolmentId))
    program_id: CareProgramId = attrs.field(validator=of_type(CareProgramId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    enrolled_at: datetime = attrs.field(validator=aware)
    enrolled_by: StaffId = attrs.field(validator=of_type(StaffId))
    sequence: int = attrs.field(default=1, validator=positive_int)
    status: EnrolmentStatus = attrs.field(
        default=EnrolmentStatus.ENROLLED, validator=of_type(EnrolmentStatus)
    )
    reason: str | None = attrs.field(default=None, validator=optional(_code_text))
    consent_id: ConsentId | None = attrs.field(default=None, validator=optional(of_type(ConsentId)))
    disenrolled_at: datetime | None = attrs.field(default=None, validator=optional(aware))
    disenrolled_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    disenrolment_reason: str | None = attrs.field(default=None, validator=optional(_code_text))
    revision: int = revision_field()

    def __attrs_post_init__(self) -> None:
        closing = (self.disenrolled_at, self.disenrolled_by, self.disenrolment_reason)
        if self.status is EnrolmentStatus.ENROLLED:
            if any(part is not None for part in closing):
                raise ValidationError(
                    "ProgramEnrolment: an open enrolment has no disenrolment",
                    field="disenrolled_at",
                )
        elif any(part is None for part in closing):
            raise ValidationError(
                "ProgramEnrolment: a disenrolment needs its time, who and a reason code",
                field="disenrolled_at",
            )
        elif self.disenrolled_at is not None and instant(self.disenrolled_at) < instant(
            self.enrolled_at
        ):
            raise ValidationError(
                "ProgramEnrolment.disenrolled_at must not be before enrolled_at",
                field="disenrolled_at",
            )

    @staticmethod
    def id_for(
        program_id: CareProgramId | str, patient_id: PatientId | str, sequence: int
    ) -> ProgramEnrolmentId:
        """The record id of ``patient_id``'s ``sequence``-th period in ``program_id``."""
        return ProgramEnrolmentId(
            "enr-" + stable_id("enrolment", str(program_id), str(patient_id), str(sequence))
        )

    @property
    def is_open(self) -> bool:
        """Whether the patient is enrolled in this period (not disenrolled)."""
        return self.status is EnrolmentStatus.ENROLLED

    def disenrol(self, *, by: StaffId, at: datetime, reason: str) -> Self:
        """A copy closed at ``at`` by ``by`` with ``reason`` (a code);
        InvalidTransitionError when it is closed already."""
        if not self.is_open:
            raise InvalidTransitionError(
                "ProgramEnrolment", self.status.value, EnrolmentStatus.DISENROLLED.value
            )
        return attrs.evolve(
            self,
            status=EnrolmentStatus.DISENROLLED,
            disenrolled_at=at,
            disenrolled_by=by,
            disenrolment_reason=reason,
        )
