"""The shipped notification rules in Spanish: rule name -> (subject, body).

Same placeholders as the English rules in :mod:`carecoord.notify.rules`.
Applied to :data:`~carecoord.notify.DEFAULT_RULES` with
:func:`~carecoord.notify.rules.with_language`; a host adds a language the same way.
"""

from __future__ import annotations

__all__ = ["SPANISH"]

SPANISH: dict[str, tuple[str, str]] = {
    "task-assigned": (
        "Nueva tarea para el paciente {patient_id}",
        "La intervención {intervention_id} del plan de cuidados {plan_id} se le ha asignado "
        "(prioridad {priority}, vence {due_at}). Ábrala en su lista de trabajo.",
    ),
    "task-overdue": (
        "Tarea vencida del paciente {patient_id}",
        "La intervención {intervention_id} del plan de cuidados {plan_id} vencía {due_at}.",
    ),
    "task-escalated-supervisor": (
        "Escalado: tarea vencida hace {days_overdue} días",
        "La intervención {intervention_id} (paciente {patient_id}, plan {plan_id}) asignada a "
        "{assignee_id} lleva {days_overdue} días vencida.",
    ),
    "task-escalated-lead": (
        "Escalado: tarea vencida hace {days_overdue} días",
        "La intervención {intervention_id} (paciente {patient_id}, plan {plan_id}) asignada a "
        "{assignee_id} lleva {days_overdue} días vencida.",
    ),
    "review-due": (
        "Revisión del plan de cuidados pendiente para el paciente {patient_id}",
        "El plan de cuidados {plan_id} debe revisarse desde {due_at}.",
    ),
    "referral-stalled": (
        "Derivación sin respuesta desde hace {days_without_change} días",
        "La derivación {referral_id} del paciente {patient_id} no ha cambiado desde "
        "{last_changed_at}. Haga seguimiento con la organización receptora.",
    ),
    "goal-achieved": (
        "Objetivo alcanzado por el paciente {patient_id}",
        "El objetivo {goal_id} del plan de cuidados {plan_id} se ha alcanzado.",
    ),
    "emergency-access": (
        "Acceso de emergencia al paciente {patient_id}",
        "{staff_id} usó el acceso de emergencia a los registros del paciente {patient_id} "
        "hasta {expires_at}. Revise el registro de auditoría.",
    ),
    "appointment-patient": (
        "Recordatorio de cita",
        "Tiene una cita el {start}. Comuníquese con su equipo de atención si necesita ayuda "
        "para llegar.",
    ),
    "appointment-contacts": (
        "Recordatorio de cita",
        "Hay una cita programada el {start}. Comuníquese con el equipo de atención si tiene "
        "preguntas.",
    ),
    "appointment-staff": (
        "Cita programada para el paciente {patient_id}",
        "La cita {appointment_id} del paciente {patient_id} es el {start}. "
        "Intérprete necesario (idioma): {interpreter}.",
    ),
    "shift-reminder": (
        "Recordatorio de turno: {role} en {location_id}",
        "Su turno {kind} como {role} en {location_id} empieza {start} y termina {end}.",
    ),
    "competency-expiring": (
        "La competencia {competency_id} vence pronto",
        "Su competencia {competency_id} vence {expires_at}: renuévela y pida que la validen.",
    ),
    "competency-expiring-supervisor": (
        "La competencia {competency_id} de {owner_id} vence pronto",
        "La competencia {competency_id} de {owner_id} vence {expires_at}.",
    ),
    "competency-expired": (
        "La competencia {competency_id} ha vencido",
        "Su competencia {competency_id} venció {expired_at}: no se le puede asignar trabajo "
        "que la requiera hasta que se renueve.",
    ),
    "competency-expired-supervisor": (
        "La competencia {competency_id} de {owner_id} ha vencido",
        "La competencia {competency_id} de {owner_id} venció {expired_at}.",
    ),
    "measurement-out-of-range": (
        "Resultado para revisar del paciente {patient_id}",
        "La medición {measurement_id} ({code}) tomada {at} está marcada como "
        "{interpretation}. Revísela en su lista de trabajo.",
    ),
    "stock-low": (
        "Existencias bajas: {item_id} en {location_id}",
        "Quedan {usable} utilizables (punto de pedido {reorder_point}). Vuelva a pedirlo "
        "desde la lista de pedidos.",
    ),
    "assigned-off-duty": (
        "Trabajo asignado a {assignee_id} fuera de turno",
        "La intervención {intervention_id} (paciente {patient_id}, plan {plan_id}) vence "
        "{due_at}, cuando {assignee_id} no está de turno. Reasígnela o ajuste el cuadrante.",
    ),
}
"""Spanish subject and body of every shipped rule, by rule name."""
