"""The plan-template (care protocol) part of the :class:`~carecoord.CareCoordinator`
facade (:mod:`.templates`). Each method runs one handler through the operation runner,
like every other facade method."""

from __future__ import annotations

from datetime import datetime

from ..model import CarePlanId, CareTeamId, PatientId, StaffId
from ..model.templates import PlanTemplate, PlanTemplateId
from ..templates import Instantiation, Migration
from . import templates
from .runner import OperationRunner
from .templates import TemplateMigrationReport

__all__ = ["TemplateMethods"]


class TemplateMethods:
    """Plan-template use cases (mixed into :class:`~carecoord.CareCoordinator`)."""

    _runner: OperationRunner

    def save_template(self, template: PlanTemplate, *, actor: StaffId) -> PlanTemplate:
        """Save a new template version (``manage-staff``): the next version number; an
        existing version is immutable (other content raises ConflictError). Returns the
        stored copy with ``saved_at`` and ``saved_by``."""
        return self._runner.run(templates.save_template, actor, template)

    def plan_template(
        self, template_id: PlanTemplateId, version: int | None = None, *, actor: StaffId
    ) -> PlanTemplate:
        """A template version, the latest when ``version`` is ``None`` (shared with every
        active staff member)."""
        return self._runner.run(templates.plan_template, actor, template_id, version)

    def instantiate_template(
        self,
        patient_id: PatientId,
        template_id: PlanTemplateId,
        version: int | None = None,
        *,
        at: datetime | None = None,
        plan_id: CarePlanId | None = None,
        team_id: CareTeamId | None = None,
        activate: bool = True,
        actor: StaffId,
    ) -> Instantiation:
        """Create the patient's care plan from a template version (latest by default),
        anchored at ``at`` (default now) in the patient's time zone, each intervention
        assigned by care-team role; work nobody in its role can take goes to the team lead
        and is listed in ``unassigned``. Checked and audited like ``create_care_plan``."""
        return self._runner.run(
            templates.instantiate_template,
            actor,
            patient_id,
            template_id,
            version,
            at=at,
            plan_id=plan_id,
            team_id=team_id,
            activate=activate,
        )

    def preview_template_migration(
        self,
        template_id: PlanTemplateId,
        to_version: int | None = None,
        *,
        patient_id: PatientId | None = None,
        actor: StaffId,
    ) -> TemplateMigrationReport:
        """Per running plan of the template (that the actor may read), what moving it to
        ``to_version`` (latest by default) would change; others are only counted."""
        return self._runner.run(
            templates.preview_template_migration,
            actor,
            template_id,
            to_version,
            patient_id=patient_id,
        )

    def apply_template_migration(
        self,
        plan_id: CarePlanId,
        to_version: int | None = None,
        *,
        expected_version: int | None = None,
        actor: StaffId,
    ) -> Migration:
        """Move one plan to template version ``to_version`` (latest by default); with
        ``expected_version`` (the preview's ``plan_version``) a plan changed since the
        preview raises ConflictError. Completed work is never changed."""
        return self._runner.run(
            templates.apply_template_migration,
            actor,
            plan_id,
            to_version,
            expected_version=expected_version,
        )
