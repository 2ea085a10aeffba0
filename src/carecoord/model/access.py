"""Emergency ("break the glass") access grants: a pure record."""

from __future__ import annotations

from datetime import datetime
from typing import Self

import attrs

from ._base import PatientId, StaffId, aware, ensure_aware, instant, of_type, optional, text
from ._errors import ValidationError

__all__ = ["EmergencyAccess"]


@attrs.frozen
class EmergencyAccess:
    """A time-limited emergency access grant (FHIR PurposeOfUse ETREAT).

    Always has a reason (free text, PHI-safe handling: kept out of ``repr``) and
    an expiry; every access made under it is audited with purpose ``ETREAT``.
    ``reviewer_id`` (the grantee's supervisor, or the patient's team lead) finds
    the grant on their worklist until they review it.
    """

    id: str = attrs.field(validator=text(max_len=64))
    staff_id: StaffId = attrs.field(validator=of_type(StaffId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    reason: str = attrs.field(validator=text(max_len=2000), repr=False)
    granted_at: datetime = attrs.field(validator=aware)
    expires_at: datetime = attrs.field(validator=aware)
    reviewer_id: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    reviewed_by: StaffId | None = attrs.field(default=None, validator=optional(of_type(StaffId)))
    reviewed_at: datetime | None = attrs.field(default=None, validator=optional(aware))

    def __attrs_post_init__(self) -> None:
        if instant(self.expires_at) <= instant(self.granted_at):
            raise ValidationError(
                "EmergencyAccess must expire after it is granted", field="expires_at"
            )
        if (self.reviewed_by is None) != (self.reviewed_at is None):
            raise ValidationError(
                "EmergencyAccess.reviewed_by and reviewed_at go together", field="reviewed_at"
            )

    @property
    def awaiting_review(self) -> bool:
        """Whether the grant has a reviewer who has not reviewed it yet."""
        return self.reviewer_id is not None and self.reviewed_at is None

    def reviewed(self, by: StaffId, at: datetime) -> Self:
        """A copy marked reviewed by ``by`` at ``at`` (once)."""
        ensure_aware(at, "at")
        if self.reviewed_at is not None:
            raise ValidationError("the emergency grant is already reviewed", field="reviewed_at")
        return attrs.evolve(self, reviewed_by=by, reviewed_at=at)

    def active_at(self, moment: datetime) -> bool:
        """Whether the grant covers ``moment``."""
        ensure_aware(moment, "moment")
        return instant(self.granted_at) <= instant(moment) < instant(self.expires_at)
