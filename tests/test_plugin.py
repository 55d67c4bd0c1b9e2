"""The pytest plugin: the `alloy_mock` fixture and its helpers, isolation, xdist, options, failure reports."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import jwt
import pytest
from alloypythonsdk import AlloyPythonSDK
from alloypythonsdk.models import operations

from alloy_mock.config import DEFAULT_DEV_KEY, DEFAULT_PROD_KEY, Settings
from alloy_mock.testing import AlloyMock, AlloyMockError, BackgroundServer

pytest_plugins = ["pytester"]


# -- the fixture, used directly --------------------------------------------------------------------


def test_urls_and_keys(alloy_mock: AlloyMock) -> None:
    assert alloy_mock.base_url.startswith("http://127.0.0.1:")
    assert alloy_mock.base_url.endswith("/2023-12")
    assert alloy_mock.url("2024-03") == alloy_mock.base_url.replace("2023-12", "2024-03")
    assert (alloy_mock.dev_key, alloy_mock.prod_key) == (DEFAULT_DEV_KEY, DEFAULT_PROD_KEY)
    assert alloy_mock.headers("prod") == {"Authorization": f"Bearer {DEFAULT_PROD_KEY}"}
    assert httpx.get(f"{alloy_mock.root_url}/health").json()["status"] == "ok"


def test_create_user_and_token(alloy_mock: AlloyMock) -> None:
    user = alloy_mock.create_user("alice@example.com", "Alice")
    assert user == {"userId": user["userId"], "username": "alice@example.com", "fullName": "Alice"}
    fetched = httpx.get(f"{alloy_mock.base_url}/users/{user['userId']}", headers=alloy_mock.headers())
    assert fetched.json() == user
    # Not in the production namespace.
    in_prod = httpx.get(f"{alloy_mock.base_url}/users/alice@example.com", headers=alloy_mock.headers("prod"))
    assert in_prod.status_code == 404

    token = alloy_mock.token(user)
    jwks = jwt.PyJWKSet.from_dict(httpx.get(alloy_mock.jwks_url).json())
    claims = jwt.decode(token, key=jwks[jwt.get_unverified_header(token)["kid"]], algorithms=["ES256"])
    assert (claims["userId"], claims["namespace"]) == (user["userId"], "dev")
    listed = httpx.get(f"{alloy_mock.base_url}/integrations", headers={"x-alloy-user-token": token})
    assert listed.status_code == 200

    generated = alloy_mock.create_user(namespace="prod")
    assert generated["username"].endswith("@example.com")
    assert alloy_mock.token(generated["username"], namespace="prod")


def test_journal(alloy_mock: AlloyMock) -> None:
    assert alloy_mock.requests() == []  # reset before the test; the helpers are not journaled
    httpx.post(f"{alloy_mock.base_url}/users", json={"username": "j"}, headers=alloy_mock.headers())
    httpx.get(f"{alloy_mock.base_url}/users/nobody", headers=alloy_mock.headers("prod"))
    entries = alloy_mock.requests()
    assert [(e["method"], e["path"], e["namespace"], e["status"]) for e in entries] == [
        ("POST", "/2023-12/users", "default.dev", 200),
        ("GET", "/2023-12/users/nobody", "default.prod", 404),
    ]
    assert alloy_mock.requests(namespace="prod", status=404) == entries[1:]
    assert alloy_mock.requests(method="post", path="/2023-12/users") == entries[:1]
    lines = alloy_mock.recent_requests(limit=1)
    assert lines[0].startswith("(earlier requests left out")
    assert lines[1].startswith(f"#{entries[1]['id']} GET /2023-12/users/nobody [default.prod] -> 404 ")
    alloy_mock.clear_requests()
    assert alloy_mock.requests() == []


def test_faults_and_clock(alloy_mock: AlloyMock) -> None:
    fault = alloy_mock.fault(429, method="POST", path="/users", times=1)
    assert alloy_mock.faults()[0]["id"] == fault["id"]
    url, headers = f"{alloy_mock.base_url}/users", alloy_mock.headers()
    first = httpx.post(url, json={"username": "f"}, headers=headers)
    assert (first.status_code, first.json()) == (429, {"message": "Rate limit exceeded"})
    assert httpx.post(url, json={"username": "f"}, headers=headers).status_code == 200
    assert alloy_mock.faults() == []
    alloy_mock.fault(503, times=None)
    alloy_mock.clear_faults()
    assert alloy_mock.faults() == []

    frozen = alloy_mock.freeze_clock("2030-01-01T00:00:00Z")
    assert frozen["frozen"] is True and frozen["iso"].startswith("2030-01-01T00:00:00")
    token = alloy_mock.token(alloy_mock.create_user())
    check = f"{alloy_mock.base_url}/integrations"
    assert httpx.get(check, headers={"x-alloy-user-token": token}).status_code == 200
    assert alloy_mock.advance_clock(3600)["iso"].startswith("2030-01-01T01:00:00")
    assert httpx.get(check, headers={"x-alloy-user-token": token}).status_code == 401  # expired
    assert alloy_mock.unfreeze_clock()["frozen"] is False
    assert alloy_mock.reset_clock()["now"] > frozen["now"] - 10 * 365 * 86400


def test_mint_token_and_snapshots(alloy_mock: AlloyMock) -> None:
    user = alloy_mock.create_user("snap@example.com")
    minted = alloy_mock.mint_token(user, expired=True, claims={"extra": 1})
    assert minted["claims"]["extra"] == 1 and minted["claims"]["exp"] < minted["claims"]["iat"]
    assert jwt.get_unverified_header(alloy_mock.mint_token(user, signature="none")["token"])["alg"] == "none"
    alloy_mock.save_snapshot("one")
    alloy_mock.reset()
    assert httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers()).json()["data"] == []
    alloy_mock.restore_snapshot("one")
    assert httpx.get(f"{alloy_mock.base_url}/users/snap@example.com", headers=alloy_mock.headers()).status_code == 200


def test_control_errors_raise(alloy_mock: AlloyMock) -> None:
    with pytest.raises(AlloyMockError, match=r"POST .*/_mock/tokens -> 404"):
        alloy_mock.token("nobody")
    with pytest.raises(ValueError, match="unknown namespace"):
        alloy_mock.api_key("staging")


def test_install_helpers(alloy_mock: AlloyMock) -> None:
    user = alloy_mock.create_user("installer@example.com")
    answer = alloy_mock.install(
        user, "Slack", workflows=["New Customer Created"], values={"channel": "#ops"}, version=1
    )
    assert (answer["userId"], answer["namespace"]) == (user["userId"], "default.dev")
    [item] = answer["data"]
    assert (item["name"], item["installedVersion"], item["active"]) == ("New Customer Created", 1, True)
    listed = httpx.get(
        f"{alloy_mock.base_url}/workflows/{item['workflowId']}",
        params={"userId": user["userId"]},
        headers=alloy_mock.headers(),
    )
    assert {k: listed.json()["data"][k] for k in ("installed", "active", "installedVersion")} == {
        "installed": True,
        "active": True,
        "installedVersion": 1,
    }
    form = [
        {
            "workflowId": item["workflowId"],
            "blockId": next(iter(item["values"])),
            "fields": [{"name": "channel", "value": "#b"}],
        }
    ]
    alloy_mock.install("installer@example.com", "Slack", workflows=[item["workflowId"]], values=form, active=False)
    assert alloy_mock.installs(user)["data"][0]["values"] == {next(iter(item["values"])): {"channel": "#b"}}
    assert alloy_mock.installs(user)["data"][0]["active"] is False
    credential = alloy_mock.installs(user)["data"][0]["credentialIds"]["slack"]
    assert alloy_mock.install(user, "Slack", workflows=["Post Webhook Events to Slack"], credential_ids=[credential])
    assert alloy_mock.uninstall(user, "Slack") == 2
    assert alloy_mock.installs(user) == {
        "namespace": "default.dev",
        "userId": user["userId"],
        "integrations": [],
        "data": [],
    }

    prod_user = alloy_mock.create_user("installer@example.com", namespace="prod")
    alloy_mock.install(prod_user, "Shopify", workflows=["Sync New Customers to Shopify"], namespace="prod")
    assert [i["name"] for i in alloy_mock.installs(prod_user, namespace="prod")["data"]] == [
        "Sync New Customers to Shopify"
    ]
    with pytest.raises(AlloyMockError, match=r"POST .*/_mock/installs -> 400: .*field 'channel' is required"):
        alloy_mock.install(user, "Slack")
    assert alloy_mock.installs(user)["data"] == []


def test_generated_sdk_against_base_url(alloy_mock: AlloyMock) -> None:
    sdk = AlloyPythonSDK(api_key=f"Bearer {alloy_mock.dev_key}", server_url=alloy_mock.url("2024-03"))
    created = sdk.create_a_user(request=operations.CreateAUserRequestBody(username="spk@example.com"))
    assert created.object.user_id == alloy_mock.requests()[-1]["responseBody"]["userId"]


def test_background_server_starts_and_stops() -> None:
    with BackgroundServer(Settings()) as server:
        assert server.running
        assert httpx.get(f"{server.url}/health").status_code == 200
        port = int(server.url.rsplit(":", 1)[1])
    assert not server.running
    server.stop()  # twice is fine
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more


# -- the plugin in a pytest run of its own (pytester) ----------------------------------------------


def test_each_test_starts_from_seed_unless_marked(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import pytest

        def users(alloy_mock):
            return httpx.get(f"{alloy_mock.base_url}/users", headers=alloy_mock.headers()).json()["data"]

        def test_first(alloy_mock):
            alloy_mock.create_user("same@example.com")
            assert len(users(alloy_mock)) == 1

        def test_second_starts_empty(alloy_mock):
            assert users(alloy_mock) == []
            alloy_mock.create_user("same@example.com")

        @pytest.mark.alloy_mock_keep_state
        def test_third_keeps_state(alloy_mock):
            assert [u["username"] for u in users(alloy_mock)] == ["same@example.com"]

        def test_intercept_is_reset_too(alloy_mock_intercept):
            alloy_mock_intercept.create_user("same@example.com")

        def test_intercept_starts_empty(alloy_mock_intercept):
            alloy_mock_intercept.create_user("same@example.com")
        """
    )
    result = pytester.runpytest("--strict-markers", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5)


def test_xdist_workers_have_their_own_server(pytester: pytest.Pytester) -> None:
    out = pytester.mkdir("out")
    pytester.makepyfile(
        f"""
        import os
        import pytest

        @pytest.mark.alloy_mock_keep_state
        def test_worker(alloy_mock):
            # Without a reset, a second worker on the same server would get "User already exists".
            alloy_mock.create_user("shared@example.com")
            worker = os.environ["PYTEST_XDIST_WORKER"]
            with open(os.path.join({str(out)!r}, worker), "w") as f:
                f.write(alloy_mock.base_url)
        """
    )
    result = pytester.runpytest("-n", "2", "--dist", "each", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    urls = {path.name: path.read_text() for path in Path(out).iterdir()}
    assert sorted(urls) == ["gw0", "gw1"]
    assert len(set(urls.values())) == 2, urls


def test_failure_report_lists_the_last_requests(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import requests

        def test_fails(alloy_mock):
            httpx.post(f"{alloy_mock.base_url}/users", json={"username": "r"}, headers=alloy_mock.headers())
            httpx.get(f"{alloy_mock.base_url}/users/ghost", headers=alloy_mock.headers("prod"))
            httpx.get(f"{alloy_mock.base_url}/users/ghost/avatar", headers=alloy_mock.headers())
            assert False, "on purpose"

        def test_passes(alloy_mock):
            httpx.get(f"{alloy_mock.base_url}/users/quiet", headers=alloy_mock.headers())

        def test_fails_in_process(alloy_mock_intercept):
            requests.get("https://embedded.runalloy.com/2023-12/users/inproc", headers=alloy_mock_intercept.headers())
            assert False

        def test_fails_without_calls(alloy_mock):
            assert False
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*- alloy-mock requests -*",
            '#* POST /2023-12/users [[]default.dev] -> 200 {"userId":*',
            "#* GET /2023-12/users/ghost [[]default.prod] -> 404 message: User not found",
            "#* GET /2023-12/users/ghost/avatar [[]default.dev] -> 404 message: No route for GET"
            " /2023-12/users/ghost/avatar (alloy-mock does not serve this route;"
            " GET /_mock/coverage lists the operations it serves)",
            "*- alloy-mock requests (in-process) -*",
            "#* GET /2023-12/users/inproc [[]default.dev] -> 404 message: User not found",
            "*- alloy-mock requests -*",
            "(no requests to the Alloy API were received)",
        ]
    )
    assert "quiet" not in result.stdout.str()  # passing tests get no section

    quiet = pytester.runpytest("-p", "no:cacheprovider", "--alloy-mock-report-lines=0", "-k", "test_fails")
    quiet.assert_outcomes(failed=3, deselected=1)
    assert "alloy-mock requests" not in quiet.stdout.str()


def test_fixtures_and_marker_are_documented(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    fixtures = pytester.runpytest("--fixtures", "-p", "no:cacheprovider").stdout.str()
    for text in (
        "alloy_mock -- ",
        "The Alloy API emulator over HTTP (.base_url, .dev_key, .create_user(), .token(user)), reset for this test.",
        "alloy_mock_intercept -- ",
        "The Alloy API emulator in-process: requests/httpx calls to the Alloy hosts land in it; reset for this test.",
        "alloy_mock_settings [session scope]",
        "alloy_mock_session [session scope]",
    ):
        assert text in fixtures
    markers = pytester.runpytest("--markers", "-p", "no:cacheprovider").stdout.str()
    assert "@pytest.mark.alloy_mock_keep_state: do not reset" in markers


def test_settings_can_be_overridden(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import pytest
        from alloy_mock.config import Account, Settings

        @pytest.fixture(scope="session")
        def alloy_mock_settings():
            accounts = (Account("default", "my-dev", "my-prod"), Account("acme", "acme-dev", "acme-prod"))
            return Settings(accounts=accounts)
        """
    )
    pytester.makepyfile(
        """
        import httpx

        def test_keys(alloy_mock):
            assert (alloy_mock.dev_key, alloy_mock.api_key("acme.prod")) == ("my-dev", "acme-prod")
            alloy_mock.create_user("a@example.com", namespace="acme.dev")
            found = httpx.get(f"{alloy_mock.base_url}/users/a@example.com", headers=alloy_mock.headers("acme.dev"))
            assert found.status_code == 200
        """
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_fixtures_option(pytester: pytest.Pytester) -> None:
    pytester.makefile(".json", empty='{"integrations": []}', broken='{"bogus": 1}')
    pytester.makepyfile(
        """
        import httpx

        def test_catalogue(alloy_mock):
            user = alloy_mock.create_user()
            listed = httpx.get(f"{alloy_mock.base_url}/integrations", params={"userId": user["userId"]},
                               headers=alloy_mock.headers())
            assert listed.json() == {"data": []}
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "--alloy-mock-fixtures=empty.json").assert_outcomes(passed=1)
    pytester.makeini("[pytest]\nalloy_mock_fixtures = empty.json\n")
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)

    broken = pytester.runpytest("-p", "no:cacheprovider", "--alloy-mock-fixtures=broken.json")
    broken.assert_outcomes(errors=1)
    broken.stdout.fnmatch_lines(["*alloy-mock could not start: *broken.json: bogus: unknown key*"])

    missing = pytester.runpytest("-p", "no:cacheprovider", "--alloy-mock-fixtures=missing.json")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*alloy-mock fixtures: *missing.json does not exist*"])


def test_report_lines_ini_must_be_a_number(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nalloy_mock_report_lines = many\n")
    pytester.makepyfile("def test_fails(alloy_mock):\n    assert False\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*alloy_mock_report_lines must be a whole number, not 'many'*"])


@pytest.mark.parametrize("mode", ["in-process", "http"])
def test_full_reset_without_a_request_clears_what_the_request_does(mode: str, tmp_path: Path) -> None:
    # reset() (the fixtures' step before every test) calls Emulator.reset_all, as POST /_mock/reset does,
    # on a database file too: the reset is on disk when it returns (a reopened store sees no user).
    from alloy_mock.testing import InProcessEmulator

    settings = Settings(db=str(tmp_path / "db.json"))
    key = [(b"authorization", f"Bearer {DEFAULT_DEV_KEY}".encode())]
    runner = InProcessEmulator(settings) if mode == "in-process" else BackgroundServer(settings)
    with runner:
        alloy = runner.handle()
        url = f"{alloy.base_url}/users"
        alloy.create_user("gone@example.com")
        assert runner.request("GET", url, key, b"").body != b'{"data":[]}'
        alloy.fault(503, method="POST", times=None)
        alloy.freeze_clock("2030-01-01T00:00:00Z")
        assert alloy.requests() != []
        alloy.reset()
        assert alloy.faults() == [] and alloy.requests() == []
        assert alloy.control("GET", "clock")["frozen"] is False
        assert runner.request("GET", url, key, b"").body == b'{"data":[]}'
    with InProcessEmulator(settings) as reopened:
        assert reopened.request("GET", url, key, b"").body == b'{"data":[]}'
