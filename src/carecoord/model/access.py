"""Emergency ("break the glass") access grants: a pure record."""

from __future__ import annotations

from datetime import datetime

import attrs

from ._base import PatientId, StaffId, aware, ensure_aware, instant, of_type, text
from ._errors import ValidationError

__all__ = ["EmergencyAccess"]


@attrs.frozen
class EmergencyAccess:
    """A time-limited emergency access grant (FHIR PurposeOfUse ETREAT).

    Always has a reason (free text, PHI-safe handling: kept out of ``repr``) and
    an expiry; every access made under it is audited with purpose ``ETREAT``.
    """

    id: str = attrs.field(validator=text(max_len=64))
    staff_id: StaffId = attrs.field(validator=of_type(StaffId))
    patient_id: PatientId = attrs.field(validator=of_type(PatientId))
    reason: str = attrs.field(validator=text(max_len=2000), repr=False)
    granted_at: datetime = attrs.field(validator=aware)
    expires_at: datetime = attrs.field(validator=aware)

    def __attrs_post_init__(self) -> None:
        if instant(self.expires_at) <= instant(self.granted_at):
            raise ValidationError(
                "EmergencyAccess must expire after it is granted", field="expires_at"
            )

    def active_at(self, moment: datetime) -> bool:
        """Whether the grant covers ``moment``."""
        ensure_aware(moment, "moment")
        return instant(self.granted_at) <= instant(moment) < instant(self.expires_at)
