"""The registry of carecoord's FHIR extensions.

One entry per extension the export writes (``ext_url(name)``);
``_conformance_build`` turns each into a StructureDefinition under
``EXTENSION_BASE``. Add the entry here when the export gains an extension,
then run ``python -m carecoord.fhir._conformance_build``.
"""

from __future__ import annotations

from typing import Final

from ._common import cs
from ._conformance_specs import (
    AUDIT,
    HISTORY_PARTS,
    OFFSET_DEFINITION,
    OUTCOME_PARTS,
    PEOPLE,
    PREFERENCE_PARTS,
    PRIMITIVE_DATETIMES,
    READING_PARTS,
    RESOLUTION_PARTS,
    REVIEW,
    REVISION_PARTS,
    STAFF,
    ZONE_DEFINITION,
    ExtensionSpec,
    cadence_spec,
    ext_spec,
    links_spec,
    ref_spec,
    zoned_spec,
)

__all__ = ["EXTENSIONS", "ExtensionSpec"]

EXTENSIONS: Final[tuple[ExtensionSpec, ...]] = (
    # -- datetimes and codes on FHIR elements
    ext_spec("zone", "IANA time zone", ZONE_DEFINITION, "string", contexts=PRIMITIVE_DATETIMES),
    ext_spec(
        "utc-offset", "Fixed UTC offset", OFFSET_DEFINITION, "string", contexts=PRIMITIVE_DATETIMES
    ),
    ext_spec(
        "code-text",
        "Code as written",
        "A code given as text that is not ``system|code`` with an absolute URI system, "
        "kept as written.",
        "string",
        contexts=("ClinicalImpression.finding", "Condition"),
    ),
    ext_spec(
        "contact-channel",
        "Contact channel",
        "The carecoord channel of a contact point FHIR has no system for (``other``).",
        "Coding",
        contexts=("ContactPoint",),
        system=cs("contact-channel"),
    ),
    ext_spec(
        "status-history",
        "Status change",
        "One recorded status change, in order: from, to, when, by whom and why.",
        contexts=("CarePlan", "Goal", "Task", "CareTeam", "Appointment", "Consent"),
        many=True,
        parts=HISTORY_PARTS,
    ),
    # -- people
    ext_spec(
        "time-zone",
        "Time zone",
        "The IANA time zone the person lives or works in (or a location is in); due times, "
        "reminders, quiet hours and opening hours are computed in it.",
        "string",
        contexts=("Patient", "Practitioner", "Location"),
    ),
    ext_spec(
        "contact-preferences",
        "Contact preferences",
        "How the person likes to be reached: channels in order of preference, quiet hours.",
        contexts=PEOPLE,
        parts=PREFERENCE_PARTS,
    ),
    zoned_spec("enrolled-at", "Enrolled at", "When the patient was enrolled.", ("Patient",)),
    ext_spec(
        "may-receive-information",
        "May receive information",
        "Whether the care team may share information with this contact at all.",
        "boolean",
        contexts=("RelatedPerson",),
    ),
    ext_spec(
        "is-caregiver",
        "Is caregiver",
        "Whether the contact is a caregiver of the patient.",
        "boolean",
        contexts=("RelatedPerson",),
    ),
    ref_spec("supervisor", "Supervisor", "The staff member's supervisor.", STAFF, "Practitioner"),
    ref_spec("care-team-lead", "Care team lead", "The lead of the care team.", STAFF, "CareTeam"),
    # -- assessments, needs, plans, goals, tasks
    ext_spec(
        "finding-id",
        "Finding id",
        "The carecoord id of an assessment finding: the finding's own, or one the need comes from.",
        "string",
        contexts=("ClinicalImpression.finding", "Condition"),
        many=True,
    ),
    ext_spec(
        "assessment-domain",
        "Assessment domain",
        "The domain an assessment finding belongs to.",
        "Coding",
        contexts=("ClinicalImpression.finding",),
        system=cs("assessment-domain"),
    ),
    ext_spec(
        "need-priority",
        "Need priority",
        "The priority of a need.",
        "Coding",
        contexts=("Condition",),
        system=cs("need-priority"),
    ),
    cadence_spec(
        "review-cadence", "Review cadence", "How often the care plan is reviewed.", ("CarePlan",)
    ),
    zoned_spec(
        "next-review-at",
        "Next review at",
        "When the next review of the care plan is due.",
        ("CarePlan", "Basic"),
    ),
    ext_spec(
        "goal-revision",
        "Goal revision",
        "One revision of the goal, oldest first: when, by whom, why, and the description "
        "and targets it had before (the Goal itself holds the current ones).",
        contexts=("Goal",),
        many=True,
        parts=REVISION_PARTS,
    ),
    ext_spec(
        "progress-reading",
        "Progress reading",
        "One reading of a goal's measure, in order. Written by carecoord before goal "
        "readings were Observations (Goal.outcomeReference); still read by the import.",
        contexts=("Goal",),
        many=True,
        parts=READING_PARTS,
        retired=True,
    ),
    ref_spec(
        "goal",
        "Goal",
        "A goal the task or referral works toward.",
        ("Goal",),
        "Task",
        "ServiceRequest",
        many=True,
    ),
    ref_spec(
        "barrier",
        "Barrier",
        "A barrier the task addresses, or the health concern relates to.",
        ("Condition",),
        "Task",
        "Condition",
        many=True,
    ),
    ref_spec(
        "need",
        "Need",
        "A need of an assessment the health concern relates to.",
        ("Condition",),
        "Condition",
        many=True,
    ),
    cadence_spec("cadence", "Cadence", "How often a recurring task recurs.", ("Task",)),
    # -- referrals, appointments, barriers, reviews
    ref_spec(
        "intervention",
        "Intervention",
        "The care-plan task the referral or appointment carries out.",
        ("Task",),
        "ServiceRequest",
        "Appointment",
    ),
    ext_spec(
        "transport-needed",
        "Transport needed",
        "Whether the patient needs transport to the appointment.",
        "boolean",
        contexts=("Appointment",),
    ),
    ref_spec(
        "booked-by",
        "Booked by",
        "The staff member who booked the appointment.",
        STAFF,
        "Appointment",
    ),
    links_spec(
        "blocks",
        "Blocks",
        "A record the barrier blocks (a goal, task, referral, ...).",
        ("Condition",),
    ),
    ext_spec(
        "barrier-resolution",
        "Barrier resolution",
        "How and when the barrier was resolved.",
        contexts=("Condition",),
        parts=RESOLUTION_PARTS,
    ),
    ref_spec("care-plan", "Care plan", "The care plan reviewed.", ("CarePlan",), *REVIEW),
    zoned_spec("reviewed-at", "Reviewed at", "When the review took place.", REVIEW),
    ext_spec(
        "patient-participated",
        "Patient participated",
        "Whether the patient took part in the review.",
        "boolean",
        contexts=REVIEW,
    ),
    ref_spec(
        "participant",
        "Participant",
        "A staff member who took part in the review.",
        STAFF,
        *REVIEW,
        many=True,
    ),
    ref_spec(
        "contact-participant",
        "Contact participant",
        "A contact of the patient who took part in the review.",
        ("RelatedPerson",),
        *REVIEW,
        many=True,
    ),
    ext_spec(
        "goal-outcome",
        "Goal outcome",
        "The review's outcome for one goal of the plan.",
        contexts=REVIEW,
        many=True,
        parts=OUTCOME_PARTS,
    ),
    ext_spec("summary", "Summary", "The review's summary.", "string", contexts=REVIEW),
    zoned_spec("due-at", "Due at", "When the review was due.", REVIEW),
    # -- notes, decisions, consents
    ref_spec("author", "Author", "The staff member who wrote the note.", STAFF, "Communication"),
    ext_spec(
        "direction",
        "Direction",
        "The direction of the interaction, seen from the care team.",
        "Coding",
        contexts=("Communication",),
        system=cs("direction"),
    ),
    links_spec("link", "Link", "A record the note is about.", ("Communication",)),
    ext_spec(
        "recommendation",
        "Recommendation",
        "What the care team recommended to the patient.",
        "string",
        contexts=("Consent",),
    ),
    ref_spec(
        "recorded-by",
        "Recorded by",
        "The staff member who recorded the decision, consent or coverage.",
        STAFF,
        "Consent",
        "Coverage",
    ),
    zoned_spec("recorded-at", "Recorded at", "When the coverage was recorded.", ("Coverage",)),
    ext_spec(
        "taught-to",
        "Taught to",
        "The patient's contact who was taught.",
        "Reference",
        contexts=("Procedure",),
        targets=("RelatedPerson",),
    ),
    ext_spec(
        "education-material",
        "Education material",
        "The education material used, by its carecoord identifier.",
        "Identifier",
        contexts=("Procedure",),
    ),
    ext_spec(
        "interpreter-used",
        "Interpreter used",
        "An interpreter took part.",
        "boolean",
        contexts=("Procedure",),
    ),
    ext_spec(
        "patient-words",
        "Patient's words",
        "The patient's answer in their own words.",
        "string",
        contexts=("Consent",),
    ),
    links_spec("about", "About", "A record the decision is about.", ("Consent",)),
    ext_spec(
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
    ref_spec(
        "enrolment-consent",
        "Enrolment consent",
        "The patient's consent the program enrolment relies on.",
        ("Consent",),
        "EpisodeOfCare",
    ),
    # -- audit entries
    ext_spec(
        "audit-id",
        "Audit entry id",
        "The carecoord id of the audit entry (AuditEvent has no identifier element).",
        "Identifier",
        contexts=AUDIT,
    ),
    ext_spec(
        "audit-operation",
        "Operation",
        "The carecoord operation audited (``get_patient``, ...).",
        "string",
        contexts=AUDIT,
    ),
    ext_spec(
        "audit-sequence",
        "Sequence",
        "The sealed entry's place in the audit chain: a positiveInt, or its decimal text "
        "beyond 2147483647 (the largest positiveInt; earlier exports always wrote the text).",
        "positiveInt",
        "string",
        contexts=AUDIT,
    ),
    ext_spec(
        "audit-previous-hash",
        "Previous hash",
        "The hash of the entry before this one in the audit chain (sealed entries).",
        "string",
        contexts=AUDIT,
    ),
    ext_spec(
        "audit-hash",
        "Hash",
        "The hash of this sealed entry in the audit chain.",
        "string",
        contexts=AUDIT,
    ),
    zoned_spec("audit-sealed-at", "Sealed at", "When the entry was sealed into the chain.", AUDIT),
    ext_spec(
        "audit-entity",
        "Entity",
        "The record the audited operation touched (``CarePlan/plan-1``).",
        "string",
        contexts=AUDIT,
    ),
)
"""Every carecoord extension: one StructureDefinition each under :data:`EXTENSION_BASE`."""
