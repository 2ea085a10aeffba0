"""Shared building blocks of the model: typed identifiers, validators, time helpers."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any, Self, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from ._errors import NaiveDatetimeError, ValidationError

__all__ = [
    "AppointmentId",
    "AssessmentId",
    "BarrierId",
    "CarePlanId",
    "CareTeamId",
    "ConsentId",
    "ContactId",
    "DecisionId",
    "EntityId",
    "FindingId",
    "GoalId",
    "InterventionId",
    "NeedId",
    "NoteId",
    "PatientId",
    "ReferralId",
    "ReviewId",
    "StaffId",
]

_E = TypeVar("_E")

_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
"""What every :class:`EntityId` matches in full (and it is not ``.`` or ``..``)."""


class EntityId(str):
    """Base class of typed identifiers.

    An identifier is 1-64 characters from ``A-Z a-z 0-9 . _ : -`` and is
    neither ``.`` nor ``..``. So it has no spaces, slashes, backslashes or
    control characters: used in a file name it cannot reach outside its folder,
    and it needs no escaping in a URL path segment (``p-1``, ``plan-1``, a uuid's
    hex or text form, a FHIR resource id all qualify). A value that breaks the
    rule raises :class:`ValidationError` naming the id type, never echoing the
    value. Subclasses are distinct types for mypy, so a ``PatientId`` cannot be
    passed where a ``GoalId`` is expected. ``new()`` makes a random one.
    """

    __slots__ = ()

    def __new__(cls, value: str) -> Self:
        if not isinstance(value, str):
            raise ValidationError(f"{cls.__name__} must be a string", field=cls.__name__)
        if not _ID.fullmatch(value) or value in (".", ".."):
            raise ValidationError(
                f"{cls.__name__} must be 1-64 characters from A-Z a-z 0-9 . _ : - "
                "(and not '.' or '..')",
                field=cls.__name__,
            )
        return super().__new__(cls, value)

    @classmethod
    def new(cls) -> Self:
        """Return a fresh random identifier."""
        import uuid  # on first use: uuid is not needed to import carecoord

        return cls(uuid.uuid4().hex)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"


class PatientId(EntityId):
    """Identifier of a :class:`~carecoord.Patient`."""

    __slots__ = ()


class StaffId(EntityId):
    """Identifier of a :class:`~carecoord.StaffMember`."""

    __slots__ = ()


class ContactId(EntityId):
    """Identifier of a patient's contact or caregiver."""

    __slots__ = ()


class CareTeamId(EntityId):
    """Identifier of a :class:`~carecoord.CareTeam`."""

    __slots__ = ()


class AssessmentId(EntityId):
    """Identifier of an :class:`~carecoord.Assessment`."""

    __slots__ = ()


class FindingId(EntityId):
    """Identifier of an assessment finding."""

    __slots__ = ()


class NeedId(EntityId):
    """Identifier of a need / problem."""

    __slots__ = ()


class CarePlanId(EntityId):
    """Identifier of a :class:`~carecoord.CarePlan`."""

    __slots__ = ()


class GoalId(EntityId):
    """Identifier of a :class:`~carecoord.Goal`."""

    __slots__ = ()


class InterventionId(EntityId):
    """Identifier of an :class:`~carecoord.Intervention`."""

    __slots__ = ()


class ReferralId(EntityId):
    """Identifier of a :class:`~carecoord.Referral`."""

    __slots__ = ()


class AppointmentId(EntityId):
    """Identifier of an :class:`~carecoord.Appointment`."""

    __slots__ = ()


class BarrierId(EntityId):
    """Identifier of a :class:`~carecoord.Barrier`."""

    __slots__ = ()


class ReviewId(EntityId):
    """Identifier of a :class:`~carecoord.Review`."""

    __slots__ = ()


class NoteId(EntityId):
    """Identifier of a :class:`~carecoord.Note`."""

    __slots__ = ()


class DecisionId(EntityId):
    """Identifier of a :class:`~carecoord.PatientDecision`."""

    __slots__ = ()


class ConsentId(EntityId):
    """Identifier of a :class:`~carecoord.Consent`."""

    __slots__ = ()


# ---------------------------------------------------------------- validators
# attrs' own validators echo the offending value in their messages; these never do.

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _where(inst: Any, attr: attrs.Attribute[Any]) -> str:
    return f"{type(inst).__name__}.{attr.name}"


def of_type(*types: type) -> Validator:
    """Validator: the value is an instance of one of ``types`` (never echoes it)."""
    names = " or ".join(t.__name__ for t in types)

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if isinstance(value, bool) and bool not in types:
            raise ValidationError(f"{_where(inst, attr)} must be {names}", field=attr.name)
        if not isinstance(value, types):
            raise ValidationError(f"{_where(inst, attr)} must be {names}", field=attr.name)

    return check


def optional(validator: Validator) -> Validator:
    """Validator: ``None`` or whatever ``validator`` accepts."""

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            validator(inst, attr, value)

    return check


def text(*, max_len: int = 10_000, allow_empty: bool = False) -> Validator:
    """Validator: a string, non-blank unless ``allow_empty``, at most ``max_len`` long."""

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, str):
            raise ValidationError(f"{_where(inst, attr)} must be a string", field=attr.name)
        if not allow_empty and not value.strip():
            raise ValidationError(f"{_where(inst, attr)} must not be blank", field=attr.name)
        if len(value) > max_len:
            raise ValidationError(
                f"{_where(inst, attr)} must be at most {max_len} characters", field=attr.name
            )

    return check


def tuple_of(*types: type, unique: bool = False) -> Validator:
    """Validator: a tuple whose items are instances of ``types``."""
    names = " or ".join(t.__name__ for t in types)

    def check(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, tuple):
            raise ValidationError(f"{_where(inst, attr)} must be a tuple", field=attr.name)
        for i, item in enumerate(value):
            if not isinstance(item, types) or (isinstance(item, bool) and bool not in types):
                raise ValidationError(
                    f"{_where(inst, attr)}[{i}] must be {names}", field=f"{attr.name}[{i}]"
                )
        if unique and len(set(value)) != len(value):
            raise ValidationError(f"{_where(inst, attr)} must not repeat items", field=attr.name)

    return check


def unique_ids(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: the items' ``id`` attributes are unique."""
    ids = [item.id for item in value]
    if len(set(ids)) != len(ids):
        raise ValidationError(f"{_where(inst, attr)} has duplicate ids", field=attr.name)


def aware(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a timezone-aware :class:`datetime`."""
    if not isinstance(value, datetime):
        raise ValidationError(f"{_where(inst, attr)} must be a datetime", field=attr.name)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(
            f"{_where(inst, attr)} must be a timezone-aware datetime (got a naive one)",
            field=attr.name,
        )
    if not _has_instant(value):
        raise ValidationError(f"{_where(inst, attr)} {_NO_INSTANT}", field=attr.name)


_NO_INSTANT = "is out of range (its UTC instant is before year 1 or after 9999)"


def _has_instant(value: datetime) -> bool:
    """Whether an aware ``value`` has a UTC instant (so :func:`instant` cannot overflow)."""
    if 1 < value.year < 9999:  # an offset moves an instant by less than a day
        return True
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


def a_date(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a :class:`date` that is not a :class:`datetime`."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError(f"{_where(inst, attr)} must be a date", field=attr.name)


def a_time(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a naive wall-clock :class:`time` (interpreted in a named zone)."""
    if not isinstance(value, time) or value.tzinfo is not None:
        raise ValidationError(
            f"{_where(inst, attr)} must be a wall-clock time without tzinfo", field=attr.name
        )


def finite(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: a finite real number (int or float, not bool) within the float range."""
    try:
        ok = not isinstance(value, bool) and isinstance(value, int | float)
        ok = ok and math.isfinite(value)
    except OverflowError:  # an int beyond the float range
        ok = False
    if not ok:
        raise ValidationError(f"{_where(inst, attr)} must be a finite number", field=attr.name)


def positive_int(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{_where(inst, attr)} must be a positive integer", field=attr.name)


def non_negative_int(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(
            f"{_where(inst, attr)} must be a non-negative integer", field=attr.name
        )


def zone_name(inst: Any, attr: attrs.Attribute[Any], value: Any) -> None:
    """Validator: an IANA time zone name known to this system."""
    if not isinstance(value, str):
        raise ValidationError(f"{_where(inst, attr)} must be an IANA zone name", field=attr.name)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # ``from None``: the chained ZoneInfoNotFoundError would carry the value.
        raise ValidationError(
            f"{_where(inst, attr)} is not a known IANA time zone", field=attr.name
        ) from None


def instant(value: datetime) -> datetime:
    """``value`` as UTC, for comparisons that must respect the DST fold.

    Python compares two datetimes that share a tzinfo by wall clock, ignoring
    ``fold``: 01:50 EDT and 01:10 EST on a fall-back night would compare the
    wrong way round. Comparing instants avoids that.
    """
    return value.astimezone(UTC)


def ensure_aware(value: datetime, what: str = "datetime") -> datetime:
    """Return ``value`` if it is timezone-aware, else raise :class:`NaiveDatetimeError`."""
    if not isinstance(value, datetime):
        raise ValidationError(f"{what} must be a datetime", field=what)
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise NaiveDatetimeError(f"{what} must be a timezone-aware datetime (got a naive one)")
    if not _has_instant(value):
        raise ValidationError(f"{what} {_NO_INSTANT}", field=what)
    return value


def zone_of(value: datetime, what: str = "datetime") -> ZoneInfo:
    """Return the IANA zone of an aware datetime.

    ``datetime.timezone.utc`` is taken as ``ZoneInfo("UTC")``; any other fixed
    offset is rejected because it names no zone whose rules can be followed.
    """
    ensure_aware(value, what)
    tz: tzinfo | None = value.tzinfo
    if isinstance(tz, ZoneInfo):
        return tz
    if tz is UTC or tz == UTC:
        return ZoneInfo("UTC")
    raise ValidationError(f"{what} must carry an IANA zone (zoneinfo.ZoneInfo), not a fixed offset")


def by_id(items: Iterable[_E], wanted: str, what: str) -> _E:
    """Return the item whose ``id`` equals ``wanted`` or raise NotFoundError."""
    from ._errors import NotFoundError

    for item in items:
        if getattr(item, "id", None) == wanted:
            return item
    raise NotFoundError(f"{what} {wanted!s} not found")


TRANSIENT = "carecoord.transient"
"""Field metadata key: the field is not part of the stored payload (set by the store)."""


def revision_field() -> Any:
    """The ``revision`` field of entities a host updates whole (:class:`Patient`, staff).

    The version of the stored record this copy was read at (0: never stored).
    It is set when the record is read, is not part of the payload, and does not
    take part in equality. Updating with a copy whose revision is no longer the
    stored one raises :class:`ConflictError`, so a stale copy never overwrites
    a newer edit.
    """
    return attrs.field(
        default=0,
        eq=False,
        kw_only=True,
        validator=non_negative_int,
        metadata={TRANSIENT: True},
    )
