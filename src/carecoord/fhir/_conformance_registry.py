"""The registry of carecoord's FHIR extensions.

One entry per extension the export writes (``ext_url(name)``);
``_conformance_build`` turns each into a StructureDefinition under
``EXTENSION_BASE``. Add the entry here when the export gains an extension,
then run ``python -m carecoord.fhir._conformance_build``.
"""

from __future__ import annotations

from typing import Final

import attrs

from ._common import cs, ext_url

__all__ = ["EXTENSIONS", "ExtensionSpec"]


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


def _ext(
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


_ZONE = "The IANA time zone of the datetime (``America/Chicago``)."
_OFFSET = (
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
    _part("zone", "IANA time zone", _ZONE, "string", min=0),
    _part("utc-offset", "Fixed UTC offset", _OFFSET, "string", min=0),
)
_ZONED = (
    " A datetime on an IANA zone, or with an offset FHIR cannot write, is a complex "
    "extension: ``dateTime`` plus ``zone`` or ``utc-offset``; any other is a valueDateTime."
)
_STAFF = ("Practitioner",)


def _zoned(name: str, short: str, definition: str, contexts: tuple[str, ...]) -> ExtensionSpec:
    return _ext(name, short, definition + _ZONED, "dateTime", contexts=contexts, parts=_ZONED_PARTS)


def _zoned_part(name: str, short: str, definition: str) -> ExtensionSpec:
    return _part(name, short, definition + _ZONED, "dateTime", parts=_ZONED_PARTS)


def _links(name: str, short: str, definition: str, contexts: tuple[str, ...]) -> ExtensionSpec:
    parts = (
        _part(
            "kind", "Kind of record", "What the link points at.", "Coding", system=cs("ref-kind")
        ),
        _part("id", "carecoord id", "The carecoord id of the record linked to.", "string"),
    )
    return _ext(name, short, definition, contexts=contexts, many=True, parts=parts)


def _cadence(name: str, short: str, definition: str, contexts: tuple[str, ...]) -> ExtensionSpec:
    parts = (
        _part("every", "Every n units", "How many units between two occurrences.", "positiveInt"),
        _part("unit", "Unit", "The unit of the cadence.", "Coding", system=cs("cadence-unit")),
        _zoned_part("anchor", "Anchor", "The first occurrence; later ones count from it."),
    )
    return _ext(name, short, definition, contexts=contexts, parts=parts)


def _ref(
    name: str,
    short: str,
    definition: str,
    targets: tuple[str, ...],
    *contexts: str,
    many: bool = False,
) -> ExtensionSpec:
    return _ext(name, short, definition, "Reference", contexts=contexts, many=many, targets=targets)


_HISTORY_PARTS = (
    _part("from", "From status", "The status before the change.", "Coding"),
    _part("to", "To status", "The status after the change.", "Coding"),
    _zoned_part("at", "When", "When the status changed."),
    _part("by", "By", "The staff member who changed it.", "Reference", targets=_STAFF),
    _part("reason", "Reason", "Why (required for cancel, fail, reject).", "string", min=0),
)
_PREFERENCE_PARTS = (
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
_READING_PARTS = (
    _part("measure", "Measure", "What was measured (the goal target's measure).", "string"),
    _part("value", "Value", "The value read.", "decimal"),
    _part("unit", "Unit", "The unit of the value.", "string"),
    _zoned_part("at", "When", "When the reading was taken."),
    _part("recorded-by", "Recorded by", "The staff member.", "Reference", targets=_STAFF),
)
_PREVIOUS_TARGET_PARTS = (
    _part("measure", "Measure", "What the target measured.", "string"),
    _part("quantity", "Quantity", "The amount to reach (with a comparator).", "Quantity", min=0),
    _part("range", "Range", "The range to reach (bounds in one unit).", "Range", min=0),
    _part("due", "Due", "When the target was due.", "date", min=0),
)
_REVISION_PARTS = (
    _zoned_part("at", "When", "When the goal was revised."),
    _part("by", "By", "The staff member who revised it.", "Reference", targets=_STAFF),
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
_RESOLUTION_PARTS = (
    _zoned_part("at", "When", "When the barrier was resolved."),
    _part("by", "By", "The staff member who resolved it.", "Reference", targets=_STAFF),
    _part("summary", "Summary", "How it was resolved.", "string"),
)
_OUTCOME_PARTS = (
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
_PRIMITIVE_DATETIMES = ("dateTime", "instant")
_PEOPLE = ("Patient", "RelatedPerson", "Practitioner")
_AUDIT = ("AuditEvent",)
_REVIEW = ("Basic",)

EXTENSIONS: Final[tuple[ExtensionSpec, ...]] = (
    # -- datetimes and codes on FHIR elements
    _ext("zone", "IANA time zone", _ZONE, "string", contexts=_PRIMITIVE_DATETIMES),
    _ext("utc-offset", "Fixed UTC offset", _OFFSET, "string", contexts=_PRIMITIVE_DATETIMES),
    _ext(
        "code-text",
        "Code as written",
        "A code given as text that is not ``system|code`` with an absolute URI system, "
        "kept as written.",
        "string",
        contexts=("ClinicalImpression.finding", "Condition"),
    ),
    _ext(
        "contact-channel",
        "Contact channel",
        "The carecoord channel of a contact point FHIR has no system for (``other``).",
        "Coding",
        contexts=("ContactPoint",),
        system=cs("contact-channel"),
    ),
    _ext(
        "status-history",
        "Status change",
        "One recorded status change, in order: from, to, when, by whom and why.",
        contexts=("CarePlan", "Goal", "Task", "CareTeam", "Appointment", "Consent"),
        many=True,
        parts=_HISTORY_PARTS,
    ),
    # -- people
    _ext(
        "time-zone",
        "Time zone",
        "The IANA time zone the person lives or works in (or a location is in); due times, "
        "reminders, quiet hours and opening hours are computed in it.",
        "string",
        contexts=("Patient", "Practitioner", "Location"),
    ),
    _ext(
        "contact-preferences",
        "Contact preferences",
        "How the person likes to be reached: channels in order of preference, quiet hours.",
        contexts=_PEOPLE,
        parts=_PREFERENCE_PARTS,
    ),
    _zoned("enrolled-at", "Enrolled at", "When the patient was enrolled.", ("Patient",)),
    _ext(
        "may-receive-information",
        "May receive information",
        "Whether the care team may share information with this contact at all.",
        "boolean",
        contexts=("RelatedPerson",),
    ),
    _ext(
        "is-caregiver",
        "Is caregiver",
        "Whether the contact is a caregiver of the patient.",
        "boolean",
        contexts=("RelatedPerson",),
    ),
    _ref("supervisor", "Supervisor", "The staff member's supervisor.", _STAFF, "Practitioner"),
    _ref("care-team-lead", "Care team lead", "The lead of the care team.", _STAFF, "CareTeam"),
    # -- assessments, needs, plans, goals, tasks
    _ext(
        "finding-id",
        "Finding id",
        "The carecoord id of an assessment finding: the finding's own, or one the need comes from.",
        "string",
        contexts=("ClinicalImpression.finding", "Condition"),
        many=True,
    ),
    _ext(
        "assessment-domain",
        "Assessment domain",
        "The domain an assessment finding belongs to.",
        "Coding",
        contexts=("ClinicalImpression.finding",),
        system=cs("assessment-domain"),
    ),
    _ext(
        "need-priority",
        "Need priority",
        "The priority of a need.",
        "Coding",
        contexts=("Condition",),
        system=cs("need-priority"),
    ),
    _cadence(
        "review-cadence", "Review cadence", "How often the care plan is reviewed.", ("CarePlan",)
    ),
    _zoned(
        "next-review-at",
        "Next review at",
        "When the next review of the care plan is due.",
        ("CarePlan", "Basic"),
    ),
    _ext(
        "goal-revision",
        "Goal revision",
        "One revision of the goal, oldest first: when, by whom, why, and the description "
        "and targets it had before (the Goal itself holds the current ones).",
        contexts=("Goal",),
        many=True,
        parts=_REVISION_PARTS,
    ),
    _ext(
        "progress-reading",
        "Progress reading",
        "One reading of a goal's measure, in order. Written by carecoord before goal "
        "readings were Observations (Goal.outcomeReference); still read by the import.",
        contexts=("Goal",),
        many=True,
        parts=_READING_PARTS,
        retired=True,
    ),
    _ref(
        "goal",
        "Goal",
        "A goal the task or referral works toward.",
        ("Goal",),
        "Task",
        "ServiceRequest",
        many=True,
    ),
    _ref(
        "barrier",
        "Barrier",
        "A barrier the task addresses, or the health concern relates to.",
        ("Condition",),
        "Task",
        "Condition",
        many=True,
    ),
    _ref(
        "need",
        "Need",
        "A need of an assessment the health concern relates to.",
        ("Condition",),
        "Condition",
        many=True,
    ),
    _cadence("cadence", "Cadence", "How often a recurring task recurs.", ("Task",)),
    # -- referrals, appointments, barriers, reviews
    _ref(
        "intervention",
        "Intervention",
        "The care-plan task the referral or appointment carries out.",
        ("Task",),
        "ServiceRequest",
        "Appointment",
    ),
    _ext(
        "transport-needed",
        "Transport needed",
        "Whether the patient needs transport to the appointment.",
        "boolean",
        contexts=("Appointment",),
    ),
    _ref(
        "booked-by",
        "Booked by",
        "The staff member who booked the appointment.",
        _STAFF,
        "Appointment",
    ),
    _links(
        "blocks",
        "Blocks",
        "A record the barrier blocks (a goal, task, referral, ...).",
        ("Condition",),
    ),
    _ext(
        "barrier-resolution",
        "Barrier resolution",
        "How and when the barrier was resolved.",
        contexts=("Condition",),
        parts=_RESOLUTION_PARTS,
    ),
    _ref("care-plan", "Care plan", "The care plan reviewed.", ("CarePlan",), *_REVIEW),
    _zoned("reviewed-at", "Reviewed at", "When the review took place.", _REVIEW),
    _ext(
        "patient-participated",
        "Patient participated",
        "Whether the patient took part in the review.",
        "boolean",
        contexts=_REVIEW,
    ),
    _ref(
        "participant",
        "Participant",
        "A staff member who took part in the review.",
        _STAFF,
        *_REVIEW,
        many=True,
    ),
    _ref(
        "contact-participant",
        "Contact participant",
        "A contact of the patient who took part in the review.",
        ("RelatedPerson",),
        *_REVIEW,
        many=True,
    ),
    _ext(
        "goal-outcome",
        "Goal outcome",
        "The review's outcome for one goal of the plan.",
        contexts=_REVIEW,
        many=True,
        parts=_OUTCOME_PARTS,
    ),
    _ext("summary", "Summary", "The review's summary.", "string", contexts=_REVIEW),
    _zoned("due-at", "Due at", "When the review was due.", _REVIEW),
    # -- notes, decisions, consents
    _ref("author", "Author", "The staff member who wrote the note.", _STAFF, "Communication"),
    _ext(
        "direction",
        "Direction",
        "The direction of the interaction, seen from the care team.",
        "Coding",
        contexts=("Communication",),
        system=cs("direction"),
    ),
    _links("link", "Link", "A record the note is about.", ("Communication",)),
    _ext(
        "recommendation",
        "Recommendation",
        "What the care team recommended to the patient.",
        "string",
        contexts=("Consent",),
    ),
    _ref(
        "recorded-by",
        "Recorded by",
        "The staff member who recorded the decision, consent or coverage.",
        _STAFF,
        "Consent",
        "Coverage",
    ),
    _zoned("recorded-at", "Recorded at", "When the coverage was recorded.", ("Coverage",)),
    _ext(
        "taught-to",
        "Taught to",
        "The patient's contact who was taught.",
        "Reference",
        contexts=("Procedure",),
        targets=("RelatedPerson",),
    ),
    _ext(
        "education-material",
        "Education material",
        "The education material used, by its carecoord identifier.",
        "Identifier",
        contexts=("Procedure",),
    ),
    _ext(
        "interpreter-used",
        "Interpreter used",
        "An interpreter took part.",
        "boolean",
        contexts=("Procedure",),
    ),
    _ext(
        "patient-words",
        "Patient's words",
        "The patient's answer in their own words.",
        "string",
        contexts=("Consent",),
    ),
    _links("about", "About", "A record the decision is about.", ("Consent",)),
    _ext(
        "decision-outcome",
        "Decision outcome",
        "The patient's answer to a recommendation. Written by carecoord before decisions "
        "had statuses of their own (now Consent.status); still read by the import.",
        "Coding",
        contexts=("Consent",),
        system=cs("decision-outcome"),
        retired=True,
    ),
    # -- care programs
    _ref(
        "enrolment-consent",
        "Enrolment consent",
        "The patient's consent the program enrolment relies on.",
        ("Consent",),
        "EpisodeOfCare",
    ),
    # -- audit entries
    _ext(
        "audit-id",
        "Audit entry id",
        "The carecoord id of the audit entry (AuditEvent has no identifier element).",
        "Identifier",
        contexts=_AUDIT,
    ),
    _ext(
        "audit-operation",
        "Operation",
        "The carecoord operation audited (``get_patient``, ...).",
        "string",
        contexts=_AUDIT,
    ),
    _ext(
        "audit-sequence",
        "Sequence",
        "The sealed entry's place in the audit chain: a positiveInt, or its decimal text "
        "beyond 2147483647 (the largest positiveInt; earlier exports always wrote the text).",
        "positiveInt",
        "string",
        contexts=_AUDIT,
    ),
    _ext(
        "audit-previous-hash",
        "Previous hash",
        "The hash of the entry before this one in the audit chain (sealed entries).",
        "string",
        contexts=_AUDIT,
    ),
    _ext(
        "audit-hash",
        "Hash",
        "The hash of this sealed entry in the audit chain.",
        "string",
        contexts=_AUDIT,
    ),
    _zoned("audit-sealed-at", "Sealed at", "When the entry was sealed into the chain.", _AUDIT),
    _ext(
        "audit-entity",
        "Entity",
        "The record the audited operation touched (``CarePlan/plan-1``).",
        "string",
        contexts=_AUDIT,
    ),
)
"""Every carecoord extension: one StructureDefinition each under :data:`EXTENSION_BASE`."""
