"""Converter of a care plan's goals, with their targets and progress readings.

A ``Goal`` (lifecycle and achievement status, priority, targets, the needs it
addresses) and its readings: the Observations its ``outcomeReference`` lists,
or (Bundles written before readings were Observations) its ``progress-reading``
extensions. ``statusDate`` and the SDOH ``category`` are derived by the export
(``_derived``) and taken only when they say what the record says. A mixin of
:class:`~carecoord.fhir._import._Importer`, through the care plan reader.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import (
    Comparator,
    Goal,
    GoalAchievementStatus,
    GoalId,
    GoalLifecycleStatus,
    GoalPriority,
    GoalRevision,
    GoalRevisionReason,
    HealthConcernId,
    NeedId,
    ProgressReading,
    Quantity,
    Range,
    StaffId,
    Target,
)
from ._common import cs, id_system
from ._derived import SDOH_SYSTEM, RecordIndex, goal_status_date
from ._import_report import current
from ._read_context import _Entry, own_id
from ._read_datatypes import history
from ._read_reader import IMPORT_STAFF_ID, _Reader
from ._read_tracker import consume_all, peek, raw
from ._read_values import (
    a_date,
    code,
    coded,
    dt,
    ev,
    ext_all,
    ext_one,
    fail,
    items,
    not_kept,
    number,
    obj,
    req_string,
    string,
    sub_coding,
    sub_dt,
    sub_string,
)
from .export import STATUS_SYSTEMS
from .valuesets import code_in

_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
_GOAL_PRIORITY = "http://terminology.hl7.org/CodeSystem/goal-priority"


def _has_sdoh(cc: Any) -> bool:
    codings = peek(cc, "coding") if isinstance(cc, Mapping) else None
    return isinstance(codings, list) and any(
        isinstance(c, Mapping) and peek(c, "system") == SDOH_SYSTEM for c in codings
    )


def _sdoh_concept(cc: Any, code: str) -> bool:
    """Whether ``cc`` is the one SDOH category Coding ``code`` (a display allowed)."""
    codings = peek(cc, "coding") if isinstance(cc, Mapping) else None
    return (
        isinstance(cc, Mapping)
        and set(cc) <= {"coding", "text"}
        and isinstance(codings, list)
        and len(codings) == 1
        and isinstance(codings[0], Mapping)
        and (peek(codings[0], "system"), peek(codings[0], "code")) == (SDOH_SYSTEM, code)
    )


class _GoalReader(_Reader):
    """Goal (with its Observations) -> carecoord."""

    def goal(self, e: _Entry, concerns: list[HealthConcernId] | None = None) -> Goal:
        """A Goal; ``concerns`` (a patient's own goal) collects the health concerns it addresses."""
        r, at = e.resource, e.path
        self.subject(e, "subject")
        goal_id = GoalId(own_id(r, at, "goal"))
        readings = self.legacy_readings(r, at)
        for x, where in items(r, "outcomeReference", at):
            target = peek(x, "reference") if isinstance(x, Mapping) else None
            found = None if not isinstance(target, str) else self.ctx.locate(target, where)
            if isinstance(found, _Entry) and found.rtype == "Observation" and not found.used:
                self.ctx.link(x, where, "Observation", "not an Observation in the input")
                readings.append(self.guard(found, self.observation))
                found.target = ("Goal", goal_id)
            # anything else (an Observation outside the input) is reported as dropped
        priority = coded(
            r.get("priority"), f"{at}.priority", _GOAL_PRIORITY, GoalPriority, required=False
        )
        if priority is None:
            current().default(f"{at}.priority", "no goal-priority code", GoalPriority.MEDIUM)
        categories = [(cc, where) for cc, where in items(r, "category", at) if _has_sdoh(cc)]
        goal = Goal(
            id=goal_id,
            description=self.text_of(
                obj(r.get("description"), f"{at}.description"),
                f"{at}.description",
                "the description",
            ),
            priority=priority or GoalPriority.MEDIUM,
            lifecycle_status=code(r, "lifecycleStatus", at, "goal-status", GoalLifecycleStatus),
            achievement_status=coded(
                r.get("achievementStatus"),
                f"{at}.achievementStatus",
                _ACHIEVEMENT,
                GoalAchievementStatus,
                required=False,
            ),
            targets=self.targets(r, at),
            readings=tuple(readings),
            addresses=self.needs(r, at, concerns),
            start=a_date(r, "startDate", at),
            history=history(self.ctx, r, at, STATUS_SYSTEMS["Goal"], GoalLifecycleStatus),
            revisions=self.revisions(r, at),
        )
        if "statusDate" in r and a_date(r, "statusDate", at) != goal_status_date(goal):
            not_kept(f"{at}.statusDate", "the status date follows from the last status change")
        addressed = concerns if concerns is not None else []
        self.later.append(lambda ix: self._goal_categories(ix, goal, categories, addressed))
        return goal

    def _goal_categories(
        self,
        ix: RecordIndex,
        goal: Goal,
        categories: list[tuple[Any, str]],
        concerns: list[HealthConcernId],
    ) -> None:
        self.derived(
            categories,
            ix.goal_categories(goal, concerns),
            lambda cc, _, want: _sdoh_concept(cc, want),
            "an SDOH category carecoord derives from the needs and health concerns the goal "
            "addresses",
        )

    def _names_concern(self, x: Any, found: Any) -> bool:
        """Whether an ``addresses`` Reference names a health concern (looks only)."""
        if isinstance(found, _Entry):
            return found.rtype == "Condition" and (found.target or ("",))[0] == "HealthConcern"
        ident = peek(x, "identifier") if isinstance(x, Mapping) else None
        return (
            found is None
            and isinstance(ident, Mapping)
            and peek(ident, "system") == id_system("health-concern")
        )

    def needs(
        self, r: Mapping[str, Any], at: str, concerns: list[HealthConcernId] | None = None
    ) -> tuple[NeedId, ...]:
        """The needs ``r.addresses`` names; a Condition in the input that is no need is reported.

        Needs, barriers and health concerns are read before plans. A health
        concern is collected in ``concerns`` (a patient's own goal); a plan
        and its goals address needs only, so there it is reported.
        """
        out = []
        for x, where in items(r, "addresses", at):
            target = peek(x, "reference") if isinstance(x, Mapping) else None
            found = None if not isinstance(target, str) else self.ctx.locate(target, where)
            if self._names_concern(x, found):
                if concerns is not None:
                    concerns.append(HealthConcernId(self.ctx.ref(x, where, "health-concern")))
                    continue
                consume_all(x)
                not_kept(
                    where,
                    "refers to a health concern (kept on the patient): a care plan and its "
                    "goals address needs",
                )
                continue
            if isinstance(found, _Entry) and found.rtype == "Condition" and not found.used:
                consume_all(x)
                not_kept(where, "refers to a Condition the import does not keep (not a need)")
                continue
            need = self.ctx.opt_ref(x, where, "need")
            if need is not None:
                out.append(NeedId(need))
        return tuple(out)

    def targets(self, r: Mapping[str, Any], at: str) -> tuple[Target, ...]:
        """A goal's targets: measure text, a quantity or a range, a due date."""
        targets = []
        for t, where in items(r, "target", at):
            t = obj(t, where)
            if "detailQuantity" not in t and "detailRange" not in t:
                consume_all(t)
                not_kept(where, "a target carecoord keeps is a quantity or a range to reach")
                self.ctx.scan(raw(t), where)
                continue
            measure = self.text_of(
                obj(t.get("measure"), f"{where}.measure"), f"{where}.measure", "the measure"
            )
            quantity = rng = None
            if "detailQuantity" in t:
                quantity = _quantity(t["detailQuantity"], f"{where}.detailQuantity")
            elif "detailRange" in t:
                rng = _range(t["detailRange"], f"{where}.detailRange")
            targets.append(
                Target(
                    measure=measure, quantity=quantity, range=rng, due=a_date(t, "dueDate", where)
                )
            )
        return tuple(targets)

    def revisions(self, r: Mapping[str, Any], at: str) -> tuple[GoalRevision, ...]:
        """A goal's ``goal-revision`` extensions: earlier descriptions and targets, oldest first."""
        found = []
        for x, where in ext_all(r, "goal-revision", at):
            by = ext_one(x, "by", where, sub=True, required=True)
            assert by is not None
            previous = [
                _previous_target(t, twhere)
                for t, twhere in ext_all(x, "previous-target", where, sub=True)
            ]
            found.append(
                GoalRevision(
                    revised_at=sub_dt(x, "at", where),
                    revised_by=StaffId(
                        self.ctx.ref(
                            ev(by[0], by[1], "valueReference"), f"{by[1]}.valueReference", "staff"
                        )
                    ),
                    reason=sub_coding(
                        x, "reason", where, cs("goal-revision-reason"), GoalRevisionReason
                    ),
                    previous_description=str(sub_string(x, "previous-description", where)),
                    previous_targets=tuple(previous),
                    reason_text=sub_string(x, "reason-text", where, required=False),
                )
            )
        return tuple(found)

    def legacy_readings(self, r: Mapping[str, Any], at: str) -> list[ProgressReading]:
        """Readings written as ``progress-reading`` extensions (before they were Observations)."""
        readings = []
        for x, where in ext_all(r, "progress-reading", at):
            value = ext_one(x, "value", where, sub=True, required=True)
            by = ext_one(x, "recorded-by", where, sub=True, required=True)
            assert value is not None and by is not None
            readings.append(
                ProgressReading(
                    measure=str(sub_string(x, "measure", where)),
                    value=number(
                        ev(value[0], value[1], "valueDecimal"), f"{value[1]}.valueDecimal"
                    ),
                    unit=str(sub_string(x, "unit", where)),
                    at=sub_dt(x, "at", where),
                    recorded_by=StaffId(
                        self.ctx.ref(
                            ev(by[0], by[1], "valueReference"), f"{by[1]}.valueReference", "staff"
                        )
                    ),
                )
            )
        return readings

    def observation(self, e: _Entry) -> ProgressReading:
        """A goal reading: the Observation's measure (code), quantity, time and performer."""
        r, at = e.resource, e.path
        self.subject(e, "subject")
        status = r.get("status")
        if not code_in("observation-status", status):
            fail(f"{at}.status", "code not in value set observation-status")
        if status != "final":
            not_kept(f"{at}.status", "a goal reading is a final result")
        measure = self.text_of(obj(r.get("code"), f"{at}.code"), f"{at}.code", "the measure")
        q = obj(r.get("valueQuantity"), f"{at}.valueQuantity")
        unit = string(q, "unit", f"{at}.valueQuantity", required=False)
        if unit is None:
            unit = req_string(q, "code", f"{at}.valueQuantity")
            current().default(f"{at}.valueQuantity.unit", "no unit: the unit's code is taken")
        when = dt(r, "effectiveDateTime", at, required=False)
        if when is None:
            when = self.when(r, at, "effectiveDateTime", None, "")
        performers = items(r, "performer", at)
        by = None
        for p, where in performers:
            found = self.ctx.opt_ref(p, where, "staff")
            if by is None:
                by = found
            elif found is not None:
                not_kept(where, "a reading keeps one staff member, the first performer")
        if by is None:
            current().default(f"{at}.performer", "no staff performer", IMPORT_STAFF_ID)
        return ProgressReading(
            measure=measure,
            value=number(q.get("value"), f"{at}.valueQuantity.value"),
            unit=unit,
            at=when,
            recorded_by=StaffId(by or IMPORT_STAFF_ID),
        )


def _quantity(value: Any, at: str) -> Quantity:
    """A FHIR Quantity (value, unit, optional comparator) as a target's quantity."""
    q = obj(value, at)
    comparator = q.get("comparator")
    if comparator is not None and not code_in("quantity-comparator", comparator):
        fail(f"{at}.comparator", "code not in value set quantity-comparator")
    return Quantity(
        value=number(q.get("value"), f"{at}.value"),
        unit=req_string(q, "unit", at),
        comparator=None if comparator is None else Comparator(comparator),
    )


def _range(value: Any, at: str) -> Range:
    """A FHIR Range (bounds in one unit) as a target's range."""
    q = obj(value, at)
    bounds: dict[str, float | None] = {"low": None, "high": None}
    units = []
    for side in ("low", "high"):
        if side in q:
            s = obj(q[side], f"{at}.{side}")
            bounds[side] = number(s.get("value"), f"{at}.{side}.value")
            units.append(req_string(s, "unit", f"{at}.{side}"))
    if len(set(units)) != 1:
        fail(at, "range needs a bound, and both bounds one unit")
    return Range(low=bounds["low"], high=bounds["high"], unit=units[0])


def _previous_target(t: Mapping[str, Any], at: str) -> Target:
    """A ``previous-target`` part of ``goal-revision``: measure, quantity or range, due date."""
    quantity = ext_one(t, "quantity", at, sub=True)
    rng = ext_one(t, "range", at, sub=True)
    due = ext_one(t, "due", at, sub=True)
    q_at = "" if quantity is None else f"{quantity[1]}.valueQuantity"
    r_at = "" if rng is None else f"{rng[1]}.valueRange"
    return Target(
        measure=str(sub_string(t, "measure", at)),
        quantity=None if quantity is None else _quantity(ev(*quantity, "valueQuantity"), q_at),
        range=None if rng is None else _range(ev(*rng, "valueRange"), r_at),
        due=None if due is None else a_date(due[0], "valueDate", due[1], required=True),
    )
