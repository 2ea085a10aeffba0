"""The facts eligibility looks at, as the ``eligibility`` index rows keep them.

A care program's :class:`~carecoord.model.programs.Eligibility` is evaluated over
:class:`EligibilityFact` values: a patient's birth date and zone, the codes of their
active health concerns, the codes and domains of their active assessment needs and the
:class:`~carecoord.model.programs.PatientFact` values the host recorded. The storage
adapters write one index row per fact (:attr:`EligibilityFact.tokens`), so finding the
eligible patients reads index rows, never a patient's records. Pure: no I/O.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Self

import attrs

from ._errors import ValidationError
from .codes import NeedStatus
from .concerns import HealthConcern
from .people import Patient
from .plan import Assessment
from .programs import CriterionKind, PatientFact

__all__ = ["EligibilityFact"]

_BIRTH = "age:birth"
_KINDS = {kind.value: kind for kind in CriterionKind}


@attrs.frozen
class EligibilityFact:
    """One fact eligibility looks at, as the ``eligibility`` index rows keep it.

    ``kind`` says which: ``condition`` (``code`` a coding's code, ``detail`` its
    system), ``need`` (``code`` a need code), ``need-domain`` (``code`` a domain),
    ``fact`` (``code`` the key, ``detail`` the value) or ``age`` (``born`` the birth
    date, ``detail`` the patient's time zone). :meth:`of` reads them from a patient's
    records; :attr:`tokens` are the index keys (a row's ``owner_id``), and
    :meth:`from_row` reads a row back. PHI (a value, a birth date): never in ``repr``.
    """

    kind: CriterionKind
    code: str
    detail: str | None = attrs.field(default=None, repr=False)
    born: date | None = attrs.field(default=None, repr=False)

    @property
    def tokens(self) -> tuple[str, ...]:
        """The index keys of this fact (a fact with a value has two: key, key=value)."""
        if self.kind is CriterionKind.AGE:
            return (_BIRTH,)
        if self.kind is CriterionKind.FACT:
            return (f"fact:{self.code}", f"fact:{self.code}={self.detail}")
        return (f"{self.kind.value}:{self.code}",)

    @classmethod
    def of(cls, record: object) -> tuple[EligibilityFact, ...]:
        """The eligibility facts of one record: a patient's birth date and zone, the codes
        of an active health concern, the active needs of an assessment, a patient fact
        (empty for any other record, and for an inactive concern)."""
        match record:
            case Patient():
                return (cls(CriterionKind.AGE, "birth", record.time_zone, born=record.birth_date),)
            case HealthConcern():
                if not record.is_active:
                    return ()
                found = (
                    cls(CriterionKind.CONDITION, coding.code, coding.system)
                    for coding in record.codings
                    if coding.code.strip()
                )
                return tuple(dict.fromkeys(found))
            case Assessment():
                needs = [n for n in record.needs if n.status is NeedStatus.ACTIVE]
                facts = [
                    cls(CriterionKind.NEED, n.code)
                    for n in needs
                    if n.code is not None and n.code.strip()
                ]
                facts += [cls(CriterionKind.NEED_DOMAIN, n.domain.value) for n in needs]
                return tuple(dict.fromkeys(facts))
            case PatientFact():
                return (cls(CriterionKind.FACT, record.key, record.value),)
            case _:
                return ()

    @classmethod
    def from_row(cls, token: str, detail: str | None, due_at: datetime | None) -> Self | None:
        """The fact an index row keeps (``owner_id`` ``token``); ``None`` for a second
        (``key=value``) row of a fact, which repeats the first. ValidationError when
        the row is not one of these."""
        kind, _, code = token.partition(":")
        which = _KINDS.get(kind)
        if which is None:
            raise ValidationError("not an eligibility index row", field="owner_id")
        if which is CriterionKind.FACT and "=" in code:
            return None
        if which is CriterionKind.AGE:
            if due_at is None:
                raise ValidationError("an age row needs a birth date", field="due_at")
            return cls(which, "birth", detail, born=due_at.date())
        return cls(which, code, detail)
