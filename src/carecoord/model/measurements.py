"""Measurements: vital signs and point-of-care results, coded in LOINC with UCUM units.

A :class:`Measurement` is one observation taken by a staff member: a value
(``value`` and ``unit``), parts of a panel (:attr:`Measurement.components`,
a blood pressure's systolic and diastolic), or neither (a procedure done, an
EKG) with an interpretation given by whoever read it. Each value may carry a
:class:`ReferenceRange`; :meth:`Measurement.interpreted` flags values outside
it (:class:`Interpretation`), and an out-of-range measurement waits on its
reviewer's worklist until acknowledged.

:data:`CATALOGUE` describes the codes carecoord knows (display, canonical
unit, linear unit conversions, default action limits); :func:`target_codes`
says which LOINC codes a goal target's free-text ``measure`` stands for:
``loinc:<code>``, a bare LOINC code, or one of the documented aliases of
:data:`TARGET_ALIASES` (``hba1c``, ``body-weight``, ``sbp``...). Nothing is
matched by guessing.

Pure: no I/O. Codes, numbers, units and times only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from ._base import (
    EntityId,
    PatientId,
    StaffId,
    aware,
    finite,
    of_type,
    optional,
    text,
    tuple_of,
)
from ._errors import ValidationError
from .clinic import VisitId

__all__ = [
    "CATALOGUE",
    "LOINC_SYSTEM",
    "TARGET_ALIASES",
    "Interpretation",
    "LoincCode",
    "MeasureDefinition",
    "MeasuredValue",
    "Measurement",
    "MeasurementCategory",
    "MeasurementId",
    "ReferenceRange",
    "convert",
    "is_loinc",
    "target_codes",
]

LOINC_SYSTEM = "http://loinc.org"

_LOINC = re.compile(r"(\d{1,7})-(\d)")


def _check_digit(digits: str) -> int:
    """The LOINC (mod 10, Luhn) check digit of ``digits``."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return (10 - total % 10) % 10


class LoincCode(EntityId):
    """A LOINC code (``4548-4``). Where a measurement takes one, it must be up to seven
    digits, a hyphen and the right check digit (:func:`is_loinc`)."""

    __slots__ = ()


def is_loinc(code: str) -> bool:
    """Whether ``code`` is a well-formed LOINC code with the right (mod 10) check digit."""
    match = _LOINC.fullmatch(code) if isinstance(code, str) else None
    return match is not None and _check_digit(match[1]) == int(match[2])


def _loinc(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    of_type(LoincCode)(inst, attr, value)
    if not is_loinc(value):
        raise ValidationError(
            f"{type(inst).__name__}.{attr.name} must be a LOINC code with its check digit",
            field=attr.name,
        )


class MeasurementId(EntityId):
    """Identifier of a :class:`Measurement`."""

    __slots__ = ()


class MeasurementCategory(StrEnum):
    """FHIR observation-category: what kind of result."""

    VITAL_SIGNS = "vital-signs"
    LABORATORY = "laboratory"
    PROCEDURE = "procedure"


class Interpretation(StrEnum):
    """HL7 v3 ObservationInterpretation: normal, low, high, abnormal."""

    NORMAL = "N"
    LOW = "L"
    HIGH = "H"
    ABNORMAL = "A"

    @property
    def out_of_range(self) -> bool:
        """Whether the value needs someone's attention (anything but normal)."""
        return self is not Interpretation.NORMAL


def _unit(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    text(max_len=50)(inst, attr, value)
    if any(c.isspace() for c in value):
        raise ValidationError(f"{attr.name} must be a UCUM unit code (no spaces)", field=attr.name)


@attrs.frozen
class ReferenceRange:
    """The range a value should lie in (inclusive; either bound may be open)."""

    low: float | None = attrs.field(default=None, validator=optional(finite))
    high: float | None = attrs.field(default=None, validator=optional(finite))

    def __attrs_post_init__(self) -> None:
        if self.low is None and self.high is None:
            raise ValidationError("ReferenceRange needs a low or a high bound", field="low")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValidationError("ReferenceRange.low must not exceed high", field="high")

    def interpret(self, value: float) -> Interpretation:
        """Low, high, or normal."""
        if self.low is not None and value < self.low:
            return Interpretation.LOW
        if self.high is not None and value > self.high:
            return Interpretation.HIGH
        return Interpretation.NORMAL


@attrs.frozen
class MeasuredValue:
    """One coded value of a panel (a component): code, value, UCUM unit, range, flag."""

    code: LoincCode = attrs.field(validator=_loinc)
    value: float = attrs.field(validator=finite)
    unit: str = attrs.field(validator=_unit)
    reference_range: ReferenceRange | None = attrs.field(
        default=None, validator=optional(of_type(ReferenceRange))
    )
    interpretation: Interpretation | None = attrs.field(
        default=None, validator=optional(of_type(Interpretation))
    )

    def interpreted(self) -> MeasuredValue:
        """A copy flagged against its reference range (unchanged without one)."""
        if self.reference_range is None:
            return self
        return attrs.evolve(self, interpretation=self.reference_range.interpret(self.value))


@attrs.frozen
class Measurement:
    """A vital sign or point-of-care result of a patient, and who took it when.

    ``value`` and ``unit`` go together; ``components`` hold a panel's parts;
    a measurement with neither records a procedure done (an EKG), its
    ``interpretation`` given by the reader. ``visit_id`` links the clinic
    visit it was taken at. ``review_by`` is whose worklist an out-of-range
    result goes on, until ``acknowledged_by`` and ``acknowledged_at`` are set.
    """

    id: MeasurementId = attrs.field(validator=of_type(MeasurementId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    code: LoincCode = attrs.field(validator=_loinc)
    category: MeasurementCategory = attrs.field(validator=of_type(MeasurementCategory))
    taken_at: datetime = attrs.field(validator=aware)
    taken_by: StaffId = attrs.field(validator=of_type(StaffId))
    value: float | None = attrs.field(default=None, validator=optional(finite))
    unit: str | None = attrs.field(default=None, validator=optional(_unit))
    reference_range: ReferenceRange | None = attrs.field(
        default=None, validator=optional(of_type(ReferenceRange))
    )
    components: tuple[MeasuredValue, ...] = attrs.field(
        default=(), validator=tuple_of(MeasuredValue)
    )
    interpretation: Interpretation | None = attrs.field(
        default=None, validator=optional(of_type(Interpretation))
    )
    visit_id: VisitId | None = attrs.field(default=None, validator=optional(of_type(VisitId)))
    review_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    acknowledged_by: StaffId | None = attrs.field(
        default=None, validator=optional(of_type(StaffId))
    )
    acknowledged_at: datetime | None = attrs.field(default=None, validator=optional(aware))

    def __attrs_post_init__(self) -> None:
        if (self.value is None) != (self.unit is None):
            raise ValidationError("Measurement.value and unit go together", field="unit")
        if self.value is None and self.reference_range is not None:
            raise ValidationError("a reference range needs a value", field="reference_range")
        codes = [c.code for c in self.components]
        if len(set(codes)) != len(codes) or self.code in codes:
            raise ValidationError("Measurement.components repeat a code", field="components")
        if (self.acknowledged_by is None) != (self.acknowledged_at is None):
            raise ValidationError(
                "acknowledged_by and acknowledged_at go together", field="acknowledged_at"
            )

    @property
    def out_of_range(self) -> bool:
        """Whether the measurement (or one of its parts) is flagged."""
        flags = [self.interpretation, *(c.interpretation for c in self.components)]
        return any(f is not None and f.out_of_range for f in flags)

    @property
    def awaiting_review(self) -> bool:
        """Out of range and not acknowledged yet."""
        return self.out_of_range and self.acknowledged_at is None

    def values(self) -> Iterator[tuple[LoincCode, float, str]]:
        """Every coded value: ``(code, value, unit)`` of the measurement, then its parts."""
        if self.value is not None and self.unit is not None:
            yield self.code, self.value, self.unit
        for part in self.components:
            yield part.code, part.value, part.unit

    def interpreted(self) -> Measurement:
        """A copy with every value flagged against its range.

        The measurement's own ``interpretation`` becomes the flag of its value
        when it has a range; without a value it is kept as given (an EKG read
        as abnormal).
        """
        flag = self.interpretation
        if self.value is not None and self.reference_range is not None:
            flag = self.reference_range.interpret(self.value)
        return attrs.evolve(
            self,
            interpretation=flag,
            components=tuple(c.interpreted() for c in self.components),
        )

    def acknowledged(self, *, by: StaffId, at: datetime) -> Measurement:
        """A copy acknowledged by ``by`` at ``at`` (off the review worklist)."""
        if self.acknowledged_at is not None:
            raise ValidationError("the measurement is already acknowledged", field="acknowledged")
        return attrs.evolve(self, acknowledged_by=by, acknowledged_at=at)


@attrs.frozen
class MeasureDefinition:
    """What carecoord knows of a LOINC code.

    ``unit`` is its canonical UCUM unit; ``factors`` convert other UCUM units
    to it by multiplication (``{"[lb_av]": 0.45359237}`` for a weight);
    ``limits`` is the default action range (not a laboratory reference
    interval: values outside it go on the reviewer's worklist); ``parts`` are
    a panel's component codes.
    """

    code: LoincCode
    display: str
    category: MeasurementCategory
    unit: str | None = None
    factors: Mapping[str, float] = attrs.field(factory=dict)
    limits: ReferenceRange | None = None
    parts: tuple[LoincCode, ...] = ()


def _d(
    code: str, display: str, category: MeasurementCategory, unit: str | None = None, **kw: Any
) -> MeasureDefinition:
    return MeasureDefinition(LoincCode(code), display, category, unit, **kw)


_VS, _LAB, _PROC = (
    MeasurementCategory.VITAL_SIGNS,
    MeasurementCategory.LABORATORY,
    MeasurementCategory.PROCEDURE,
)
_MMHG = "mm[Hg]"
CATALOGUE: Mapping[LoincCode, MeasureDefinition] = {
    d.code: d
    for d in (
        _d(
            "85354-9", "Blood pressure panel", _VS, parts=(LoincCode("8480-6"), LoincCode("8462-4"))
        ),
        _d("8480-6", "Systolic blood pressure", _VS, _MMHG, limits=ReferenceRange(90, 160)),
        _d("8462-4", "Diastolic blood pressure", _VS, _MMHG, limits=ReferenceRange(50, 100)),
        _d("8867-4", "Heart rate", _VS, "/min", limits=ReferenceRange(50, 110)),
        _d("9279-1", "Respiratory rate", _VS, "/min", limits=ReferenceRange(10, 24)),
        _d("8310-5", "Body temperature", _VS, "Cel", limits=ReferenceRange(35.5, 38.0)),
        _d("59408-5", "Oxygen saturation by pulse oximetry", _VS, "%", limits=ReferenceRange(92)),
        _d("29463-7", "Body weight", _VS, "kg", factors={"[lb_av]": 0.45359237, "g": 0.001}),
        _d("8302-2", "Body height", _VS, "cm", factors={"[in_i]": 2.54, "m": 100.0}),
        _d("39156-5", "Body mass index", _VS, "kg/m2"),
        _d(
            "41653-7",
            "Glucose in capillary blood by glucometer",
            _LAB,
            "mg/dL",
            factors={"mmol/L": 18.016},
            limits=ReferenceRange(70, 250),
        ),
        _d(
            "2339-0",
            "Glucose in blood",
            _LAB,
            "mg/dL",
            factors={"mmol/L": 18.016},
            limits=ReferenceRange(70, 250),
        ),
        _d("4548-4", "Hemoglobin A1c in blood", _LAB, "%", limits=ReferenceRange(high=9.0)),
        _d("11524-6", "EKG study", _PROC),
    )
}
"""The LOINC codes carecoord knows, by code. Limits are defaults a host overrides per
measurement (pass a :class:`ReferenceRange`)."""

TARGET_ALIASES: Mapping[str, tuple[LoincCode, ...]] = {
    alias: tuple(LoincCode(c) for c in codes)
    for alias, codes in {
        "hba1c": ("4548-4",),
        "a1c": ("4548-4",),
        "body-weight": ("29463-7",),
        "weight": ("29463-7",),
        "body-height": ("8302-2",),
        "bmi": ("39156-5",),
        "sbp": ("8480-6",),
        "systolic-bp": ("8480-6",),
        "dbp": ("8462-4",),
        "diastolic-bp": ("8462-4",),
        "glucose": ("41653-7", "2339-0"),
        "blood-glucose": ("41653-7", "2339-0"),
        "heart-rate": ("8867-4",),
        "pulse": ("8867-4",),
        "spo2": ("59408-5",),
        "body-temperature": ("8310-5",),
        "temperature": ("8310-5",),
        "respiratory-rate": ("9279-1",),
    }.items()
}
"""Goal target measures (lower case, spaces and underscores as hyphens) and the LOINC codes
they stand for."""

_PREFIXES = ("loinc:", LOINC_SYSTEM + "|")


def target_codes(measure: str) -> frozenset[LoincCode]:
    """The LOINC codes a goal target's ``measure`` names (empty: none; never a guess).

    ``loinc:4548-4`` and ``http://loinc.org|4548-4`` name a code explicitly, a
    bare valid LOINC code names itself, and an alias of :data:`TARGET_ALIASES`
    its codes.
    """
    wanted = measure.strip()
    for prefix in _PREFIXES:
        if wanted.lower().startswith(prefix):
            wanted = wanted[len(prefix) :].strip()
            break
    if _LOINC.fullmatch(wanted):
        return frozenset({LoincCode(wanted)}) if is_loinc(wanted) else frozenset()
    key = re.sub(r"[\s_]+", "-", wanted.lower())
    return frozenset(TARGET_ALIASES.get(key, ()))


def convert(code: LoincCode, value: float, unit: str, to: str) -> float | None:
    """``value`` in ``unit`` expressed in ``to``, by :data:`CATALOGUE`'s linear factors;
    ``None`` when they are not convertible for ``code``."""
    if unit == to:
        return value
    definition = CATALOGUE.get(code)
    if definition is None or definition.unit is None:
        return None
    factors = {definition.unit: 1.0, **definition.factors}
    if unit not in factors or to not in factors:
        return None
    return value * factors[unit] / factors[to]
