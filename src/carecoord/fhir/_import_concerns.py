"""Converters of what is recorded outside any care plan: health concerns and patients' goals.

A ``Condition`` that is neither a barrier nor a need of an assessment in the
input becomes a :class:`~carecoord.HealthConcern` (US Core categories, Gravity
SDOH categories, clinical and verification status, onset, abatement, who
recorded and asserted it, the source's identifiers); a ``Goal`` no
``CarePlan`` lists becomes a :class:`~carecoord.PatientGoal`. A mixin of
:class:`~carecoord.fhir._import._Importer`, on the goal reader.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ..model import (
    BarrierId,
    Coding,
    ConcernCategory,
    ConditionClinicalStatus,
    ConditionVerificationStatus,
    ExternalRef,
    HealthConcern,
    HealthConcernId,
    NeedId,
    PatientGoal,
    StaffId,
)
from ._common import id_system
from ._derived import SDOH_SYSTEM
from ._export_concerns import (
    CATEGORY_SYSTEMS,
    CONDITION_CLINICAL,
    CONDITION_VERIFICATION,
    US_CORE_CATEGORY,
)
from ._import_goals import _GoalReader
from ._import_report import current
from ._read_context import _Entry, ext_refs, own_id
from ._read_external import external, identifiers, outside_of, type_of
from ._read_reader import _Skip
from ._read_tracker import consume, consume_all, peek, raw
from ._read_values import coded, dt, fail, items, not_kept, obj, req_string, string

__all__ = ["_ConcernReader"]

_CATEGORIES = {(system, k.value): k for k, system in CATEGORY_SYSTEMS.items()}
_SDOH_CODE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
_PEOPLE = ("PractitionerRole", "RelatedPerson")


class _ConcernReader(_GoalReader):
    """Condition (a health concern) and a Goal outside any CarePlan -> carecoord."""

    def concern(self, e: _Entry) -> HealthConcern:
        """A free-standing Condition; one with neither a code nor a text is skipped (reported)."""
        r, at = e.resource, e.path
        codings, text = self._code(r, at)
        if not codings and text is None:
            raise _Skip("a Condition with neither a coding nor a text: nothing to keep")
        self.subject(e, "subject")
        concern_id = HealthConcernId(own_id(r, at, "health-concern"))
        categories, sdoh = self._categories(r, at)
        verification = coded(
            r.get("verificationStatus"),
            f"{at}.verificationStatus",
            CONDITION_VERIFICATION,
            ConditionVerificationStatus,
            required=False,
        )
        clinical = coded(
            r.get("clinicalStatus"),
            f"{at}.clinicalStatus",
            CONDITION_CLINICAL,
            ConditionClinicalStatus,
            required=False,
        )
        if (
            clinical is None
            and ConcernCategory.PROBLEM_LIST_ITEM in categories
            and verification is not ConditionVerificationStatus.ENTERED_IN_ERROR
        ):
            current().default(
                f"{at}.clinicalStatus",
                "no clinical status: a problem-list item has one (con-3)",
                ConditionClinicalStatus.ACTIVE,
            )
            clinical = ConditionClinicalStatus.ACTIVE
        recorded_by, recorder = self._who(r, "recorder", at)
        asserted_by, asserter = self._who(r, "asserter", at)
        return HealthConcern(
            id=concern_id,
            patient_id=self.patient_id,
            codings=codings,
            text=text,
            categories=categories,
            sdoh_categories=sdoh,
            clinical_status=clinical,
            verification_status=verification,
            onset=self._onset(r, at),
            abatement=dt(r, "abatementDateTime", at, required=False),
            recorded_at=dt(r, "recordedDate", at, required=False),
            recorded_by=recorded_by,
            recorder=recorder,
            asserted_by=asserted_by,
            asserter=asserter,
            need_ids=tuple(NeedId(x) for x in ext_refs(self.ctx, r, "need", at, "need")),
            barrier_ids=tuple(
                BarrierId(x) for x in ext_refs(self.ctx, r, "barrier", at, "barrier")
            ),
            identifiers=identifiers(r, at, "health-concern"),
        )

    def _code(self, r: Mapping[str, Any], at: str) -> tuple[tuple[Coding, ...], str | None]:
        """The codings (each with a system and a code) and the text of ``Condition.code``."""
        if "code" not in r:
            return (), None
        where = f"{at}.code"
        cc = obj(r["code"], where)
        found: list[Coding] = []
        for c, cat in items(cc, "coding", where):
            c = obj(c, cat)
            system, code = peek(c, "system"), peek(c, "code")
            if not isinstance(system, str) or not isinstance(code, str):
                continue  # a coding without a system or a code: reported as dropped
            coding = Coding(
                system=req_string(c, "system", cat),
                code=req_string(c, "code", cat),
                display=string(c, "display", cat, required=False),
            )
            if coding not in found:
                found.append(coding)
        return tuple(found), string(cc, "text", where, required=False)

    def _categories(
        self, r: Mapping[str, Any], at: str
    ) -> tuple[tuple[ConcernCategory, ...], tuple[str, ...]]:
        """The US Core categories and the SDOH categories; US Core ``sdoh`` is derived."""
        kinds: list[ConcernCategory] = []
        sdoh: list[str] = []
        marks: list[tuple[Any, str]] = []
        for cc, where in items(r, "category", at):
            cc = obj(cc, where)
            taken = False
            for c, cat in items(cc, "coding", where):
                pair = (peek(c, "system"), peek(c, "code")) if isinstance(c, Mapping) else ()
                key = pair if all(isinstance(part, str) for part in pair) and pair else None
                if key in _CATEGORIES and _CATEGORIES[key] not in kinds:
                    kinds.append(_CATEGORIES[key])
                elif (
                    key is not None
                    and key[0] == SDOH_SYSTEM
                    and isinstance(key[1], str)
                    and _SDOH_CODE.fullmatch(key[1])
                    and len(key[1]) <= 64
                    and key[1] not in sdoh
                ):
                    sdoh.append(key[1])
                elif key == (US_CORE_CATEGORY, "sdoh"):
                    marks.append((c, cat))
                    continue
                else:
                    continue
                consume_all(c)
                taken = True
            if taken:
                consume(cc, "text")
        self.derived(
            marks,
            ["sdoh"] if sdoh else [],
            lambda *_: True,
            "US Core's sdoh category follows from the concern's SDOH categories",
        )
        return tuple(kinds), tuple(sdoh)

    def _onset(self, r: Mapping[str, Any], at: str) -> datetime | None:
        """``onsetDateTime``, else the start of ``onsetPeriod`` (its end is reported)."""
        if "onsetDateTime" in r or "onsetPeriod" not in r:
            return dt(r, "onsetDateTime", at, required=False)
        where = f"{at}.onsetPeriod"
        span = obj(r["onsetPeriod"], where)
        if "start" not in span:
            return None  # reported as dropped
        if "end" in span:
            not_kept(f"{where}.end", "carecoord keeps when a concern began")
            consume(span, "end")
        return dt(span, "start", where)

    def _who(
        self, r: Mapping[str, Any], key: str, at: str
    ) -> tuple[StaffId | None, ExternalRef | None]:
        """A recorder or asserter: a staff member, or someone another system holds."""
        if key not in r:
            return None, None
        x, where = r[key], f"{at}.{key}"
        if outside_of(self.ctx, x, where) and type_of(self.ctx, x, where) != "Practitioner":
            return None, external(self.ctx, x, where, _PEOPLE)
        staff = self.ctx.opt_ref(x, where, "staff")
        return (None if staff is None else StaffId(staff)), None

    def patient_goal(self, e: _Entry) -> PatientGoal:
        """A Goal no CarePlan lists: the patient's own, with the health concerns it addresses."""
        r, at = e.resource, e.path
        concerns: list[HealthConcernId] = []
        goal = self.goal(e, concerns)
        expressed = False
        if "expressedBy" in r:
            x, where = r["expressedBy"], f"{at}.expressedBy"
            if _names_patient(self, x, where):
                if self.ctx.ref(x, where, "patient") != self.patient_id:
                    fail(where, "refers to another patient")
                expressed = True
            else:
                consume_all(x)
                not_kept(where, "carecoord records whether the patient expressed a goal")
                self.ctx.scan(raw(x), where)
        return PatientGoal(
            patient_id=self.patient_id,
            goal=goal,
            concern_ids=tuple(concerns),
            expressed_by_patient=expressed,
            identifiers=identifiers(r, at, "goal"),
        )


def _names_patient(reader: _ConcernReader, x: Any, at: str) -> bool:
    """Whether Reference ``x`` names a Patient (looks only)."""
    if type_of(reader.ctx, x, at) == "Patient":
        return True
    ident = peek(x, "identifier") if isinstance(x, Mapping) else None
    return isinstance(ident, Mapping) and peek(ident, "system") == id_system("patient")
