"""The metric-fact index rows: one per record with metric facts, and how to read them back.

One ``metric-<kind>`` row per record that has metric facts
(:mod:`carecoord._metric_facts`): ``item_id`` the record id, ``patient_id``
set, never open, the facts as compact JSON in ``detail``. ``changed_at`` and
``due_at`` bound the instants that make the row matter to a period, and
:func:`collect_metric_facts` relies on them to read only the rows that can
count. No row holds a name, free text or contact detail. Re-exported by
:mod:`carecoord.storage.records`; pure: imports only the model and its facts.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .._fastcodec import builder
from .._json import dumps, dumps_prepared, loads
from .._metric_facts import (
    MetricFacts,
    PlanFacts,
    activation_fact,
    contact_fact,
    encounter_fact,
    enrolment_fact,
    plan_facts,
    referral_fact,
    review_fact,
    survey_fact,
    team_fact,
)
from ..model import (
    CarePlan,
    CareTeam,
    Encounter,
    Note,
    Patient,
    Referral,
    Review,
    StorageError,
    SurveyResponse,
)
from ..model._base import instant
from .port import EPOCH, DetailRow, IndexHit, IndexRow, WorkQuery, from_micros, to_micros

__all__ = ["FACTS_FORMAT", "METRIC_CATEGORIES", "collect_metric_facts", "metric_rows"]

METRIC_CATEGORIES = (
    "metric-patient",
    "metric-plan",
    "metric-activation",
    "metric-review",
    "metric-referral",
    "metric-contact",
    "metric-team",
    "metric-encounter",
    "metric-survey",
)
"""The categories of metric-fact rows."""

FACTS_FORMAT = "facts-1"
"""The ``status`` of every metric-fact row: the layout of its facts. A reader meeting
another one raises :class:`~carecoord.StorageError` asking for the index to be derived
again, rather than misreading it."""

_EPOCH_DAY = date(1970, 1, 1).toordinal()
_LAST_US = to_micros(datetime.max.replace(tzinfo=UTC))
"""A membership without an end lasts until the last representable instant."""
_DAY_US = 86_400_000_000
_ONE_US = timedelta(microseconds=1)
_CHUNK = 500
"""Patients per query when asking for some patients' rows (bounded ``IN`` lists)."""
_WIDE = 10_000
"""Asking for more patients than this (of all patients) reads the rows of all of them."""
_FIRST_LOOK_BACK = timedelta(days=7)
"""How far before the period the search for earlier first contacts starts (then doubles)."""


def _plain(value: Any) -> Any:
    """Facts (tuples, named or not) as lists, for the JSON encoder."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def _plan_text(facts: PlanFacts) -> str:
    """:class:`PlanFacts` as the JSON text ``dumps(_plain(facts))`` gives, faster.

    Plan facts hold only integers, booleans, ``None`` and plain tuples of them
    inside their named tuples: with those named tuples as lists, both JSON
    backends write them as they are (no float, no dict, no string to check).
    """
    goals, on_time, late, review_due = facts
    return dumps_prepared(
        [[[g.due, g.pursued, g.steps, g.flips] for g in goals], on_time, late, review_due]
    )


_Facts = tuple[str, Any, int, int | None]
"""(category, facts, changed_at, due_at) of one row, instants in microseconds."""


def _plan_facts(plan: CarePlan) -> list[_Facts]:
    found: list[_Facts] = []
    facts = plan_facts(plan)
    if facts is not None:
        # a goal matters to periods around the UTC midnight of its due date
        goals, on_time, late, review_due = facts
        moments = [(goal.due - _EPOCH_DAY) * _DAY_US for goal in goals]
        moments += on_time
        moments += late
        if review_due is not None:
            moments.append(review_due)
        found.append(("metric-plan", facts, min(moments), max(moments)))
    activated = activation_fact(plan)
    if activated is not None:
        found.append(("metric-activation", activated, activated, activated))
    return found


def _facts(record: object) -> list[_Facts]:
    match record:
        case CarePlan():
            return _plan_facts(record)
        case Patient():
            enrolled = enrolment_fact(record)
            return [] if enrolled is None else [("metric-patient", enrolled, enrolled, None)]
        case Note():
            at = contact_fact(record)
            return [] if at is None else [("metric-contact", at, at, at)]
        case Review():
            review = review_fact(record)
            return [] if review is None else [("metric-review", review, review.due, review.due)]
        case Referral():
            referral = referral_fact(record)
            if referral is None:
                return []
            ends = (referral.sent, referral.sent if referral.closed is None else referral.closed)
            return [("metric-referral", referral, min(ends), max(ends))]
        case CareTeam():
            team = team_fact(record)
            starts = [start for _, _, start, _ in team.members]
            stops = [_LAST_US if end is None else end for _, _, _, end in team.members]
            return [("metric-team", team, min(starts), max(stops))]
        case Encounter():
            stay = encounter_fact(record)
            if stay is None:
                return []
            out = stay.admitted if stay.discharged is None else stay.discharged
            return [("metric-encounter", stay, stay.admitted, out)]
        case SurveyResponse():
            response = survey_fact(record)
            return [("metric-survey", response, response.at, response.at)]
        case _:
            return []


_PIECE = 1500
"""Most characters of facts one row holds. PostgreSQL keeps ``detail`` in its covering
worklist indexes, whose entries must stay under about 2.7 kB; longer facts (a plan with
very many goals and interventions) are split over several rows, read back whole."""


def metric_rows(record: Any, patient_id: str | None) -> tuple[IndexRow, ...]:
    """The metric-fact rows of ``record`` (of ``patient_id``; empty for other kinds)."""
    found = _facts(record)
    if not found:
        return ()
    # The values are the row's own: ``from_micros`` gives aware datetimes.
    row = builder(IndexRow)
    rows: list[IndexRow] = []
    for category, facts, first, last in found:
        if category == "metric-plan":
            text = _plan_text(facts)
        elif facts.__class__ is int:  # an instant: its JSON text is its decimal form
            text = str(facts)
        else:
            text = dumps(_plain(facts))
        pieces = _pieces(text)
        changed_at = EPOCH + _ONE_US * first  # from_micros, without its keyword call
        due_at = None if last is None else EPOCH + _ONE_US * last
        for number, piece in enumerate(pieces):
            # ``#`` and ``/`` never occur in ids: "id#k/n" names piece k of n.
            item = str(record.id) if len(pieces) == 1 else f"{record.id}#{number}/{len(pieces)}"
            rows.append(
                row(
                    category=category,
                    item_id=item,
                    patient_id=patient_id,
                    owner_id=None,
                    status=FACTS_FORMAT,
                    is_open=False,
                    changed_at=changed_at,
                    due_at=due_at,
                    detail=piece,
                )
            )
    return tuple(rows)


def _pieces(text: str) -> list[str]:
    """``text`` cut into pieces of at most :data:`_PIECE` bytes of UTF-8."""
    length = len(text)
    if length <= _PIECE // 4 or (length <= _PIECE and text.isascii()):
        return [text]  # the usual facts: one piece, whatever their characters
    size = _PIECE if text.isascii() else _PIECE // 4
    return [text[i : i + size] for i in range(0, len(text), size)] or [text]


Rows = list[DetailRow]
"""Metric-fact rows as the store's lean read gives them: ``(patient_id, item_id, status,
detail)`` (see :class:`~carecoord.storage.port.DetailQueries`)."""
Run = Callable[[WorkQuery], Sequence[IndexHit]]
DetailRun = Callable[[WorkQuery], Sequence[DetailRow]]


def _whole(category: str, rows: Sequence[DetailRow]) -> Rows:
    """``rows`` with the pieces of split facts joined back into one row each."""
    for _, item, _, _ in rows:  # a plain loop: no generator to resume per row
        if "#" in item:
            break
    else:
        return rows if isinstance(rows, list) else list(rows)
    whole: Rows = []
    parts: dict[str, dict[int, DetailRow]] = {}
    counts: dict[str, int] = {}
    for row in rows:
        base, mark, place = row[1].partition("#")
        if not mark:
            whole.append(row)
            continue
        number, _, total = place.partition("/")
        try:
            parts.setdefault(base, {})[int(number)] = row
            counts[base] = int(total)
        except ValueError:
            raise StorageError(f"stored {category} facts cannot be read") from None
    for base, found in parts.items():
        if sorted(found) != list(range(counts[base])):
            raise StorageError(f"stored {category} facts are incomplete")
        patient, _, status, _ = found[0]
        text = "".join(found[k][3] or "" for k in range(counts[base]))
        whole.append((patient, base, status, text))
    return whole


def _projected(run: Run) -> DetailRun:
    """A lean read made of an ordinary one: each hit's ``(patient_id, item_id, status, detail)``."""

    def details(query: WorkQuery) -> list[DetailRow]:
        rows = [hit.row for hit in run(query)]
        return [(row.patient_id, row.item_id, row.status, row.detail) for row in rows]

    return details


def _shifted(moment: datetime, by: timedelta) -> datetime | None:
    """``moment + by`` in UTC, or ``None`` (no bound) past the representable range."""
    try:
        return instant(moment) + by
    except OverflowError:
        return None


class _Reader:
    """Runs the fact queries of one scope (all patients, or some) and decodes their rows.

    Made from an ordinary query function (``UnitOfWork.query``), or with
    :meth:`of_details` from a lean one (``UnitOfWork.query_details``).
    """

    def __init__(self, run: Run, scope: tuple[str, ...] | None) -> None:
        self._run = _projected(run)
        self._scope = scope

    @classmethod
    def of_details(cls, run: DetailRun, scope: tuple[str, ...] | None) -> _Reader:
        """A reader of ``scope`` whose queries go to the lean read ``run``."""
        reader = cls.__new__(cls)
        reader._run, reader._scope = run, scope
        return reader

    def rows(self, category: str, **bounds: Any) -> Rows:
        """Rows of ``category`` in the scope within ``bounds`` (``WorkQuery`` filters)."""
        query = WorkQuery(category=category, patient_ids=self._scope, open_only=False, **bounds)
        return _whole(category, self._run(query))

    def rows_of(self, category: str, patients: Collection[str], **bounds: Any) -> Rows:
        """Like :meth:`rows`, for ``patients`` (of the scope) only."""
        if not patients:
            return []
        if self._scope is None and len(patients) > _WIDE:
            return [r for r in self.rows(category, **bounds) if r[0] in patients]
        ordered = sorted(patients)
        found: Rows = []
        for i in range(0, len(ordered), _CHUNK):
            chunk = tuple(ordered[i : i + _CHUNK])
            query = WorkQuery(category=category, patient_ids=chunk, open_only=False, **bounds)
            found += _whole(category, self._run(query))
        return found


def _values(category: str, rows: Rows) -> list[Any]:
    """The facts of ``rows``, read as one JSON text (one parse, not one per row)."""
    for _, _, status, _ in rows:
        if status != FACTS_FORMAT:
            raise StorageError(
                f"stored {category} facts are not in the layout this version reads: "
                "derive the index rows again (carecoord.storage.reindex)"
            )
    try:
        values = loads("[" + ",".join([row[3] or "" for row in rows]) + "]")
    except ValueError:  # a damaged row: say which kind of facts, never quote them
        raise StorageError(f"stored {category} facts cannot be read") from None
    if not isinstance(values, list) or len(values) != len(rows):
        raise StorageError(f"stored {category} facts cannot be read")
    return values


def _patients(rows: Rows) -> list[str]:
    return [row[0] or "" for row in rows]


def _pairs(category: str, rows: Rows) -> list[tuple[str, Any]]:
    """``(patient, facts)`` of each row."""
    return list(zip(_patients(rows), _values(category, rows), strict=True))


def collect_metric_facts(
    facts: MetricFacts,
    run: DetailRun,
    start: datetime,
    end: datetime,
    as_of: datetime,
    *,
    window: timedelta,
    patient_ids: Sequence[str] | None = None,
) -> None:
    """Add to ``facts`` every fact the metrics of ``[start, end)`` count, read with ``run``.

    ``run`` answers index queries with lean rows (``UnitOfWork.query_details``); ``as_of`` is the
    cutoff of work not yet due, ``window`` the readmission look-ahead,
    ``patient_ids`` (when given) the patients to count. Each query may return
    rows that do not count (the rules decide exactly), never miss one that does.
    """
    begins, ends = instant(start), instant(end)
    cutoff = min(ends, instant(as_of))
    day = timedelta(days=1)
    read = _Reader.of_details(run, None if patient_ids is None else tuple(patient_ids))

    # Each category's rows are dropped once read (only their facts are kept): a
    # period of a large store reads a few hundred thousand of them.
    # Any zone's midnight lies within a day of the UTC one, where a plan row puts a goal.
    for plan in _values(
        "metric-plan",
        read.rows(
            "metric-plan", changed_before=_shifted(ends, day), due_from=_shifted(begins, -day)
        ),
    ):
        facts.add_plan(plan)
    facts.reviews += _values(
        "metric-review", read.rows("metric-review", due_from=begins, due_before=ends)
    )
    # sent or closed in the period
    facts.referrals += _values(
        "metric-referral", read.rows("metric-referral", changed_before=ends, due_from=begins)
    )
    # a membership covering the last instant before the cutoff
    facts.teams += _pairs(
        "metric-team", read.rows("metric-team", changed_before=cutoff, due_from=cutoff)
    )
    # discharged in the period, or admitted within the window after such a discharge
    stays = read.rows("metric-encounter", changed_before=_shifted(ends, window), due_from=begins)
    facts.encounters += zip(
        _patients(stays),
        [r[1] for r in stays],
        _values("metric-encounter", stays),
        strict=True,
    )
    surveys = read.rows("metric-survey", due_from=begins, due_before=ends)
    facts.surveys += _values("metric-survey", surveys)
    _add_firsts(facts, read, begins, ends)


def _add_firsts(facts: MetricFacts, read: _Reader, begins: datetime, ends: datetime) -> None:
    """The facts of the two metrics of firsts: a patient's first plan activation, and
    first contact at or after enrolment, counted when they fall in the period.

    Only patients with an activation or a contact in the period can count, and
    for them whatever came earlier decides: every earlier activation, and the
    contacts back to enrolment, looked for in windows that double going back
    and stopping for a patient at its first earlier contact.
    """
    activations = read.rows("metric-activation", due_from=begins, due_before=ends)
    active = set(_patients(activations))
    activations += read.rows_of("metric-activation", active, due_before=begins)
    facts.activations += zip(
        _patients(activations), _values("metric-activation", activations), strict=True
    )

    contacts = read.rows("metric-contact", due_from=begins, due_before=ends)
    contacted = set(_patients(contacts))
    enrolments = read.rows_of("metric-patient", active | contacted)
    enrolled = dict(zip(_patients(enrolments), _values("metric-patient", enrolments), strict=True))
    facts.enrolments += enrolled.items()
    start_us = to_micros(begins)
    # contacted in the period, enrolled before it: is there an earlier contact since?
    pending = {p: e for p in contacted if (e := enrolled.get(p)) is not None and e < start_us}
    found = _values("metric-contact", contacts)
    facts.contacts += zip(_patients(contacts), found, strict=True)
    high, span = start_us, _FIRST_LOOK_BACK // timedelta(microseconds=1)
    order = sorted(pending, key=pending.__getitem__)  # earliest enrolled first
    enrolled_at = [pending[p] for p in order]
    first = 0  # order[first:] holds every pending patient
    while pending:
        while order[first] not in pending:
            first += 1
        low = max(high - span, enrolled_at[first])
        earlier = read.rows_of(
            "metric-contact",
            pending.keys(),
            due_from=from_micros(low),
            due_before=from_micros(high),
        )
        for patient, at in zip(_patients(earlier), _values("metric-contact", earlier), strict=True):
            facts.contacts.append((patient, at))
            if at >= pending.get(patient, at + 1):
                del pending[patient]  # contacted before the period: not first in it
        cut = bisect_left(enrolled_at, low)  # enrolled since low: searched back to enrolment
        for patient in order[cut:]:
            pending.pop(patient, None)
        del order[cut:], enrolled_at[cut:]
        high, span = low, span * 2
