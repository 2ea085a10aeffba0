"""The base of the importer's per-resource converters, and what they fill in.

:class:`_Reader` is the base of the converter mixins (``_import_*.py``): it
holds the input's context (:class:`~._read_context._Ctx`) and the patient id,
marks entries used (:meth:`_Reader.use`, :meth:`_Reader.guard`,
:meth:`_Reader.guard_all`), checks a resource's subject, and fills in (and
reports) a request's priority and a record's time when the input has none,
and takes (or reports) the elements the export derives from the record
(:meth:`_Reader.derived`, run from :attr:`_Reader.later` on the built record).
:data:`IMPORT_STAFF_ID` and :data:`UNNAMED` are what the import records where
the input names no staff member or no name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

from ..model import CareCoordError, FhirImportError, PatientId, TaskPriority
from ._derived import RecordIndex
from ._import_report import current
from ._read_context import _Ctx, _Entry
from ._read_tracker import consume_all, peek, raw
from ._read_values import dt_from, fail, items, obj, req_string, string
from .valuesets import code_in

T = TypeVar("T")

IMPORT_STAFF_ID: Final = "fhir-import"
"""The staff id an import records where the FHIR input names no carecoord staff member.

A ServiceRequest without a ``requester`` (or with an Organization as its
requester), a Consent without carecoord's ``recorded-by``: the record needs a
staff member, and this documented id says "the import" (reported as a default).
"""

UNNAMED: Final = "(not named in the FHIR input)"
"""The text an import records for a required name the FHIR input does not give."""


class _Skip(Exception):
    """Raised by a converter for a resource carecoord keeps nothing of (``why`` is reported)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class _Reader:
    """What every converter needs: the input's context and the patient's id."""

    def __init__(self, data: Any) -> None:
        self.ctx = _Ctx(data)
        self.patient_id = PatientId("x")
        self.plan_id = ""  # the care plan whose goals and tasks are being read
        self.later: list[Callable[[RecordIndex], None]] = []
        """Checks of derived elements, run on the whole record once it is built."""

    def derived(
        self,
        found: Sequence[tuple[Any, str]],
        expected: Sequence[T],
        same: Callable[[Any, str, T], bool],
        why: str,
    ) -> None:
        """Take elements the export derives when they say exactly ``expected``, in order.

        ``found`` are the elements (and their paths) the input has in that
        place; ``same(element, path, wanted)`` tells whether one says what
        carecoord derives. When all do, they are taken; otherwise each is
        reported as dropped (``why``), with the references outside the input
        it holds, and the record keeps what it derives from its own data.
        """
        if len(found) == len(expected) and all(
            same(node, where, want) for (node, where), want in zip(found, expected, strict=True)
        ):
            for node, _ in found:
                consume_all(node)
            return
        for node, where in found:
            consume_all(node)
            current().drop(where, why)
            self.ctx.scan(raw(node), where)

    def concept_text(self, cc: Mapping[str, Any], at: str, what: str) -> str:
        """A concept's text from its first Coding: the display, else ``system|code``."""
        codings = items(cc, "coding", at)
        if not codings:
            fail(at, "a concept with neither text nor coding")
        c, where = obj(*codings[0]), codings[0][1]
        display = string(c, "display", where, required=False)
        if display is not None:
            current().default(f"{at}.text", f"no text: {what} is the coding's display")
            return display
        system = req_string(c, "system", where)
        code_ = req_string(c, "code", where)
        current().default(f"{at}.text", f"no text or display: {what} is the coding's system|code")
        return f"{system}|{code_}"

    def text_of(self, cc: Mapping[str, Any], at: str, what: str) -> str:
        """A concept's ``text``, else :meth:`concept_text` (reported)."""
        text = string(cc, "text", at, required=False)
        return text if text is not None else self.concept_text(cc, at, what)

    def use(self, entry: _Entry, target: tuple[str, str] | None = None) -> None:
        if entry.used:
            fail(entry.path, "resource is used twice")
        entry.used = True
        entry.target = target

    def priority(self, r: Mapping[str, Any], at: str) -> TaskPriority:
        """A request's ``priority`` (request-priority); ``routine`` when absent (reported)."""
        value = r.get("priority")
        if value is None:
            current().default(f"{at}.priority", "no priority", TaskPriority.ROUTINE)
            return TaskPriority.ROUTINE
        if not code_in("request-priority", value):
            fail(f"{at}.priority", "code not in value set request-priority")
        return TaskPriority(value)

    def when(
        self, r: Mapping[str, Any], at: str, key: str, other: datetime | None, other_name: str
    ) -> datetime:
        """The time of a record whose ``key`` is missing: ``other``, else the input's own.

        Tried in order: ``other`` (named ``other_name``), the Bundle's
        ``timestamp``, the resource's ``meta.lastUpdated``; reported as a
        default naming where it came from. None of them: an error.
        """
        meta = peek(r, "meta")
        updated = peek(meta, "lastUpdated") if isinstance(meta, Mapping) else None
        for value, name in (
            (other, other_name),
            (self.ctx.timestamp, "the Bundle's timestamp"),
            (updated, "the resource's meta.lastUpdated"),
        ):
            if value is None:
                continue
            moment = value if isinstance(value, datetime) else dt_from(value, None, f"{at}.{key}")
            current().default(f"{at}.{key}", f"no {key}: {name} is taken")
            return moment
        fail(f"{at}.{key}", "required element missing (and no other time to take)")

    def subject(self, entry: _Entry, key: str) -> None:
        r = entry.resource
        at = entry.path
        if key not in r:
            fail(f"{at}.{key}", "required element missing")
        if self.ctx.ref(r[key], f"{at}.{key}", "patient") != self.patient_id:
            fail(f"{at}.{key}", "refers to another patient")

    def guard(self, entry: _Entry, convert: Callable[[_Entry], T]) -> T:
        self.use(entry)
        try:
            result = convert(entry)
        except FhirImportError:
            raise
        except CareCoordError as exc:
            # model messages name fields and codes, never values
            fail(entry.path, f"not a valid carecoord record: {exc}")
        entry.target = (type(result).__name__, str(getattr(result, "id", "")))
        return result

    def guard_all(self, entries: list[_Entry], convert: Callable[[_Entry], T]) -> tuple[T, ...]:
        """:meth:`guard` each entry; one a converter skips (:class:`_Skip`) is reported."""
        out = []
        for entry in entries:
            try:
                out.append(self.guard(entry, convert))
            except _Skip as skip:
                entry.used = False
                entry.skipped = skip.why
        return tuple(out)
