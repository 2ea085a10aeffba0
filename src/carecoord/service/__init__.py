"""The coordination service: use cases as handlers, run by one operation runner."""

from .coordinator import SYSTEM_ACTOR, CareCoordinator, Clock, EventHandler, SystemClock, TickReport

__all__ = ["SYSTEM_ACTOR", "CareCoordinator", "Clock", "EventHandler", "SystemClock", "TickReport"]
