"""examples/ runs as documented (examples/README.md): each project's own suite, the compose file's test container's
command against a local server (no compose engine here), and the GitHub workflow parsed and checked."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .conftest import ServerProcess
from .node_support import ensure_installed, node_binary

EXAMPLES = Path(__file__).parents[1] / "examples"


def show(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


@pytest.mark.parametrize(("folder", "tests"), [("python-requests", 5), ("python-sdk", 3)])
def test_a_python_example_suite_passes(folder: str, tests: int) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=EXAMPLES / folder,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0 and f"{tests} passed" in result.stdout, show(result)


def test_the_node_example_passes_through_the_proxy(serve: Callable[..., ServerProcess]) -> None:
    node = node_binary()
    folder = EXAMPLES / "node-proxy"
    ensure_installed(folder)
    server = serve()

    result = subprocess.run(
        [node, "--test"],
        cwd=folder,
        env={**os.environ, "ALLOY_MOCK_URL": server.base_url, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0 and "# pass 3" in result.stdout, show(result)


def compose() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "compose" / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_the_compose_test_container_waits_for_the_health_check() -> None:
    services = compose()["services"]

    emulator, tests = services["alloy-mock"], services["tests"]
    assert emulator["build"] == "../.." and (EXAMPLES / "compose" / emulator["build"] / "Dockerfile").is_file()
    assert emulator["healthcheck"]["test"] == ["CMD", "alloy-mock", "healthcheck"]
    assert tests["depends_on"] == {"alloy-mock": {"condition": "service_healthy"}}
    assert tests["environment"]["ALLOY_MOCK_URL"] == "http://alloy-mock:8000"
    assert tests["environment"]["ALLOY_MOCK_ADMIN_TOKEN"] == emulator["environment"]["ALLOY_MOCK_ADMIN_TOKEN"]
    mounted = {volume.split(":")[1]: volume.split(":")[0] for volume in tests["volumes"]}
    script = tests["entrypoint"][-1]
    assert (EXAMPLES / "compose" / mounted[script]).is_file(), "the test container's script is the mounted file"


def test_the_compose_test_containers_command_passes_against_the_emulator(serve: Callable[..., ServerProcess]) -> None:
    services = compose()["services"]
    settings = {name: str(value) for name, value in services["alloy-mock"]["environment"].items()}
    server = serve(env=settings)  # the compose service's settings (but its port)
    environment = {**services["tests"]["environment"], "ALLOY_MOCK_URL": server.base_url}

    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "compose" / "check.py")],
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, show(result)
    assert result.stdout.count("ok: ") == 5


def test_the_compose_check_fails_against_a_wrong_admin_token(serve: Callable[..., ServerProcess]) -> None:
    server = serve("--admin-token", "another-token")

    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "compose" / "check.py")],
        env={**os.environ, "ALLOY_MOCK_URL": server.base_url, "ALLOY_MOCK_ADMIN_TOKEN": "compose-admin-token"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1 and "check failed: reset: expected 200, got 401" in result.stderr, show(result)


def test_the_github_workflow_builds_the_image_then_tests_against_it_as_a_service() -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-actions" / "alloy-mock.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads the key `on` as true

    assert set(triggers) == {"push", "pull_request"}
    image, test = workflow["jobs"]["image"], workflow["jobs"]["test"]
    build = next(step for step in image["steps"] if step.get("uses", "").startswith("docker/build-push-action"))
    assert build["with"]["push"] is True and build["with"]["tags"] == "${{ env.IMAGE }}"
    assert image["permissions"]["packages"] == "write"
    assert test["needs"] == "image"
    service = test["services"]["alloy-mock"]
    assert service["image"] == workflow["env"]["IMAGE"], "the service runs the image the first job pushed"
    assert service["ports"] == ["8000:8000"]
    assert '--health-cmd "alloy-mock healthcheck"' in service["options"]
    runs = [step["run"] for step in test["steps"] if "run" in step]
    assert "python examples/compose/check.py" in runs
    check = next(step for step in test["steps"] if step.get("run") == "python examples/compose/check.py")
    assert check["env"]["ALLOY_MOCK_ADMIN_TOKEN"] == service["env"]["ALLOY_MOCK_ADMIN_TOKEN"]
    for job in workflow["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest"
        assert all("uses" in step or "run" in step for step in job["steps"])
