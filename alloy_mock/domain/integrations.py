"""Integrations as one user sees them: the seed catalogue plus that user's install state."""

from __future__ import annotations

from dataclasses import dataclass

from ..catalogue import Catalogue, Integration, Workflow
from .errors import NotFound
from .users import User

INTEGRATION_NOT_FOUND = "Integration not found"


@dataclass(frozen=True)
class WorkflowInstall:
    """A user's copy of a parent workflow."""

    installed_version: int
    active: bool


@dataclass(frozen=True)
class WorkflowView:
    workflow: Workflow
    install: WorkflowInstall | None


@dataclass(frozen=True)
class IntegrationView:
    integration: Integration
    installed: bool
    workflows: list[WorkflowView]


class Integrations:
    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue

    def list_for(self, user: User) -> list[IntegrationView]:
        """Every integration of the account, as `user` sees it."""
        return [self._view(integration, user) for integration in self._catalogue.integrations]

    def get_for(self, user: User, id_or_name: str) -> IntegrationView:
        """One integration by id or by name (`app`), as `user` sees it."""
        integration = self._catalogue.find_integration(id_or_name)
        if integration is None:
            raise NotFound(INTEGRATION_NOT_FOUND)
        return self._view(integration, user)

    @staticmethod
    def _view(integration: Integration, user: User) -> IntegrationView:
        # Nothing can install a workflow yet (the hosted modal, headless installs and the control
        # API come later), so every user sees every workflow and integration as not installed.
        return IntegrationView(integration, False, [WorkflowView(w, None) for w in integration.workflows])
