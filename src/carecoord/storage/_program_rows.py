"""The programs-and-community-resources record kinds and their index rows
(registered in :mod:`.records`).

Pure: imports only the model. A directory search reads the rows of the need
categories it asks for, never a service record:

=====================  ==================  ==============================================
category               ``owner_id``        row
=====================  ==================  ==============================================
``directory-service``  a Gravity SDOH      one per (need category, location) of a service:
                       category code       ``item_id`` ``service|location``, ``status``
                                           ``active`` or ``closed``, open while active,
                                           ``detail`` the
                                           :class:`~carecoord.model.directory.DirectoryFacts`
``directory-change``   the service id      one per service: ``status`` ``active`` or
                                           ``closed``, ``changed_at`` the service's
                                           ``changed_at`` (when it last closed or changed
                                           its needs, locations or hours)
=====================  ==================  ==============================================
"""

from __future__ import annotations

from typing import Any

from .._fastcodec import builder
from ..model.directory import DirectoryFacts, DirectoryService
from .port import IndexRow

__all__ = [
    "DIRECTORY_CATEGORY",
    "DIRECTORY_CHANGE",
    "PROGRAM_RECORD_TYPES",
    "change_rows",
    "program_rows",
]

PROGRAM_RECORD_TYPES: tuple[type[Any], ...] = (DirectoryService,)
"""The programs-and-resources record kinds (part of :data:`~carecoord.storage.RECORD_TYPES`)."""

DIRECTORY_CATEGORY = "directory-service"
"""The index category of a directory service's search rows."""
DIRECTORY_CHANGE = "directory-change"
"""The index category of a directory service's one change row (its ``changed_at``)."""


def program_rows(record: object) -> tuple[IndexRow, ...]:
    """The search rows of a programs-and-resources record (empty for any other record);
    the index also keeps its :func:`change_rows`."""
    row = builder(IndexRow)
    match record:
        case DirectoryService():
            facts = DirectoryFacts.of(record)
            status = "active" if record.active else "closed"
            return tuple(
                row(
                    category=DIRECTORY_CATEGORY,
                    item_id=fact.item_id,
                    patient_id=None,
                    owner_id=need,
                    status=status,
                    is_open=record.active,
                    priority=0,
                    due_at=None,
                    changed_at=None,
                    detail=fact.to_detail(),
                )
                for need in record.categories
                for fact in facts
            )
        case _:
            return ()


def change_rows(record: object) -> tuple[IndexRow, ...]:
    """The ``directory-change`` row of a directory service (empty for any other record)."""
    if not isinstance(record, DirectoryService):
        return ()
    return (
        IndexRow(
            category=DIRECTORY_CHANGE,
            item_id=str(record.id),
            patient_id=None,
            owner_id=str(record.id),
            status="active" if record.active else "closed",
            is_open=record.active,
            changed_at=record.changed_at,
        ),
    )
