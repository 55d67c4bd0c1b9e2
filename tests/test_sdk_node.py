"""The official JavaScript SDKs, unmodified, against a real `alloy-mock serve` process.

The tests themselves are in tests/node (node's built-in test runner): alloy-node 2.2.1 and alloy-frontend 2.1.1
hard-code the vendor's hosts, and tests/node/harness.js points them at $ALLOY_MOCK_URL at the transport level
(an axios interceptor, a wrapped fetch). This module starts the emulator, runs `node --test` there and fails with
node's output if any of them fails. It needs node >= 20; the pinned SDKs are installed with `npm ci` when npm is
on PATH and they are missing, and without node or npm the tests skip with one line saying how to enable them.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from .conftest import ServerProcess

NODE_DIR = Path(__file__).parent / "node"
NPM_CI = ["npm", "ci", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund"]
ENABLE_HINT = "install node >= 20 and npm to run them (or run `npm ci --prefix tests/node` yourself)"
# CI sets it, so that a missing node fails there instead of skipping quietly.
REQUIRE = os.environ.get("ALLOY_MOCK_REQUIRE_NODE") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip with one line saying how to enable the JavaScript SDK tests (fail instead where CI requires them)."""
    message = f"JavaScript SDK tests: {reason}; {ENABLE_HINT}"
    if REQUIRE:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        unavailable("node is not on PATH")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        unavailable(f"node {version} is too old")
    return node


def missing_packages() -> list[str]:
    """The SDKs pinned in tests/node/package.json that are not installed at exactly those versions."""
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    missing = []
    for name, version in pinned.items():
        manifest = NODE_DIR / "node_modules" / name / "package.json"
        if not manifest.is_file() or json.loads(manifest.read_text())["version"] != version:
            missing.append(f"{name}@{version}")
    return missing


def ensure_installed() -> None:
    """Install the pinned SDKs with `npm ci` when they are missing (once: later runs find them installed).

    xdist workers take a lock, so that only one of them runs npm and the others then find its result.
    """
    if not missing_packages():
        return
    if shutil.which("npm") is None:
        unavailable(f"npm is not on PATH to install {', '.join(missing_packages())}")
    with (NODE_DIR / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not missing_packages():
            return
        result = subprocess.run(NPM_CI, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            last = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
            unavailable(f"`npm ci --prefix tests/node` failed ({last})")
    if missing_packages():
        unavailable(f"`npm ci --prefix tests/node` left {', '.join(missing_packages())} uninstalled")


# Every alloy-node test file again, with the SDK's requests untouched and the emulator as their HTTPS proxy
# (tests/node/harness.js ALLOY_MOCK_TRANSPORT=proxy): every method works the way users point it at the emulator.
ALLOY_NODE_FILES = sorted(path.name for path in NODE_DIR.glob("alloy-node*.test.js"))


@pytest.mark.parametrize("transport", ["rewrite", "proxy"])
def test_javascript_sdks(serve: Callable[..., ServerProcess], transport: str) -> None:
    node = node_binary()
    ensure_installed()
    server = serve()
    files = ALLOY_NODE_FILES if transport == "proxy" else []
    result = subprocess.run(
        [node, "--test", "--test-reporter=spec", *files],
        cwd=NODE_DIR,
        env={**os.environ, "ALLOY_MOCK_URL": server.base_url, "NO_COLOR": "1", "ALLOY_MOCK_TRANSPORT": transport},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode != 0:
        pytest.fail(
            f"node --test failed (exit code {result.returncode}) against {server.base_url}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
            pytrace=False,
        )
