"""Federated learning as a local federation: generate_plan, then start_aggregator and N
collaborators' train on a Docker network of their own, with a throwaway certificate
authority (docs/federation.md)."""

from .outcome import Collaborator, FederationOutcome
from .run import Federations
from .tasks import ADMIN_TASK, FL_TASKS, fl_tasks

__all__ = [
    "ADMIN_TASK",
    "FL_TASKS",
    "Collaborator",
    "FederationOutcome",
    "Federations",
    "fl_tasks",
]
