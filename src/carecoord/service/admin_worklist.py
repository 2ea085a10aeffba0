"""The administration worklist: authorisations pending or expiring, overdue forms, missed
instalments.

Served from index rows only (no authorisation, form or payment plan is
decoded); items of patients the actor may not read are left out, as in the
caseload worklists.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum

import attrs

from ..model import StaffId, ValidationError
from ..model._base import ensure_aware, instant
from ..model.audit import AuditAction
from ..storage.port import IndexHit, WorkQuery
from . import _access
from .runner import Context, operation

__all__ = ["AdminItem", "AdminItemKind", "AdminWorklist", "administration_worklist"]


class AdminItemKind(StrEnum):
    """Why an item is on the administration worklist."""

    AUTHORIZATION_PENDING = "authorization-pending"
    """A prior authorisation not sent yet or waiting for the payer."""
    AUTHORIZATION_EXPIRING = "authorization-expiring"
    """An approved authorisation that runs out soon (or ran out lately)."""
    FORM_OVERDUE = "form-overdue"
    """A form past its due time and not submitted."""
    INSTALMENT_MISSED = "instalment-missed"
    """An instalment of a payment plan past its due time and not paid."""


@attrs.frozen
class AdminItem:
    """One worklist entry: ids, codes and times only.

    ``overdue``: its due time has passed (a draft not submitted by its
    deadline, a decision later than due, an expired approval).
    """

    kind: AdminItemKind
    patient_id: str
    record_id: str
    item_id: str
    status: str
    due_at: datetime | None
    owner_id: str | None
    overdue: bool


@attrs.frozen
class AdminWorklist:
    """The administration worklist at ``as_of``, each part most urgent first."""

    as_of: datetime
    authorizations_pending: tuple[AdminItem, ...]
    authorizations_expiring: tuple[AdminItem, ...]
    forms_overdue: tuple[AdminItem, ...]
    instalments_missed: tuple[AdminItem, ...]

    @property
    def items(self) -> tuple[AdminItem, ...]:
        """Every item, part after part."""
        return (
            *self.authorizations_pending,
            *self.authorizations_expiring,
            *self.forms_overdue,
            *self.instalments_missed,
        )


def _items(
    ctx: Context, kind: AdminItemKind, hits: Iterable[IndexHit], moment: datetime
) -> tuple[AdminItem, ...]:
    can_read = _access.readable(ctx)
    found = list(hits)
    can_read.prefetch(hit.row.patient_id for hit in found)
    items = [
        AdminItem(
            kind=kind,
            patient_id=hit.row.patient_id or "",
            record_id=hit.record_id,
            item_id=hit.row.item_id,
            status=hit.row.status,
            due_at=hit.row.due_at,
            owner_id=hit.row.owner_id,
            overdue=hit.row.due_at is not None and instant(hit.row.due_at) <= instant(moment),
        )
        for hit in found
        if can_read(hit.row.patient_id or "")
    ]
    return tuple(items)


@operation(AuditAction.READ)
def administration_worklist(
    ctx: Context,
    now: datetime | None = None,
    expiring_within: timedelta = timedelta(days=30),
    owner_id: StaffId | None = None,
) -> AdminWorklist:
    """What needs administrative work at ``now`` (default: the clock's time).

    * authorisations pending (draft or submitted), whatever their due times;
    * approved authorisations that run out within ``expiring_within`` of
      ``now`` or ran out at most that long ago;
    * forms due by ``now`` and still needed, in progress or rejected;
    * instalments due by ``now`` and not paid.

    ``owner_id`` keeps the items of one staff member (who requested the
    authorisation, helps with the form, agreed the payment plan). Only
    patients the actor may read are shown.
    """
    moment = ensure_aware(now, "now") if now is not None else ctx.now
    if expiring_within < timedelta(0):
        raise ValidationError("expiring_within must not be negative", field="expiring_within")
    ctx.grant(ctx.purpose)  # every item is filtered by the actor's own read right
    owners = None if owner_id is None else (str(owner_id),)
    query = ctx.uow.query
    pending = query(
        WorkQuery(category="authorization", owner_ids=owners, statuses=("draft", "submitted"))
    )
    expiring = query(
        WorkQuery(
            category="authorization",
            owner_ids=owners,
            statuses=("approved",),
            due_from=moment - expiring_within,
            due_before=moment + expiring_within,
        )
    )
    forms = query(
        WorkQuery(
            category="form",
            owner_ids=owners,
            statuses=("needed", "in-progress", "rejected"),
            due_before=moment,
        )
    )
    instalments = query(WorkQuery(category="instalment", owner_ids=owners, due_before=moment))
    return AdminWorklist(
        as_of=moment,
        authorizations_pending=_items(ctx, AdminItemKind.AUTHORIZATION_PENDING, pending, moment),
        authorizations_expiring=_items(ctx, AdminItemKind.AUTHORIZATION_EXPIRING, expiring, moment),
        forms_overdue=_items(ctx, AdminItemKind.FORM_OVERDUE, forms, moment),
        instalments_missed=_items(ctx, AdminItemKind.INSTALMENT_MISSED, instalments, moment),
    )
