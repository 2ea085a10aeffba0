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
=====================  ==================  ==============================================
"""

from __future__ import annotations

from typing import Any

from .._fastcodec import builder
from ..model.directory import DirectoryFacts, DirectoryService
from .port import IndexRow

__all__ = ["DIRECTORY_CATEGORY", "PROGRAM_RECORD_TYPES", "program_rows"]

PROGRAM_RECORD_TYPES: tuple[type[Any], ...] = (DirectoryService,)
"""The programs-and-resources record kinds (part of :data:`~carecoord.storage.RECORD_TYPES`)."""

DIRECTORY_CATEGORY = "directory-service"
"""The index category of a directory service's search rows."""


def program_rows(record: object) -> tuple[IndexRow, ...]:
    """The index rows of a programs-and-resources record (empty for any other record)."""
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
