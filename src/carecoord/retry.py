"""Bounded, jittered retries: the one retry and backoff mechanism carecoord uses.

The service retries a unit of work that lost an optimistic-concurrency race
(another writer changed a record it read); the PostgreSQL store retries a
transaction the server aborted as a serialization failure or deadlock. Both go
through :class:`RetryPolicy`, so the number of attempts and the waits are set
in one place and behave alike.

Waits use "full jitter": before retry ``n`` (0-based) the caller sleeps a
uniformly random time in ``[0, min(cap, base * 2**n)]``. Randomising the whole
wait spreads competing workers apart, so they do not collide again in lockstep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

import attrs

from .model import ValidationError

__all__ = ["RetryPolicy", "capped_doubling"]

T = TypeVar("T")
D = TypeVar("D", float, timedelta)


def capped_doubling(base: D, cap: D, doublings: int) -> D:
    """``base * 2**doublings``, but never above ``cap`` (and never overflowing).

    The one exponential backoff of carecoord: the jittered retry waits of
    :class:`RetryPolicy` and the dispatcher's delays between delivery
    attempts (``timedelta`` s) both come from it.
    """
    value = base
    for _ in range(max(doublings, 0)):
        if value >= cap or not value:
            break
        value = value * 2
    return min(value, cap)


def _positive_attempts(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(f"{attribute.name} must be an int >= 1", field=attribute.name)


def _seconds(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValidationError(f"{attribute.name} must be a number >= 0", field=attribute.name)


@attrs.frozen
class RetryPolicy:
    """How often, and how patiently, to retry an operation that may succeed on a new try.

    ``attempts`` counts every try, the first included (1: never retry).
    ``base`` and ``cap`` (seconds) shape the jittered exponential wait; ``sleep``
    and ``rng`` are injectable for tests.

    The defaults (12 tries, waits from 4 ms doubling up to 0.5 s) carry ten
    workers hammering one record through; a host whose workers all write the
    same few records should raise ``attempts`` or spread the work.
    """

    attempts: int = attrs.field(default=12, validator=_positive_attempts)
    base: float = attrs.field(default=0.004, validator=_seconds)
    cap: float = attrs.field(default=0.5, validator=_seconds)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False, repr=False)
    rng: random.Random = attrs.field(factory=random.Random, eq=False, repr=False)

    def delay(self, retry: int) -> float:
        """The wait before retry number ``retry`` (0-based): full jitter, capped."""
        return self.rng.uniform(0.0, capped_doubling(self.base, self.cap, retry))

    def call(self, work: Callable[[], T], *, retry_if: Callable[[BaseException], bool]) -> T:
        """Run ``work``; when it raises an error ``retry_if`` accepts, wait and run it again.

        After ``attempts`` tries the last error propagates unchanged; an error
        ``retry_if`` rejects propagates at once.
        """
        retry = 0
        while True:
            try:
                return work()
            except Exception as exc:
                if retry + 1 >= self.attempts or not retry_if(exc):
                    raise
            self.sleep(self.delay(retry))
            retry += 1
