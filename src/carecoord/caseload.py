"""Caseload worklists: the value objects and the pure rules that classify work.

Pure: imports only the model (and the display helpers, which import only the
model). :meth:`carecoord.service.CareCoordinator.worklist` runs the store's
indexed queries and uses the rules here to turn index rows into a
:class:`Worklist`; nothing here does I/O.

A :class:`Worklist` holds :class:`WorklistItem` s sorted by urgency: priority
first (higher is more urgent), then how late (the earliest ``due`` first, so
the latest item leads), items without a ``due`` last. ``due`` is the moment
action fell (or falls) due:

================================  ==================================================
category                          ``due``
================================  ==================================================
``intervention``                  the intervention's due time (or window end)
``review``                        the plan's next review time
``referral-stalled``              last status change + the stall threshold
``referral-no-outcome``           when the service was completed (result not back)
``goal-at-risk``                  the start of the day after the goal's due date (UTC)
``no-contact``                    last completed patient/family contact (or
                                  enrolment) + the no-contact threshold
``barrier``                       when the barrier was identified
``barrier-to-confirm``            when the last intervention working on it closed
================================  ==================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from .display import compact_moment, html_table, lateness_text, records_to_dataframe
from .model import (
    TASK_MACHINE,
    CarePlanId,
    GoalAchievementStatus,
    Intervention,
    PatientId,
    StaffId,
    TaskPriority,
    TaskStatus,
    ValidationError,
    localize,
)
from .model._base import aware, ensure_aware, instant, of_type, optional

__all__ = [
    "RISKY_ACHIEVEMENT",
    "DueIntervention",
    "Worklist",
    "WorklistCategory",
    "WorklistItem",
    "WorklistScope",
    "barrier_work_done",
    "contact_due",
    "goal_at_risk",
    "local_day_end",
    "referral_category",
    "work_item",
    "worklist_scope",
]


class WorklistCategory(StrEnum):
    """What a worklist item stands for."""

    INTERVENTION = "intervention"
    REVIEW = "review"
    REFERRAL_STALLED = "referral-stalled"
    REFERRAL_NO_OUTCOME = "referral-no-outcome"
    REFERRAL = "referral"
    """An open referral, shown as it is (a care program's worklist)."""
    GOAL_AT_RISK = "goal-at-risk"
    NO_CONTACT = "no-contact"
    BARRIER = "barrier"
    BARRIER_TO_CONFIRM = "barrier-to-confirm"
    EMERGENCY_REVIEW = "emergency-review"


class WorklistScope(StrEnum):
    """Whose work a worklist gathers.

    ``self``: work owned by the staff member; ``team``: all work on the
    patients whose care teams the staff member is an active member of,
    whoever owns it; ``supervisor``: work owned by the staff member and
    everyone reporting to them, directly or not.
    """

    SELF = "self"
    TEAM = "team"
    SUPERVISOR = "supervisor"


RISKY_ACHIEVEMENT = frozenset(
    {
        GoalAchievementStatus.WORSENING,
        GoalAchievementStatus.NOT_ACHIEVED,
        GoalAchievementStatus.NO_PROGRESS,
        GoalAchievementStatus.NOT_ATTAINABLE,
    }
)
"""Achievement statuses that put a goal at risk whatever its due date."""

_MET = frozenset({GoalAchievementStatus.ACHIEVED, GoalAchievementStatus.SUSTAINING})
_ZERO = timedelta(0)


def _category(value: Any) -> WorklistCategory:
    try:
        return WorklistCategory(value)
    except ValueError:
        raise ValidationError(
            "WorklistItem.category is not a known category", field="category"
        ) from None


@attrs.frozen
class WorklistItem:
    """One thing on a worklist: identifiers, codes and times only (no PHI).

    ``item_id`` names the thing (an intervention, goal, referral, barrier; the
    plan for a review; the patient for no-contact); ``record_id`` the stored
    record holding it (the plan for interventions, goals and reviews).
    ``priority`` is higher-is-more-urgent (task priority rank 0-3 for
    interventions and referrals, goal priority 0-2 for goals, 0 otherwise).
    ``lateness`` is how far past ``due`` the item was at the worklist's
    ``as_of`` (zero when not yet due, ``None`` without a due time).
    """

    category: WorklistCategory = attrs.field(converter=_category)
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    item_id: str = attrs.field(validator=of_type(str))
    record_id: str = attrs.field(validator=of_type(str))
    status: str = attrs.field(validator=of_type(str))
    priority: int = attrs.field(default=0, validator=of_type(int))
    due: datetime | None = attrs.field(default=None, validator=optional(aware))
    lateness: timedelta | None = attrs.field(default=None, validator=optional(of_type(timedelta)))
    owner_id: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    detail: str | None = attrs.field(default=None, validator=optional(of_type(str)))

    @property
    def overdue(self) -> bool:
        """Whether the item was past due at the worklist's time."""
        return self.lateness is not None and self.lateness > _ZERO

    @property
    def late_by(self) -> timedelta | None:
        """How long past due the item was at the worklist's time (zero when not late,
        ``None`` without a due time): an item 22 hours late is late by 22 hours."""
        return self.lateness

    @property
    def late(self) -> str:
        """Lateness as a coordinator reads it: ``"22 h late"``, ``"3 d late"``, ``""`` when
        not late (see :func:`carecoord.display.lateness_text`)."""
        return lateness_text(self.lateness)

    @property
    def days_late(self) -> int | None:
        """Deprecated, kept for compatibility (use :attr:`late_by` or :attr:`late`): whole
        days past due, rounded down, so an item 22 hours late shows 0 (``None`` without a
        due time)."""
        return _whole_days(self.lateness)

    def to_record(self) -> dict[str, object]:
        """The item as a plain dict (see :data:`Worklist.COLUMNS`)."""
        return {
            "category": self.category.value,
            "patient_id": str(self.patient_id),
            "item_id": self.item_id,
            "record_id": self.record_id,
            "owner_id": None if self.owner_id is None else str(self.owner_id),
            "status": self.status,
            "priority": self.priority,
            "due": self.due,
            "overdue": self.overdue,
            "late": self.late,
            "late_by": self.lateness,
            "days_late": _whole_days(self.lateness),
            "detail": self.detail,
        }


def _whole_days(lateness: timedelta | None) -> int | None:
    return None if lateness is None else lateness.days


@attrs.frozen
class DueIntervention:
    """One open intervention of a plan with the intervention itself, as
    :meth:`CareCoordinator.interventions_due
    <carecoord.CareCoordinator.interventions_due>` returns it: the work a staff member
    opens and does, where a :class:`WorklistItem` is a PHI-free line of a worklist.

    Formerly ``WorkItem`` (still importable from here and from the top level, with a
    ``DeprecationWarning``, until 0.3). The intervention's description is free text:
    ``repr`` shows the intervention's own (PHI-free) repr.
    """

    patient_id: PatientId
    plan_id: CarePlanId
    intervention: Intervention
    overdue: bool

    @property
    def priority(self) -> TaskPriority:
        """The intervention's priority."""
        return self.intervention.priority


def work_item(
    category: WorklistCategory | str,
    *,
    patient_id: PatientId | str,
    item_id: str,
    record_id: str,
    status: str,
    now: datetime,
    due: datetime | None = None,
    priority: int = 0,
    owner_id: StaffId | str | None = None,
    detail: str | None = None,
) -> WorklistItem:
    """Build an item, computing its lateness at ``now`` and showing ``due`` in ``now``'s zone."""
    ensure_aware(now, "now")
    lateness = None
    shown = None
    if due is not None:
        ensure_aware(due, "due")
        lateness = max(instant(now) - instant(due), _ZERO)
        shown = due.astimezone(now.tzinfo)
    return WorklistItem(
        category=category,
        patient_id=PatientId(str(patient_id)),
        item_id=item_id,
        record_id=record_id,
        status=status,
        priority=priority,
        due=shown,
        lateness=lateness,
        owner_id=None if owner_id is None else StaffId(str(owner_id)),
        detail=detail,
    )


_NO_DUE = datetime.max.replace(tzinfo=UTC)


def _urgency(item: WorklistItem) -> tuple[int, bool, datetime, str, str, str]:
    return (
        -item.priority,
        item.due is None,
        _NO_DUE if item.due is None else instant(item.due),
        str(item.patient_id),
        item.category.value,
        item.item_id,
    )


def _sorted(items: Iterable[WorklistItem]) -> tuple[WorklistItem, ...]:
    found = tuple(items)
    for i, item in enumerate(found):
        if not isinstance(item, WorklistItem):
            raise ValidationError(f"Worklist.items[{i}] must be a WorklistItem", field="items")
    return tuple(sorted(found, key=_urgency))


def worklist_scope(value: Any) -> WorklistScope:
    """``value`` as a :class:`WorklistScope`; ValidationError listing the scopes otherwise."""
    try:
        return WorklistScope(value)
    except ValueError:
        raise ValidationError(
            "scope must be one of: " + ", ".join(s.value for s in WorklistScope), field="scope"
        ) from None


@attrs.frozen
class Worklist:
    """A staff member's worklist at ``as_of`` (in the viewer's zone), most urgent first.

    Iterate it, take ``len()``, filter with :meth:`of`, count with
    :meth:`counts`; export with :meth:`to_records` / :meth:`to_dataframe`; in
    Jupyter it renders as an HTML table (ids and codes only).
    """

    COLUMNS = (
        "category",
        "patient_id",
        "item_id",
        "record_id",
        "owner_id",
        "status",
        "priority",
        "due",
        "overdue",
        "late",
        "late_by",
        "days_late",
        "detail",
    )
    """The keys of every record :meth:`to_records` returns, in order."""

    staff_id: StaffId = attrs.field(validator=of_type(StaffId))
    as_of: datetime = attrs.field(validator=aware)
    items: tuple[WorklistItem, ...] = attrs.field(default=(), converter=_sorted)
    scope: WorklistScope = attrs.field(default=WorklistScope.SELF, converter=worklist_scope)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[WorklistItem]:
        return iter(self.items)

    def of(self, *categories: WorklistCategory | str) -> tuple[WorklistItem, ...]:
        """Items of the given categories, in urgency order."""
        wanted = {WorklistCategory(c) for c in categories}
        return tuple(i for i in self.items if i.category in wanted)

    @property
    def overdue(self) -> tuple[WorklistItem, ...]:
        """Items past due."""
        return tuple(i for i in self.items if i.overdue)

    def counts(self) -> dict[str, int]:
        """How many items of each category (every category listed, zero included)."""
        return {c.value: sum(1 for i in self.items if i.category is c) for c in WorklistCategory}

    def to_records(self) -> list[dict[str, object]]:
        """The items as plain dicts with the keys of :attr:`COLUMNS`."""
        return [i.to_record() for i in self.items]

    def to_dataframe(self) -> Any:
        """The items as a ``pandas.DataFrame`` (needs the ``dataframe`` extra)."""
        return records_to_dataframe(self.to_records(), self.COLUMNS)

    def _repr_html_(self) -> str:
        caption = (
            f"Worklist of {self.staff_id} ({self.scope.value}) as of "
            f"{compact_moment(self.as_of)}: {len(self.items)} items"
        )
        return html_table(self.to_records(), self.COLUMNS, caption=caption)


# ---------------------------------------------------------------------- rules


def local_day_end(moment: datetime, zone: str | ZoneInfo) -> datetime:
    """The first instant of the next local day after ``moment`` in ``zone`` (DST-safe).

    Worklists list work due "today": due before this instant. Near the ends of
    the calendar (a local day of year 1 or 9999 with no next day) the end is
    ``datetime.max`` (UTC).
    """
    ensure_aware(moment, "moment")
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)
    try:
        day = moment.astimezone(tz).date() + timedelta(days=1)
        return localize(datetime.combine(day, time.min), tz)
    except OverflowError:
        return datetime.max.replace(tzinfo=UTC)


def goal_at_risk(achievement: str | None, due: datetime | None, now: datetime) -> bool:
    """Whether an open goal is at risk at ``now``.

    At risk: its achievement status is one of :data:`RISKY_ACHIEVEMENT`
    (worsening, not achieved, ...), or it is past due (``due`` at or before
    ``now``) without being achieved or sustained.
    """
    ensure_aware(now, "now")
    status = None if achievement is None else GoalAchievementStatus(achievement)
    if status in RISKY_ACHIEVEMENT:
        return True
    return due is not None and instant(due) <= instant(now) and status not in _MET


def referral_category(
    status: str, changed_at: datetime | None, now: datetime, stalled_after: timedelta
) -> WorklistCategory | None:
    """How an open referral shows on a worklist, if at all.

    Stalled when its status has not changed for ``stalled_after`` or longer;
    otherwise "no outcome" when the service was completed but the result has
    not come back; otherwise not listed.
    """
    ensure_aware(now, "now")
    if changed_at is not None and instant(now) - instant(changed_at) >= stalled_after:
        return WorklistCategory.REFERRAL_STALLED
    if status == "completed":
        return WorklistCategory.REFERRAL_NO_OUTCOME
    return None


def barrier_work_done(work: Sequence[tuple[str, datetime | None]]) -> datetime | None:
    """When all the work on an open barrier was done, or ``None`` while it is not.

    ``work`` holds ``(status, changed_at)`` of every intervention linked to the
    barrier (its ``barrier_ids``), a FHIR task-status code and when it last
    changed. The work is done when none of it is open any more and at least
    one intervention was completed; interventions entered in error do not
    count, and work that was only cancelled, failed or rejected does not make
    the barrier look resolved. The answer is when the last of it closed.

    carecoord never resolves a barrier on its own: a barrier whose work is done
    shows on the worklist as ``barrier-to-confirm`` until a person resolves it
    (``resolve_barrier``) or links new work to it.
    """
    counted = [(TaskStatus(s), at) for s, at in work if s != TaskStatus.ENTERED_IN_ERROR]
    if not any(s is TaskStatus.COMPLETED for s, _ in counted):
        return None
    if not all(TASK_MACHINE.is_terminal(s) for s, _ in counted):
        return None
    times = [at for _, at in counted if at is not None]
    return max(times, key=instant) if times else None


def contact_due(
    last_contact: datetime | None, enrolled_at: datetime | None, after: timedelta
) -> datetime | None:
    """When a patient is due a contact: ``after`` past the last contact (or enrolment).

    ``None`` when neither is known (the patient is listed without a due time).
    """
    baseline = last_contact if last_contact is not None else enrolled_at
    return None if baseline is None else baseline + after


def __getattr__(name: str) -> Any:
    """``WorkItem``, the former name of :class:`DueIntervention` (deprecated, 0.3 removes it)."""
    if name != "WorkItem":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import warnings

    warnings.warn(
        "carecoord.caseload.WorkItem is deprecated: it is carecoord.caseload.DueIntervention",
        DeprecationWarning,
        stacklevel=2,
    )
    return DueIntervention
