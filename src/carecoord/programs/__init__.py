"""Pure rules of care programs (see :mod:`carecoord.model.programs` for the records).

Imports only the model. Each module holds one rule set; this package re-exports them:

* :mod:`._eligibility`: :class:`PatientFacts` (what eligibility looks at for one
  patient), :func:`evaluate` (eligible or not, with the criteria that matched and
  failed, no PHI), :class:`Evaluator` (the same for many patients) and
  :func:`matches` (one criterion).
"""

from __future__ import annotations

from ._eligibility import (
    EligibilityResult,
    Evaluator,
    PatientFacts,
    age_on,
    evaluate,
    matches,
)

__all__ = ["EligibilityResult", "Evaluator", "PatientFacts", "age_on", "evaluate", "matches"]
