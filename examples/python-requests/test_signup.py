"""The service's tests, on the alloy_mock fixture: a real emulator on a free port, reset before each test."""

import pytest
import requests
from signup import Alloy, AlloyError


@pytest.fixture
def alloy(alloy_mock):
    return Alloy(alloy_mock.dev_key, base_url=alloy_mock.base_url)


def test_sign_up_creates_the_user_and_a_token(alloy, alloy_mock):
    result = alloy.sign_up("alice@example.com", "Alice")

    assert result["token"].count(".") == 2  # a JWT
    assert [r["path"] for r in alloy_mock.requests()] == ["/2023-12/users", f"/2023-12/users/{result['userId']}/token"]


def test_signing_up_twice_finds_the_same_user(alloy):
    first = alloy.sign_up("bob@example.com", "Bob")

    assert alloy.sign_up("bob@example.com", "Bob")["userId"] == first["userId"]


def test_connected_apps_follow_installs(alloy, alloy_mock):
    user = alloy.sign_up("carol@example.com", "Carol")
    alloy_mock.install(user["userId"], "Slack", values={"channel": "#sales"})

    assert alloy.connected_apps(user["userId"]) == ["Slack"]


def test_an_outage_reaches_the_caller(alloy, alloy_mock):
    alloy_mock.fault(503, method="POST", path="/users")

    with pytest.raises(AlloyError):
        alloy.sign_up("dave@example.com", "Dave")


def test_a_slow_api_times_out(alloy, alloy_mock):
    alloy_mock.fault(delay_ms=300, path="/users/*/token")
    alloy.session.request = _with_timeout(alloy.session.request, 0.1)

    with pytest.raises(requests.Timeout):
        alloy.sign_up("erin@example.com", "Erin")


def _with_timeout(request, seconds):
    def call(*args, **kwargs):
        kwargs["timeout"] = seconds
        return request(*args, **kwargs)

    return call
