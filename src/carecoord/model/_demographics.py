"""Person value types: names with their use and period, addresses, gender, periods.

:class:`HumanName` and :class:`Address` are PHI and never show their text in
``repr``; :func:`current_name` picks the name to address someone by from a
name history. :class:`Period` (a span of time) is shared with memberships,
plans and consents. Re-exported by :mod:`carecoord.model.people` (``Period``,
``HumanName``) and the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from ._base import aware, ensure_aware, instant, of_type, optional, text
from ._errors import ValidationError

__all__ = [
    "Address",
    "AddressType",
    "AddressUse",
    "AdministrativeGender",
    "NameUse",
    "current_name",
]


@attrs.frozen
class Period:
    """A span of time; ``end`` ``None`` means open-ended. Both ends are aware."""

    start: datetime = attrs.field(validator=aware)
    end: datetime | None = attrs.field(default=None, validator=optional(aware))

    def __attrs_post_init__(self) -> None:
        if self.end is not None and instant(self.end) < instant(self.start):
            raise ValidationError("Period.end must not be before Period.start", field="end")

    def contains(self, moment: datetime) -> bool:
        """Whether ``moment`` lies in ``[start, end)``."""
        ensure_aware(moment, "moment")
        now = instant(moment)
        return instant(self.start) <= now and (self.end is None or now < instant(self.end))


class AdministrativeGender(StrEnum):
    """A person's gender for administrative purposes (FHIR ``administrative-gender``)."""

    MALE = "male"
    FEMALE = "female"
    OTHER = "other"
    UNKNOWN = "unknown"


class NameUse(StrEnum):
    """What a name is for (FHIR ``name-use``)."""

    USUAL = "usual"
    OFFICIAL = "official"
    TEMP = "temp"
    NICKNAME = "nickname"
    ANONYMOUS = "anonymous"
    OLD = "old"
    MAIDEN = "maiden"


class AddressUse(StrEnum):
    """What an address is for (FHIR ``address-use``)."""

    HOME = "home"
    WORK = "work"
    TEMP = "temp"
    OLD = "old"
    BILLING = "billing"


class AddressType(StrEnum):
    """Whether an address is for mail, a place to visit, or both (FHIR ``address-type``)."""

    POSTAL = "postal"
    PHYSICAL = "physical"
    BOTH = "both"


def _parts(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a tuple of non-blank strings of at most 200 characters (never echoed)."""
    where = f"{type(inst).__name__}.{attr.name}"
    if not isinstance(value, tuple) or not all(isinstance(p, str) for p in value):
        raise ValidationError(f"{where} must be a tuple of strings", field=attr.name)
    for part in value:
        if not part.strip() or len(part) > 200:
            raise ValidationError(f"{where} parts must be 1-200 characters", field=attr.name)


@attrs.frozen
class HumanName:
    """A person's name (PHI: never shown in ``repr``).

    ``use`` (FHIR ``name-use``) and ``period`` say what the name is for and
    when it was in use: a patient's name history is :attr:`Patient.name` (the
    current name) plus :attr:`Patient.other_names`; see :func:`current_name`.
    """

    family: str = attrs.field(validator=text(max_len=200), repr=False)
    given: tuple[str, ...] = attrs.field(default=(), validator=_parts, repr=False)
    prefix: tuple[str, ...] = attrs.field(default=(), validator=_parts, repr=False)
    suffix: tuple[str, ...] = attrs.field(default=(), validator=_parts, repr=False)
    use: NameUse | None = attrs.field(default=None, validator=optional(of_type(NameUse)))
    period: Period | None = attrs.field(
        default=None, validator=optional(of_type(Period)), repr=False
    )

    @property
    def in_use(self) -> bool:
        """Whether the name is still in use: not ``old`` and its period has no end."""
        return self.use is not NameUse.OLD and (self.period is None or self.period.end is None)


_NAME_PREFERENCE: dict[NameUse | None, int] = {
    NameUse.USUAL: 0,
    NameUse.OFFICIAL: 1,
    None: 2,
    NameUse.TEMP: 3,
    NameUse.NICKNAME: 4,
    NameUse.ANONYMOUS: 5,
    NameUse.MAIDEN: 6,
    NameUse.OLD: 7,
}


def _name_rank(name: HumanName) -> tuple[bool, int]:
    return (not name.in_use, _NAME_PREFERENCE[name.use])


def current_name(names: Sequence[HumanName]) -> HumanName:
    """The name to address a person by, among ``names`` (a name history).

    Names still in use (:attr:`HumanName.in_use`: not ``old``, no end to
    their period) come first; among them ``usual`` (what the person goes by),
    then ``official``, then a name without a use, ``temp``, ``nickname``,
    ``anonymous``, ``maiden``; ties go to the first listed. Raises
    :class:`ValidationError` for no names.
    """
    if not names:
        raise ValidationError("current_name needs at least one name")
    return min(names, key=_name_rank)  # min keeps the first of equal ranks


@attrs.frozen
class Address:
    """A postal or physical address (PHI: never shown in ``repr``).

    FHIR ``Address`` without its free ``text``: at least one of ``lines``,
    ``city``, ``district``, ``state``, ``postal_code`` or ``country``.
    """

    use: AddressUse | None = attrs.field(default=None, validator=optional(of_type(AddressUse)))
    type: AddressType | None = attrs.field(default=None, validator=optional(of_type(AddressType)))
    lines: tuple[str, ...] = attrs.field(default=(), validator=_parts, repr=False)
    city: str | None = attrs.field(default=None, validator=optional(text(max_len=200)), repr=False)
    district: str | None = attrs.field(
        default=None, validator=optional(text(max_len=200)), repr=False
    )
    state: str | None = attrs.field(default=None, validator=optional(text(max_len=200)), repr=False)
    postal_code: str | None = attrs.field(
        default=None, validator=optional(text(max_len=200)), repr=False
    )
    country: str | None = attrs.field(
        default=None, validator=optional(text(max_len=200)), repr=False
    )
    period: Period | None = attrs.field(
        default=None, validator=optional(of_type(Period)), repr=False
    )

    def __attrs_post_init__(self) -> None:
        if not self.lines and all(
            part is None
            for part in (self.city, self.district, self.state, self.postal_code, self.country)
        ):
            raise ValidationError(
                "Address needs at least one of lines, city, district, state, postal_code, country"
            )
