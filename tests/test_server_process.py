"""The real `alloy-mock serve` process: start, restart on the same data, crash."""

from __future__ import annotations

from collections.abc import Callable

import jwt

from .conftest import API, DEV, ServerProcess


def test_restart_keeps_users_and_tokens_stay_valid(serve: Callable[..., ServerProcess]) -> None:
    first = serve()
    with first.client() as http:
        user_id = http.post(f"{API}/users", json={"username": "restart@example.com"}, headers=DEV).json()["userId"]
        token = http.get(f"{API}/users/{user_id}/token", headers=DEV).json()["token"]
        jwks_before = http.get("/.well-known/jwks.json").json()
    assert first.stop() == 0

    second = serve()
    with second.client() as http:
        found = http.get(f"{API}/users/restart@example.com", headers=DEV)
        assert found.status_code == 200
        assert found.json()["userId"] == user_id
        jwks_after = http.get("/.well-known/jwks.json").json()
        # The token issued before the restart still verifies against the JWKS served after it.
        assert jwks_after == jwks_before
        key = jwt.PyJWKSet.from_dict(jwks_after)[jwt.get_unverified_header(token)["kid"]]
        claims = jwt.decode(token, key=key, algorithms=["ES256"], issuer="alloy-mock")
        assert claims["userId"] == user_id
        # and the emulator itself still accepts it as a user token.
        listed = http.get(f"{API}/integrations", headers={"x-alloy-user-token": token})
        assert listed.status_code == 200


def test_acknowledged_user_survives_kill_9(serve: Callable[..., ServerProcess]) -> None:
    first = serve()
    with first.client() as http:
        user_id = http.post(f"{API}/users", json={"username": "crash"}, headers=DEV).json()["userId"]
    first.kill()
    second = serve()
    with second.client() as http:
        assert http.get(f"{API}/users/{user_id}", headers=DEV).json()["username"] == "crash"
