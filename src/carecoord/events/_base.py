"""The base of every domain event (see :mod:`carecoord.events`)."""

from __future__ import annotations

from datetime import datetime

import attrs

__all__ = ["DomainEvent"]


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Base of every event: when it happened, who did it, whose record it concerns."""

    at: datetime
    actor: str
    patient_id: str | None

    @property
    def name(self) -> str:
        """The event's type name, e.g. ``"InterventionAssigned"``."""
        return type(self).__name__
