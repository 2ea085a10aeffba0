"""Titles, displays and definitions of carecoord's own FHIR code systems.

The codes themselves come from ``valuesets.CODE_SYSTEMS`` (built from the
model's enums); this table gives each code system a title and description and
each code a display and a definition. ``_conformance_build`` fails when a code
has no entry here or an entry names no code, so a new enum value is added
here before its CodeSystem can be regenerated.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import attrs

__all__ = ["CODE_SYSTEM_TEXTS", "CodeSystemText"]


@attrs.frozen
class CodeSystemText:
    """A code system's title and description, and per code ``(display, definition)``."""

    title: str
    description: str
    codes: Mapping[str, tuple[str, str]]


def _text(title: str, description: str, *codes: tuple[str, str, str]) -> CodeSystemText:
    return CodeSystemText(
        title, description, {code: (d, definition) for code, d, definition in codes}
    )


CODE_SYSTEM_TEXTS: Final[dict[str, CodeSystemText]] = {
    "care-team-role": _text(
        "Care team role",
        "Roles a person can hold on a care team (CareTeam.participant.role, "
        "PractitionerRole.code).",
        (
            "care-coordinator",
            "Care coordinator",
            "Coordinates the patient's care across the team and services.",
        ),
        (
            "lead-medical-assistant",
            "Lead medical assistant",
            "Leads the medical assistants of the team.",
        ),
        ("medical-assistant", "Medical assistant", "Supports the clinicians of the team."),
        ("nurse", "Nurse", "A nurse on the team."),
        ("primary-care-provider", "Primary care provider", "The patient's primary care clinician."),
        ("social-worker", "Social worker", "Addresses the patient's social needs."),
        ("specialist", "Specialist", "A specialist clinician on the team."),
        ("pharmacist", "Pharmacist", "Reviews and supports the patient's medications."),
        (
            "community-health-worker",
            "Community health worker",
            "Works with the patient in the community.",
        ),
        ("case-manager", "Case manager", "Manages the patient's case and services."),
        (
            "family-caregiver",
            "Family caregiver",
            "A family member who gives care, as a team member.",
        ),
    ),
    "assessment-domain": _text(
        "Assessment domain",
        "Domains an assessment covers (findings, needs).",
        ("medical", "Medical", "Health conditions, symptoms and treatment."),
        ("functional", "Functional", "Activities of daily living and physical function."),
        ("social", "Social", "Social needs: housing, food, transport, money."),
        ("psychological", "Psychological", "Mental health and well-being."),
        ("support-network", "Support network", "Family, friends and other support."),
        ("preferences", "Preferences", "What matters to the patient; goals and wishes."),
    ),
    "need-priority": _text(
        "Need priority",
        "Priority of a need (the same codes as FHIR goal-priority).",
        ("high-priority", "High priority", "To be addressed first."),
        ("medium-priority", "Medium priority", "To be addressed after the high-priority needs."),
        ("low-priority", "Low priority", "To be addressed when the others allow."),
    ),
    "intervention-kind": _text(
        "Intervention kind",
        "What kind of work an intervention (a care-plan Task) is.",
        ("education", "Education", "Teaching the patient or caregivers."),
        ("referral", "Referral", "Referring the patient to a service."),
        ("appointment", "Appointment", "Arranging or attending an appointment."),
        ("medication-support", "Medication support", "Helping with medications and adherence."),
        ("monitoring", "Monitoring", "Following a measure or the patient's condition over time."),
        (
            "resource-coordination",
            "Resource coordination",
            "Connecting the patient with resources.",
        ),
        ("communication", "Communication", "Contacting the patient, family or other providers."),
        ("clinical-procedure", "Clinical procedure", "A clinical procedure done by the team."),
        ("paperwork", "Paperwork", "Forms, applications and other paperwork."),
    ),
    "referral-status": _text(
        "Referral status",
        "Closed-loop referral states (Gravity Project pattern): Task.businessStatus of "
        "the referral Task and the statuses of its status-history.",
        ("draft", "Draft", "Being prepared; not sent."),
        ("sent", "Sent", "Sent to the target; no answer yet."),
        ("received", "Received", "The target has received the referral."),
        ("accepted", "Accepted", "The target has accepted the referral."),
        ("scheduled", "Scheduled", "The service is scheduled."),
        ("in-progress", "In progress", "The service is under way."),
        ("completed", "Completed", "The service is done; its result has not come back."),
        ("result-received", "Result received", "The result has come back: the loop is closed."),
        ("declined", "Declined", "The target or the patient declined the referral."),
        ("cancelled", "Cancelled", "The referral was cancelled."),
        ("failed", "Failed", "The referral could not be carried out."),
        ("entered-in-error", "Entered in error", "The referral was recorded by mistake."),
    ),
    "referral-target-kind": _text(
        "Referral target kind",
        "Who a referral goes to (ServiceRequest.performerType).",
        ("provider", "Provider", "A health care provider."),
        ("specialist", "Specialist", "A specialist clinician."),
        ("community-resource", "Community resource", "A community organisation or program."),
        ("home-health", "Home health", "A home health service."),
        ("transport", "Transport", "A transport service."),
        ("financial-aid", "Financial aid", "A financial aid service."),
        ("behavioral-health", "Behavioral health", "A behavioral health service."),
        ("other", "Other", "Any other kind of target."),
    ),
    "barrier-kind": _text(
        "Barrier kind",
        "Kinds of barrier to care (Condition.code of a barrier).",
        ("transport", "Transport", "No way to get to care."),
        ("cost", "Cost", "Care or medication costs too much."),
        ("insurance", "Insurance", "Insurance coverage is missing or insufficient."),
        ("language", "Language", "A language the care team or service does not speak."),
        ("housing", "Housing", "Unstable or unsafe housing."),
        ("food", "Food", "Not enough food, or not the right food."),
        ("health-literacy", "Health literacy", "Difficulty understanding health information."),
        ("caregiver-availability", "Caregiver availability", "No caregiver available when needed."),
        ("mobility", "Mobility", "Limited ability to move around."),
        ("technology", "Technology", "No access to, or difficulty with, the technology needed."),
        ("scheduling", "Scheduling", "No time that suits the patient and the service."),
        ("other", "Other", "Any other barrier."),
    ),
    "review-decision": _text(
        "Review decision",
        "Decision about a goal at a care plan review.",
        ("continue", "Continue", "Keep the goal as it is."),
        ("modify", "Modify", "Change the goal."),
        ("discontinue", "Discontinue", "Stop working toward the goal."),
    ),
    "goal-revision-reason": _text(
        "Goal revision reason",
        "Why a goal's description or targets were revised (the goal-revision extension).",
        ("patient-preference", "Patient preference", "The patient asked for a different goal."),
        ("clinical-change", "Clinical change", "The patient's condition or circumstances changed."),
        ("target-unrealistic", "Target unrealistic", "The target proved out of reach in time."),
        ("target-reached", "Target reached", "The target was reached early; a further one set."),
        ("clarification", "Clarification", "The wording was made clearer; the meaning is kept."),
        ("correction", "Correction", "What was recorded was wrong."),
        ("other", "Other", "Another reason, given in the revision's reason text."),
    ),
    "contact-channel": _text(
        "Contact channel",
        "Channels of contact: the FHIR contact-point systems carecoord uses plus mail, "
        "portal, video and in person.",
        ("phone", "Phone", "A telephone call."),
        ("sms", "SMS", "A text message."),
        ("email", "Email", "An email."),
        ("mail", "Mail", "A letter."),
        ("portal", "Portal", "A message through a patient portal."),
        ("video", "Video", "A video call."),
        ("in-person", "In person", "Face to face."),
    ),
    "direction": _text(
        "Direction",
        "Direction of an interaction, seen from the care team.",
        ("inbound", "Inbound", "Toward the care team."),
        ("outbound", "Outbound", "From the care team."),
        ("internal", "Internal", "Within the care team."),
    ),
    "interaction-party": _text(
        "Interaction party",
        "Who the care team interacted with (Communication.category).",
        ("patient", "Patient", "The patient."),
        ("family", "Family", "The patient's family or other contacts."),
        ("care-team", "Care team", "Members of the care team."),
        ("external-provider", "External provider", "A provider outside the care team."),
        ("community-organisation", "Community organisation", "A community organisation."),
        ("payer", "Payer", "An insurer or other payer."),
    ),
    "decision-outcome": _text(
        "Decision outcome",
        "The patient's answer to a recommendation.",
        ("accepted", "Accepted", "The patient accepted the recommendation."),
        ("declined", "Declined", "The patient declined the recommendation."),
        ("deferred", "Deferred", "The patient will decide later."),
    ),
    "cadence-unit": _text(
        "Cadence unit",
        "Units of a cadence (recurring tasks, care plan reviews).",
        ("days", "Days", "Calendar days in the cadence's time zone."),
        ("weeks", "Weeks", "Seven days."),
        ("months", "Months", "Calendar months (the day of month clamped to the month's end)."),
        ("quarters", "Quarters", "Three calendar months."),
        ("years", "Years", "Twelve calendar months."),
    ),
    "ref-kind": _text(
        "Record kind",
        "Kinds of carecoord record a link points at (the blocks, link and about extensions).",
        ("care-plan", "Care plan", "A care plan (CarePlan)."),
        ("goal", "Goal", "A goal (Goal)."),
        ("intervention", "Intervention", "An intervention (Task)."),
        ("referral", "Referral", "A referral (ServiceRequest)."),
        ("appointment", "Appointment", "An appointment (Appointment)."),
        ("barrier", "Barrier", "A barrier (Condition)."),
        ("need", "Need", "A need (Condition)."),
        ("review", "Review", "A care plan review (Basic)."),
        ("note", "Note", "A note (Communication)."),
        ("assessment", "Assessment", "An assessment (ClinicalImpression)."),
    ),
    "contact-relationship": _text(
        "Contact relationship",
        "Relationships of a contact to the patient that neither HL7 v3 RoleCode nor v2-0131 has.",
        ("CAREGIVER", "Caregiver", "A person who gives the patient care, not as family."),
    ),
    "record-category": _text(
        "Record category",
        "What a FHIR resource is in carecoord terms where its type alone does not say "
        "(a Condition is a need or a barrier, a Consent a decision or an information-sharing "
        "consent, ...).",
        ("need", "Need", "A Condition that is a need found by an assessment."),
        ("barrier", "Barrier", "A Condition that is a barrier to care."),
        ("care-plan-review", "Care plan review", "A Basic resource that is a care plan review."),
        (
            "patient-decision",
            "Patient decision",
            "A Consent that is the patient's answer to a recommendation.",
        ),
        (
            "information-sharing",
            "Information sharing",
            "A Consent to share information with contacts.",
        ),
        ("referral", "Referral", "A ServiceRequest that is a closed-loop referral."),
        ("referral-outcome", "Referral outcome", "The outcome of a referral (Task.output)."),
        (
            "social-screening",
            "Social screening",
            "An Observation grouping the answers of one social-needs screening.",
        ),
    ),
    "care-program": _text(
        "Care program",
        "The host's care programs (EpisodeOfCare.type, PlanDefinition.topic): each code is a "
        "carecoord care program id, so the codes are not listed here.",
    ),
    "living-situation": _text(
        "Living situation",
        "Where and how the patient lives (carecoord's social context).",
        ("stable-housing", "Stable housing", "The patient has steady housing."),
        ("unstable-housing", "Unstable housing", "The patient's housing is not steady."),
        ("homeless", "Homeless", "The patient has no housing."),
        ("assisted-living", "Assisted living", "The patient lives in assisted living."),
        ("care-home", "Care home", "The patient lives in a care home."),
    ),
    "transport-access": _text(
        "Transport access",
        "How the patient gets to care (carecoord's social context).",
        ("own-vehicle", "Own vehicle", "The patient drives their own vehicle."),
        ("public-transit", "Public transit", "The patient uses public transport."),
        ("relies-on-others", "Relies on others", "Someone else drives the patient."),
        ("none", "None", "The patient has no way to get to care."),
    ),
    "teach-back": _text(
        "Teach-back result",
        "How well the person taught explained it back in their own words.",
        ("understood", "Understood", "Explained it back correctly."),
        ("partly-understood", "Partly understood", "Explained part of it back."),
        ("not-understood", "Not understood", "Could not explain it back: teach again."),
    ),
}
"""Per carecoord code system name (``cs(name)``): its texts."""
