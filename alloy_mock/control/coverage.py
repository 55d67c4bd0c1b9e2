"""Which vendor operations the emulator serves, per API version, checked against the live routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..config import API_VERSIONS as ALL
from ..config import CURRENT_VERSIONS as CURRENT
from ..config import OLD_VERSIONS as OLD

# (operationId in the vendor's 2024-03 OpenAPI, method, {versions: path}); paths as the SDKs of each
# generation call them (reference §2).
OPERATIONS: list[tuple[str, str, dict[tuple[str, ...], str]]] = [
    ("create-a-user", "POST", {ALL: "/users"}),
    ("batch-create-users", "POST", {CURRENT: "/users/batch"}),
    ("list-all-users", "GET", {ALL: "/users"}),
    ("get-a-user", "GET", {ALL: "/users/{userId}"}),
    ("update-a-user", "PUT", {ALL: "/users/{userId}"}),
    ("delete-a-user", "DELETE", {ALL: "/users/{userId}"}),
    ("generate-jwt-token", "GET", {ALL: "/users/{userId}/token"}),
    ("disable-all-workflows-for-a-user", "PUT", {ALL: "/users/{userId}/deactivate-workflows"}),
    ("delete-logs-for-a-user", "DELETE", {ALL: "/users/{userId}/logs"}),
    ("list-integrations", "GET", {ALL: "/integrations"}),
    ("get-an-integration", "GET", {ALL: "/integrations/{integrationId}"}),
    ("generate-alloy-link", "GET", {ALL: "/users/{userId}/integrations/{integrationId}/install-url"}),
    ("list-apps", "GET", {(*OLD, "2023-12"): "/apps", ("2024-03",): "/metadata/apps"}),
    ("list-workflows", "GET", {ALL: "/workflows"}),
    ("find-a-workflow", "GET", {ALL: "/workflows/{workflowId}"}),
    ("list-versions", "GET", {ALL: "/workflows/{workflowId}/versions"}),
    ("activate-a-workflow", "PUT", {ALL: "/workflows/activate"}),
    ("deactivate-a-workflow", "PUT", {ALL: "/workflows/deactivate"}),
    ("upgrade-workflow", "PUT", {CURRENT: "/workflows/{workflowId}/upgrade"}),
    ("delete-workflow", "DELETE", {ALL: "/workflows/{workflowId}"}),
    ("get-workflow-analytics", "GET", {ALL: "/workflows/{workflowId}/analytics"}),
    ("get-workflow-logs", "GET", {ALL: "/workflows/{workflowId}/logs"}),
    ("get-workflow-errors", "GET", {CURRENT: "/workflows/{workflowId}/errors"}),
    ("rerun-workfow", "POST", {CURRENT: "/workflows/{workflowId}/rerun/{executionId}"}),
    ("list-users-by-workflowid", "GET", {ALL: "/workflows/{workflowId}/users"}),
    ("list-events", "GET", {CURRENT: "/events"}),
    ("run-event", "POST", {ALL: "/run/event"}),
    ("run-workflow", "POST", {ALL: "/run/workflow"}),
    ("list-user-credentials", "GET", {CURRENT: "/users/{userId}/credentials"}),
    ("get-credential-metadata", "GET", {("2023-12",): "/credentials", ("2024-03",): "/metadata/credentials"}),
    (
        "create-a-credential",
        "POST",
        {("2023-12",): "/users/{userId}/credentials", ("2024-03",): "/headless/credentials"},
    ),
    ("delete-a-credential", "DELETE", {CURRENT: "/users/{userId}/credentials/{credentialId}"}),
    (
        "generate-oauth-link",
        "GET",
        {(*OLD, "2023-12"): "/users/{userId}/credentials/{app}", ("2024-03",): "/headless/oauthUrl"},
    ),
    ("credential-medata-by-app", "GET", {OLD: "/credentials/{app}", ("2024-03",): "/metadata/credentials/{app}"}),
    ("start-installation", "POST", {("2024-03",): "/headless/startInstallation"}),
    ("complete-installation", "POST", {("2024-03",): "/headless/completeInstallation"}),
]


def coverage(is_served: Callable[[str, str], bool]) -> dict[str, Any]:
    """Every vendor operation per version, with `served` decided by `is_served(method, path)`."""
    versions: dict[str, list[dict[str, Any]]] = {version: [] for version in ALL}
    for operation_id, method, paths in OPERATIONS:
        for group, template in paths.items():
            for version in group:
                path = f"/{version}{template}"
                # Any value stands in for a path parameter; routing only looks at the shape.
                sample = path.replace("{", "").replace("}", "")
                versions[version].append(
                    {"operationId": operation_id, "method": method, "path": path, "served": is_served(method, sample)}
                )
    summary = {
        version: {"served": sum(op["served"] for op in ops), "total": len(ops)} for version, ops in versions.items()
    }
    return {"source": "vendor OpenAPI 2024-03 and the official SDKs", "summary": summary, "versions": versions}
