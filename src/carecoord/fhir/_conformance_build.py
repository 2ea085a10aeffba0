"""Generates carecoord's FHIR R4 conformance resources into ``carecoord/fhir/conformance/``.

Run ``python -m carecoord.fhir._conformance_build`` after adding an extension
(``_conformance_registry.EXTENSIONS``), an identifier system (``_common.ID_SYSTEMS``) or a
code (a model enum, with its texts in ``_conformance_codes``); ``--check``
only reports the files that differ (exit status 1), changing nothing;
``--markdown`` prints the tables of ``docs/fhir-conformance.md``.

One JSON file per resource: a StructureDefinition (differential and snapshot)
per extension, a CodeSystem (``content: complete``; ``not-present`` for one whose codes
the host defines, care program ids) per carecoord code system
and a NamingSystem per identifier system. The output depends on nothing but
those tables, so equal tables give identical bytes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from ..model import ValidationError
from ._common import CODE_SYSTEM_BASE, ID_SYSTEMS, cs, id_system
from ._conformance_codes import CODE_SYSTEM_TEXTS
from ._conformance_registry import EXTENSIONS, ExtensionSpec
from .valuesets import CODE_SYSTEMS

__all__ = [
    "DIRECTORY",
    "build",
    "code_system",
    "differences",
    "file_name",
    "main",
    "naming_system",
    "render",
    "structure_definition",
    "write",
]

DIRECTORY: Final = Path(__file__).with_name("conformance")
"""Where the generated files live (package data of ``carecoord``)."""

PUBLISHER: Final = "carecoord developers"
FHIR_VERSION: Final = "4.0.1"
NAMING_SYSTEM_DATE: Final = "2026-11-23"
"""When carecoord's identifier systems were defined (NamingSystem.date is required)."""

_HL7 = "http://hl7.org/fhir/StructureDefinition/"
_FHIR_TYPE = _HL7 + "structuredefinition-fhir-type"
_ELE_1 = {
    "key": "ele-1",
    "severity": "error",
    "human": "All FHIR elements must have a @value or children",
    "expression": "hasValue() or (children().count() > id.count())",
    "source": _HL7 + "Element",
}
_EXT_1 = {
    "key": "ext-1",
    "severity": "error",
    "human": "Must have either extensions or value[x], not both",
    "expression": "extension.exists() != value.exists()",
    "source": _HL7 + "Extension",
}
_ZONED_NAMES = frozenset({"dateTime", "zone", "utc-offset"})
_VALUE_TYPE_NAMES = """
    base64Binary boolean canonical code date dateTime decimal id instant integer markdown oid
    positiveInt string time unsignedInt uri url uuid Address Age Annotation Attachment
    CodeableConcept Coding ContactPoint Count Distance Duration HumanName Identifier Money Period
    Quantity Range Ratio Reference SampledData Signature Timing ContactDetail Contributor
    DataRequirement Expression ParameterDefinition RelatedArtifact TriggerDefinition UsageContext
    Dosage Meta
"""
_VALUE_TYPES = str.split(_VALUE_TYPE_NAMES)
"""The types of R4 ``Extension.value[x]`` (the base definition's list, in its order)."""


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _system_string(fhir_type: str) -> list[dict[str, Any]]:
    return [
        {
            "extension": [{"url": _FHIR_TYPE, "valueUrl": fhir_type}],
            "code": "http://hl7.org/fhirpath/System.String",
        }
    ]


def _slicing(closed: bool) -> dict[str, Any]:
    return {
        "discriminator": [{"type": "value", "path": "url"}],
        "description": "Extensions are always sliced by (at least) url",
        "rules": "closed" if closed else "open",
    }


def _zoned_constraint(url: str) -> list[dict[str, Any]]:
    return [
        {
            "key": "ccdt-1",
            "severity": "error",
            "human": "A valueDateTime, or a dateTime part with exactly one of zone and utc-offset",
            "expression": "value.exists() or (extension.where(url = 'dateTime').exists() and "
            "(extension.where(url = 'zone').exists() xor "
            "extension.where(url = 'utc-offset').exists()))",
            "source": url,
        }
    ]


def _value_types(spec: ExtensionSpec) -> list[dict[str, Any]]:
    out = []
    for kind in spec.types:
        entry: dict[str, Any] = {"code": kind}
        if spec.targets:
            entry["targetProfile"] = [_HL7 + target for target in spec.targets]
        out.append(entry)
    return out


class _Elements:
    """Collects the snapshot and differential elements of one extension definition."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.snapshot: list[dict[str, Any]] = []
        self.differential: list[dict[str, Any]] = []

    def add(self, snap: dict[str, Any], diff: dict[str, Any] | None) -> None:
        self.snapshot.append(snap)
        if diff is not None:
            self.differential.append({"id": snap["id"], "path": snap["path"], **diff})

    def extension(self, spec: ExtensionSpec, eid: str, path: str, root: bool) -> None:
        """``spec``'s element (the root, or a slice of its parent) and its children."""
        zoned = bool(spec.types) and {p.name for p in spec.parts} == _ZONED_NAMES
        extra = _zoned_constraint(self.url) if zoned else []
        own: dict[str, Any] = {"id": eid, "path": path}
        diff: dict[str, Any] = {}
        if not root:
            own["sliceName"] = diff["sliceName"] = spec.name
        own["short"] = diff["short"] = spec.short
        own["definition"] = diff["definition"] = spec.definition
        own["min"] = 0 if root else spec.min
        own["max"] = spec.max
        if not root:
            diff["min"], diff["max"] = spec.min, spec.max
        elif spec.max != "*":
            diff["max"] = spec.max
        if root:
            own["base"] = {"path": "Extension", "min": 0, "max": "*"}
            own["condition"] = ["ele-1"]
        else:
            own["base"] = {"path": "Element.extension", "min": 0, "max": "*"}
            own["type"] = [{"code": "Extension"}]
        own["constraint"] = [_ELE_1, _EXT_1, *extra]
        if extra:
            diff["constraint"] = extra
        own["isModifier"] = False
        if not root:
            own["isSummary"] = False
        self.add(own, diff)
        self._children(spec, eid, path, spec.name if not root else self.url)

    def _children(self, spec: ExtensionSpec, eid: str, path: str, url: str) -> None:
        self.add(
            {
                "id": f"{eid}.id",
                "path": f"{path}.id",
                "representation": ["xmlAttr"],
                "short": "Unique id for inter-element referencing",
                "definition": "Unique id for the element within a resource (for internal "
                "references). This may be any string value that does not contain spaces.",
                "min": 0,
                "max": "1",
                "base": {"path": "Element.id", "min": 0, "max": "1"},
                "type": _system_string("string"),
                "isModifier": False,
                "isSummary": False,
            },
            None,
        )
        required = sum(part.min for part in spec.parts)
        sub: dict[str, Any] = {
            "id": f"{eid}.extension",
            "path": f"{path}.extension",
            "slicing": _slicing(closed=bool(spec.parts)),
            "short": "Parts of the extension" if spec.parts else "No sub-extensions",
            "definition": "The parts of this complex extension, by relative url."
            if spec.parts
            else "This extension has a value, no sub-extensions.",
            "min": required,
            "max": "*" if spec.parts else "0",
            "base": {"path": "Element.extension", "min": 0, "max": "*"},
            "type": [{"code": "Extension"}],
            "constraint": [_ELE_1, _EXT_1],
            "isModifier": False,
            "isSummary": False,
        }
        if spec.parts:
            diff: dict[str, Any] = {"slicing": sub["slicing"]}
            if required:
                diff["min"] = required
        else:
            diff = {"max": "0"}
        self.add(sub, diff)
        for part in spec.parts:
            self.extension(part, f"{eid}.extension:{part.name}", f"{path}.extension", False)
        self.add(
            {
                "id": f"{eid}.url",
                "path": f"{path}.url",
                "representation": ["xmlAttr"],
                "short": "identifies the meaning of the extension",
                "definition": "Source of the definition for the extension code - a logical "
                "name or a URL.",
                "min": 1,
                "max": "1",
                "base": {"path": "Extension.url", "min": 1, "max": "1"},
                "type": _system_string("uri"),
                "fixedUri": url,
                "isModifier": False,
                "isSummary": False,
            },
            {"fixedUri": url},
        )
        self._value(spec, eid, path)

    def _value(self, spec: ExtensionSpec, eid: str, path: str) -> None:
        value: dict[str, Any] = {
            "id": f"{eid}.value[x]",
            "path": f"{path}.value[x]",
            "short": "Value of extension",
            "definition": "Value of extension: " + ", ".join(spec.types) + "."
            if spec.types
            else "No value: this extension has parts.",
            "min": 1 if spec.types and not spec.parts else 0,
            "max": "1" if spec.types else "0",
            "base": {"path": "Extension.value[x]", "min": 0, "max": "1"},
            "type": _value_types(spec) if spec.types else [{"code": t} for t in _VALUE_TYPES],
        }
        diff: dict[str, Any] = {}
        if spec.types:
            if value["min"]:
                diff["min"] = 1
            diff["type"] = value["type"]
        else:
            diff["max"] = "0"
        if spec.system is not None:
            value["patternCoding"] = diff["patternCoding"] = {"system": spec.system}
        value["constraint"] = [_ELE_1]
        value["isModifier"] = False
        value["isSummary"] = False
        self.add(value, diff)


def _check_spec(spec: ExtensionSpec, where: str) -> None:
    if not spec.types and not spec.parts:
        raise ValidationError(f"{where}: an extension needs value types or parts")
    if spec.targets and spec.types != ("Reference",):
        raise ValidationError(f"{where}: targets need a Reference value")
    if spec.system is not None and spec.types != ("Coding",):
        raise ValidationError(f"{where}: a code system needs a Coding value")
    names = [part.name for part in spec.parts]
    if len(set(names)) != len(names):
        raise ValidationError(f"{where}: two parts with one name")
    for part in spec.parts:
        _check_spec(part, f"{where}.{part.name}")


def structure_definition(spec: ExtensionSpec) -> dict[str, Any]:
    """The StructureDefinition of the carecoord extension ``spec``."""
    _check_spec(spec, spec.name)
    if not spec.contexts:
        raise ValidationError(f"{spec.name}: an extension needs at least one context")
    elements = _Elements(spec.url)
    elements.extension(spec, "Extension", "Extension", True)
    return {
        "resourceType": "StructureDefinition",
        "id": spec.name,
        "url": spec.url,
        "name": _pascal(spec.name),
        "title": spec.short,
        "status": "retired" if spec.retired else "active",
        "publisher": PUBLISHER,
        "description": spec.definition,
        "fhirVersion": FHIR_VERSION,
        "kind": "complex-type",
        "abstract": False,
        "context": [{"type": "element", "expression": context} for context in spec.contexts],
        "type": "Extension",
        "baseDefinition": _HL7 + "Extension",
        "derivation": "constraint",
        "snapshot": {"element": elements.snapshot},
        "differential": {"element": elements.differential},
    }


def code_system(name: str) -> dict[str, Any]:
    """The CodeSystem ``cs(name)``: its codes from ``CODE_SYSTEMS``, texts from the table."""
    system = CODE_SYSTEMS.get(cs(name))
    text = CODE_SYSTEM_TEXTS.get(name)
    if system is None or text is None:
        raise ValidationError(f"code system {name}: not in both CODE_SYSTEMS and the texts")
    missing = sorted(system.codes - set(text.codes))
    extra = sorted(set(text.codes) - system.codes)
    if missing or extra:
        raise ValidationError(
            f"code system {name}: codes without texts {missing}, texts without codes {extra}"
        )
    found: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "id": name,
        "url": cs(name),
        "name": _pascal(name),
        "title": text.title,
        "status": "active",
        "publisher": PUBLISHER,
        "description": text.description,
        "caseSensitive": True,
    }
    if system.pattern is not None:  # the host's codes (care program ids): not listed
        return {**found, "content": "not-present"}
    return {
        **found,
        "content": "complete",
        "count": len(text.codes),
        "concept": [
            {"code": code, "display": display, "definition": definition}
            for code, (display, definition) in text.codes.items()
        ],
    }


def naming_system(kind: str) -> dict[str, Any]:
    """The NamingSystem of the identifier system ``id_system(kind)``."""
    what = ID_SYSTEMS[kind]
    return {
        "resourceType": "NamingSystem",
        "id": f"id-{kind}",
        "name": f"Carecoord{_pascal(kind)}Id",
        "status": "active",
        "kind": "identifier",
        "date": NAMING_SYSTEM_DATE,
        "publisher": PUBLISHER,
        "description": f"Identifier system of {what}: Identifier.value is the carecoord id.",
        "usage": "Identifier.system of carecoord ids in exported resources and references.",
        "uniqueId": [{"type": "uri", "value": id_system(kind), "preferred": True}],
    }


def _own_code_systems() -> list[str]:
    names = [
        url.removeprefix(CODE_SYSTEM_BASE)
        for url in CODE_SYSTEMS
        if url.startswith(CODE_SYSTEM_BASE)
    ]
    unknown = sorted(set(CODE_SYSTEM_TEXTS) - set(names))
    if unknown:
        raise ValidationError(f"texts for code systems that do not exist: {unknown}")
    return names


def build() -> tuple[dict[str, Any], ...]:
    """Every conformance resource, generated from the registries now."""
    names = [spec.name for spec in EXTENSIONS]
    if len(set(names)) != len(names):
        raise ValidationError("two extensions with one name")
    return (
        *(structure_definition(spec) for spec in EXTENSIONS),
        *(code_system(name) for name in _own_code_systems()),
        *(naming_system(kind) for kind in ID_SYSTEMS),
    )


def file_name(resource: dict[str, Any]) -> str:
    """``<resourceType>-<id>.json``."""
    return f"{resource['resourceType']}-{resource['id']}.json"


def render(resource: dict[str, Any]) -> str:
    """The file text of ``resource``: indented JSON, UTF-8, one final newline."""
    return json.dumps(resource, indent=2, ensure_ascii=False) + "\n"


def _expected() -> dict[str, str]:
    return {file_name(r): render(r) for r in build()}


def differences(directory: Path = DIRECTORY) -> list[str]:
    """File names in ``directory`` that are missing, differ from the generator, or are stale."""
    expected = _expected()
    present = {p.name for p in directory.glob("*.json")} if directory.is_dir() else set()
    out = [
        name
        for name, text in expected.items()
        if name not in present or (directory / name).read_text(encoding="utf-8") != text
    ]
    return sorted(out + sorted(present - set(expected)))


def write(directory: Path = DIRECTORY) -> list[str]:
    """Regenerate ``directory``: write changed files, remove stale ones; the names touched."""
    directory.mkdir(parents=True, exist_ok=True)
    expected = _expected()
    touched = differences(directory)
    for name in touched:
        path = directory / name
        if name in expected:
            path.write_text(expected[name], encoding="utf-8", newline="\n")
        else:
            path.unlink()
    return touched


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: regenerate the files; ``--check`` lists those that differ instead,
    ``--markdown`` prints the tables of ``docs/fhir-conformance.md``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args not in ([], ["--check"], ["--markdown"]):
        print(
            "usage: python -m carecoord.fhir._conformance_build [--check | --markdown]",
            file=sys.stderr,
        )
        return 2
    if args == ["--markdown"]:
        from ._conformance_docs import markdown

        print(markdown(), end="")
        return 0
    if args:
        stale = differences()
        for name in stale:
            print(f"differs: {name}")
        return 1 if stale else 0
    for name in write():
        print(f"wrote: {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
