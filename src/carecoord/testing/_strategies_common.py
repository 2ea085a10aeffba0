"""Shared building blocks of :mod:`carecoord.testing.strategies` (import from there).

Aware datetimes on a handful of IANA zones (:data:`ZONES`), durations and
:func:`later`, non-blank :func:`texts`, typed :func:`ids`, enum :func:`codes`,
:func:`optional`, legal state-machine :func:`histories` and :func:`periods`:
what the strategies of every model area are built from.
"""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from carecoord import EntityId, Period, StaffId, Transition
from carecoord.model import StateMachine

MAX = 3
"""Upper bound for every collection, to keep examples small and tests fast."""

ZONE_NAMES: tuple[str, ...] = (
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
)
ZONES: tuple[ZoneInfo, ...] = tuple(ZoneInfo(name) for name in ZONE_NAMES)

_I = TypeVar("_I", bound=EntityId)
_S = TypeVar("_S", bound=StrEnum)


def aware_datetimes() -> SearchStrategy[datetime]:
    """Aware datetimes in 2000-2100 carrying one of :data:`ZONES`.

    Imaginary wall times (in a spring-forward gap) are allowed: the model
    accepts them and a round trip must keep them as written.
    """
    return st.datetimes(
        min_value=datetime(2000, 1, 1),
        max_value=datetime(2100, 12, 31),
        timezones=st.sampled_from(ZONES),
    )


AWARE_DATETIMES: SearchStrategy[datetime] = aware_datetimes()

DATES: SearchStrategy[date] = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
BIRTH_DATES: SearchStrategy[date] = st.dates(
    min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)
)

_PRINTABLE = st.characters(categories=["L", "N", "P", "S"], include_characters=" ")


def texts(max_size: int = 12) -> SearchStrategy[str]:
    """Non-blank printable text (letters, digits, punctuation, symbols, spaces)."""
    return st.text(_PRINTABLE, min_size=1, max_size=max_size).filter(lambda s: bool(s.strip()))


_ID_ALPHABET = string.ascii_letters + string.digits + "-_.:"


def ids(cls: type[_I]) -> SearchStrategy[_I]:
    """Valid typed identifiers of class ``cls`` (the :class:`~carecoord.EntityId` rule)."""
    return (
        st.text(_ID_ALPHABET, min_size=1, max_size=10)
        .filter(lambda s: s not in {".", ".."})
        .map(cls)
    )


def unique_ids(cls: type[_I], *, min_size: int = 0) -> SearchStrategy[tuple[_I, ...]]:
    """A tuple of distinct identifiers of class ``cls``."""
    return st.lists(ids(cls), min_size=min_size, max_size=MAX, unique=True).map(tuple)


FLOATS: SearchStrategy[float] = st.floats(
    min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False
)
DURATIONS: SearchStrategy[timedelta] = st.timedeltas(
    min_value=timedelta(0), max_value=timedelta(days=400)
)
POSITIVE_DURATIONS: SearchStrategy[timedelta] = st.timedeltas(
    min_value=timedelta(minutes=1), max_value=timedelta(days=400)
)


def later(start: datetime, delta: timedelta) -> datetime:
    """The instant ``delta`` after ``start``, on ``start``'s zone.

    Computed on UTC, so a positive ``delta`` is always strictly later even
    across a daylight-saving change (the model compares instants).
    """
    return (start.astimezone(UTC) + delta).astimezone(start.tzinfo)


def optional(strategy: SearchStrategy[Any]) -> SearchStrategy[Any]:
    """``None`` or a value of ``strategy``."""
    return st.none() | strategy


@st.composite
def histories(
    draw: st.DrawFn, machine: StateMachine[Any], start: Any
) -> tuple[Any, tuple[Transition[Any], ...]]:
    """A legal walk of up to MAX steps through ``machine``: (final state, transitions)."""
    state = start
    steps: list[Transition[Any]] = []
    for _ in range(draw(st.integers(0, MAX))):
        targets = sorted(machine.targets(state))
        if not targets:
            break
        to = draw(st.sampled_from(targets))
        reason = draw(texts()) if to in machine.needs_reason else draw(optional(texts()))
        step = machine.transition(
            state, to, by=draw(ids(StaffId)), at=draw(AWARE_DATETIMES), reason=reason
        )
        steps.append(step)
        state = step.to_status
    return state, tuple(steps)


def codes(enum: type[_S]) -> SearchStrategy[_S]:
    """Any member of ``enum``."""
    return st.sampled_from(list(enum))


@st.composite
def periods(draw: st.DrawFn, *, open_ended: bool = True) -> Period:
    """A period; open-ended (``end`` None) only when ``open_ended``."""
    start = draw(AWARE_DATETIMES)
    if open_ended and draw(st.booleans()):
        return Period(start=start)
    return Period(start=start, end=later(start, draw(DURATIONS)))
