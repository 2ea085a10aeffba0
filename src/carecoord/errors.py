"""The carecoord error tree (all errors derive from :class:`CareCoordError`).

```
CareCoordError
├── ValidationError (also ValueError)     bad input to the model
│   ├── NaiveDatetimeError                a datetime without a time zone
│   ├── OffDutyError                      work assigned to someone off duty (policy: refuse)
│   ├── CompetencyMissingError            work needing a competency the assignee lacks
│   ├── LotExpiredError                   a supply lot past its expiry named for use
│   ├── GoalClosedError                   revising a completed / cancelled goal
│   ├── ReasonRequiredError               cancel / fail / reject without a reason
│   └── StructureError                    a payload that cannot be read back
│       └── FhirImportError               a FHIR Bundle that cannot be imported
├── InvalidTransitionError                a state machine move that is not allowed
├── NotFoundError (also LookupError)      an unknown identifier
├── ConflictError                         a write based on a stale version
│   ├── SlotTakenError                    booking a slot that is not free
│   └── OutOfStockError                   not enough usable stock (the last unit taken)
├── StorageError                          the storage backend failed
├── AccessDeniedError (also PermissionError)  the actor may not do this
└── MissingExtraError (also ImportError)  an optional extra is not installed
```
"""

from .model._errors import (
    AccessDeniedError,
    CareCoordError,
    CompetencyMissingError,
    ConflictError,
    FhirImportError,
    GoalClosedError,
    InvalidTransitionError,
    LotExpiredError,
    MissingExtraError,
    NaiveDatetimeError,
    NotFoundError,
    OffDutyError,
    OutOfStockError,
    ReasonRequiredError,
    SlotTakenError,
    StorageError,
    StructureError,
    ValidationError,
)

__all__ = [
    "AccessDeniedError",
    "CareCoordError",
    "CompetencyMissingError",
    "ConflictError",
    "FhirImportError",
    "GoalClosedError",
    "InvalidTransitionError",
    "LotExpiredError",
    "MissingExtraError",
    "NaiveDatetimeError",
    "NotFoundError",
    "OffDutyError",
    "OutOfStockError",
    "ReasonRequiredError",
    "SlotTakenError",
    "StorageError",
    "StructureError",
    "ValidationError",
]
