"""URLs, code-system names and small helpers shared by the FHIR export and import."""

from __future__ import annotations

import uuid
from typing import Final

__all__ = [
    "CODE_SYSTEM_BASE",
    "EXTENSION_BASE",
    "ID_SYSTEM_BASE",
    "cs",
    "ext_url",
    "id_system",
]

EXTENSION_BASE: Final = "https://carecoord.dev/fhir/StructureDefinition/"
"""Base URL of every carecoord FHIR extension (``EXTENSION_BASE + "status-history"``)."""

CODE_SYSTEM_BASE: Final = "https://carecoord.dev/fhir/CodeSystem/"
"""Base URL of carecoord's own code systems (codes FHIR has no value set for)."""

ID_SYSTEM_BASE: Final = "https://carecoord.dev/fhir/id/"
"""Base URL of the identifier systems that carry carecoord ids (``.../id/patient``)."""

_NAMESPACE = uuid.UUID("6f1d2c1e-3a4b-5c6d-8e9f-0a1b2c3d4e5f")


def ext_url(name: str) -> str:
    """The full URL of the carecoord extension ``name``."""
    return EXTENSION_BASE + name


def cs(name: str) -> str:
    """The full URL of the carecoord code system ``name``."""
    return CODE_SYSTEM_BASE + name


def id_system(kind: str) -> str:
    """The identifier system carrying carecoord ids of ``kind`` (``"patient"``, ...)."""
    return ID_SYSTEM_BASE + kind


def stable_uuid(*parts: str) -> str:
    """A deterministic UUID (version 5) for ``parts``."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))
