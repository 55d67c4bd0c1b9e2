"""A service's Alloy code on the official alloy-python SDK, unmodified (it calls https://embedded.runalloy.com)."""

from __future__ import annotations

from alloy_python.embedded.embedded import Embedded


def onboard(api_key: str, email: str, name: str) -> dict:
    """Create the user and return their id, a token, and the integrations they could connect."""
    sdk = Embedded(api_key)
    user_id = sdk.User.create_user({"username": email, "fullName": name})["userId"]
    for client in (sdk.Tokens, sdk.Integration):  # each sub-client keeps its own user
        client.set_user_id(user_id)
    return {
        "userId": user_id,
        "token": sdk.Tokens.get()["token"],
        "integrations": sorted(integration["app"] for integration in sdk.Integration.list_integrations()["data"]),
    }
