"""The patient's consents: what may be shared with whom (FHIR Consent).

A :class:`Consent` records the patient's consent, usually to share information with
named contacts, with its FHIR consent-state history; consents other systems recorded
keep their scope and policy rule. Pure: no I/O.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Self

import attrs

from ._base import (
    ConsentId,
    ContactId,
    PatientId,
    StaffId,
    aware,
    ensure_aware,
    of_type,
    optional,
    tuple_of,
)
from ._errors import ValidationError
from ._external import ExternalRef, external_refs_of
from .codes import ConsentStatus
from .machine import CONSENT_MACHINE, Transition
from .people import Period

__all__ = ["Consent", "ConsentPolicyRule", "ConsentScope"]


class ConsentScope(StrEnum):
    """What a consent is about (FHIR consentscope, Consent.scope)."""

    ADR = "adr"
    RESEARCH = "research"
    PATIENT_PRIVACY = "patient-privacy"
    TREATMENT = "treatment"


class ConsentPolicyRule(StrEnum):
    """The consent directive a consent follows (HL7 v3 ActCode, Consent.policyRule)."""

    OPTIN = "OPTIN"
    OPTINR = "OPTINR"
    OPTOUT = "OPTOUT"
    OPTOUTE = "OPTOUTE"


@attrs.frozen
class Consent:
    """The patient's consent, usually to share information with named contacts.

    ``categories`` narrows what may be shared with the contacts (for example
    ``"appointments"``, ``"care-plan"``); empty means everything the team
    would share with the patient. A consent without contacts is one as
    another system recorded it: its ``scope``, ``policy_rule`` (``None``: the
    source stated none), status and period say what it is, and it permits
    nothing to any contact (see :meth:`permits`). Only a privacy consent
    names contacts. ``custodians`` are the organisations, held by another
    system, that manage the consent.
    """

    id: ConsentId = attrs.field(validator=of_type(ConsentId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    recorded_at: datetime = attrs.field(validator=aware)
    recorded_by: StaffId = attrs.field(validator=of_type(StaffId))
    contact_ids: tuple[ContactId, ...] = attrs.field(
        default=(), validator=tuple_of(ContactId, unique=True)
    )
    status: ConsentStatus = attrs.field(
        default=ConsentStatus.ACTIVE, validator=of_type(ConsentStatus)
    )
    categories: tuple[str, ...] = attrs.field(default=(), validator=tuple_of(str, unique=True))
    period: Period | None = attrs.field(default=None, validator=optional(of_type(Period)))
    history: tuple[Transition[ConsentStatus], ...] = attrs.field(
        default=(), validator=tuple_of(Transition)
    )
    scope: ConsentScope = attrs.field(
        default=ConsentScope.PATIENT_PRIVACY, validator=of_type(ConsentScope)
    )
    policy_rule: ConsentPolicyRule | None = attrs.field(
        default=ConsentPolicyRule.OPTIN, validator=optional(of_type(ConsentPolicyRule))
    )
    custodians: tuple[ExternalRef, ...] = attrs.field(
        default=(), validator=[tuple_of(ExternalRef, unique=True), external_refs_of("Organization")]
    )

    def __attrs_post_init__(self) -> None:
        if self.contact_ids and self.scope is not ConsentScope.PATIENT_PRIVACY:
            raise ValidationError(
                "Consent.contact_ids: only a privacy consent names contacts to share with",
                field="contact_ids",
            )
        if self.categories and not self.contact_ids:
            raise ValidationError(
                "Consent.categories narrow what its contacts receive: name a contact",
                field="categories",
            )

    def permits(self, contact_id: ContactId, category: str, moment: datetime) -> bool:
        """Whether ``contact_id`` may receive ``category`` information at ``moment``."""
        ensure_aware(moment, "moment")
        return (
            self.status is ConsentStatus.ACTIVE
            and self.scope is ConsentScope.PATIENT_PRIVACY
            and contact_id in self.contact_ids
            and (not self.categories or category in self.categories)
            and (self.period is None or self.period.contains(moment))
        )

    def transition(
        self, to: ConsentStatus | str, *, by: StaffId, at: datetime, reason: str | None = None
    ) -> Self:
        """A copy moved to ``to`` (FHIR consent-state), with the move recorded."""
        step = CONSENT_MACHINE.transition(self.status, to, by=by, at=at, reason=reason)
        return attrs.evolve(self, status=step.to_status, history=(*self.history, step))
