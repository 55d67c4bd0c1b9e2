"""In-process mode: calls to the vendor's hosts land in the emulator without a port; everything else is untouched."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import requests
import requests.adapters
from alloy_python import constants
from alloy_python.embedded.embedded import Embedded

from alloy_mock.testing import VENDOR_HOSTS, AlloyMock, intercept
from alloy_mock.testing.interception import active as intercept_active

ORIGINALS = (
    requests.adapters.HTTPAdapter.send,
    requests.Session.merge_environment_settings,
    httpx.HTTPTransport.handle_request,
    httpx.AsyncHTTPTransport.handle_async_request,
)


def transports() -> tuple[object, ...]:
    return (
        requests.adapters.HTTPAdapter.send,
        requests.Session.merge_environment_settings,
        httpx.HTTPTransport.handle_request,
        httpx.AsyncHTTPTransport.handle_async_request,
    )


def test_alloy_python_unmodified_lands_in_the_emulator(alloy_mock_intercept: AlloyMock) -> None:
    assert alloy_mock_intercept.base_url == constants.BASE_URL == "https://embedded.runalloy.com/2023-12"
    sdk = Embedded(alloy_mock_intercept.dev_key)
    assert sdk.User.url == "https://embedded.runalloy.com/2023-12"  # the SDK's own, hard-coded URL

    user_id = sdk.User.create_user({"username": "py@example.com", "fullName": "Py"})["userId"]
    sdk.User.set_user_id(user_id)
    assert sdk.User.get_user() == {"userId": user_id, "username": "py@example.com", "fullName": "Py"}
    sdk.Tokens.set_user_id(user_id)
    assert sdk.Tokens.get()["token"].count(".") == 2
    sdk.Integration.set_user_id(user_id)
    assert sdk.Integration.list_integrations()["data"]

    prod = Embedded(alloy_mock_intercept.prod_key)
    prod.User.set_user_id(user_id)
    with pytest.raises(requests.HTTPError) as failure:
        prod.User.get_user()
    assert failure.value.response.status_code == 404
    assert failure.value.response.json() == {"message": "User not found"}

    paths = [(e["method"], e["path"], e["status"]) for e in alloy_mock_intercept.requests()]
    assert paths[0] == ("POST", "/2023-12/users", 200)
    assert paths[-1] == ("GET", f"/2023-12/users/{user_id}", 404)


def test_install_helpers_in_process(alloy_mock_intercept: AlloyMock) -> None:
    user = alloy_mock_intercept.create_user("inproc@example.com")
    alloy_mock_intercept.install(user, "Shopify", workflows=["Sync New Customers to Shopify"], version=1)
    assert [i["installedVersion"] for i in alloy_mock_intercept.installs(user)["data"]] == [1]
    # The SDK's hard-coded host sees the install.
    workflows = requests.get(
        f"{alloy_mock_intercept.base_url}/workflows",
        params={"userId": user["userId"], "integration": "Shopify"},
        headers=alloy_mock_intercept.headers(),
        timeout=5,
    ).json()["data"]
    assert [(w["name"], w["installed"]) for w in workflows if w["installed"]] == [
        ("Sync New Customers to Shopify", True)
    ]
    assert alloy_mock_intercept.uninstall(user, "Shopify") == 1
    assert alloy_mock_intercept.installs(user)["data"] == []


def test_sdk_sees_injected_faults(alloy_mock_intercept: AlloyMock) -> None:
    alloy_mock_intercept.fault(503, method="POST", path="/users")
    with pytest.raises(requests.HTTPError) as failure:
        Embedded(alloy_mock_intercept.dev_key).User.create_user({"username": "f"})
    assert failure.value.response.status_code == 503
    assert failure.value.response.reason == "Service Unavailable"
    assert alloy_mock_intercept.requests()[-1]["fault"] is not None


@pytest.mark.parametrize("host", sorted(VENDOR_HOSTS))
def test_every_vendor_host_with_requests_and_httpx(alloy_mock_intercept: AlloyMock, host: str) -> None:
    alloy_mock_intercept.create_user("h@example.com")
    headers = alloy_mock_intercept.headers()
    with requests.Session() as session:
        answer = session.get(f"https://{host}/2023-12/users/h@example.com", headers=headers)
    assert (answer.status_code, answer.json()["username"]) == (200, "h@example.com")
    assert answer.url == f"https://{host}/2023-12/users/h@example.com"
    assert answer.headers["content-type"] == "application/json"
    with httpx.Client() as client:
        answer2 = client.get(f"http://{host.upper()}:8080/2023-12/users/h@example.com", headers=headers)
    assert (answer2.status_code, answer2.json()["username"]) == (200, "h@example.com")
    assert (answer2.http_version, answer2.reason_phrase) == ("HTTP/1.1", "OK")


def test_request_bodies_arrive_whole(alloy_mock_intercept: AlloyMock) -> None:
    url, headers = f"{alloy_mock_intercept.base_url}/users", alloy_mock_intercept.headers()
    chunks = (part for part in [b'{"username": ', b'"streamed@example.com"}'])  # a chunked upload
    assert requests.post(url, data=chunks, headers=headers).status_code == 200
    assert httpx.post(url, content=b'{"username": "bytes@example.com"}', headers=headers).status_code == 200
    assert httpx.post(url, json={"username": "form"}, headers=headers).status_code == 200
    bodies = [e["requestBody"] for e in alloy_mock_intercept.requests(method="POST")]
    assert bodies == [{"username": "streamed@example.com"}, {"username": "bytes@example.com"}, {"username": "form"}]


def test_async_httpx_runs_concurrently(alloy_mock_intercept: AlloyMock) -> None:
    # No clock: the fault counts a request when it starts its delay, so five hits while none has
    # finished means all five wait side by side, and the loop kept turning meanwhile.
    alloy_mock_intercept.fault(method="GET", path="/users", delay_ms=300, times=None)
    headers = alloy_mock_intercept.headers()

    def started() -> int:
        return int(alloy_mock_intercept.faults()[0]["hits"])

    async def main() -> tuple[int, bool, list[int]]:
        async with httpx.AsyncClient() as client:
            calls = [
                asyncio.create_task(client.get(f"{alloy_mock_intercept.base_url}/users", headers=headers))
                for _ in range(5)
            ]
            turns = 0
            while started() < 5 and turns < 10_000:
                await asyncio.sleep(0)  # returns only while the loop is free
                turns += 1
            in_flight, none_done = started(), not any(call.done() for call in calls)
            answers = await asyncio.gather(*calls)
        return in_flight, none_done, [a.status_code for a in answers]

    in_flight, none_done, statuses = asyncio.run(main())
    assert (in_flight, none_done) == (5, True)
    assert statuses == [200] * 5


def test_threads_share_the_emulator(alloy_mock_intercept: AlloyMock) -> None:
    url, headers = f"{alloy_mock_intercept.base_url}/users", alloy_mock_intercept.headers()

    def create(i: int) -> int:
        return requests.post(url, json={"username": f"t{i}@example.com"}, headers=headers).status_code

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(create, range(24))) == [200] * 24
    assert len(requests.get(url, headers=headers).json()["data"]) == 24


def test_other_hosts_are_left_alone(alloy_mock_intercept: AlloyMock, alloy_mock: AlloyMock) -> None:
    # localhost: the real server of the `alloy_mock` fixture answers, not the in-process emulator.
    url = f"{alloy_mock.base_url}/users"
    assert requests.post(url, json={"username": "real"}, headers=alloy_mock.headers()).status_code == 200
    assert httpx.get(url, headers=alloy_mock.headers()).json()["data"][0]["username"] == "real"

    async def get_async() -> int:
        async with httpx.AsyncClient() as client:
            return (await client.get(url, headers=alloy_mock.headers())).status_code

    assert asyncio.run(get_async()) == 200
    assert len(alloy_mock.requests()) == 3
    assert alloy_mock_intercept.requests() == []
    # A port where nothing listens: the network is really used, and refuses.
    with pytest.raises(requests.ConnectionError):
        requests.get("http://127.0.0.1:1/2023-12/users", timeout=5)
    with pytest.raises(httpx.ConnectError):
        httpx.get("http://127.0.0.1:1/2023-12/users", timeout=5)


def test_intercept_outside_pytest_is_fresh_and_restores_everything() -> None:
    assert transports() == ORIGINALS
    with intercept() as alloy:
        assert transports() != ORIGINALS
        user = alloy.create_user("ctx@example.com")
        answer = requests.get(f"{alloy.base_url}/users/{user['userId']}", headers=alloy.headers())
        assert answer.json()["username"] == "ctx@example.com"
    assert transports() == ORIGINALS

    with pytest.raises(ZeroDivisionError), intercept() as alloy:
        # a fresh emulator each time: the first block's user is gone
        assert requests.get(f"{alloy.base_url}/users", headers=alloy.headers()).json() == {"data": []}
        1 / 0  # noqa: B018
    assert transports() == ORIGINALS
    assert not intercept_active()


def test_nesting_is_refused() -> None:
    with intercept() as alloy:
        with pytest.raises(RuntimeError, match="already active"), intercept():
            pass
        # the outer one still works after the refusal
        assert requests.get(f"{alloy.base_url}/users", headers=alloy.headers()).status_code == 200
    assert transports() == ORIGINALS


def test_fixture_and_context_manager_do_not_nest(alloy_mock_intercept: AlloyMock) -> None:
    with pytest.raises(RuntimeError, match="already active"), intercept():
        pass
    assert requests.get(f"{alloy_mock_intercept.base_url}/users", headers=alloy_mock_intercept.headers()).ok


def test_custom_hosts() -> None:
    with intercept(hosts={"alloy.test"}) as alloy:
        assert httpx.get("http://alloy.test/health").json()["status"] == "ok"
        assert alloy.base_url == "https://embedded.runalloy.com/2023-12"


def test_proxies_of_the_environment_do_not_apply_in_process(
    alloy_mock_intercept: AlloyMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy where nothing listens: in-process calls never meet it, other hosts still get it from requests.
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:1")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = requests.Session()
    session.proxies = {"https": "http://session.proxy.test:3128"}
    url = f"{alloy_mock_intercept.base_url}/users"
    assert session.get(url, headers=alloy_mock_intercept.headers()).status_code == 200
    settings = session.merge_environment_settings(url, {}, None, None, None)
    assert settings["proxies"] == {"https": "http://session.proxy.test:3128"}  # the session's own, kept
    elsewhere = session.merge_environment_settings("http://example.test/", {}, None, None, None)
    assert elsewhere["proxies"]["http"] == "http://127.0.0.1:1"
    session.trust_env = False
    assert session.merge_environment_settings("http://example.test/", {}, None, None, None)["proxies"] == {
        "https": "http://session.proxy.test:3128"
    }


LATE_IMPORT = """
import sys
from alloy_mock.testing import intercept

with intercept() as alloy:
    # Neither client was imported before the interception: each is patched when first imported.
    assert "httpx" not in sys.modules and "requests" not in sys.modules, sorted(sys.modules)
    import httpx
    import requests.adapters

    assert httpx.get(f"{alloy.base_url}/users", headers=alloy.headers()).json() == {"data": []}
    assert requests.get(f"{alloy.base_url}/users", headers=alloy.headers()).json() == {"data": []}
hooks = [finder for finder in sys.meta_path if type(finder).__module__.startswith("alloy_mock")]
assert hooks == [], hooks
assert requests.adapters.HTTPAdapter.send.__module__ == "requests.adapters"
print("ok")
"""


def test_clients_imported_during_the_interception_are_patched_then() -> None:
    done = subprocess.run([sys.executable, "-c", LATE_IMPORT], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_a_client_imported_after_the_interception_is_left_alone() -> None:
    program = (
        "import sys\nfrom alloy_mock.testing import intercept\nwith intercept():\n    pass\n"
        "import httpx\nassert httpx.HTTPTransport.handle_request.__module__ == 'httpx._transports.default'\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
