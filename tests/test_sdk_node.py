"""The official JavaScript SDKs, unmodified, against a real `alloy-mock serve` process.

The tests themselves are in tests/node (node's built-in test runner): alloy-node 2.2.1 and alloy-frontend 2.1.1
hard-code the vendor's hosts, and tests/node/harness.js points them at $ALLOY_MOCK_URL at the transport level
(an axios interceptor, a wrapped fetch). This module starts the emulator, runs `node --test` there and fails with
node's output if any of them fails. It needs node >= 20; the pinned SDKs are installed with `npm ci` when npm is
on PATH and they are missing, and without node or npm the tests skip with one line saying how to enable them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import ServerProcess
from .node_support import ensure_installed, node_binary

NODE_DIR = Path(__file__).parent / "node"


# Every alloy-node test file again, with the SDK's requests untouched and the emulator as their HTTPS proxy
# (tests/node/harness.js ALLOY_MOCK_TRANSPORT=proxy): every method works the way users point it at the emulator.
ALLOY_NODE_FILES = sorted(path.name for path in NODE_DIR.glob("alloy-node*.test.js"))


@pytest.mark.parametrize("transport", ["rewrite", "proxy"])
def test_javascript_sdks(serve: Callable[..., ServerProcess], transport: str) -> None:
    node = node_binary()
    ensure_installed(NODE_DIR)
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
