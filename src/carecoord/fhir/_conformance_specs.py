"""The pieces carecoord's FHIR extensions are declared with (see ``_conformance_registry``).

:class:`ExtensionSpec` describes an extension or one part of a complex extension; the
``*_spec`` helpers build the common shapes (a value, a zoned datetime, links, a cadence, a
reference) and the ``*_PARTS`` tuples are the parts several extensions share.
"""

from __future__ import annotations

import attrs

from ._common import cs, ext_url

__all__ = [
    "AUDIT",
    "HISTORY_PARTS",
    "OFFSET_DEFINITION",
    "OUTCOME_PARTS",
    "PEOPLE",
    "PREFERENCE_PARTS",
    "PRIMITIVE_DATETIMES",
    "READING_PARTS",
    "RESOLUTION_PARTS",
    "REVIEW",
    "REVISION_PARTS",
    "STAFF",
    "ZONE_DEFINITION",
    "ExtensionSpec",
    "cadence_spec",
    "ext_spec",
    "links_spec",
    "ref_spec",
    "zoned_spec",
]


@attrs.frozen
class ExtensionSpec:
    """A carecoord extension, or one part (sub-extension) of a complex extension.

    ``types`` are the FHIR type codes ``value[x]`` may take; ``parts`` the
    sub-extensions (relative urls). With both, the extension holds either a
    value or its parts (a zoned datetime: ``valueDateTime``, or ``dateTime`` +
    ``zone`` / ``utc-offset``). ``min`` / ``max`` count a part in its
    extension, or an extension on one element. ``contexts`` (extensions only)
    are the FHIR elements or data types it is used on; ``targets`` the resource
    types a Reference value points at; ``system`` the code system of a Coding
    value. A ``retired`` extension is no longer written but still read.
    """

    name: str
    short: str
    definition: str
    types: tuple[str, ...] = ()
    parts: tuple[ExtensionSpec, ...] = ()
    min: int = 0
    max: str = "1"
    contexts: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    system: str | None = None
    retired: bool = False

    @property
    def url(self) -> str:
        """The canonical URL of the extension (not meaningful for a part)."""
        return ext_url(self.name)


def ext_spec(
    name: str,
    short: str,
    definition: str,
    *types: str,
    contexts: tuple[str, ...],
    many: bool = False,
    targets: tuple[str, ...] = (),
    system: str | None = None,
    parts: tuple[ExtensionSpec, ...] = (),
    retired: bool = False,
) -> ExtensionSpec:
    return ExtensionSpec(
        name,
        short,
        definition,
        types,
        parts,
        max="*" if many else "1",
        contexts=contexts,
        targets=targets,
        system=system,
        retired=retired,
    )


def _part(
    name: str,
    short: str,
    definition: str,
    *types: str,
    min: int = 1,
    max: str = "1",
    targets: tuple[str, ...] = (),
    system: str | None = None,
    parts: tuple[ExtensionSpec, ...] = (),
) -> ExtensionSpec:
    return ExtensionSpec(name, short, definition, types, parts, min, max, (), targets, system)


ZONE_DEFINITION = "The IANA time zone of the datetime (``America/Chicago``)."
OFFSET_DEFINITION = (
    "The fixed UTC offset of the datetime (``+15:00``, ``+05:30:15``) when it has no IANA "
    "zone and FHIR cannot write its offset (not whole minutes, or beyond 14 hours)."
)
_ZONED_PARTS = (
    _part(
        "dateTime",
        "The dateTime",
        "The datetime with its UTC offset; written as its UTC instant when FHIR cannot "
        "write the offset.",
        "dateTime",
        min=0,
    ),
    _part("zone", "IANA time zone", ZONE_DEFINITION, "string", min=0),
    _part("utc-offset", "Fixed UTC offset", OFFSET_DEFINITION, "string", min=0),
)
_ZONED = (
    " A datetime on an IANA zone, or with an offset FHIR cannot write, is a complex "
    "extension: ``dateTime`` plus ``zone`` or ``utc-offset``; any other is a valueDateTime."
)
STAFF = ("Practitioner",)


def zoned_spec(name: str, short: str, definition: str, contexts: tuple[str, ...]) -> ExtensionSpec:
    return ext_spec(
        name, short, definition + _ZONED, "dateTime", contexts=contexts, parts=_ZONED_PARTS
    )


def _zoned_part(name: str, short: str, definition: str) -> ExtensionSpec:
    return _part(name, short, definition + _ZONED, "dateTime", parts=_ZONED_PARTS)


def links_spec(name: str, short: str, definition: str, contexts: tuple[str, ...]) -> ExtensionSpec:
    parts = (
        _part(
            "kind", "Kind of record", "What the link points at.", "Coding", system=cs("ref-kind")
        ),
        _part("id", "carecoord id", "The carecoord id of the record linked to.", "string"),
    )
    return ext_spec(name, short, definition, contexts=contexts, many=True, parts=parts)


def cadence_spec(
    name: str, short: str, definition: str, contexts: tuple[str, ...]
) -> ExtensionSpec:
    parts = (
        _part("every", "Every n units", "How many units between two occurrences.", "positiveInt"),
        _part("unit", "Unit", "The unit of the cadence.", "Coding", system=cs("cadence-unit")),
        _zoned_part("anchor", "Anchor", "The first occurrence; later ones count from it."),
    )
    return ext_spec(name, short, definition, contexts=contexts, parts=parts)


def ref_spec(
    name: str,
    short: str,
    definition: str,
    targets: tuple[str, ...],
    *contexts: str,
    many: bool = False,
) -> ExtensionSpec:
    return ext_spec(
        name, short, definition, "Reference", contexts=contexts, many=many, targets=targets
    )


HISTORY_PARTS = (
    _part("from", "From status", "The status before the change.", "Coding"),
    _part("to", "To status", "The status after the change.", "Coding"),
    _zoned_part("at", "When", "When the status changed."),
    _part("by", "By", "The staff member who changed it.", "Reference", targets=STAFF),
    _part("reason", "Reason", "Why (required for cancel, fail, reject).", "string", min=0),
)
PREFERENCE_PARTS = (
    _part(
        "channel",
        "Preferred channel",
        "A channel the person may be reached on, most preferred first.",
        "Coding",
        min=0,
        max="*",
        system=cs("contact-channel"),
    ),
    _part(
        "quiet-hours",
        "Quiet hours",
        "Local times (in the person's time-zone) between which no one should call.",
        min=0,
        parts=(
            _part("start", "Start", "Start of the quiet hours (local time).", "time"),
            _part("end", "End", "End of the quiet hours (local time); before start wraps.", "time"),
        ),
    ),
)
READING_PARTS = (
    _part("measure", "Measure", "What was measured (the goal target's measure).", "string"),
    _part("value", "Value", "The value read.", "decimal"),
    _part("unit", "Unit", "The unit of the value.", "string"),
    _zoned_part("at", "When", "When the reading was taken."),
    _part("recorded-by", "Recorded by", "The staff member.", "Reference", targets=STAFF),
)
_PREVIOUS_TARGET_PARTS = (
    _part("measure", "Measure", "What the target measured.", "string"),
    _part("quantity", "Quantity", "The amount to reach (with a comparator).", "Quantity", min=0),
    _part("range", "Range", "The range to reach (bounds in one unit).", "Range", min=0),
    _part("due", "Due", "When the target was due.", "date", min=0),
)
REVISION_PARTS = (
    _zoned_part("at", "When", "When the goal was revised."),
    _part("by", "By", "The staff member who revised it.", "Reference", targets=STAFF),
    _part(
        "reason",
        "Reason",
        "Why the goal was revised.",
        "Coding",
        system=cs("goal-revision-reason"),
    ),
    _part("reason-text", "Reason text", "The reason in words.", "string", min=0),
    _part(
        "previous-description",
        "Previous description",
        "The goal's description before the revision.",
        "string",
    ),
    _part(
        "previous-target",
        "Previous target",
        "One of the goal's targets before the revision: a quantity or a range, in order.",
        min=0,
        max="*",
        parts=_PREVIOUS_TARGET_PARTS,
    ),
)
RESOLUTION_PARTS = (
    _zoned_part("at", "When", "When the barrier was resolved."),
    _part("by", "By", "The staff member who resolved it.", "Reference", targets=STAFF),
    _part("summary", "Summary", "How it was resolved.", "string"),
)
OUTCOME_PARTS = (
    _part("goal", "Goal", "The goal reviewed.", "Reference", targets=("Goal",)),
    _part(
        "achievement",
        "Achievement",
        "The goal's achievement status at the review.",
        "Coding",
        system="http://terminology.hl7.org/CodeSystem/goal-achievement",
    ),
    _part(
        "decision",
        "Decision",
        "What the review decided for the goal.",
        "Coding",
        system=cs("review-decision"),
    ),
    _part("comment", "Comment", "The reviewer's comment.", "string", min=0),
)
PRIMITIVE_DATETIMES = ("dateTime", "instant")
PEOPLE = ("Patient", "RelatedPerson", "Practitioner")
AUDIT = ("AuditEvent",)
REVIEW = ("Basic",)
