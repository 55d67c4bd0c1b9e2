"""`--access-log`: one line per request on stdout at the default log level, as text or JSON (`--log-format json`)."""

from __future__ import annotations

import json
from collections.abc import Callable

from .conftest import ServerProcess
from .helpers import CONTROL

DEV = {"Authorization": "Bearer alloy-mock-dev-key"}
PROD = {"Authorization": "Bearer alloy-mock-prod-key"}


def requests_then_log(server: ServerProcess) -> list[str]:
    """Make the same few requests, stop the server, and return what it printed after its banner (stdout, stderr)."""
    with server.client() as http:
        user = http.post("/2023-12/users", json={"username": "logged@example.com"}, headers=DEV).json()
        link = http.get(f"/2023-12/users/{user['userId']}/integrations/Slack/install-url", headers=DEV).json()["url"]
        http.get("/2023-12/users/ghost", headers=PROD)
        http.get("/2023-12/integrations", headers={"x-alloy-user-token": "not-a-token"})
        http.get(link)
        http.post("/_mock/reset", headers=CONTROL)
    assert server.stop() == 0
    stdout, stderr = server.process.communicate(timeout=15)
    return [line for line in (stdout + stderr).splitlines() if line and not line.startswith(" ")]


def test_json_lines_carry_time_method_path_status_duration_namespace(serve: Callable[..., ServerProcess]) -> None:
    lines = requests_then_log(serve("--access-log", "--log-format", "json"))

    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    # /health is the readiness check made when the server started
    assert [(e["method"], e["path"].split("/")[-1], e["status"], e["namespace"]) for e in entries] == [
        ("GET", "health", 200, None),
        ("POST", "users", 200, "default.dev"),
        ("GET", "install-url", 200, "default.dev"),
        ("GET", "ghost", 404, "default.prod"),
        ("GET", "integrations", 401, "user-token"),
        ("GET", "embedded-install", 200, None),
        ("POST", "reset", 200, None),
    ]
    for entry in entries:
        assert set(entry) == {"time", "method", "path", "status", "duration", "namespace"}
        assert entry["time"].endswith("Z") and entry["time"][:4].isdigit(), entry
        assert isinstance(entry["duration"], float) and 0 <= entry["duration"] < 10_000, entry
        assert "?" not in entry["path"], "the query is left out: install links carry a user token there"


def test_text_lines_print_without_raising_the_log_level(serve: Callable[..., ServerProcess]) -> None:
    lines = requests_then_log(serve("--access-log"))

    fields = [line.split(" ") for line in lines]
    assert [(f[1], f[2], f[3], f[5]) for f in fields][1:4] == [
        ("POST", "/2023-12/users", "200", "default.dev"),
        ("GET", fields[2][2], "200", "default.dev"),
        ("GET", "/2023-12/users/ghost", "404", "default.prod"),
    ]
    assert all(f[4].endswith("ms") and len(f) == 6 for f in fields), lines
    assert not any(line.startswith("INFO") for line in lines), "uvicorn's own access log stays off: no duplicates"


def test_nothing_is_logged_without_the_flag(serve: Callable[..., ServerProcess]) -> None:
    assert requests_then_log(serve("--log-format", "json")) == []


def test_the_log_level_comes_from_the_environment(serve: Callable[..., ServerProcess]) -> None:
    lines = requests_then_log(serve(env={"ALLOY_MOCK_ACCESS_LOG": "1", "ALLOY_MOCK_LOG_LEVEL": "info"}))

    assert any(line.startswith("INFO:") for line in lines), "uvicorn's info messages (startup, shutdown) show"
    assert sum(" /2023-12/users " in line for line in lines) == 1
