"""The transactional outbox: notifications planned into the unit of work of their change.

Each domain event an operation records is matched against the notification
rules; the notifications they call for are added to the same unit of work, so
they are committed together with the change or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from .. import events as ev
from ..model import (
    CarePlan,
    CareTeam,
    CareTeamStatus,
    Consent,
    ContactChannel,
    NotFoundError,
    Patient,
    StaffMember,
)
from ..model.outbox import RecipientKind
from ..notify.rules import Audience, NotificationRule, Recipient, plan_notifications
from ..storage.uow import UnitOfWork
from ._language import contact_languages, language_context

__all__ = ["plan", "reachable"]


def plan(uow: UnitOfWork, now: datetime, rules: Sequence[NotificationRule]) -> None:
    """Add the notifications the unit's pending events call for to the unit itself."""
    for event in uow.pending_events:
        if not isinstance(event, ev.DomainEvent):
            continue
        for note in plan_notifications(
            event,
            rules,
            lambda rule, e: _recipients(uow, now, rule, e),
            now=now,
            details=lambda e: _details(uow, e),
            context=lambda e: language_context(uow, e.patient_id),
        ):
            if not uow.has_pending(note) and uow.find(type(note), note.id) is None:
                uow.add(note)


def _recipients(
    uow: UnitOfWork, now: datetime, rule: NotificationRule, event: ev.DomainEvent
) -> list[Recipient]:
    staff_ids: list[str] = []
    match rule.audience:
        case Audience.ASSIGNEE:
            staff_ids = [v for v in [getattr(event, "assignee_id", None)] if v]
        case Audience.OWNER:
            staff_ids = [v for v in [getattr(event, "owner_id", None)] if v]
        case Audience.TEAM_LEAD:
            if event.patient_id:
                staff_ids = [
                    str(t.lead_id)
                    for t in uow.all(CareTeam, patient_id=event.patient_id)
                    if t.status is CareTeamStatus.ACTIVE
                ]
        case Audience.SUPERVISOR:
            base = getattr(event, "assignee_id", None) or getattr(event, "owner_id", None)
            member = uow.find(StaffMember, base) if base else None
            if member is not None and member.supervisor_id is not None:
                staff_ids = [str(member.supervisor_id)]
        case Audience.PATIENT | Audience.CONTACTS:
            return _patient_recipients(uow, now, rule, event)
    found: list[Recipient] = []
    for staff_id in dict.fromkeys(staff_ids):
        if staff_id == event.actor:
            continue  # nobody is told about what they just did themselves
        member = uow.find(StaffMember, staff_id)
        if member is None or not member.active:
            continue
        found.append(
            Recipient(
                kind=RecipientKind.STAFF,
                id=str(member.id),
                time_zone=member.time_zone,
                preferences=member.preferences,
                channels=reachable(member.telecom),
            )
        )
    return found


def _patient_recipients(
    uow: UnitOfWork, now: datetime, rule: NotificationRule, event: ev.DomainEvent
) -> list[Recipient]:
    if not event.patient_id:
        return []
    patient = uow.find(Patient, event.patient_id)
    if patient is None:
        return []
    if rule.audience is Audience.PATIENT:
        return [
            Recipient(
                kind=RecipientKind.PATIENT,
                id=str(patient.id),
                time_zone=patient.time_zone,
                preferences=patient.preferences,
                channels=reachable(
                    patient.telecom,
                    portal=ContactChannel.PORTAL in patient.preferences.channels,
                ),
                language=patient.language,
            )
        ]
    languages = contact_languages(uow, patient)
    consents = uow.all(Consent, patient_id=str(patient.id))
    found = []
    for contact in patient.contacts:
        if not contact.may_receive_information:
            continue
        if not any(c.permits(contact.id, rule.category, now) for c in consents):
            continue
        found.append(
            Recipient(
                kind=RecipientKind.CONTACT,
                id=str(contact.id),
                time_zone=patient.time_zone,
                preferences=contact.preferences,
                channels=reachable(
                    contact.telecom,
                    portal=ContactChannel.PORTAL in contact.preferences.channels,
                ),
                language=languages.get(contact.id, patient.language),
            )
        )
    return found


def _details(uow: UnitOfWork, event: ev.DomainEvent) -> str | None:
    plan_id = getattr(event, "plan_id", None)
    if plan_id is None:
        return None
    care_plan = uow.find(CarePlan, plan_id)
    if care_plan is None:
        return None
    for attr, finder in (
        ("intervention_id", care_plan.intervention),
        ("goal_id", care_plan.goal),
    ):
        item_id = getattr(event, attr, None)
        if item_id is not None:
            try:
                return str(finder(item_id).description)
            except NotFoundError:
                return None
    return None


def reachable(telecom: Iterable[Any], *, portal: bool = True) -> tuple[ContactChannel, ...]:
    """Channels a person can be reached on: those with an address (plus the portal)."""
    channels = [p.channel for p in telecom]
    if portal:
        channels.append(ContactChannel.PORTAL)
    return tuple(dict.fromkeys(channels))
