"""The carecoord error tree (all errors derive from :class:`CareCoordError`).

```
CareCoordError
├── ValidationError (also ValueError)     bad input to the model
│   ├── NaiveDatetimeError                a datetime without a time zone
│   ├── ReasonRequiredError               cancel / fail / reject without a reason
│   └── StructureError                    a payload that cannot be read back
├── InvalidTransitionError                a state machine move that is not allowed
├── NotFoundError (also LookupError)      an unknown identifier
├── ConflictError                         a write based on a stale version
├── StorageError                          the storage backend failed
└── AccessDeniedError (also PermissionError)  the actor may not do this
```
"""

from .model._errors import (
    AccessDeniedError,
    CareCoordError,
    ConflictError,
    InvalidTransitionError,
    NaiveDatetimeError,
    NotFoundError,
    ReasonRequiredError,
    StorageError,
    StructureError,
    ValidationError,
)

__all__ = [
    "AccessDeniedError",
    "CareCoordError",
    "ConflictError",
    "InvalidTransitionError",
    "NaiveDatetimeError",
    "NotFoundError",
    "ReasonRequiredError",
    "StorageError",
    "StructureError",
    "ValidationError",
]
