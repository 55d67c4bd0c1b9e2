"""pytest plugin (registered through the `pytest11` entry point): fixtures `alloy_mock` and `alloy_mock_intercept`.

- `alloy_mock`: the emulator over real HTTP on a free port, one server per session (per xdist worker),
  reset to its seed state before each test.
- `alloy_mock_intercept`: the emulator in-process; calls to the vendor's hosts through `requests` or
  `httpx` land in it without any port.
- `@pytest.mark.alloy_mock_keep_state`: skip the reset for a test.
- A failing test that used either fixture gets an "alloy-mock requests" report section.

Nothing heavy is imported until a test asks for a fixture, so other test suites pay nothing for it.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from .config import Settings
    from .testing.client import AlloyMock
    from .testing.inprocess import InProcessEmulator

KEEP_STATE = "alloy_mock_keep_state"
SECTION = "alloy-mock requests"
DEFAULT_REPORT_LINES = 20


@dataclass
class _Watched:
    """An emulator a test used, and the journal id its requests come after."""

    title: str
    handle: AlloyMock
    since: int


_WATCHED = pytest.StashKey[list[_Watched]]()


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    _leave_the_emulator_unrewritten(pluginmanager)
    group = parser.getgroup("alloy-mock", "alloy-mock (Alloy Embedded API emulator) fixtures")
    group.addoption(
        "--alloy-mock-fixtures",
        metavar="PATH",
        default=None,
        help="seed catalogue (a JSON file or folder) replacing the bundled one [ini: alloy_mock_fixtures]",
    )
    group.addoption(
        "--alloy-mock-report-lines",
        metavar="N",
        type=int,
        default=None,
        help="requests listed when a test using alloy-mock fails (default 20; 0: none) [ini: alloy_mock_report_lines]",
    )
    parser.addini("alloy_mock_fixtures", "alloy-mock seed catalogue, relative to this file (default: bundled)")
    parser.addini("alloy_mock_report_lines", "requests listed when a test using alloy-mock fails (default 20)")


def _leave_the_emulator_unrewritten(pluginmanager: pytest.PytestPluginManager) -> None:
    """Keep pytest from rewriting the asserts of the whole alloy_mock package.

    pytest rewrites every module of a plugin's distribution, so that the plugin's own asserts explain
    themselves. Here that is the emulator, about 70 modules without a test among them: each is parsed
    and compiled anew on import, and under PYTHONDONTWRITEBYTECODE (common in CI images) in every
    session, which tripled the first test's setup (docs/pytest.md). What pytest keeps is private, so
    a pytest that keeps it elsewhere only brings the rewriting back.
    """
    hook = getattr(pluginmanager, "rewrite_hook", None)
    marked = getattr(hook, "_must_rewrite", None)
    if isinstance(marked, set) and __package__ in marked:
        marked.discard(__package__)
        getattr(hook, "_marked_for_rewrite_cache", {}).clear()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{KEEP_STATE}: do not reset the alloy-mock emulator before this test; it sees what earlier tests left",
    )
    if not config.pluginmanager.hasplugin("xdist"):
        # The docs group alloy_mock_keep_state tests with xdist's marker; without xdist it must still be known.
        config.addinivalue_line("markers", "xdist_group(name): run these tests in one pytest-xdist worker")
    report_lines(config)  # a bad value is a usage error now, not an internal error at the first failure
    path = fixtures_path(config)
    if path is not None and not path.exists():
        raise pytest.UsageError(f"alloy-mock fixtures: {path} does not exist")


def fixtures_path(config: pytest.Config) -> Path | None:
    """--alloy-mock-fixtures (relative to the current folder), else the ini value (relative to the ini file)."""
    given = config.getoption("alloy_mock_fixtures")
    if given:
        return Path(given).expanduser().resolve()
    value = str(config.getini("alloy_mock_fixtures") or "").strip()
    if not value:
        return None
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    return (base / Path(value).expanduser()).resolve()


def report_lines(config: pytest.Config) -> int:
    given = config.getoption("alloy_mock_report_lines")
    if given is not None:
        return max(0, int(given))
    value = str(config.getini("alloy_mock_report_lines") or "").strip()
    try:
        return max(0, int(value)) if value else DEFAULT_REPORT_LINES
    except ValueError:
        raise pytest.UsageError(f"alloy_mock_report_lines must be a whole number, not {value!r}") from None


# -- fixtures ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def alloy_mock_settings(pytestconfig: pytest.Config) -> Settings:
    """Settings of the alloy-mock emulators (in memory, default keys); override in conftest.py to change them.

    Keep the override session-scoped, e.g. `return Settings(token_ttl=60)` (alloy_mock.config.Settings).
    The defaults take --alloy-mock-fixtures / the alloy_mock_fixtures ini option into account.
    """
    from .config import Settings

    return Settings(fixtures=fixtures_path(pytestconfig))


@pytest.fixture(scope="session")
def alloy_mock_session(alloy_mock_settings: Settings) -> Iterator[AlloyMock]:
    """The session's emulator over HTTP (one per session and xdist worker), NOT reset: for wider-scoped fixtures.

    The same server as `alloy_mock`, which resets it before each test (unless the test keeps state).
    """
    from .errors import StartupError
    from .testing.server import BackgroundServer

    try:
        server = BackgroundServer(alloy_mock_settings).start()
    except StartupError as exc:
        pytest.fail(f"alloy-mock could not start: {exc}", pytrace=False)
    try:
        yield server.handle()
    finally:
        server.stop()


@pytest.fixture
def alloy_mock(request: pytest.FixtureRequest, alloy_mock_session: AlloyMock) -> AlloyMock:
    """The Alloy API emulator over HTTP (.base_url, .dev_key, .create_user(), .token(user)), reset for this test.

    One server per session (per xdist worker) on a free port; the reset is one cheap call. Give an SDK
    `alloy_mock.base_url` (http://127.0.0.1:PORT/2023-12; `alloy_mock.url("2024-03")` for others) and
    `alloy_mock.dev_key` / `prod_key`. Helpers: create_user(), token(user), headers(), requests() (the
    journal), fault(...), freeze_clock() / advance_clock(s), mint_token(...), reset(), save/restore_snapshot().
    Mark a test `@pytest.mark.alloy_mock_keep_state` to skip the reset.
    """
    return _prepare(request, alloy_mock_session, SECTION)


@pytest.fixture(scope="session")
def _alloy_mock_inprocess(alloy_mock_settings: Settings) -> Iterator[InProcessEmulator]:
    from .errors import StartupError
    from .testing.inprocess import InProcessEmulator

    try:
        emulator = InProcessEmulator(alloy_mock_settings).start()
    except StartupError as exc:
        pytest.fail(f"alloy-mock could not start: {exc}", pytrace=False)
    try:
        yield emulator
    finally:
        emulator.close()


@pytest.fixture
def alloy_mock_intercept(
    request: pytest.FixtureRequest, _alloy_mock_inprocess: InProcessEmulator
) -> Iterator[AlloyMock]:
    """The Alloy API emulator in-process: requests/httpx calls to the Alloy hosts land in it; reset for this test.

    https://embedded.runalloy.com, eu-embedded.runalloy.com, app.runalloy.com and eu-app.runalloy.com are
    answered without a port or network, so SDKs with a hard-coded base URL work unmodified; other hosts
    (localhost included) are untouched. Reset to the seed state for this test (unless marked
    `alloy_mock_keep_state`); the handle is like `alloy_mock`'s, with base_url https://embedded.runalloy.com/2023-12.
    """
    from .testing.interception import Interception

    with Interception(_alloy_mock_inprocess):
        yield _prepare(request, _alloy_mock_inprocess.handle(), f"{SECTION} (in-process)")


def _prepare(request: pytest.FixtureRequest, handle: AlloyMock, title: str) -> AlloyMock:
    """Reset (unless the test keeps state) and remember the handle for the failure report."""
    if request.node.get_closest_marker(KEEP_STATE) is None:
        handle.reset()
        since = 0
    else:
        since = handle.last_request_id()
    request.node.stash.setdefault(_WATCHED, []).append(_Watched(title, handle, since))
    return handle


# -- failure report ---------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    watched = item.stash.get(_WATCHED, None)
    if watched and report.failed and report.when in ("setup", "call"):
        limit = report_lines(item.config)
        if limit:
            for entry in watched:
                report.sections.append((entry.title, _journal_text(entry, limit)))
    return report


def _journal_text(entry: _Watched, limit: int) -> str:
    try:
        lines = entry.handle.recent_requests(limit, entry.since)
    except Exception as exc:  # the report must not fail because the emulator is gone
        lines = [f"(could not read the request journal: {exc})"]
    return "\n".join(lines)
