"""The patient's language in notifications: templates per language, the fallback, Spanish and
English side by side, a host's own language, the interpreter need on staff notices."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from carecoord import (
    AccessDeniedError,
    Appointment,
    AppointmentId,
    Consent,
    ConsentId,
    ContactId,
    NotFoundError,
    ValidationError,
)
from carecoord.model import Notification, RecipientKind
from carecoord.model.social import CommunicationNeeds, ContactLanguage
from carecoord.notify import DEFAULT_RULES, Audience, NotificationRule
from carecoord.notify._spanish import SPANISH
from carecoord.notify.rules import Translation, with_language
from carecoord.service import CareCoordinator
from carecoord.storage import Store, UnitOfWork
from carecoord.testing import FixedClock
from world import COORD, DAUGHTER, MA, NURSE, OUTSIDER, PATIENT, T0, populate


def service_for(store: Store, **kwargs: object) -> CareCoordinator:
    clock = FixedClock(T0)
    service = CareCoordinator(store=store, clock=clock, **kwargs)  # type: ignore[arg-type]
    populate(service, clock)
    return service


def outbox(store: Store) -> list[Notification]:
    with UnitOfWork(store) as uow:
        return uow.all(Notification)


def spanish_patient_english_daughter(service: CareCoordinator, *, interpreter: bool) -> None:
    patient = service.patient(PATIENT, actor=COORD)
    service.update_patient(attrs.evolve(patient, language="es-MX"), actor=COORD)
    service.record_consent(
        Consent(
            id=ConsentId("consent-1"),
            patient_id=PATIENT,
            recorded_at=T0,
            recorded_by=COORD,
            contact_ids=(DAUGHTER,),
            categories=("appointments",),
        ),
        actor=COORD,
    )
    service.set_communication_needs(
        CommunicationNeeds(
            patient_id=PATIENT,
            recorded_at=T0,
            recorded_by=COORD,
            interpreter_needed=interpreter,
            contacts=(ContactLanguage(DAUGHTER, "en"),),
        ),
        actor=COORD,
    )


def book(service: CareCoordinator, *, actor: object = NURSE) -> None:
    service.schedule_appointment(
        Appointment(
            id=AppointmentId("a-1"),
            patient_id=PATIENT,
            start=T0 + timedelta(days=3),
            end=T0 + timedelta(days=3, hours=1),
            provider="Clinic",
            location="Somewhere",
        ),
        actor=actor,  # type: ignore[arg-type]
        status="booked",
    )


def test_spanish_patient_and_english_caregiver_each_get_their_language(any_store: Store) -> None:
    service = service_for(any_store)
    spanish_patient_english_daughter(service, interpreter=True)
    book(service)
    notes = {n.recipient_kind: n for n in outbox(any_store) if n.event == "AppointmentBooked"}
    patient, daughter, staff = (
        notes[RecipientKind.PATIENT],
        notes[RecipientKind.CONTACT],
        notes[RecipientKind.STAFF],
    )
    assert patient.subject == "Recordatorio de cita"  # es-MX falls back to es
    assert patient.body.startswith("Tiene una cita el 2026-11-26 12:00 CST")
    assert daughter.subject == "Appointment reminder"
    assert daughter.body.startswith("An appointment is booked on 2026-11-26 12:00 CST")
    # the team lead hears of the booking, with the interpreter's language
    assert staff.recipient_id == COORD
    assert "Interpreter needed (language): es-MX." in staff.body


def test_without_an_interpreter_need_the_staff_notice_says_so(any_store: Store) -> None:
    service = service_for(any_store)
    spanish_patient_english_daughter(service, interpreter=False)
    book(service)
    (staff,) = [n for n in outbox(any_store) if n.recipient_kind is RecipientKind.STAFF]
    assert "Interpreter needed (language): -." in staff.body


def test_a_contact_without_a_recorded_language_gets_the_patients(any_store: Store) -> None:
    service = service_for(any_store)
    spanish_patient_english_daughter(service, interpreter=False)
    service.set_communication_needs(
        CommunicationNeeds(patient_id=PATIENT, recorded_at=T0, recorded_by=COORD),
        actor=COORD,
    )
    book(service)
    bodies = {n.recipient_kind: n.body for n in outbox(any_store) if n.event == "AppointmentBooked"}
    assert bodies[RecipientKind.CONTACT].startswith("Hay una cita programada")


def test_a_language_without_templates_falls_back_to_the_rules_own(any_store: Store) -> None:
    service = service_for(any_store)
    patient = service.patient(PATIENT, actor=COORD)
    service.update_patient(attrs.evolve(patient, language="vi"), actor=COORD)
    book(service)
    (note,) = [n for n in outbox(any_store) if n.recipient_kind is RecipientKind.PATIENT]
    assert note.subject == "Appointment reminder"


def test_a_host_adds_a_language(any_store: Store) -> None:
    french = {
        "appointment-patient": ("Rappel de rendez-vous", "Vous avez un rendez-vous le {start}.")
    }
    service = service_for(any_store, notification_rules=with_language(DEFAULT_RULES, "fr", french))
    patient = service.patient(PATIENT, actor=COORD)
    service.update_patient(attrs.evolve(patient, language="fr-CA"), actor=COORD)
    book(service)
    (note,) = [n for n in outbox(any_store) if n.recipient_kind is RecipientKind.PATIENT]
    assert note.body == "Vous avez un rendez-vous le 2026-11-26 12:00 CST."


def test_every_shipped_rule_speaks_english_and_spanish() -> None:
    for rule in DEFAULT_RULES:
        assert rule.language == "en", rule.name
        assert "es" in {t.language for t in rule.translations}, rule.name
        spanish = rule.template_for("es")
        assert spanish.language == "es" and spanish.body != rule.body, rule.name
    assert set(SPANISH) == {rule.name for rule in DEFAULT_RULES}  # no stale or misspelt entry


def test_template_choice_and_checks() -> None:
    rule = NotificationRule(
        name="r",
        event="GoalAchieved",
        audience=Audience.TEAM_LEAD,
        subject="Goal {goal_id}",
        body="Achieved",
        translations=(
            Translation("es", "Objetivo {goal_id}", "Alcanzado"),
            Translation("pt-BR", "Meta {goal_id}", "Atingida"),
        ),
    )
    assert rule.template_for("ES").body == "Alcanzado"
    assert rule.template_for("pt-PT").body == "Atingida"  # same primary language
    assert rule.template_for("de").body == "Achieved"
    assert rule.template_for(None).body == "Achieved"
    with pytest.raises(ValidationError, match="unknown field"):
        with_language((rule,), "fr", {"r": ("But {nope}", "x")})
    with pytest.raises(ValidationError, match="no rule named"):
        with_language((rule,), "fr", {"missing": ("a", "b")})
    with pytest.raises(ValidationError, match="given twice"):
        attrs.evolve(rule, translations=(*rule.translations, Translation("ES", "a", "b")))
    replaced = with_language((rule,), "es", {"r": ("Meta", "Lograda")})[0]
    assert replaced.template_for("es").body == "Lograda"
    assert len(replaced.translations) == 2


def test_communication_needs_rules_and_access(any_store: Store) -> None:
    service = service_for(any_store)
    with pytest.raises(ValidationError, match="only set when"):
        CommunicationNeeds(
            patient_id=PATIENT,
            recorded_at=T0,
            recorded_by=COORD,
            interpreter_language="es",
        )
    with pytest.raises(ValidationError, match="BCP-47"):
        ContactLanguage(DAUGHTER, "not a tag")
    with pytest.raises(NotFoundError):
        service.set_communication_needs(
            CommunicationNeeds(
                patient_id=PATIENT,
                recorded_at=T0,
                recorded_by=COORD,
                contacts=(ContactLanguage(ContactId("stranger"), "en"),),
            ),
            actor=COORD,
        )
    needs = CommunicationNeeds(
        patient_id=PATIENT,
        recorded_at=T0,
        recorded_by=COORD,
        interpreter_needed=True,
        interpreter_language="es",
    )
    with pytest.raises(AccessDeniedError):
        service.set_communication_needs(needs, actor=OUTSIDER)
    assert service.communication_needs_of(PATIENT, actor=MA) is None
    service.set_communication_needs(needs, actor=COORD)
    assert service.communication_needs_of(PATIENT, actor=MA) == needs
    assert needs.interpreter_for_patient("en") == "es"
    assert "es" in repr(needs)
