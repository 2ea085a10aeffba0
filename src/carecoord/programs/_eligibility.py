"""Eligibility of one patient for a care program, from plain facts, with the reasons.

Pure: imports only the model. :class:`PatientFacts` is what eligibility looks at for
one patient (built from :class:`~carecoord.model.eligibility.EligibilityFact` values, which
come from the patient's records or from the ``eligibility`` index rows);
:func:`evaluate` applies an :class:`~carecoord.model.programs.Eligibility` at a moment
and says which criteria matched and which failed (criterion descriptions only: codes
and bounds, never a value or a birth date); :class:`Evaluator` does the same for many
patients with the criteria prepared once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import attrs

from ..model import PatientId, ValidationError
from ..model._base import ensure_aware
from ..model.eligibility import EligibilityFact
from ..model.programs import Criterion, CriterionKind, Eligibility

__all__ = ["EligibilityResult", "Evaluator", "PatientFacts", "age_on", "evaluate", "matches"]


def age_on(born: date, day: date) -> int:
    """Age in whole years on ``day`` of someone born on ``born`` (as ``Patient.age_on``)."""
    years = day.year - born.year
    if (day.month, day.day) < (born.month, born.day):
        years -= 1
    return years


@attrs.frozen
class PatientFacts:
    """What eligibility looks at for one patient.

    ``conditions`` are ``(system, code)`` pairs of active health concerns,
    ``need_codes`` and ``need_domains`` those of active assessment needs, ``facts``
    the host's facts by key, ``born`` / ``time_zone`` the birth date and IANA zone
    (``None`` when the patient record is unknown: no age criterion holds then).
    PHI: kept out of ``repr`` but the patient id.
    """

    patient_id: PatientId
    born: date | None = attrs.field(default=None, repr=False)
    time_zone: str | None = attrs.field(default=None, repr=False)
    conditions: frozenset[tuple[str | None, str]] = attrs.field(default=frozenset(), repr=False)
    need_codes: frozenset[str] = attrs.field(default=frozenset(), repr=False)
    need_domains: frozenset[str] = attrs.field(default=frozenset(), repr=False)
    facts: tuple[tuple[str, str], ...] = attrs.field(default=(), repr=False)

    @classmethod
    def of(cls, patient_id: PatientId | str, facts: Iterable[EligibilityFact]) -> PatientFacts:
        """Collect ``facts`` (of one patient) into one value."""
        born: date | None = None
        zone: str | None = None
        conditions: set[tuple[str | None, str]] = set()
        needs: set[str] = set()
        domains: set[str] = set()
        keyed: dict[str, str] = {}
        for fact in facts:
            match fact.kind:
                case CriterionKind.AGE:
                    born, zone = fact.born, fact.detail
                case CriterionKind.CONDITION:
                    conditions.add((fact.detail, fact.code))
                case CriterionKind.NEED:
                    needs.add(fact.code)
                case CriterionKind.NEED_DOMAIN:
                    domains.add(fact.code)
                case CriterionKind.FACT:
                    keyed[fact.code] = fact.detail or ""
        return cls(
            PatientId(str(patient_id)),
            born,
            zone,
            frozenset(conditions),
            frozenset(needs),
            frozenset(domains),
            tuple(sorted(keyed.items())),
        )

    def age_at(self, moment: datetime) -> int | None:
        """Age in whole years on the local date of ``moment`` in the patient's zone."""
        if self.born is None or self.time_zone is None:
            return None
        local = ensure_aware(moment, "moment").astimezone(ZoneInfo(self.time_zone)).date()
        return age_on(self.born, local)


class _Test:
    """One criterion, ready to test many patients at one moment: its codes as a set,
    its description, and the local date of the moment in each zone (computed once)."""

    __slots__ = ("_days", "_moment", "codes", "criterion", "described")

    def __init__(self, criterion: Criterion, moment: datetime, days: dict[str, date]) -> None:
        self.criterion = criterion
        self.codes = frozenset(criterion.codes)
        self.described = criterion.describe()
        self._moment = moment
        self._days = days

    def _day_in(self, zone: str) -> date:
        day = self._days.get(zone)
        if day is None:
            day = self._days[zone] = self._moment.astimezone(ZoneInfo(zone)).date()
        return day

    def __call__(self, facts: PatientFacts) -> bool:
        criterion, codes = self.criterion, self.codes
        match criterion.kind:
            case CriterionKind.CONDITION:
                system = criterion.system
                return any(
                    code in codes and (system is None or found == system)
                    for found, code in facts.conditions
                )
            case CriterionKind.NEED:
                return not codes.isdisjoint(facts.need_codes)
            case CriterionKind.NEED_DOMAIN:
                return not codes.isdisjoint(facts.need_domains)
            case CriterionKind.FACT:
                value = dict(facts.facts).get(criterion.key or "")
                return value is not None and (not codes or value in codes)
            case CriterionKind.AGE:
                if facts.born is None or facts.time_zone is None:
                    return False
                age = age_on(facts.born, self._day_in(facts.time_zone))
                return (criterion.min_age is None or age >= criterion.min_age) and (
                    criterion.max_age is None or age <= criterion.max_age
                )
        raise ValidationError("unknown criterion kind", field="kind")  # pragma: no cover


def matches(criterion: Criterion, facts: PatientFacts, at: datetime) -> bool:
    """Whether ``criterion`` holds for ``facts`` at ``at`` (aware)."""
    return _Test(criterion, ensure_aware(at, "at"), {})(facts)


@attrs.frozen
class EligibilityResult:
    """Whether a patient is eligible, and why: the descriptions of the criteria that
    ``matched`` and of those that ``failed`` (a ``none_of`` criterion that holds is a
    failure; ``any_of`` criteria that do not hold are failures only when none holds)."""

    patient_id: PatientId
    eligible: bool
    matched: tuple[str, ...]
    failed: tuple[str, ...]

    def explain(self) -> str:
        """One line: ``eligible: matched ...; failed ...`` (no PHI)."""
        head = "eligible" if self.eligible else "not eligible"
        parts = []
        if self.matched:
            parts.append("matched " + ", ".join(self.matched))
        if self.failed:
            parts.append("failed " + ", ".join(self.failed))
        return head + (": " + "; ".join(parts) if parts else "")


class Evaluator:
    """:func:`evaluate` for many patients: ``Evaluator(eligibility, at)(facts)`` is
    ``evaluate(eligibility, facts, at)``, with the criteria prepared once (their codes,
    descriptions, and the local date of ``at`` in each time zone met)."""

    __slots__ = ("_all", "_any", "_any_failed", "_none")

    def __init__(self, eligibility: Eligibility, at: datetime) -> None:
        moment = ensure_aware(at, "at")
        days: dict[str, date] = {}
        self._all = tuple(_Test(c, moment, days) for c in eligibility.all_of)
        self._any = tuple(_Test(c, moment, days) for c in eligibility.any_of)
        self._none = tuple(_Test(c, moment, days) for c in eligibility.none_of)
        self._any_failed = "any of " + " / ".join(t.described for t in self._any)

    def __call__(self, facts: PatientFacts) -> EligibilityResult:
        """The eligibility of one patient, with the criteria that matched and failed."""
        matched: list[str] = []
        failed: list[str] = []
        for test in self._all:
            (matched if test(facts) else failed).append(test.described)
        if self._any:
            hits = [test.described for test in self._any if test(facts)]
            if hits:
                matched += hits
            else:
                failed.append(self._any_failed)
        for test in self._none:
            if test(facts):
                failed.append("not " + test.described)
            else:
                matched.append("not " + test.described)
        return EligibilityResult(facts.patient_id, not failed, tuple(matched), tuple(failed))


def evaluate(eligibility: Eligibility, facts: PatientFacts, at: datetime) -> EligibilityResult:
    """Apply ``eligibility`` to one patient's ``facts`` at ``at``: every ``all_of``
    criterion holds, one ``any_of`` criterion holds (when there are any), no ``none_of``
    criterion holds (see :class:`Evaluator` for many patients)."""
    return Evaluator(eligibility, at)(facts)
