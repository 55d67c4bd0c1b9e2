"""Account-level metadata from the seed catalogue: apps, and the credential structure of each app."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..catalogue import CredentialMetadata
from ..config import CURRENT_VERSIONS, OLD_VERSIONS
from .request import emulator, namespace, path_param
from .responses import ok
from .routing import route


def render_credential_metadata(metadata: CredentialMetadata) -> dict[str, Any]:
    properties = []
    for prop in metadata.properties:
        item = {"name": prop.name, "displayName": prop.display_name}
        if prop.description is not None:
            item["description"] = prop.description
        properties.append(item)
    return {"name": metadata.name, "icon": metadata.icon, "isOauth": metadata.is_oauth, "properties": properties}


async def list_apps(request: Request) -> Response:
    namespace(request)  # account-level data, but still behind the API key
    apps = emulator(request).catalogue.apps
    return ok({"data": [{"name": app.name, "icon": app.icon, "type": list(app.type)} for app in apps]})


async def credential_metadata(request: Request) -> Response:
    # The 2023-12 SDKs send a `userId` that does not change the answer.
    namespace(request)
    items = emulator(request).catalogue.credentials
    return ok({"data": [render_credential_metadata(item) for item in items]})


async def credential_metadata_of_app(request: Request) -> Response:
    namespace(request)
    metadata = emulator(request).credentials.metadata(path_param(request, "app"))
    return ok({"data": render_credential_metadata(metadata)})


LEGACY_AND_2023_12 = (*OLD_VERSIONS, "2023-12")

routes = [
    route("/apps", versions=LEGACY_AND_2023_12, GET=list_apps),
    # 2024-03 moved these under /metadata; 2023-12 callers may use either.
    route("/metadata/apps", versions=CURRENT_VERSIONS, GET=list_apps),
    route("/credentials", versions=("2023-12",), GET=credential_metadata),
    route("/metadata/credentials", versions=CURRENT_VERSIONS, GET=credential_metadata),
    route("/metadata/credentials/{app}", versions=CURRENT_VERSIONS, GET=credential_metadata_of_app),
    route("/credentials/{app}", versions=OLD_VERSIONS, GET=credential_metadata_of_app),  # alloy-node 2.2.1
]
