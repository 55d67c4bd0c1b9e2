"""Build the sdist and the wheel, install the wheel in a fresh venv, and use it as a new user would.

    python scripts/package/smoke.py          # CI runs it from .ci/run

The checks run outside the checkout, so only what the wheel ships is importable: a file missing from the
package (the bundled fixtures, the HTML pages' assets, py.typed) fails here and not at a user's. It
  1. builds both with `python -m build` (the wheel from the sdist, so the sdist is proven complete too);
  2. installs `alloy-mock[pytest]` from the wheel into a new venv (the extra must be all a suite needs), and
     httpx, the HTTP client of the generated project's own code;
  3. runs `alloy-mock serve --port 0`, waits for /health, creates a user, reads its token, the seed
     catalogue, the install page, and the dashboard (/_mock/ui) with every asset it loads;
  4. generates a tiny project whose tests use the `alloy_mock` and `alloy_mock_intercept` fixtures, runs
     pytest there (they must pass), then a failing one (its report must list the emulator's requests);
  5. runs `mypy --strict` on those tests against the venv (py.typed must be shipped).
Exits non-zero with a line starting "package smoke test FAILED:" on the first check that fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import NoReturn

ROOT = Path(__file__).resolve().parents[2]
DEV_KEY = "alloy-mock-dev-key"

PASSING_TESTS = """\
import httpx
from alloy_mock.testing import AlloyMock


def test_over_http(alloy_mock: AlloyMock) -> None:
    user = alloy_mock.create_user("alice@example.com")
    answer = httpx.get(f"{alloy_mock.base_url}/users/{user['userId']}", headers=alloy_mock.headers())
    assert answer.json()["username"] == "alice@example.com"
    assert alloy_mock.token(user)


def test_in_process(alloy_mock_intercept: AlloyMock) -> None:
    user = alloy_mock_intercept.create_user("bob@example.com")
    answer = httpx.get(
        "https://embedded.runalloy.com/2023-12/integrations",
        params={"userId": user["userId"]},
        headers=alloy_mock_intercept.headers(),
    )
    assert answer.status_code == 200
    assert any(integration["app"] == "Shopify" for integration in answer.json()["data"])
"""

FAILING_TEST = """\
import httpx
from alloy_mock.testing import AlloyMock


def test_fails(alloy_mock: AlloyMock) -> None:
    answer = httpx.get(f"{alloy_mock.base_url}/users/nobody", headers=alloy_mock.headers())
    assert answer.status_code == 200
"""


def fail(message: str) -> NoReturn:
    print(f"package smoke test FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def step(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def must(args: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> str:
    result = run(args, cwd, env)
    if result.returncode != 0:
        fail(f"{what} (exit code {result.returncode})\n{result.stdout}\n{result.stderr}")
    return result.stdout


def call(method: str, url: str, body: object = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Authorization": f"Bearer {DEV_KEY}", "Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def build(work: Path) -> tuple[Path, Path]:
    step("python -m build (sdist, then the wheel from it)")
    dist = work / "dist"
    must([sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)], work, "python -m build")
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist in {dist}, found {[p.name for p in dist.iterdir()]}")
    return sdists[0], wheels[0]


def install(work: Path, wheel: Path) -> Path:
    step(f"fresh venv: pip install '{wheel.name}[pytest]' httpx (the project's own HTTP client)")
    venv = work / "venv"
    must([sys.executable, "-m", "venv", str(venv)], work, "python -m venv")
    python = venv / "bin" / "python"
    must([str(python), "-m", "pip", "install", "-q", f"{wheel}[pytest]", "httpx"], work, "pip install the wheel")
    where = must([str(python), "-c", "import alloy_mock; print(alloy_mock.__file__)"], work, "import alloy_mock")
    if not where.strip().startswith(str(venv)):
        fail(f"alloy_mock was imported from {where.strip()}, not from the fresh venv")
    return venv


def serve(work: Path, venv: Path) -> None:
    step("alloy-mock serve --port 0: health, a user, its token, the catalogue, the install page")
    server = subprocess.Popen(
        [str(venv / "bin" / "alloy-mock"), "serve", "--port", "0", "--db", ":memory:"],
        cwd=work,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()  # "alloy-mock X listening on http://127.0.0.1:PORT"
        if " listening on " not in first:
            fail(f"serve did not print its address: {first!r}{server.stdout.read() if server.poll() else ''}")
        root = first.rsplit(" ", 1)[1].strip()
        deadline = time.monotonic() + 30
        while call("GET", f"{root}/health")[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                fail("the server never answered /health with 200")
            time.sleep(0.05)
        status, body = call("POST", f"{root}/2023-12/users", {"username": "smoke@example.com"})
        if status != 200 or "userId" not in json.loads(body):
            fail(f"POST /users answered {status} {body!r}")
        status, body = call("GET", f"{root}/2023-12/users/smoke@example.com/token")
        if status != 200 or not json.loads(body).get("token"):
            fail(f"GET /users/{{user}}/token answered {status} {body!r}")
        status, body = call("GET", f"{root}/2023-12/integrations?userId=smoke@example.com")
        if status != 200 or not json.loads(body)["data"]:
            fail(f"the bundled seed catalogue is missing: GET /integrations answered {status} {body[:200]!r}")
        status, body = call("GET", f"{root}/2023-12/users/smoke@example.com/integrations/Slack/install-url")
        page = json.loads(body).get("url", "") if status == 200 else ""
        status, html = call("GET", page) if page else (status, body)
        if status != 200 or b"<html" not in html.lower():
            fail(f"the install page did not render: {status} {html[:200]!r}")
        dashboard(root)
    finally:
        server.terminate()
        server.wait(timeout=10)


def dashboard(root: str) -> None:
    """The dashboard's page and every asset it loads: all shipped in the wheel."""
    status, html = call("GET", f"{root}/_mock/ui")
    if status != 200 or b"<html" not in html.lower():
        fail(f"the dashboard did not render: {status} {html[:200]!r}")
    assets = sorted(set(re.findall(rb'(?:src|href)="(/_mock/ui/assets/[^"]+)"', html)))
    status, app = call("GET", f"{root}/_mock/ui/assets/app.js")
    modules = re.findall(rb'from "\./([^"]+)"', app)
    for path in [*assets, *(b"/_mock/ui/assets/" + name for name in modules)]:
        status, _ = call("GET", root + path.decode())
        if status != 200:
            fail(f"the dashboard asset {path.decode()} is missing from the wheel: {status}")
    if len(modules) < 5:
        fail(f"app.js imports only {modules}: the page modules are missing")


def plugin(work: Path, venv: Path) -> None:
    step("a generated project: pytest with the plugin, a failure report, mypy --strict")
    project = work / "project"
    (project / "tests").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n')
    (project / "tests" / "test_service.py").write_text(PASSING_TESTS)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    python = str(venv / "bin" / "python")
    output = must([python, "-m", "pytest", "-q", "tests"], project, "pytest in the generated project", env)
    if "2 passed" not in output:
        fail(f"expected 2 passed tests:\n{output}")
    (project / "failing").mkdir()
    (project / "failing" / "test_report.py").write_text(FAILING_TEST)
    result = run([python, "-m", "pytest", "-q", "failing"], project, env)
    if (
        result.returncode != 1
        or "alloy-mock requests" not in result.stdout
        or "GET /2023-12/users/nobody" not in (result.stdout)
    ):
        fail(f"a failing test's report did not list its requests:\n{result.stdout}\n{result.stderr}")
    mypy = shutil.which("mypy") or fail("mypy is not on PATH (pip install -e '.[test]')")
    must(
        [str(mypy), "--strict", "--no-incremental", "--python-executable", python, "tests"],
        project,
        "mypy --strict on the generated tests (is py.typed in the wheel?)",
        env,
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="alloy-mock-package-") as tmp:
        work = Path(tmp)
        _, wheel = build(work)
        venv = install(work, wheel)
        serve(work, venv)
        plugin(work, venv)
    print("package smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
