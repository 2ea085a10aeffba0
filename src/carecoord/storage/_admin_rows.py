"""The patient administration record kinds and their index rows (registered in :mod:`.records`).

Pure: imports only the model. The administration worklist runs on these rows;
none decodes a coverage, an authorisation, a form or a payment plan:

==================  ====================  ==============================================
category            ``owner_id``          row
==================  ====================  ==============================================
``coverage``        who recorded it       ``status`` the coverage status, open while
                                          active, ``due_at`` the period's end,
                                          ``priority`` minus the order of benefit
``authorization``   who requested it      ``status`` the authorisation status, open while
                                          pending or approved, ``due_at`` what is due
                                          next (submit by, decision due, expiry),
                                          ``changed_at`` the last change
``form``            the staff helper      ``status`` the form status, open until accepted
                                          or cancelled, ``due_at`` its due time,
                                          ``detail`` the form type
``instalment``      who agreed the plan   one per instalment (``item_id``
                                          ``<plan>/<number>``): ``due_at`` its due time,
                                          open while unpaid and the plan not cancelled,
                                          ``status`` paid/due, ``changed_at`` when paid
``material``        none                  ``status`` the language, open while active,
                                          ``detail`` the format
``education``       who taught            ``status`` the teach-back result,
                                          ``changed_at`` when, ``detail`` the material
``screening``       who screened          ``changed_at`` when, ``status`` raised/clear
==================  ====================  ==============================================

:class:`~carecoord.model.social.CommunicationNeeds` and
:class:`~carecoord.model.social.SocialContext` have no rows (each is read by
the patient's id).
"""

from __future__ import annotations

from typing import Any

from .._fastcodec import builder
from ..model.administration import (
    AuthorizationStatus,
    Coverage,
    CoverageStatus,
    PriorAuthorization,
)
from ..model.education import EducationMaterial, EducationSession
from ..model.paperwork import OPEN_FORM, PatientForm, PaymentPlan
from ..model.social import CommunicationNeeds, ScreeningResponse, SocialContext
from .port import IndexRow

__all__ = ["ADMIN_RECORD_TYPES", "admin_rows"]

ADMIN_RECORD_TYPES: tuple[type[Any], ...] = (
    CommunicationNeeds,
    Coverage,
    PriorAuthorization,
    PatientForm,
    PaymentPlan,
    EducationMaterial,
    EducationSession,
    SocialContext,
    ScreeningResponse,
)
"""The administration record kinds (part of :data:`~carecoord.storage.RECORD_TYPES`)."""

_OPEN_AUTHORIZATION = frozenset(
    {AuthorizationStatus.DRAFT, AuthorizationStatus.SUBMITTED, AuthorizationStatus.APPROVED}
)


def admin_rows(record: object) -> tuple[IndexRow, ...]:
    """The index rows of an administration record (empty for any other record)."""
    row = builder(IndexRow)  # every datetime here is a model one (aware)
    match record:
        case Coverage():
            return (
                row(
                    category="coverage",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.recorded_by),
                    status=record.status._value_,
                    is_open=record.status is CoverageStatus.ACTIVE,
                    priority=-record.order,
                    due_at=record.period.end,
                    changed_at=record.period.start,
                    detail=record.relationship._value_,
                ),
            )
        case PriorAuthorization():
            history = record.history
            return (
                row(
                    category="authorization",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.requested_by),
                    status=record.status._value_,
                    is_open=record.status in _OPEN_AUTHORIZATION,
                    priority=0,
                    due_at=record.next_due,
                    changed_at=history[-1].at if history else record.created_at,
                    detail=str(record.coverage_id),
                ),
            )
        case PatientForm():
            steps = record.history
            return (
                row(
                    category="form",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=None if record.helper_id is None else str(record.helper_id),
                    status=record.status._value_,
                    is_open=record.status in OPEN_FORM,
                    priority=0,
                    due_at=record.due,
                    changed_at=steps[-1].at if steps else record.created_at,
                    detail=record.form_type._value_,
                ),
            )
        case PaymentPlan():
            live = record.cancelled_at is None
            return tuple(
                row(
                    category="instalment",
                    item_id=f"{record.id}/{item.number}",
                    patient_id=str(record.patient_id),
                    owner_id=str(record.agreed_by),
                    status="paid" if item.paid_at is not None else "due",
                    is_open=live and item.paid_at is None,
                    priority=0,
                    due_at=item.due_at,
                    changed_at=item.paid_at,
                    detail=str(item.amount),
                )
                for item in record.instalments
            )
        case EducationMaterial():
            return (
                row(
                    category="material",
                    item_id=str(record.id),
                    patient_id=None,
                    owner_id=None,
                    status=record.language,
                    is_open=record.active,
                    priority=0,
                    due_at=None,
                    changed_at=None,
                    detail=record.format._value_,
                ),
            )
        case EducationSession():
            return (
                row(
                    category="education",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.given_by),
                    status=record.result._value_,
                    is_open=False,
                    priority=0,
                    due_at=None,
                    changed_at=record.given_at,
                    detail=str(record.material_id),
                ),
            )
        case ScreeningResponse():
            return (
                row(
                    category="screening",
                    item_id=str(record.id),
                    patient_id=str(record.patient_id),
                    owner_id=str(record.recorded_by),
                    status="raised" if record.barrier_ids or record.need_ids else "clear",
                    is_open=False,
                    priority=0,
                    due_at=None,
                    changed_at=record.at,
                    detail=None,
                ),
            )
        case _:
            return ()
