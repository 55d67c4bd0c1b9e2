"""node and the npm packages pinned in a folder (tests/node, examples/node-proxy): installed on demand, or a skip.

Without node >= 20 or npm the tests that need them skip, with one line saying how to enable them; CI sets
ALLOY_MOCK_REQUIRE_NODE=1 so that this fails there instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).parents[1]
ENABLE_HINT = "install node >= 20 and npm to run them (they then install their pinned packages themselves)"
# CI sets it, so that a missing node fails there instead of skipping quietly.
REQUIRE = os.environ.get("ALLOY_MOCK_REQUIRE_NODE") == "1"


def unavailable(reason: str) -> NoReturn:
    """Skip with one line saying how to enable the JavaScript tests (fail instead where CI requires them)."""
    message = f"JavaScript tests: {reason}; {ENABLE_HINT}"
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


def missing_packages(folder: Path) -> list[str]:
    """The packages pinned in the folder's package.json that are not installed at exactly those versions."""
    pinned = json.loads((folder / "package.json").read_text())["dependencies"]
    missing = []
    for name, version in pinned.items():
        manifest = folder / "node_modules" / name / "package.json"
        if not manifest.is_file() or json.loads(manifest.read_text())["version"] != version:
            missing.append(f"{name}@{version}")
    return missing


def ensure_installed(folder: Path) -> None:
    """Install the folder's pinned packages with `npm ci` when they are missing (once: later runs find them).

    xdist workers take a lock, so that only one of them runs npm and the others then find its result.
    """
    if not missing_packages(folder):
        return
    where = folder.relative_to(ROOT)
    if shutil.which("npm") is None:
        unavailable(f"npm is not on PATH to install {', '.join(missing_packages(folder))}")
    with (folder / ".npm-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not missing_packages(folder):
            return
        npm_ci = ["npm", "ci", "--prefix", str(folder), "--no-audit", "--no-fund"]
        result = subprocess.run(npm_ci, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            last = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()[-1]
            unavailable(f"`npm ci --prefix {where}` failed ({last})")
    if missing_packages(folder):
        unavailable(f"`npm ci --prefix {where}` left {', '.join(missing_packages(folder))} uninstalled")
