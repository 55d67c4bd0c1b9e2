"""Every shell and Python snippet of the README and docs/ runs, or is marked `<!-- not runnable: reason -->`.

The marker goes on the line before the fence. How each snippet runs depends on what it is:
- Python with tests (`def test_`): all of them together, as one pytest project with the plugin, under
  `-n 2 --dist loadfile` (so the `alloy_mock_keep_state` example is proven under xdist, run as documented);
- Python with only fixtures (a conftest override): as conftest.py, under a test that uses `alloy_mock`;
- other Python: as a script;
- shell of `alloy-mock serve` lines: each line started (on a free port) until it listens;
- shell with curl: its commands, whose answers must have the documented keys (and the documented `message`);
- other shell: bash, in a folder holding the files the docs refer to (my-fixtures/, keys.json).
Snippets that call `127.0.0.1:8000` get a real server on a free port instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import ServerProcess, start_server

ROOT = Path(__file__).parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
NOT_RUNNABLE = re.compile(r"<!-- not runnable: (.*?) -->\n*$")
SHELL, PYTHON = ("sh", "shell", "bash", "console"), ("python", "py")
DEFAULT_ADDRESS = re.compile(r"(127\.0\.0\.1|localhost):8000")
SERVE_LINE = re.compile(r"^(\w+=\S+ )*alloy-mock serve\b")


@dataclass(frozen=True)
class Snippet:
    where: str  # file:line
    language: str
    code: str
    reason: str | None  # why it is not runnable; None: it runs

    @property
    def kind(self) -> str:
        if self.reason is not None:
            return "not runnable"
        if self.language in PYTHON:
            if "def test_" in self.code:
                return "pytest"
            return "conftest" if "@pytest.fixture" in self.code else "script"
        commands = [line for line in self.code.splitlines() if line.strip() and not line.startswith("#")]
        if all(SERVE_LINE.match(line) for line in commands):
            return "serve"
        return "curl" if "curl " in self.code else "shell"


def snippets() -> list[Snippet]:
    found = []
    for path in DOCS:
        text = path.read_text()
        for match in FENCE.finditer(text):
            language = match.group(1)
            if language in SHELL + PYTHON:
                line = text.count("\n", 0, match.start()) + 1
                marker = NOT_RUNNABLE.search(text[: match.start()][-300:])
                reason = marker.group(1).strip() if marker else None
                found.append(Snippet(f"{path.relative_to(ROOT)}:{line}", language, match.group(2), reason))
    return found


def of_kind(kind: str) -> list[Snippet]:
    return [snippet for snippet in snippets() if snippet.kind == kind]


def ids(found: list[Snippet]) -> list[str]:
    return [snippet.where for snippet in found]


def test_the_docs_have_snippets_of_every_kind() -> None:
    kinds = {snippet.kind for snippet in snippets()}

    assert kinds == {"not runnable", "pytest", "conftest", "script", "serve", "curl", "shell"}
    assert all(snippet.reason for snippet in of_kind("not runnable")), "a marker gives its reason"


@pytest.fixture
def on_server() -> Iterator[Callable[[str], str]]:
    """The snippet, pointed at a real server on a free port if it calls the default address."""
    started: list[ServerProcess] = []

    def point(code: str) -> str:
        if not DEFAULT_ADDRESS.search(code):
            return code
        started.append(start_server("--db", ":memory:"))
        return DEFAULT_ADDRESS.sub(started[-1].base_url.removeprefix("http://"), code)

    yield point
    for server in started:
        server.kill()


def run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def show(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit code {result.returncode}\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"


def files_the_docs_use(folder: Path) -> Path:
    """my-fixtures/ (a copy of the bundled catalogue), my-fixtures.json (the same in one file), keys.json."""
    shutil.copytree(ROOT / "fixtures", folder / "my-fixtures")
    merged: dict[str, list[object]] = {}
    for part in sorted((ROOT / "fixtures").glob("*.json")):
        for key, value in json.loads(part.read_text()).items():
            merged.setdefault(key, []).extend(value)
    (folder / "my-fixtures.json").write_text(json.dumps(merged))
    (folder / "keys.json").write_text('{"accounts": [{"name": "acme", "devKey": "acme-dev", "prodKey": "acme-prod"}]}')
    return folder


def test_the_pytest_examples_pass_under_xdist(tmp_path: Path) -> None:
    found = of_kind("pytest")
    for number, snippet in enumerate(found):
        (tmp_path / f"test_snippet_{number}.py").write_text(f"# {snippet.where}\n{snippet.code}")

    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist", "loadfile"], tmp_path
    )

    assert result.returncode == 0, show(result)
    tests = sum(snippet.code.count("\ndef test_") + snippet.code.startswith("def test_") for snippet in found)
    assert f"{tests} passed" in result.stdout, show(result)


@pytest.mark.parametrize("snippet", of_kind("conftest"), ids=ids(of_kind("conftest")))
def test_a_conftest_example_configures_the_fixtures(snippet: Snippet, tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(snippet.code)
    (tmp_path / "test_uses_it.py").write_text(
        "def test_uses_it(alloy_mock):\n    assert alloy_mock.token(alloy_mock.create_user())\n"
    )

    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path)

    assert result.returncode == 0 and "1 passed" in result.stdout, show(result)


@pytest.mark.parametrize("snippet", of_kind("script"), ids=ids(of_kind("script")))
def test_a_python_example_runs(snippet: Snippet, tmp_path: Path, on_server: Callable[[str], str]) -> None:
    (tmp_path / "snippet.py").write_text(on_server(snippet.code))

    result = run([sys.executable, "snippet.py"], tmp_path)

    assert result.returncode == 0, show(result)


@pytest.mark.parametrize("snippet", of_kind("serve"), ids=ids(of_kind("serve")))
def test_a_serve_example_starts(snippet: Snippet, tmp_path: Path) -> None:
    folder = files_the_docs_use(tmp_path)
    for line in snippet.code.splitlines():
        command = line.split(" #", 1)[0].strip()
        if not command:
            continue
        command = re.sub(r"--port \d+", "--port 0", command) if "--port" in command else command + " --port 0"
        if "--db" not in command:
            command += " --db :memory:"
        bin_dir = str(Path(sys.executable).parent)  # alloy-mock, from this venv
        process = subprocess.Popen(
            ["bash", "-c", f"exec env {command}"],
            cwd=folder,
            env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
        finally:
            process.kill()
            _, stderr = process.communicate(timeout=15)
        assert " listening on " in first, f"{command}: {first!r} {stderr}"


def curl_exchanges(code: str) -> list[tuple[str, str]]:
    """(command, documented answer) pairs: `$ command` then its output, or a command then `# output`."""
    exchanges: list[tuple[str, str]] = []
    command: list[str] = []
    for line in code.splitlines():
        text = line.removeprefix("$ ")
        if command and command[-1].endswith("\\"):
            command.append(text)
        elif line.startswith("$ ") or (line.strip() and not line.startswith("#") and "$ " not in code):
            command = [text]
        elif line.strip() and command:
            exchanges.append((" ".join(part.rstrip("\\") for part in command), line.removeprefix("# ")))
            command = []
    return exchanges


@pytest.mark.parametrize("snippet", of_kind("curl"), ids=ids(of_kind("curl")))
def test_a_curl_session_answers_as_documented(
    snippet: Snippet, tmp_path: Path, on_server: Callable[[str], str]
) -> None:
    exchanges = curl_exchanges(on_server(snippet.code))
    assert exchanges, "a curl session documents its answers"
    for command, documented in exchanges:
        result = run(["bash", "-c", command], tmp_path, timeout=30)
        assert result.returncode == 0, show(result)
        expected, _ = json.JSONDecoder().raw_decode(documented)
        answer = json.loads(result.stdout)
        assert set(answer) == set(expected), f"{command}\n{result.stdout}"
        if "message" in expected:
            assert answer["message"] == expected["message"]


@pytest.mark.parametrize("snippet", of_kind("shell"), ids=ids(of_kind("shell")))
def test_a_shell_example_runs(snippet: Snippet, tmp_path: Path, on_server: Callable[[str], str]) -> None:
    folder = files_the_docs_use(tmp_path)
    env_path = f"{Path(sys.executable).parent}:{os.environ['PATH']}"

    result = run(["bash", "-ec", f"export PATH={env_path}\n{on_server(snippet.code)}"], folder)

    assert result.returncode == 0, show(result)
