"""Integrations as one user sees them: the seed catalogue plus that user's install state."""

from __future__ import annotations

from typing import NamedTuple

from ..auth import Namespace
from ..catalogue import Catalogue, Integration, Workflow
from .errors import NotFound
from .installs import INTEGRATION_NOT_FOUND, Installs, WorkflowInstall
from .users import User


class IntegrationWorkflow(NamedTuple):
    workflow: Workflow
    install: WorkflowInstall | None


class IntegrationView(NamedTuple):
    integration: Integration
    installed: bool  # the integration itself, tracked apart from its workflows (as the vendor does)
    workflows: list[IntegrationWorkflow]


class Integrations:
    def __init__(self, catalogue: Catalogue, installs: Installs) -> None:
        self._catalogue = catalogue
        self._installs = installs

    def list_for(self, namespace: Namespace, user: User) -> list[IntegrationView]:
        """Every integration of the account, as `user` sees it."""
        mine = self._installs.for_user(namespace, user.user_id)
        installed = self._installs.installed_integrations(namespace, user.user_id)
        return [self._view(integration, mine, installed) for integration in self._catalogue.integrations]

    def get_for(self, namespace: Namespace, user: User, id_or_name: str) -> IntegrationView:
        """One integration by id or by name (`app`), as `user` sees it."""
        integration = self._catalogue.find_integration(id_or_name)
        if integration is None:
            raise NotFound(INTEGRATION_NOT_FOUND)
        mine = self._installs.for_user(namespace, user.user_id)
        installed = self._installs.installed_integrations(namespace, user.user_id)
        return self._view(integration, mine, installed)

    @staticmethod
    def _view(integration: Integration, mine: dict[str, WorkflowInstall], installed: set[str]) -> IntegrationView:
        workflows = [IntegrationWorkflow(w, mine.get(w.workflow_id)) for w in integration.workflows]
        return IntegrationView(integration, integration.integration_id in installed, workflows)
