"""A service's Alloy code: when someone signs up, create their Alloy user and hand the frontend a user token."""

from __future__ import annotations

import os

import requests

BASE_URL = os.environ.get("ALLOY_BASE_URL", "https://embedded.runalloy.com/2023-12")


class AlloyError(Exception):
    """The Alloy API refused a call; the message is the API's."""


class Alloy:
    def __init__(self, api_key: str, base_url: str = BASE_URL) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {api_key}"

    def _call(self, method: str, path: str, **kwargs: object) -> dict:
        answer = self.session.request(method, f"{self.base_url}{path}", timeout=10, **kwargs)
        if answer.status_code != 200:
            raise AlloyError(answer.json()["message"])
        return answer.json()

    def sign_up(self, email: str, name: str) -> dict:
        """Create the user's Alloy account (or find the one they have) and return a token for the frontend."""
        try:
            user_id = self._call("POST", "/users", json={"username": email, "fullName": name})["userId"]
        except AlloyError as exc:
            if str(exc) != "User already exists":
                raise
            user_id = self._call("GET", f"/users/{email}")["userId"]
        token = self._call("GET", f"/users/{user_id}/token")["token"]
        return {"userId": user_id, "token": token}

    def connected_apps(self, user_id: str) -> list[str]:
        integrations = self._call("GET", "/integrations", params={"userId": user_id})["data"]
        return sorted(integration["app"] for integration in integrations if integration["installed"])
