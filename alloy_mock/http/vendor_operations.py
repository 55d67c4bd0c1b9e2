"""What each vendor operation takes and answers, keyed by its operationId (control/coverage.py OPERATIONS):
the table /openapi.json is generated from, joined with the live routes (http/vendor_openapi.py).

Request fields follow the vendor's 2024-03 contract with its known defects fixed (reference §0.1: JSON-or-string
fields, `{}` errors, optional Authorization); responses are what the handlers render (reference §3, §4).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from .vendor_schemas import (
    OBJECT_ID,
    STRING,
    TEXT,
    URL,
    USER_TEXT,
    Schema,
    array,
    closed,
    constant,
    data,
    json_or_string,
    ref,
    request,
)


@dataclass(frozen=True)
class Param:
    """A query parameter."""

    name: str
    description: str
    required: bool = False


@dataclass(frozen=True)
class OperationDoc:
    summary: str
    group: str  # a tag: the resource the operation belongs to
    response: Schema  # the 200 body
    description: str = ""
    query: tuple[Param, ...] = ()
    body: Schema | None = None
    # Also answers a user's own token in x-alloy-user-token, without a key (the user then comes from it).
    user_token: bool = False
    # Route parameter -> its name in the vendor's paths, where ROUTE_PARAMETERS does not give it.
    path_names: Mapping[str, str] = field(default_factory=dict)
    # The operation as served at one of its coverage paths, where it takes or answers something else there.
    by_path: Mapping[str, OperationDoc] = field(default_factory=dict)


# Route parameter ({user} in http/*.py routes) -> the vendor's name and what it accepts.
ROUTE_PARAMETERS = {
    "user": "userId",
    "integration": "integrationId",
    "workflow": "workflowId",
    "credential": "credentialId",
    "app": "app",
    "execution": "executionId",
}
PATH_PARAMETERS = {
    "userId": "The user's userId, or their username",
    "integrationId": "The integrationId, or the integration's name (`app`)",
    "workflowId": "The parent workflow's workflowId, or its name",
    "credentialId": "The credentialId, from the user's credentials",
    "app": "An app name from the credential metadata (camelCase, e.g. `shopify`)",
    "executionId": "An executionId from the workflow's logs",
}

USER_ID = Param("userId", "The user's userId or username", required=True)
ACTING_USER_TEXT = "The user's userId or username; required with an API key, not sent with a user token"
ACTING_USER = Param("userId", ACTING_USER_TEXT)
SWITCH_BODY = request(
    {},
    {"userId": {"type": "string", "description": ACTING_USER_TEXT}, "workflowId": STRING, "workflowName": STRING},
    anyOf=[{"required": ["workflowId"]}, {"required": ["workflowName"]}],
)
NOT_INSTALLED = "400 The workflow is not installed for this user."


def switch_doc(active: bool) -> OperationDoc:
    """PUT /workflows/activate and /deactivate, which differ only in the state they set."""
    return OperationDoc(
        f"{'Activate' if active else 'Deactivate'} a user's installed workflow",
        "Workflows",
        closed({"activated": constant(active)}),
        NOT_INSTALLED,
        body=SWITCH_BODY,
        user_token=True,
    )


OAUTH_QUERY = (
    Param("integrationId", "The integration the link is for, passed on to the consent page"),
    Param("redirectUri", "An http(s) URL (at most 2048 characters) the consent page sends the browser to afterwards"),
    Param("state", "Passed back on the redirect"),
)
SUCCESS = closed({"success": constant(True)})
CREDENTIAL = json_or_string(ref("CredentialInput"), "{type, data}")
CREATE_CREDENTIAL = OperationDoc(
    "Create a credential for a user",
    "Credentials",
    closed({"success": constant(True), "credentialId": OBJECT_ID}),
    "400 naming an unknown type, a missing required property or (key-based apps) an unknown property; "
    "values are never quoted.",
    body=request({"credential": CREDENTIAL}),
)
OAUTH_LINK = OperationDoc(
    "Create an OAuth link for an app",
    "Credentials",
    closed({"redirectUrl": URL, "oauthUrl": {**URL, "description": "The same URL"}}),
    "The link leads to the emulator's consent page, which stores a credential and redirects. The app's "
    "properties (e.g. `shopSubdomain`) may be added as further query parameters.",
    query=OAUTH_QUERY,
    path_names={"credential": "app"},  # the same route segment as a credentialId (2023-12 DELETE)
)

OPERATION_DOCS: dict[str, OperationDoc] = {
    "create-a-user": OperationDoc(
        "Create a user",
        "Users",
        closed({"userId": OBJECT_ID}),
        "`username` must be unique in the key's namespace (else 400 User already exists).",
        body=ref("NewUser"),
    ),
    "batch-create-users": OperationDoc(
        "Create a batch of users",
        "Users",
        closed(
            {
                "message": constant("success"),
                "invalidUsers": array({}, description="The rejected items, as given: no username, or one that exists"),
            }
        ),
        "At most 1000 users. Also accepted: the array itself as the body, or wrapped in a one-element array. "
        "400 No valid users provided / All users already exist when nothing can be created.",
        body={
            "oneOf": [
                request({"users": json_or_string(array(ref("NewUser"), maxItems=1000), "The users")}),
                array(ref("NewUser"), maxItems=1000),
            ]
        },
    ),
    "list-all-users": OperationDoc(
        "List users",
        "Users",
        data(ref("User")),
        query=(Param("parentWorkflowId", "Only the users who installed this parent workflow"),),
    ),
    "get-a-user": OperationDoc("Get a user", "Users", ref("User")),
    "update-a-user": OperationDoc(
        "Update a user's username or fullName",
        "Users",
        ref("User"),
        body=request({}, {"username": USER_TEXT, "fullName": {"type": ["string", "null"], "maxLength": 1024}}),
    ),
    "delete-a-user": OperationDoc(
        "Delete a user", "Users", SUCCESS, "Also deletes their installs, credentials and pending installations."
    ),
    "generate-jwt-token": OperationDoc(
        "Issue a user token (JWT)",
        "Users",
        closed({"token": {**TEXT, "description": "A JWT, verifiable with /.well-known/jwks.json"}}),
    ),
    "disable-all-workflows-for-a-user": OperationDoc(
        "Deactivate all of a user's workflows", "Workflows", closed({"message": constant("Success")})
    ),
    "list-integrations": OperationDoc(
        "List integrations, with the user's install state",
        "Integrations",
        data(ref("Integration")),
        query=(ACTING_USER,),
        user_token=True,
    ),
    "get-an-integration": OperationDoc(
        "Get an integration, with the user's install state",
        "Integrations",
        closed({"data": ref("Integration")}),
        query=(ACTING_USER,),
        user_token=True,
    ),
    "generate-alloy-link": OperationDoc(
        "Create an Embedded Link (install URL) for an integration",
        "Integrations",
        closed({"url": {**URL, "description": "The emulator's /embedded-install page, with a fresh user token"}}),
    ),
    "list-apps": OperationDoc("List the apps", "Metadata", data(ref("App"))),
    "list-workflows": OperationDoc(
        "List the parent workflows, with the user's install state",
        "Workflows",
        data(ref("Workflow")),
        "An `integration` that matches nothing gives an empty list.",
        query=(ACTING_USER, Param("integration", "Only this integration's workflows (its name or id)")),
        user_token=True,
    ),
    "find-a-workflow": OperationDoc(
        "Get a parent workflow, with the user's install state",
        "Workflows",
        closed({"data": ref("Workflow")}),
        query=(ACTING_USER,),
        user_token=True,
    ),
    "list-versions": OperationDoc(
        "List the versions of a workflow the user installed",
        "Workflows",
        data(ref("WorkflowVersion")),
        NOT_INSTALLED,
        query=(ACTING_USER,),
        user_token=True,
    ),
    "activate-a-workflow": switch_doc(active=True),
    "deactivate-a-workflow": switch_doc(active=False),
    "upgrade-workflow": OperationDoc(
        "Upgrade a user's workflow to the latest version",
        "Workflows",
        closed({"upgraded": constant(True)}),
        "400 when the workflow is not installed, is at the latest version already, or the latest version asks "
        "for other fields (the user must install it again).",
        query=(USER_ID,),
    ),
    "delete-workflow": OperationDoc(
        "Uninstall a workflow for one user",
        "Workflows",
        closed({"deleted": constant(True)}),
        NOT_INSTALLED,
        query=(USER_ID,),
    ),
    "list-users-by-workflowid": OperationDoc(
        "List the users who installed a parent workflow",
        "Workflows",
        data(ref("WorkflowUser")),
        "404 No users have installed this workflow.",
        query=(Param("userId", "Only this user (userId or username)"),),
    ),
    "list-user-credentials": OperationDoc("List a user's credentials", "Credentials", data(ref("UserCredential"))),
    "get-credential-metadata": OperationDoc(
        "List the credential structure of every app", "Metadata", data(ref("CredentialMetadata"))
    ),
    # 2024-03 moved it to /headless/credentials, with the userId in the body.
    "create-a-credential": replace(
        CREATE_CREDENTIAL,
        by_path={
            "/headless/credentials": replace(
                CREATE_CREDENTIAL,
                body=request({"credential": CREDENTIAL, "userId": {**TEXT, "description": "userId or username"}}),
            )
        },
    ),
    "delete-a-credential": OperationDoc(
        "Delete one of a user's credentials",
        "Credentials",
        SUCCESS,
        "Installs that use it keep its id.",
    ),
    # 2024-03 moved it to /headless/oauthUrl, with the user and the app in the query.
    "generate-oauth-link": replace(
        OAUTH_LINK,
        by_path={
            "/headless/oauthUrl": replace(
                OAUTH_LINK,
                response=closed({"oauthUrl": URL}),
                query=(
                    USER_ID,
                    Param("app", "The OAuth app, e.g. hubspot (required unless credentialName is given)"),
                    Param("credentialName", "The same as app"),
                    *OAUTH_QUERY,
                ),
                path_names={},
            )
        },
    ),
    "credential-medata-by-app": OperationDoc(
        "Get the credential structure of one app",
        "Metadata",
        closed({"data": ref("CredentialMetadata")}),
        "400 for an unknown app, as the vendor documents.",
    ),
    "delete-logs-for-a-user": OperationDoc(
        "Delete a user's logs",
        "Executions",
        closed({"message": constant("Success")}),
        "Removes the user's executions and their share of the analytics, nothing else.",
    ),
    "list-events": OperationDoc(
        "List the account's custom events",
        "Runs",
        data(ref("CustomEvent")),
        query=(Param("userId", "Ignored: events are account-level"),),
    ),
    "run-event": OperationDoc(
        "Trigger a custom event for a user",
        "Runs",
        closed({"message": constant("Event successfully triggered")}),
        "Runs every installed, active workflow of the user that starts with the event; an unknown event or "
        "no such workflow runs nothing (400 with --strict-runs).",
        body=request(
            {
                "event": {**TEXT, "maxLength": 200},
                "userId": {**TEXT, "description": "userId or username"},
                "data": json_or_string({"type": "object"}, "The event's payload"),
            }
        ),
    ),
    "run-workflow": OperationDoc(
        "Run a webhook-triggered workflow for a user",
        "Runs",
        closed({"message": constant("success")}),
        "400 for a custom-event or scheduled workflow, or one not installed or not active for the user.",
        body=request(
            {
                "userId": {**TEXT, "description": "userId or username"},
                "data": json_or_string({"type": "object"}, "The webhook's payload"),
            },
            {"workflowId": STRING, "workflowName": STRING},
            anyOf=[{"required": ["workflowId"]}, {"required": ["workflowName"]}],
        ),
    ),
    "get-workflow-logs": OperationDoc(
        "A page of a workflow's executions",
        "Executions",
        data(ref("Execution")),
        "Page 0 and 1 are both the first page; past the end, an empty list.",
        query=(
            Param("userId", "Only this user's executions (userId or username)"),
            Param("page", "The page, from 1 (0 is also the first)"),
            Param("limit", "Executions per page, default 10, at most 30"),
            Param("order", "desc (newest first, the default) or asc"),
            Param("error", "true: only failed executions"),
        ),
    ),
    "get-workflow-errors": OperationDoc(
        "A workflow's failed executions, newest first",
        "Executions",
        data(ref("ExecutionError")),
        query=(Param("userId", "Only this user's errors (userId or username)"),),
    ),
    "get-workflow-analytics": OperationDoc(
        "Totals of a workflow's runs over the namespace's users",
        "Executions",
        closed(
            {
                "totalAppActions": {"type": "integer", "minimum": 0, "description": "Blocks run after the trigger"},
                "totalWorkflowRuns": {"type": "integer", "minimum": 0},
                "totalErrors": {"type": "integer", "minimum": 0},
            }
        ),
    ),
    "rerun-workfow": OperationDoc(
        "Run a stored execution again, with the same input",
        "Executions",
        closed(
            {
                "message": constant("success"),
                "executionUuid": {"type": "string", "pattern": "^[0-9a-f]{8}-[0-9a-f]{8}$"},
            }
        ),
        "404 for an execution that is unknown or not of this workflow and user.",
        query=(USER_ID,),
    ),
    "start-installation": OperationDoc(
        "Start a headless installation: the form the user fills in",
        "Headless installation",
        closed({"data": array(ref("InstallFormBlock")), "installationId": OBJECT_ID}),
        "Credentials are settled here: 400 when one of the integration's apps has none, or several and no "
        "credentialIds choose.",
        body=request(
            {"userId": {**TEXT, "description": "userId or username"}, "integrationId": TEXT},
            {
                "workflowIds": array(TEXT, maxItems=100, description="Install only these (default: all)"),
                "credentialIds": array(TEXT, maxItems=100, description="The credentials to use, one per app"),
            },
        ),
    ),
    "complete-installation": OperationDoc(
        "Complete a headless installation with the form's values",
        "Headless installation",
        closed({"message": constant("Installation completed successfully")}),
        "Values are checked against the fields (400 naming the field); an installation is used once.",
        body=request(
            {
                "installationId": OBJECT_ID,
                "data": array(
                    request(
                        {"workflowId": TEXT, "blockId": TEXT},
                        {
                            "fields": array(
                                request(
                                    {
                                        "name": TEXT,
                                        "value": {
                                            "type": ["string", "number", "boolean", "null"],
                                            "description": "Typed as a string by the vendor: 'true' and '12' "
                                            "are read for boolean and number fields; null or '' leaves it empty",
                                        },
                                    }
                                )
                            )
                        },
                    )
                ),
            }
        ),
    ),
}
