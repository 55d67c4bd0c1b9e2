"""The official JavaScript SDKs, unmodified, against a real `alloy-mock serve` process.

The tests themselves are in tests/node (node's built-in test runner): alloy-node 2.2.1 and alloy-frontend 2.1.1
hard-code the vendor's hosts, and tests/node/harness.js points them at $ALLOY_MOCK_URL at the transport level
(an axios interceptor, a wrapped fetch). This module starts the emulator, runs `node --test` there and fails with
node's output if any of them fails. It needs node >= 20 and `npm ci --prefix tests/node`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import ServerProcess

NODE_DIR = Path(__file__).parent / "node"
INSTALL_HINT = "run `npm ci --prefix tests/node` (node >= 20 and npm are needed)"


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(f"node is not on PATH: {INSTALL_HINT}", pytrace=False)
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"node {version} is too old for tests/node: node >= 20 is needed", pytrace=False)
    return node


def check_installed() -> None:
    """The SDKs pinned in tests/node/package.json must be installed at exactly those versions."""
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]
    for name, version in pinned.items():
        manifest = NODE_DIR / "node_modules" / name / "package.json"
        if not manifest.is_file():
            pytest.fail(f"tests/node/node_modules has no {name}: {INSTALL_HINT}", pytrace=False)
        installed = json.loads(manifest.read_text())["version"]
        if installed != version:
            message = f"tests/node has {name} {installed} installed but {version} pinned: {INSTALL_HINT}"
            pytest.fail(message, pytrace=False)


# Every alloy-node test file again, with the SDK's requests untouched and the emulator as their HTTPS proxy
# (tests/node/harness.js ALLOY_MOCK_TRANSPORT=proxy): every method works the way users point it at the emulator.
ALLOY_NODE_FILES = sorted(path.name for path in NODE_DIR.glob("alloy-node*.test.js"))


@pytest.mark.parametrize("transport", ["rewrite", "proxy"])
def test_javascript_sdks(serve: Callable[..., ServerProcess], transport: str) -> None:
    node = node_binary()
    check_installed()
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
