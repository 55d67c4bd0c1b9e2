"""Workflows as one user sees them, and what a user can do to an installed one: (de)activate, upgrade, delete.

The parent workflows come from the catalogue; the per-user state (installed, active, installedVersion)
from the installs. A workflow that is not installed cannot be switched, upgraded or deleted: the vendor
answers 400 there, as it does for the versions of a workflow the user has not installed.
"""

from __future__ import annotations

from typing import NamedTuple

from ..auth import Namespace
from ..catalogue import Catalogue, Integration, Workflow, WorkflowVersion
from .errors import InvalidInput, NotFound
from .installs import Installs, WorkflowInstall
from .users import User, Users

NOT_INSTALLED = "The workflow is not installed for this user"
NOBODY_INSTALLED = "No users have installed this workflow"


class WorkflowView(NamedTuple):
    integration: Integration
    workflow: Workflow
    install: WorkflowInstall | None


class VersionView(NamedTuple):
    version: WorkflowVersion
    active: bool  # the version the user runs


class Workflows:
    def __init__(self, catalogue: Catalogue, installs: Installs, users: Users) -> None:
        self._catalogue = catalogue
        self._installs = installs
        self._users = users

    def list_for(self, namespace: Namespace, user: User, integration: str | None = None) -> list[WorkflowView]:
        """Every parent workflow of the account (optionally of one integration, by name or id), with the
        user's install state. An integration filter that matches nothing gives an empty list."""
        mine = self._installs.for_user(namespace, user.user_id)
        views = []
        wanted = None if integration is None else self._catalogue.find_integration(integration)
        if integration is not None and wanted is None:
            return []
        for owner, workflow in self._catalogue.workflows:
            if wanted is None or owner is wanted:
                views.append(WorkflowView(owner, workflow, mine.get(workflow.workflow_id)))
        return views

    def get_for(self, namespace: Namespace, user: User, ref: str) -> WorkflowView:
        """One parent workflow by id (or name), with the user's install state."""
        mine = self._installs.for_user(namespace, user.user_id)
        workflow = self._installs.workflow(ref, prefer=mine)
        found = self._catalogue.find_workflow(workflow.workflow_id)
        assert found is not None
        return WorkflowView(found[0], workflow, mine.get(workflow.workflow_id))

    def installed(self, namespace: Namespace, user: User, ref: str) -> tuple[Workflow, WorkflowInstall]:
        """The user's install of a workflow; NotFound for an unknown workflow, InvalidInput if not installed."""
        view = self.get_for(namespace, user, ref)
        if view.install is None:
            raise InvalidInput(NOT_INSTALLED)
        return view.workflow, view.install

    def versions_for(self, namespace: Namespace, user: User, ref: str) -> list[VersionView]:
        """The released versions of a workflow the user installed; the installed one is the active one."""
        workflow, install = self.installed(namespace, user, ref)
        return [VersionView(v, number == install.installed_version) for number, v in enumerate(workflow.versions, 1)]

    def set_active(self, namespace: Namespace, user: User, ref: str, active: bool) -> WorkflowInstall:
        _, install = self.installed(namespace, user, ref)
        return install if install.active == active else self._installs.update(namespace, install, active=active)

    def deactivate_all(self, namespace: Namespace, user: User) -> int:
        """Switch off every installed workflow of the user; how many were active."""
        return self._installs.deactivate_all(namespace, user.user_id)

    def upgrade(self, namespace: Namespace, user: User, ref: str) -> WorkflowInstall:
        """Move an install to the latest version, which works only if that version asks for the same fields
        (otherwise the user must reinstall, as the vendor documents); the values are kept."""
        workflow, install = self.installed(namespace, user, ref)
        if install.installed_version >= workflow.version:
            raise InvalidInput(f"Nothing to upgrade: version {workflow.version} is already installed")
        installed_fields = {(b.id, f.name) for b, f in workflow.fields_at(install.installed_version)}
        latest_fields = {(b.id, f.name) for b, f in workflow.fields_at(workflow.version)}
        if installed_fields != latest_fields:
            added = sorted(name for _, name in latest_fields - installed_fields)
            raise InvalidInput(
                f"Version {workflow.version} asks for other fields ({', '.join(added)}): "
                "the workflow must be installed again to upgrade"
            )
        return self._installs.update(namespace, install, installed_version=workflow.version)

    def uninstall(self, namespace: Namespace, user: User, ref: str) -> None:
        """Delete the user's copy of a workflow (other users keep theirs)."""
        _, install = self.installed(namespace, user, ref)
        self._installs.remove(namespace, install)

    def installers(self, namespace: Namespace, ref: str) -> list[tuple[User, WorkflowInstall]]:
        """The users who installed a parent workflow, with their installs, oldest install first."""
        workflow = self._installs.workflow(ref)
        found = []
        for install in self._installs.of_workflow(namespace, workflow.workflow_id):
            user = self._users.by_id(namespace, install.user_id)
            if user is not None:
                found.append((user, install))
        return found

    def users_of(
        self, namespace: Namespace, ref: str, user_ref: str | None = None
    ) -> list[tuple[User, WorkflowInstall]]:
        """`installers`, optionally narrowed to one user; NotFound when that leaves nobody (a third-party
        client of the vendor reads a 404 as "no users have installed this workflow")."""
        found = self.installers(namespace, ref)
        if user_ref is not None:
            wanted = self._users.get(namespace, user_ref)
            found = [(user, install) for user, install in found if user.user_id == wanted.user_id]
        if not found:
            raise NotFound(NOBODY_INSTALLED)
        return found
