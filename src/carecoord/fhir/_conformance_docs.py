"""The tables of ``docs/fhir-conformance.md``: every extension, code system and id system.

``python -m carecoord.fhir._conformance_build --markdown`` prints them; the docs
test compares the page with this output, so the page lists what is published.
"""

from __future__ import annotations

from ._common import CODE_SYSTEM_BASE, ID_SYSTEMS
from ._conformance_codes import CODE_SYSTEM_TEXTS
from ._conformance_registry import EXTENSIONS, ExtensionSpec

__all__ = ["markdown"]

_MARKS = {(0, "1"): "?", (0, "*"): "*", (1, "*"): "+"}


def _type(spec: ExtensionSpec, kind: str) -> str:
    if kind == "Reference" and spec.targets:
        return f"Reference({'/'.join(spec.targets)})"
    if kind == "Coding" and spec.system is not None:
        name = spec.system.removeprefix(CODE_SYSTEM_BASE).rsplit("/", 1)[-1]
        return f"Coding `{name}`"
    return kind


def _value(spec: ExtensionSpec) -> str:
    types = " or ".join(_type(spec, kind) for kind in spec.types)
    if not spec.parts:
        return types
    parts = ", ".join(f"`{p.name}`{_MARKS.get((p.min, p.max), '')}" for p in spec.parts)
    return f"{types}, or parts {parts}" if types else f"parts {parts}"


def markdown() -> str:
    """The three tables (Markdown), each row generated from the registries."""
    lines = [
        "| Extension | Value | Used on |",
        "| --- | --- | --- |",
    ]
    for spec in sorted(EXTENSIONS, key=lambda s: s.name):
        name = f"`{spec.name}`{'*' if spec.max == '*' else ''}"
        if spec.retired:
            name += " (retired)"
        contexts = ", ".join(f"`{c}`" for c in spec.contexts)
        lines.append(f"| {name} | {_value(spec)} | {contexts} |")
    lines += ["", "| Code system | Codes |", "| --- | --- |"]
    for name in sorted(CODE_SYSTEM_TEXTS):
        codes = ", ".join(f"`{code}`" for code in CODE_SYSTEM_TEXTS[name].codes)
        lines.append(f"| `{name}` | {codes} |")
    lines += ["", "| Identifier system | Identifies |", "| --- | --- |"]
    for kind, what in ID_SYSTEMS.items():
        lines.append(f"| `id/{kind}` | {what} |")
    return "\n".join(lines) + "\n"
