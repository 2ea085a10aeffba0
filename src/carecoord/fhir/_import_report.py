"""The import report: what an import of FHIR mapped, defaulted, dropped and left outside.

:class:`ImportReport` is an immutable value every
:func:`~carecoord.fhir.import_bundle` returns (``ImportedRecord.report``). Its
entries name element paths as :class:`~carecoord.FhirImportError` does
(``Bundle.entry[0].resource(Patient/p1).gender``) and carry no PHI: a default
shows its value only when carecoord chose it (``"UTC"``, ``"en"``), never a
value taken from the input; an external reference shows its ``Type/id`` (or
URL) and identifier system, while the identifier's value stays out of
``repr`` and :meth:`ImportReport.lines`.

The importer collects entries in a :class:`_Collector` held in a context
variable for the length of one import (:func:`collecting`, :func:`current`),
so that readers deep in the call tree (a date without a time) can record a
default without being handed the collector.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import attrs

__all__ = [
    "DefaultApplied",
    "DroppedElement",
    "ExternalReference",
    "ImportReport",
    "MappedResource",
]


@attrs.frozen
class MappedResource:
    """A resource the import turned into (part of) a carecoord record.

    ``record_type`` and ``record_id`` name the carecoord object (``Referral``,
    ``ref-1``); ``elements`` lists the resource's top-level elements the import
    read, in input order (nested elements it did not read are in
    :attr:`ImportReport.dropped`).
    """

    path: str
    resource_type: str
    record_type: str
    record_id: str
    elements: tuple[str, ...] = ()


@attrs.frozen
class DefaultApplied:
    """A value the import filled in because the input did not give it.

    ``value`` is what was filled in when carecoord chose it (``"UTC"``,
    ``"en"``, ``"routine"``, the documented import staff id); ``None`` when the
    value came from elsewhere in the input (the service named by a code's
    display), which is not repeated here.
    """

    path: str
    reason: str
    value: str | None = None


@attrs.frozen
class DroppedElement:
    """An element of the input the import did not map (``reason`` says why)."""

    path: str
    reason: str


@attrs.frozen
class ExternalReference:
    """A reference to a resource outside the input, left as a reference.

    ``resource_type`` is the target's type when the reference says it;
    ``reference`` the literal reference (``Organization/org-1``, an absolute
    URL, ``#contained-id``); ``identifier_system`` and ``identifier_value`` a
    logical reference's identifier (the value may be PHI, such as a medical
    record number: it is never shown in ``repr`` or :meth:`ImportReport.lines`).
    ``kept`` says whether the imported record holds the reference (as a
    carecoord id, or as the :class:`~carecoord.model.ExternalRef` it came as) or
    only this report does.
    """

    path: str
    resource_type: str | None = None
    reference: str | None = None
    identifier_system: str | None = None
    identifier_value: str | None = attrs.field(default=None, repr=False)
    kept: bool = False


@attrs.frozen
class ImportReport:
    """Everything an import did besides failing: mapped, defaulted, dropped, external.

    The carecoord export dialect imports with no defaults and no drops
    (:attr:`clean`); :func:`~carecoord.fhir.import_bundle` with ``strict=True``
    raises :class:`~carecoord.FhirImportError` instead of returning a report
    that is not clean.
    """

    mapped: tuple[MappedResource, ...] = ()
    defaulted: tuple[DefaultApplied, ...] = ()
    dropped: tuple[DroppedElement, ...] = ()
    external: tuple[ExternalReference, ...] = ()

    @property
    def clean(self) -> bool:
        """Whether nothing was defaulted and nothing dropped (external references allowed)."""
        return not self.defaulted and not self.dropped

    def lines(self) -> list[str]:
        """The report as short lines of text, without PHI (no identifier values)."""
        out = [
            f"mapped {m.path} -> {m.record_type} {m.record_id}"
            + (f" ({', '.join(m.elements)})" if m.elements else "")
            for m in self.mapped
        ]
        out += [
            f"defaulted {d.path}: {d.reason}" + ("" if d.value is None else f" = {d.value!r}")
            for d in self.defaulted
        ]
        out += [f"dropped {d.path}: {d.reason}" for d in self.dropped]
        for x in self.external:
            target = x.reference or (
                f"{x.resource_type or 'resource'} identified in {x.identifier_system}"
                if x.identifier_system
                else x.resource_type or "resource"
            )
            out.append(f"external {x.path} -> {target}" + (" (kept)" if x.kept else ""))
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


class _Collector:
    """The entries of one import as they are found (each path once per kind)."""

    def __init__(self) -> None:
        self.defaulted: dict[str, DefaultApplied] = {}
        self.dropped: dict[str, DroppedElement] = {}
        self.external: dict[str, ExternalReference] = {}

    def default(self, path: str, reason: str, value: str | None = None) -> None:
        text = None if value is None else str(value)  # a StrEnum's or an id's plain text
        self.defaulted.setdefault(path, DefaultApplied(path=path, reason=reason, value=text))

    def drop(self, path: str, reason: str) -> None:
        self.dropped.setdefault(path, DroppedElement(path=path, reason=reason))

    def outside(self, entry: ExternalReference) -> None:
        known = self.external.get(entry.path)
        if known is None or (entry.kept and not known.kept):
            self.external[entry.path] = entry


_CURRENT: ContextVar[_Collector | None] = ContextVar("carecoord_fhir_import", default=None)


@contextmanager
def collecting() -> Iterator[_Collector]:
    """A fresh collector, current for the ``with`` block (one import)."""
    collector = _Collector()
    token = _CURRENT.set(collector)
    try:
        yield collector
    finally:
        _CURRENT.reset(token)


def current() -> _Collector:
    """The collector of the import in progress (a throwaway one outside an import)."""
    return _CURRENT.get() or _Collector()
