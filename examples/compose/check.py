"""What a test container runs against the alloy-mock service (standard library only).

    ALLOY_MOCK_URL=http://127.0.0.1:8000 python3 check.py

Resets the emulator, creates a user, gets their token, lists integrations with that token as alloy-frontend does,
and checks that the production key cannot see the user. Exits 1 with the reason on the first failure.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

ROOT = os.environ.get("ALLOY_MOCK_URL", "http://127.0.0.1:8000").rstrip("/")
ADMIN = os.environ.get("ALLOY_MOCK_ADMIN_TOKEN")
DEV = {"Authorization": "Bearer " + os.environ.get("ALLOY_MOCK_DEV_KEY", "alloy-mock-dev-key")}
PROD = {"Authorization": "Bearer " + os.environ.get("ALLOY_MOCK_PROD_KEY", "alloy-mock-prod-key")}


def call(method: str, path: str, headers: dict[str, str], body: object = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(ROOT + path, data=data, method=method, headers=headers)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def expect(what: str, got: tuple[int, dict], status: int = 200) -> dict:
    if got[0] != status:
        sys.exit(f"check failed: {what}: expected {status}, got {got[0]} {got[1]}")
    print(f"ok: {what}")
    return got[1]


def main() -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"} if ADMIN else {}
    expect("reset", call("POST", "/_mock/reset", admin, {}))
    user = expect("create a user", call("POST", "/2023-12/users", DEV, {"username": "compose@example.com"}))
    token = expect("a user token", call("GET", f"/2023-12/users/{user['userId']}/token", DEV))["token"]
    listed = expect(
        "integrations with the user token", call("GET", "/2023-12/integrations", {"x-alloy-user-token": token})
    )
    if not listed["data"]:
        sys.exit("check failed: the seed catalogue is empty")
    expect("the prod key cannot see a dev user", call("GET", "/2023-12/users/compose@example.com", PROD), 404)


if __name__ == "__main__":
    main()
