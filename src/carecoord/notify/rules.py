"""Notification rules: which domain events become which messages, to whom, how and when.

Rules are plain data (:class:`NotificationRule`); hosts pass their own tuple to
the service instead of :data:`DEFAULT_RULES`. The planning function is pure:
given an event, the rules and the resolved recipients it returns the
:class:`~carecoord.model.outbox.Notification` records to write to the outbox in
the same unit of work as the change.

Templates are :meth:`str.format` strings over the event's fields, which are
identifiers, codes and times — never clinical detail. Datetimes are shown in
the recipient's own time zone. A rule with ``include_clinical_detail=True``
also gets ``{description}`` (the free-text description of the intervention,
goal or referral concerned); use it only where the channel is secure.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from ..events import DomainEvent, event_types
from ..model import ContactChannel, ContactPreferences, ValidationError
from ..model.outbox import Notification, RecipientKind, stable_id
from ._language import Translation, choose_template
from ._spanish import SPANISH

__all__ = [
    "ADMINISTRATION_RULES",
    "CLINIC_RULES",
    "CONTEXT_FIELDS",
    "DEFAULT_RULES",
    "WORKFORCE_RULES",
    "Audience",
    "NotificationRule",
    "Recipient",
    "Translation",
    "plan_notifications",
    "with_language",
]


class Audience(StrEnum):
    """Who a rule notifies, relative to the event."""

    ASSIGNEE = "assignee"
    """The staff member in the event's ``assignee_id``."""
    OWNER = "owner"
    """The staff member in the event's ``owner_id`` (plan author, referral requester)."""
    TEAM_LEAD = "team-lead"
    """The leads of the patient's active care teams."""
    SUPERVISOR = "supervisor"
    """The supervisor of the assignee (or owner): escalation."""
    PATIENT = "patient"
    """The patient."""
    CONTACTS = "contacts"
    """Contacts who may receive information and whose consent covers the rule's category."""


@attrs.frozen
class Recipient:
    """A resolved recipient: who, their zone and preferences, and channels with an address.

    ``language`` (a BCP-47 tag; ``None``: the rule's own) picks the template
    (:meth:`NotificationRule.template_for`).
    """

    kind: RecipientKind
    id: str
    time_zone: str
    preferences: ContactPreferences
    channels: tuple[ContactChannel, ...]
    language: str | None = None


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@attrs.frozen
class NotificationRule:
    """When ``event`` happens, tell ``audience`` with ``subject``/``body`` over ``channel``.

    ``channel`` is used when none of the recipient's preferred channels can be
    reached. ``category`` is what consent must cover for contacts.
    ``subject``/``body`` are in ``language``; ``translations`` give them in
    further languages (see :func:`with_language`). Templates may also use the
    :data:`CONTEXT_FIELDS`.
    """

    name: str
    event: str
    audience: Audience
    subject: str
    body: str
    channel: ContactChannel = ContactChannel.PORTAL
    category: str = "care-plan"
    include_clinical_detail: bool = False
    language: str = "en"
    translations: tuple[Translation, ...] = ()

    def __attrs_post_init__(self) -> None:
        known = event_types()
        if self.event not in known:
            raise ValidationError(f"rule {self.name}: unknown event type {self.event}")
        fields = {f.name for f in attrs.fields(known[self.event])} | CONTEXT_FIELDS
        if self.include_clinical_detail:
            fields.add("description")
        templates = (self.own, *self.translations)
        if len({t.language.casefold() for t in templates}) != len(templates):
            raise ValidationError(f"rule {self.name}: a language is given twice")
        for template in templates:
            unknown = (_placeholders(template.subject) | _placeholders(template.body)) - fields
            if unknown:
                raise ValidationError(
                    f"rule {self.name}: template uses unknown field(s) {', '.join(sorted(unknown))}"
                )

    @property
    def own(self) -> Translation:
        """The rule's own subject and body, in its ``language``."""
        return Translation(self.language, self.subject, self.body)

    def template_for(self, language: str | None) -> Translation:
        """The subject and body for a recipient speaking ``language``: the same tag, else
        the same primary language (``es`` for ``es-MX``), else the rule's own."""
        return choose_template(self.own, self.translations, language)


CONTEXT_FIELDS: frozenset[str] = frozenset({"interpreter"})
"""Placeholders every rule may use besides its event's fields, filled from the patient's
records when the notification is planned: ``interpreter`` is the language tag an
interpreter for the patient must speak (``-`` when none is needed)."""


def with_language(
    rules: Sequence[NotificationRule],
    language: str,
    templates: Mapping[str, tuple[str, str]],
    *,
    strict: bool = True,
) -> tuple[NotificationRule, ...]:
    """``rules`` with ``templates`` (rule name -> (subject, body)) added in ``language``.

    A translation already given in that language is replaced; rules not named
    keep what they have (and fall back to their own template). Naming a rule
    that is not in ``rules`` raises :class:`ValidationError` unless ``strict``
    is false (a shared table applied to a subset of rules).
    """
    unknown = sorted(set(templates) - {rule.name for rule in rules})
    if unknown and strict:
        raise ValidationError(f"no rule named {', '.join(unknown)}")
    added: list[NotificationRule] = []
    for rule in rules:
        if rule.name not in templates:
            added.append(rule)
            continue
        subject, body = templates[rule.name]
        new = Translation(language, subject, body)
        kept = tuple(
            t for t in rule.translations if t.language.casefold() != new.language.casefold()
        )
        added.append(attrs.evolve(rule, translations=(*kept, new)))
    return tuple(added)


ADMINISTRATION_RULES: tuple[NotificationRule, ...] = (
    NotificationRule(
        name="appointment-staff",
        event="AppointmentBooked",
        audience=Audience.TEAM_LEAD,
        subject="Appointment booked for patient {patient_id}",
        body=(
            "Appointment {appointment_id} of patient {patient_id} is on {start}. "
            "Interpreter needed (language): {interpreter}."
        ),
        category="appointments",
    ),
)
"""Patient administration notifications (part of :data:`DEFAULT_RULES`): the staff notice
of a booked appointment (``AppointmentBooked``: created booked, booked into a slot or moved
to booked; a merely proposed appointment is not announced), which shows an interpreter
need."""


WORKFORCE_RULES: tuple[NotificationRule, ...] = (
    NotificationRule(
        name="shift-reminder",
        event="ShiftReminder",
        audience=Audience.OWNER,
        subject="Shift reminder: {role} at {location_id}",
        body="Your {kind} shift as {role} at {location_id} starts {start} and ends {end}.",
    ),
    NotificationRule(
        name="competency-expiring",
        event="CompetencyExpiring",
        audience=Audience.OWNER,
        subject="Competency {competency_id} expires soon",
        body="Your {competency_id} competency expires {expires_at}: renew it and have it "
        "signed off.",
    ),
    NotificationRule(
        name="competency-expiring-supervisor",
        event="CompetencyExpiring",
        audience=Audience.SUPERVISOR,
        subject="Competency {competency_id} of {owner_id} expires soon",
        body="The {competency_id} competency of {owner_id} expires {expires_at}.",
    ),
    NotificationRule(
        name="competency-expired",
        event="CompetencyExpired",
        audience=Audience.OWNER,
        subject="Competency {competency_id} expired",
        body="Your {competency_id} competency expired {expired_at}: work that needs it "
        "cannot be assigned to you until it is renewed.",
    ),
    NotificationRule(
        name="competency-expired-supervisor",
        event="CompetencyExpired",
        audience=Audience.SUPERVISOR,
        subject="Competency {competency_id} of {owner_id} expired",
        body="The {competency_id} competency of {owner_id} expired {expired_at}.",
    ),
    NotificationRule(
        name="assigned-off-duty",
        event="AssignedOffDuty",
        audience=Audience.SUPERVISOR,
        subject="Work assigned to {assignee_id} while off duty",
        body=(
            "Intervention {intervention_id} (patient {patient_id}, plan {plan_id}) is due "
            "{due_at}, when {assignee_id} is not on duty. Reassign it or adjust the rota."
        ),
    ),
)
"""Staffing notifications: shift reminders, expiring and expired competencies, work assigned
to someone off duty (part of :data:`DEFAULT_RULES`)."""

CLINIC_RULES: tuple[NotificationRule, ...] = (
    NotificationRule(
        name="measurement-out-of-range",
        event="MeasurementOutOfRange",
        audience=Audience.OWNER,
        subject="Result to review for patient {patient_id}",
        body="Measurement {measurement_id} ({code}) taken {at} is flagged {interpretation}. "
        "Review it on your worklist.",
    ),
    NotificationRule(
        name="stock-low",
        event="StockLow",
        audience=Audience.OWNER,
        subject="Low stock: {item_id} at {location_id}",
        body="{usable} usable left (reorder point {reorder_point}). Reorder it from the "
        "reorder worklist.",
    ),
)
"""Clinic notifications: results to review, low stock (part of :data:`DEFAULT_RULES`)."""

DEFAULT_RULES: tuple[NotificationRule, ...] = (
    NotificationRule(
        name="task-assigned",
        event="InterventionAssigned",
        audience=Audience.ASSIGNEE,
        subject="New task for patient {patient_id}",
        body=(
            "Intervention {intervention_id} in care plan {plan_id} is assigned to you "
            "(priority {priority}, due {due_at}). Open it in your worklist."
        ),
    ),
    NotificationRule(
        name="task-overdue",
        event="InterventionOverdue",
        audience=Audience.ASSIGNEE,
        subject="Overdue task for patient {patient_id}",
        body="Intervention {intervention_id} in care plan {plan_id} was due {due_at}.",
    ),
    NotificationRule(
        name="task-escalated-supervisor",
        event="InterventionEscalated",
        audience=Audience.SUPERVISOR,
        subject="Escalation: task overdue {days_overdue} days",
        body=(
            "Intervention {intervention_id} (patient {patient_id}, plan {plan_id}) assigned to "
            "{assignee_id} is {days_overdue} days overdue."
        ),
    ),
    NotificationRule(
        name="task-escalated-lead",
        event="InterventionEscalated",
        audience=Audience.TEAM_LEAD,
        subject="Escalation: task overdue {days_overdue} days",
        body=(
            "Intervention {intervention_id} (patient {patient_id}, plan {plan_id}) assigned to "
            "{assignee_id} is {days_overdue} days overdue."
        ),
    ),
    NotificationRule(
        name="review-due",
        event="ReviewDue",
        audience=Audience.OWNER,
        subject="Care plan review due for patient {patient_id}",
        body="Care plan {plan_id} is due for review since {due_at}.",
    ),
    NotificationRule(
        name="referral-stalled",
        event="ReferralStalled",
        audience=Audience.OWNER,
        subject="Referral without answer for {days_without_change} days",
        body=(
            "Referral {referral_id} for patient {patient_id} has not changed since "
            "{last_changed_at}. Follow up with the receiving organisation."
        ),
    ),
    NotificationRule(
        name="goal-achieved",
        event="GoalAchieved",
        audience=Audience.TEAM_LEAD,
        subject="Goal achieved for patient {patient_id}",
        body="Goal {goal_id} in care plan {plan_id} is achieved.",
    ),
    NotificationRule(
        name="emergency-access",
        event="EmergencyAccessGranted",
        audience=Audience.TEAM_LEAD,
        subject="Emergency access to patient {patient_id}",
        body=(
            "{staff_id} used emergency access to the records of patient {patient_id} "
            "until {expires_at}. Review the audit trail."
        ),
    ),
    NotificationRule(
        name="appointment-patient",
        event="AppointmentBooked",
        audience=Audience.PATIENT,
        subject="Appointment reminder",
        body=(
            "You have an appointment on {start}. Contact your care team if you need help "
            "getting there."
        ),
        channel=ContactChannel.SMS,
        category="appointments",
    ),
    NotificationRule(
        name="appointment-contacts",
        event="AppointmentBooked",
        audience=Audience.CONTACTS,
        subject="Appointment reminder",
        body="An appointment is booked on {start}. Contact the care team with any questions.",
        channel=ContactChannel.SMS,
        category="appointments",
    ),
    *WORKFORCE_RULES,
    *CLINIC_RULES,
    *ADMINISTRATION_RULES,
)
"""The rules the service uses unless the host passes its own (:data:`WORKFORCE_RULES` last),
in English with Spanish translations (:func:`with_language`)."""
DEFAULT_RULES = with_language(DEFAULT_RULES, "es", SPANISH, strict=False)


def _render(template: str, values: Mapping[str, Any], zone: ZoneInfo) -> str:
    shown: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            shown[key] = value.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
        elif value is None:
            shown[key] = "-"
        else:
            shown[key] = str(value)
    return template.format_map(shown)


def _choose_channel(rule: NotificationRule, recipient: Recipient) -> ContactChannel:
    """The recipient's first preferred reachable channel, else the rule's, else any reachable."""
    for channel in recipient.preferences.channels:
        if channel in recipient.channels:
            return channel
    if rule.channel in recipient.channels or not recipient.channels:
        return rule.channel
    return recipient.channels[0]


def plan_notifications(
    event: DomainEvent,
    rules: Sequence[NotificationRule],
    recipients: Callable[[NotificationRule, DomainEvent], Sequence[Recipient]],
    *,
    now: datetime,
    details: Callable[[DomainEvent], str | None] = lambda _event: None,
    context: Callable[[DomainEvent], Mapping[str, Any]] = lambda _event: {},
) -> list[Notification]:
    """The notifications ``event`` calls for under ``rules``.

    ``recipients`` resolves a rule's audience for the event (the service does
    this with what it has loaded). Delivery is deferred, not dropped, while the
    recipient is in quiet hours: ``next_attempt_at`` is the end of the window in
    the recipient's zone. Notification ids are stable for (rule, event,
    recipient), so planning the same event twice yields the same ids. Each
    recipient gets the template of their language (:meth:`NotificationRule.template_for`);
    ``context`` gives the values of the :data:`CONTEXT_FIELDS` for the event.
    """
    planned: list[Notification] = []
    values = {f.name: getattr(event, f.name) for f in attrs.fields(type(event))}
    extra: dict[str, Any] | None = None
    identity = "|".join(f"{k}={values[k]!s}" for k in sorted(values))
    for rule in rules:
        if rule.event != event.name:
            continue
        if extra is None:  # read once per event, only when a rule matches
            extra = dict.fromkeys(CONTEXT_FIELDS) | dict(context(event))
        fields = extra | values
        if rule.include_clinical_detail:
            fields["description"] = details(event) or "-"
        for recipient in recipients(rule, event):
            template = rule.template_for(recipient.language)
            zone = ZoneInfo(recipient.time_zone)
            send_at = now
            quiet = recipient.preferences.quiet_hours
            if quiet is not None:
                send_at = quiet.next_allowed(now, recipient.time_zone)
            planned.append(
                Notification(
                    id=stable_id(rule.name, identity, recipient.kind.value, recipient.id),
                    event=event.name,
                    recipient_kind=recipient.kind,
                    recipient_id=recipient.id,
                    channel=_choose_channel(rule, recipient),
                    subject=_render(template.subject, fields, zone),
                    body=_render(template.body, fields, zone),
                    created_at=now,
                    next_attempt_at=send_at,
                    patient_id=event.patient_id,
                    deferred_for_quiet_hours=send_at != now,
                )
            )
    return planned
