"""Screening rules: which social needs screening answers raise a barrier and a need.

Rules are data (:class:`ScreeningRule`); a host passes its own tuple to
:meth:`CareCoordinator.record_screening` instead of :data:`SCREENING_RULES`.
Questions and answers are LOINC codes; each rule names the barrier kind it
raises and the Gravity Project SDOH category of the need (the codes of the
HL7 SDOH Clinical Care code system). Pure: imports only the model.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from .model import BarrierKind, NeedPriority
from .model._base import of_type, optional, text, tuple_of
from .model.social import LivingSituation, ScreeningAnswer, TransportAccess

__all__ = ["SCREENING_RULES", "ScreeningRule", "triggered"]


@attrs.frozen
class ScreeningRule:
    """When ``question`` is answered with one of ``answers``: raise a ``barrier`` and a need
    of SDOH ``category`` (a Gravity Project code), ``need`` its plain description."""

    question: str = attrs.field(validator=text(max_len=20))
    answers: tuple[str, ...] = attrs.field(validator=tuple_of(str, unique=True))
    barrier: BarrierKind = attrs.field(validator=of_type(BarrierKind))
    category: str = attrs.field(validator=text(max_len=100))
    need: str = attrs.field(validator=text(max_len=200))
    priority: NeedPriority = attrs.field(default=NeedPriority.HIGH, validator=of_type(NeedPriority))
    living_situation: LivingSituation | None = attrs.field(
        default=None, validator=optional(of_type(LivingSituation))
    )
    """What the answer says about the patient's living situation, if anything."""
    transport: TransportAccess | None = attrs.field(
        default=None, validator=optional(of_type(TransportAccess))
    )
    """What the answer says about the patient's transport, if anything."""

    def matches(self, answer: ScreeningAnswer) -> bool:
        """Whether ``answer`` triggers this rule."""
        return answer.question == self.question and answer.answer in self.answers


SCREENING_RULES: tuple[ScreeningRule, ...] = (
    ScreeningRule(
        question="71802-3",  # Housing status (PRAPARE)
        answers=("LA30190-5",),  # I do not have housing
        barrier=BarrierKind.HOUSING,
        category="homelessness",
        need="Housing: no steady place to live",
        living_situation=LivingSituation.HOMELESS,
    ),
    ScreeningRule(
        question="93030-5",  # Has lack of transportation kept you from ... (PRAPARE)
        answers=("LA30133-5", "LA30134-3"),  # yes: medical / non-medical
        barrier=BarrierKind.TRANSPORT,
        category="transportation-insecurity",
        need="Transportation: lack of transport kept the patient from care or daily needs",
        transport=TransportAccess.NONE,
    ),
)
"""The shipped screening rules (LOINC questions and answers, Gravity SDOH categories)."""


def triggered(
    answers: Sequence[ScreeningAnswer], rules: Sequence[ScreeningRule]
) -> list[ScreeningRule]:
    """The rules the ``answers`` trigger, in rule order, each once."""
    return [rule for rule in rules if any(rule.matches(answer) for answer in answers)]
