"""carecoord's published FHIR conformance resources, read from the package data.

Every URL the FHIR export writes under :data:`~carecoord.fhir.CANONICAL_BASE`
is defined by one of these resources: a StructureDefinition per extension, a
CodeSystem per carecoord code system, a NamingSystem per identifier system.
Give them to a FHIR validator with the R4 core definitions and it resolves
every carecoord URL in an export. See ``docs/fhir-conformance.md``.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["conformance_resources"]


@functools.cache
def _texts() -> tuple[str, ...]:
    folder = resources.files("carecoord.fhir").joinpath("conformance")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    return tuple(f.read_text(encoding="utf-8") for f in files)


def conformance_resources() -> tuple[dict[str, Any], ...]:
    """Every conformance resource carecoord publishes, as FHIR R4 JSON dicts (new dicts each call).

    Ordered by file name: the CodeSystems, then the NamingSystems, then the
    StructureDefinitions (``<resourceType>-<id>.json``, each with a differential
    and a snapshot). CodeSystems and StructureDefinitions have a canonical
    ``url``; a NamingSystem names its identifier system in ``uniqueId``.
    """
    return tuple(json.loads(text) for text in _texts())
