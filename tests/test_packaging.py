"""What a user's project gets from the package: type information, and everything the fixtures need in `[pytest]`.

(scripts/package/smoke.py proves the same on the built wheel in a fresh venv; CI runs it.)
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import requires
from pathlib import Path

USER_TESTS = """\
from alloy_mock.testing import AlloyMock, AlloyMockError


def test_signup(alloy_mock: AlloyMock) -> None:
    user = alloy_mock.create_user("alice@example.com")
    token: str = alloy_mock.token(user)
    assert token
    assert issubclass(AlloyMockError, Exception)
"""


def run_mypy(project: Path) -> subprocess.CompletedProcess[str]:
    # From a folder outside the checkout, so alloy_mock is found as an installed package (as in a user's project),
    # which mypy analyses only if it ships py.typed.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "test_user.py"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_mypy_strict_accepts_a_users_tests(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(USER_TESTS)

    result = run_mypy(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_sees_the_helpers_types(tmp_path: Path) -> None:
    # A wrong argument is reported: the types are read, not skipped as Any.
    (tmp_path / "test_user.py").write_text(USER_TESTS.replace('create_user("alice@example.com")', "create_user(42)"))

    result = run_mypy(tmp_path)

    assert result.returncode == 1
    assert 'Argument 1 to "create_user" of "AlloyMock" has incompatible type "int"' in result.stdout


def test_the_pytest_extra_is_all_a_suite_needs() -> None:
    extra = {
        line.split(";")[0].split(">=")[0].strip()
        for line in requires("alloy-mock") or []
        if "extra == 'pytest'" in line.replace('"', "'")
    }

    assert "pytest" in extra
