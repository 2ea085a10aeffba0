"""The coordination service: use cases as handlers, run by one operation runner.

* :class:`CareCoordinator` — the facade, one method per use case;
* :mod:`~carecoord.service.runner` — :class:`Context`, :class:`Operation`,
  :func:`operation` and the :class:`OperationRunner` pipeline;
* the handlers, grouped by aggregate: :mod:`~carecoord.service.staff`,
  :mod:`~carecoord.service.patients`, :mod:`~carecoord.service.teams`,
  :mod:`~carecoord.service.plans`, :mod:`~carecoord.service.referrals`,
  :mod:`~carecoord.service.appointments`, :mod:`~carecoord.service.records`,
  :mod:`~carecoord.service.worklists`, :mod:`~carecoord.service.reporting`,
  :mod:`~carecoord.service.emergency`, :mod:`~carecoord.service.audit`,
  :mod:`~carecoord.service.exchange` (whole patient records in and out),
  :mod:`~carecoord.service.concerns` (health concerns, patients' own goals);
* staffing: :mod:`~carecoord.service.rotas`, :mod:`~carecoord.service.slots`,
  :mod:`~carecoord.service.training`, :mod:`~carecoord.service.supervision`;
* clinic operations: :mod:`~carecoord.service.flow`,
  :mod:`~carecoord.service.measurements`, :mod:`~carecoord.service.supplies`,
  :mod:`~carecoord.service.supply_orders`;
* patient administration and education: :mod:`~carecoord.service.coverage`,
  :mod:`~carecoord.service.paperwork`, :mod:`~carecoord.service.education`,
  :mod:`~carecoord.service.social`, :mod:`~carecoord.service.communication`,
  :mod:`~carecoord.service.admin_worklist`;
* :mod:`~carecoord.service.sealing` — the audit-log sealer and verification;
* :mod:`~carecoord.service.tick` — time-driven announcements.
"""

from .coordinator import CareCoordinator
from .runner import (
    SYSTEM_ACTOR,
    Clock,
    Context,
    EventHandler,
    Operation,
    OperationRunner,
    Settings,
    SystemClock,
    operation,
)
from .sealing import AuditSealer, SealReport
from .tick import TickReport

__all__ = [
    "SYSTEM_ACTOR",
    "AuditSealer",
    "CareCoordinator",
    "Clock",
    "Context",
    "EventHandler",
    "Operation",
    "OperationRunner",
    "SealReport",
    "Settings",
    "SystemClock",
    "TickReport",
    "operation",
]
