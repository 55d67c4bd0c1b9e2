"""The command line as a user runs it: `python -m alloy_mock serve ...` in a real process.

Bad configuration must end the process at once with one line on stderr and a non-zero exit code;
good configuration must serve, with the banner telling where.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from alloy_mock import __version__
from alloy_mock.config import DEFAULT_DEV_KEY, DEFAULT_PROD_KEY

from .conftest import API, DEV, PROD, ServerProcess, start_server

ERROR_PREFIX = "alloy-mock: error: "
# Generous: a failing start must not hang, but a loaded CI machine may be slow to start Python.
FAIL_FAST_TIMEOUT = 60

ServeFixture = Callable[..., ServerProcess]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No ALLOY_MOCK_* from the developer's shell, and a default data folder inside tmp_path."""
    for name in list(os.environ):
        if name.startswith("ALLOY_MOCK_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ALLOY_MOCK_DATA_DIR", str(tmp_path / "default-data"))


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alloy_mock", *args],
        capture_output=True,
        text=True,
        timeout=FAIL_FAST_TIMEOUT,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def assert_fails_with_one_line(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    """The process failed, printed exactly one `alloy-mock: error:` line (containing `expected`), nothing else."""
    described = f"exit code {result.returncode}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}"
    assert result.returncode != 0, f"should have failed: {described}"
    assert "Traceback" not in result.stderr, f"a traceback instead of a one-line error: {described}"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr: {described}"
    assert lines[0].startswith(ERROR_PREFIX), f"stderr should start with {ERROR_PREFIX!r}: {described}"
    assert "listening on" not in result.stdout, f"must fail before serving: {described}"
    for text in expected:
        assert text in lines[0], f"{text!r} missing from the error: {described}"
    return lines[0]


def serve_fails(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `serve ARGS`, expected to fail; if it starts serving instead, stop it at once (never hang)."""
    command = [sys.executable, "-m", "alloy_mock", "serve", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stdout is not None
    try:
        first = process.stdout.readline()  # the banner, or "" once the process has exited
        if "listening on" in first:
            process.kill()
        stdout, stderr = process.communicate(timeout=FAIL_FAST_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(command, process.returncode, first + stdout, stderr)


def read_banner(server: ServerProcess) -> list[str]:
    """The whole start-up banner (printed, and flushed, in one go before the first line was read)."""
    assert server.process.stdout is not None
    while not server.banner[-1].lstrip().startswith("JWKS:"):
        line = server.process.stdout.readline()
        assert line, f"the banner ended early: {server.banner}"
        server.banner.append(line)
    return [line.rstrip("\n") for line in server.banner]


def banner_value(banner: list[str], label: str) -> str:
    for line in banner:
        if line.lstrip().startswith(f"{label}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {label!r} line in the banner: {banner}")


def write_pem(path: Path, key: Any) -> Path:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return path


def user_and_token(http: httpx.Client, username: str, headers: dict[str, str] = DEV) -> tuple[str, str]:
    created = http.post(f"{API}/users", json={"username": username}, headers=headers)
    assert created.status_code == 200, created.text
    user_id = str(created.json()["userId"])
    token = http.get(f"{API}/users/{user_id}/token", headers=headers)
    assert token.status_code == 200, token.text
    return user_id, str(token.json()["token"])


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port with a listener on it for the duration of the test."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


# -- failing fast ---------------------------------------------------------------------------------------


def test_port_in_use(busy_port: int, tmp_path: Path) -> None:
    db = tmp_path / "db.json"
    result = serve_fails("--port", str(busy_port), "--db", str(db))
    assert_fails_with_one_line(result, f"127.0.0.1:{busy_port}", "already in use")
    assert not db.exists()


def test_port_in_use_from_env(busy_port: int, tmp_path: Path) -> None:
    result = serve_fails("--db", str(tmp_path / "db.json"), env={"ALLOY_MOCK_PORT": str(busy_port)})
    assert_fails_with_one_line(result, str(busy_port), "already in use")


@pytest.mark.parametrize(
    "content",
    [b'{"default.dev/users": {"u1": {"userId"', b"[1, 2, 3]"],
    ids=["truncated", "array"],
)
def test_corrupt_db_is_refused_and_left_untouched(tmp_path: Path, content: bytes) -> None:
    db = tmp_path / "db.json"
    db.write_bytes(content)
    result = serve_fails("--port", "0", "--db", str(db))
    assert_fails_with_one_line(result, str(db))
    assert db.read_bytes() == content, "a corrupt database file must never be replaced or repaired"
    assert not db.with_name("db.json.tmp").exists()


@pytest.mark.parametrize(
    "bad_line",
    [b"not json at all", b'[["put", "_meta", "signing_keys", 5]]', b'[["put", "default.dev/users", "u9", "x"]]'],
    ids=["not-json", "meta-doc-not-object", "user-doc-not-object"],
)
def test_corrupt_journal_is_refused_and_left_untouched(tmp_path: Path, bad_line: bytes) -> None:
    db = tmp_path / "db.json"
    journal = tmp_path / "db.json.journal"
    good = b'[["put", "default.dev/users", "u1", {"userId": "u1", "username": "ann", "createdAt": "x"}]]\n'
    journal.write_bytes(good + bad_line + b"\n" + good)
    result = serve_fails("--port", "0", "--db", str(db))
    assert_fails_with_one_line(result, str(journal))
    assert journal.read_bytes() == good + bad_line + b"\n" + good
    assert not db.exists(), "nothing may be written over a corrupt journal"


def test_torn_rotated_journal_before_the_journal_is_refused_and_left_untouched(tmp_path: Path) -> None:
    """A compaction's rotated journal is complete once rotated: a torn line in it is damage, not a crash."""
    db = tmp_path / "db.json"
    rotated, journal = tmp_path / "db.json.journal.1", tmp_path / "db.json.journal"
    line = b'[["put", "default.dev/users", "u1", {"userId": "u1", "username": "ann", "createdAt": "x"}]]\n'
    db.write_bytes(b"{}")
    rotated.write_bytes(line + line[:30])
    journal.write_bytes(line)
    result = serve_fails("--port", "0", "--db", str(db))
    assert_fails_with_one_line(result, str(rotated))
    assert (db.read_bytes(), rotated.read_bytes(), journal.read_bytes()) == (b"{}", line + line[:30], line)


def test_db_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("I am not a folder")
    result = serve_fails("--port", "0", "--db", str(blocker / "sub" / "db.json"))
    assert_fails_with_one_line(result, str(blocker))
    assert blocker.read_text() == "I am not a folder"


def test_db_that_is_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "db.json"
    folder.mkdir()
    result = serve_fails("--port", "0", "--db", str(folder))
    assert_fails_with_one_line(result, str(folder))


def test_missing_fixtures(tmp_path: Path) -> None:
    missing = tmp_path / "no-fixtures"
    result = serve_fails("--port", "0", "--db", ":memory:", "--fixtures", str(missing))
    assert_fails_with_one_line(result, "--fixtures", str(missing))


def test_missing_fixtures_from_env(tmp_path: Path) -> None:
    missing = tmp_path / "no-fixtures"
    result = serve_fails("--port", "0", "--db", ":memory:", env={"ALLOY_MOCK_FIXTURES": str(missing)})
    assert_fails_with_one_line(result, "ALLOY_MOCK_FIXTURES", str(missing))


def test_broken_fixtures_name_file_and_field(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures.json"
    fixtures.write_text(json.dumps({"apps": [{"name": "x", "icon": "y", "type": ["action", "teleport"]}]}))
    db = tmp_path / "db.json"
    result = serve_fails("--port", "0", "--db", str(db), "--fixtures", str(fixtures))
    assert_fails_with_one_line(result, f"{fixtures}: apps[0].type[1]: ")
    assert not db.exists(), "bad fixtures should fail before the database is created"


def test_fixtures_with_invalid_json(tmp_path: Path) -> None:
    fixtures = tmp_path / "fixtures.json"
    fixtures.write_text("{")
    result = serve_fails("--port", "0", "--db", ":memory:", "--fixtures", str(fixtures))
    assert_fails_with_one_line(result, f"{fixtures}: invalid JSON")


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--dev-key", "same", "--prod-key", "same"], {}, ["--dev-key", "--prod-key", "same key"]),
        ([], {"ALLOY_MOCK_DEV_KEY": "same", "ALLOY_MOCK_PROD_KEY": "same"}, ["ALLOY_MOCK_DEV_KEY", "same key"]),
        (["--prod-key", DEFAULT_DEV_KEY], {}, ["--prod-key", "same key"]),
    ],
    ids=["flags", "env", "prod-equals-default-dev"],
)
def test_same_key_for_both_namespaces(args: list[str], env: dict[str, str], expected: list[str]) -> None:
    assert_fails_with_one_line(serve_fails("--port", "0", "--db", ":memory:", *args, env=env), *expected)


@pytest.mark.parametrize(
    ("port", "expected"),
    [("abc", "must be a whole number"), ("65536", "between 0 and 65535")],
)
def test_bad_port(port: str, expected: str) -> None:
    assert_fails_with_one_line(serve_fails(f"--port={port}", "--db", ":memory:"), "--port", expected)


def test_bad_port_from_env() -> None:
    result = serve_fails("--db", ":memory:", env={"ALLOY_MOCK_PORT": "http"})
    assert_fails_with_one_line(result, "ALLOY_MOCK_PORT", "whole number")


def test_bad_host() -> None:
    result = serve_fails("--port", "0", "--db", ":memory:", "--host", "no-such-host.invalid")
    assert_fails_with_one_line(result, "no-such-host.invalid")


@pytest.mark.parametrize("alg", ["HS256", "none"])
def test_bad_jwt_alg(alg: str) -> None:
    result = serve_fails("--port", "0", "--db", ":memory:", "--jwt-alg", alg)
    assert_fails_with_one_line(result, "--jwt-alg", "ES256 or RS256")


def test_bad_jwt_alg_from_env() -> None:
    result = serve_fails("--port", "0", "--db", ":memory:", env={"ALLOY_MOCK_JWT_ALG": "HS256"})
    assert_fails_with_one_line(result, "ALLOY_MOCK_JWT_ALG")


@pytest.mark.parametrize(
    "make_pem",
    [
        lambda: b"-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n",
        lambda: b"just some text",
        lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        ),
        lambda: (
            ec.generate_private_key(ec.SECP256R1())
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        ),
        lambda: ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
        lambda: ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ),
    ],
    ids=["bad-base64", "not-pem", "encrypted", "public-key", "ed25519", "p384"],
)
def test_bad_signing_key(tmp_path: Path, make_pem: Callable[[], bytes]) -> None:
    pem = tmp_path / "key.pem"
    pem.write_bytes(make_pem())
    result = serve_fails("--port", "0", "--db", str(tmp_path / "db.json"), "--signing-key", str(pem))
    assert_fails_with_one_line(result, str(pem))


def test_missing_signing_key(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    result = serve_fails("--port", "0", "--db", ":memory:", "--signing-key", str(missing))
    assert_fails_with_one_line(result, "--signing-key", str(missing))


def test_bad_keys_file(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"accounts": [{"name": "acme", "devKey": "d"}]}))
    result = serve_fails("--port", "0", "--db", ":memory:", "--keys-file", str(keys))
    assert_fails_with_one_line(result, str(keys), "accounts[0].prodKey")


def test_keys_file_reusing_a_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"accounts": [{"name": "acme", "devKey": DEFAULT_PROD_KEY, "prodKey": "p"}]}))
    result = serve_fails("--port", "0", "--db", ":memory:", "--keys-file", str(keys))
    assert_fails_with_one_line(result, "same API key", "default prod", "acme dev")


def test_default_db_goes_under_alloy_mock_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "my-data"
    server = start_server(env={"ALLOY_MOCK_DATA_DIR": str(data)})  # no --db
    try:
        assert banner_value(read_banner(server), "data") == str(data / "db.json")
        with server.client() as http:
            assert http.post(f"{API}/users", json={"username": "d"}, headers=DEV).status_code == 200
        assert server.stop() == 0
        assert data.is_dir() and any(data.iterdir()), "the data folder should have been created and used"
    finally:
        server.kill()


def test_default_data_dir_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    result = serve_fails("--port", "0", env={"ALLOY_MOCK_DATA_DIR": str(blocker / "data")})
    assert_fails_with_one_line(result, str(blocker))


# -- version and usage ---------------------------------------------------------------------------


def test_version_from_the_console_script() -> None:
    script = Path(sys.executable).with_name("alloy-mock")
    assert script.exists(), f"the console script is not installed next to {sys.executable}"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=FAIL_FAST_TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"alloy-mock {__version__}"


def test_version_from_python_dash_m() -> None:
    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"alloy-mock {__version__}"


def test_no_command_is_a_usage_error() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert "usage: alloy-mock" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_help_names_every_variable() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    for name in (
        "HOST",
        "PORT",
        "DB",
        "FIXTURES",
        "DEV_KEY",
        "PROD_KEY",
        "KEYS_FILE",
        "TOKEN_TTL",
        "JWT_ALG",
        "SIGNING_KEY",
        "ISSUER",
        "MAX_BODY_BYTES",
        "MAX_REQUEST_LINE",
        "MAX_HEADER_BYTES",
        "READ_TIMEOUT",
    ):
        assert f"[ALLOY_MOCK_{name}]" in text, f"--help does not mention ALLOY_MOCK_{name}"


# -- serving ------------------------------------------------------------------------------------------


def test_banner_shows_address_keys_and_data(serve: ServeFixture, tmp_path: Path) -> None:
    server = serve()
    banner = read_banner(server)
    assert banner[0] == f"alloy-mock {__version__} listening on {server.base_url}", banner
    assert server.base_url.startswith("http://127.0.0.1:")
    port = int(server.base_url.rsplit(":", 1)[1])
    assert port != 0, "--port 0 must print the port actually picked"
    assert banner_value(banner, "dev key") == DEFAULT_DEV_KEY
    assert banner_value(banner, "prod key") == DEFAULT_PROD_KEY
    assert banner_value(banner, "data") == str(tmp_path / "db.json")
    assert banner_value(banner, "API").startswith(f"{server.base_url}/2023-12")
    assert banner_value(banner, "JWKS") == f"{server.base_url}/.well-known/jwks.json"
    assert banner_value(banner, "UI") == f"{server.base_url}/_mock/ui (the dashboard)"
    with server.client() as http:
        health = http.get("/health").json()
        assert health["persistent"] is True
        assert health["integrations"] > 0
        assert http.get(f"{API}/users", headers=DEV).status_code == 200
        assert http.get(f"{API}/users", headers=PROD).status_code == 200
        assert http.get(f"{API}/users").status_code == 401


def stderr_after_stop(server: ServerProcess) -> list[str]:
    assert server.stop() == 0
    assert server.process.stderr is not None
    return server.process.stderr.read().splitlines()


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param(("--host", "0.0.0.0"), {}, id="flag"),
        pytest.param((), {"ALLOY_MOCK_HOST": "0.0.0.0"}, id="env"),
    ],
)
def test_warns_when_listening_beyond_loopback_without_an_admin_token(
    serve: ServeFixture, args: tuple[str, ...], env: dict[str, str]
) -> None:
    """The control API can wipe everything: open to the network without a word is a trap (as in a container)."""
    server = serve(*args, env=env)
    with server.client() as http:
        assert http.get("/health").status_code == 200, "the warning does not stop the server"
    warnings = [line for line in stderr_after_stop(server) if "warning" in line]
    assert len(warnings) == 1, warnings
    assert warnings[0].startswith("alloy-mock: warning: listening on 0.0.0.0 without an admin token"), warnings
    assert "ALLOY_MOCK_ADMIN_TOKEN" in warnings[0] and "/_mock" in warnings[0], warnings


@pytest.mark.parametrize(
    ("args", "env"),
    [
        pytest.param((), {}, id="default-127.0.0.1"),
        pytest.param(("--host", "localhost"), {}, id="localhost"),
        pytest.param(("--host", "127.0.0.2"), {}, id="other-loopback"),
        pytest.param(("--host", "0.0.0.0", "--admin-token", "s3cret"), {}, id="admin-token-flag"),
        pytest.param(("--host", "0.0.0.0"), {"ALLOY_MOCK_ADMIN_TOKEN": "s3cret"}, id="admin-token-env"),
    ],
)
def test_no_warning_on_loopback_or_with_an_admin_token(
    serve: ServeFixture, args: tuple[str, ...], env: dict[str, str]
) -> None:
    server = serve(*args, env=env)
    assert [line for line in stderr_after_stop(server) if "warning" in line] == []


def test_memory_db_banner_and_no_files(serve: ServeFixture, tmp_path: Path) -> None:
    server = serve("--db", ":memory:")
    banner = read_banner(server)
    assert banner_value(banner, "data") == ":memory: (nothing is kept)"
    with server.client() as http:
        assert http.post(f"{API}/users", json={"username": "m"}, headers=DEV).status_code == 200
        assert http.get("/health").json()["persistent"] is False
    assert server.stop() == 0
    assert list(tmp_path.iterdir()) == [], f"':memory:' wrote files: {list(tmp_path.iterdir())}"


def test_env_dev_key_replaces_the_default(serve: ServeFixture) -> None:
    server = serve(env={"ALLOY_MOCK_DEV_KEY": "my-dev-key", "ALLOY_MOCK_PROD_KEY": "my-prod-key"})
    banner = read_banner(server)
    assert banner_value(banner, "dev key") == "my-dev-key"
    assert banner_value(banner, "prod key") == "my-prod-key"
    with server.client() as http:
        custom = {"Authorization": "Bearer my-dev-key"}
        assert http.post(f"{API}/users", json={"username": "env"}, headers=custom).status_code == 200
        assert http.get(f"{API}/users", headers=DEV).status_code == 401, "the default dev key must stop working"
        assert http.get(f"{API}/users", headers=PROD).status_code == 401, "the default prod key must stop working"
        listed = http.get(f"{API}/users", headers={"Authorization": "Bearer my-prod-key"})
        assert listed.status_code == 200 and listed.json()["data"] == [], "prod is its own namespace"


def test_flag_key_beats_env_key(serve: ServeFixture) -> None:
    server = serve("--dev-key", "flag-dev", env={"ALLOY_MOCK_DEV_KEY": "env-dev"})
    with server.client() as http:
        assert http.get(f"{API}/users", headers={"Authorization": "Bearer flag-dev"}).status_code == 200
        assert http.get(f"{API}/users", headers={"Authorization": "Bearer env-dev"}).status_code == 401


def test_port_flag_beats_a_busy_port_from_env(serve: ServeFixture, busy_port: int) -> None:
    server = serve(env={"ALLOY_MOCK_PORT": str(busy_port)})  # the fixture passes --port 0
    assert not server.base_url.endswith(f":{busy_port}")


def test_env_db_and_token_ttl(tmp_path: Path) -> None:
    db = tmp_path / "env-db.json"
    server = start_server(env={"ALLOY_MOCK_DB": str(db), "ALLOY_MOCK_TOKEN_TTL": "77", "ALLOY_MOCK_ISSUER": "me"})
    try:
        assert banner_value(read_banner(server), "data") == str(db)
        with server.client() as http:
            _, token = user_and_token(http, "ttl")
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["exp"] - claims["iat"] == 77
        assert claims["iss"] == "me"
        assert server.stop() == 0
        assert db.exists() or db.with_name("env-db.json.journal").exists(), "ALLOY_MOCK_DB should hold the data"
    finally:
        server.kill()


def test_second_server_on_the_same_db_is_refused(serve: ServeFixture, tmp_path: Path) -> None:
    first = serve()
    db = tmp_path / "db.json"
    result = serve_fails("--port", "0", "--db", str(db))
    assert_fails_with_one_line(result, str(db), "in use")
    with first.client() as http:
        assert http.get("/health").status_code == 200, "the first server must keep running"


def test_sigterm_exits_zero_and_keeps_data(serve: ServeFixture) -> None:
    server = serve()
    with server.client() as http:
        user_id, _ = user_and_token(http, "term@example.com")
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(timeout=30) == 0
    assert server.process.stderr is not None
    stderr = server.process.stderr.read()
    assert "Traceback" not in stderr, stderr
    with serve().client() as http:  # the lock was released and the data kept
        assert http.get(f"{API}/users/{user_id}", headers=DEV).json()["username"] == "term@example.com"


def test_keys_file_accounts_are_isolated(serve: ServeFixture, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(
        json.dumps(
            {
                "accounts": [
                    {"name": "acme", "devKey": "acme-dev", "prodKey": "acme-prod"},
                    {"name": "globex", "devKey": "globex-dev", "prodKey": "globex-prod"},
                ]
            }
        )
    )
    server = serve("--keys-file", str(keys))
    assert banner_value(read_banner(server), "accounts") == "default, acme, globex"
    namespaces = {
        "default dev": DEV,
        "default prod": PROD,
        **{
            f"{account} {env}": {"Authorization": f"Bearer {account}-{env}"}
            for account in ("acme", "globex")
            for env in ("dev", "prod")
        },
    }
    with server.client() as http:
        ids = {}
        for name, headers in namespaces.items():
            # The same username in every namespace: no clash anywhere.
            created = http.post(
                f"{API}/users", json={"username": "same@example.com", "fullName": name}, headers=headers
            )
            assert created.status_code == 200, f"{name}: {created.text}"
            ids[name] = created.json()["userId"]
        for name, headers in namespaces.items():
            listed = http.get(f"{API}/users", headers=headers).json()["data"]
            assert [u["fullName"] for u in listed] == [name], f"{name} sees other namespaces: {listed}"
            for other, user_id in ids.items():
                if other != name:
                    found = http.get(f"{API}/users/{user_id}", headers=headers)
                    assert found.status_code == 404, f"{name} can read a user of {other}"
        # A token issued in one account does not name another.
        _, token = user_and_token(http, "tok@example.com", {"Authorization": "Bearer acme-prod"})
        claims = jwt.decode(token, options={"verify_signature": False})
        assert (claims["account"], claims["namespace"]) == ("acme", "prod")
    assert server.stop() == 0
    # Isolation survives a restart (it lives in the stored data, not in memory).
    with serve("--keys-file", str(keys)).client() as http:
        listed = http.get(f"{API}/users", headers={"Authorization": "Bearer globex-dev"}).json()["data"]
        assert [u["fullName"] for u in listed] == ["globex dev"]


def verify_with_jwks(token: str, jwks: dict[str, Any], algorithm: str) -> dict[str, Any]:
    header = jwt.get_unverified_header(token)
    assert header["alg"] == algorithm, header
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]]
    claims: dict[str, Any] = jwt.decode(token, key=key, algorithms=[algorithm], issuer="alloy-mock")
    return claims


def test_jwt_alg_rs256(serve: ServeFixture) -> None:
    server = serve("--jwt-alg", "RS256")
    with server.client() as http:
        jwks = http.get("/.well-known/jwks.json").json()
        user_id, token = user_and_token(http, "rsa@example.com")
        assert http.get(f"{API}/integrations", headers={"x-alloy-user-token": token}).status_code == 200
    assert [(k["kty"], k["alg"]) for k in jwks["keys"]] == [("RSA", "RS256")], jwks
    assert verify_with_jwks(token, jwks, "RS256")["userId"] == user_id


def test_jwt_alg_from_env(serve: ServeFixture) -> None:
    server = serve(env={"ALLOY_MOCK_JWT_ALG": "rs256"})
    with server.client() as http:
        assert [k["kty"] for k in http.get("/.well-known/jwks.json").json()["keys"]] == ["RSA"]


@pytest.mark.parametrize(
    ("make_key", "algorithm", "kty"),
    [
        (lambda: ec.generate_private_key(ec.SECP256R1()), "ES256", "EC"),
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256", "RSA"),
    ],
    ids=["ec", "rsa"],
)
def test_signing_key_pem(
    serve: ServeFixture, tmp_path: Path, make_key: Callable[[], Any], algorithm: str, kty: str
) -> None:
    private_key = make_key()
    pem = write_pem(tmp_path / "signing.pem", private_key)
    first = serve("--signing-key", str(pem))
    with first.client() as http:
        jwks_first = http.get("/.well-known/jwks.json").json()
        user_id, token = user_and_token(http, "pem@example.com")
    assert len(jwks_first["keys"]) == 1, jwks_first
    assert (jwks_first["keys"][0]["kty"], jwks_first["keys"][0]["alg"]) == (kty, algorithm)
    kid = jwks_first["keys"][0]["kid"]
    assert jwt.get_unverified_header(token)["kid"] == kid
    # The token verifies with the public half of the key we generated, without asking the emulator.
    claims = jwt.decode(token, private_key.public_key(), algorithms=[algorithm], issuer="alloy-mock")
    assert claims["userId"] == user_id
    assert first.stop() == 0
    # Another server, even on another database, with the same PEM: the same kid, tokens still accepted.
    second = serve("--signing-key", str(pem), "--db", str(tmp_path / "other.json"))
    with second.client() as http:
        jwks_second = http.get("/.well-known/jwks.json").json()
    assert [k["kid"] for k in jwks_second["keys"]] == [kid], "the kid must depend only on the key"
    third = serve("--signing-key", str(pem))
    with third.client() as http:
        assert http.get(f"{API}/integrations", headers={"x-alloy-user-token": token}).status_code == 200


def test_signing_key_from_env(serve: ServeFixture, tmp_path: Path) -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    pem = write_pem(tmp_path / "env.pem", private_key)
    server = serve(env={"ALLOY_MOCK_SIGNING_KEY": str(pem)})
    with server.client() as http:
        _, token = user_and_token(http, "envpem@example.com")
    jwt.decode(token, private_key.public_key(), algorithms=["ES256"], issuer="alloy-mock")


def test_switching_to_rs256_keeps_the_es256_key(serve: ServeFixture) -> None:
    first = serve()
    with first.client() as http:
        old_user, old_token = user_and_token(http, "es@example.com")
        jwks_before = http.get("/.well-known/jwks.json").json()
    assert [k["kty"] for k in jwks_before["keys"]] == ["EC"]
    assert first.stop() == 0

    second = serve("--jwt-alg", "RS256")
    with second.client() as http:
        jwks = http.get("/.well-known/jwks.json").json()
        new_user, new_token = user_and_token(http, "rs@example.com")
        # The old token is still accepted by the emulator itself.
        assert http.get(f"{API}/integrations", headers={"x-alloy-user-token": old_token}).status_code == 200
        assert http.get(f"{API}/integrations", headers={"x-alloy-user-token": new_token}).status_code == 200
    assert sorted(k["kty"] for k in jwks["keys"]) == ["EC", "RSA"], jwks
    assert jwks_before["keys"][0] in jwks["keys"], "the ES256 key must stay in the JWKS unchanged"
    assert verify_with_jwks(old_token, jwks, "ES256")["userId"] == old_user
    assert verify_with_jwks(new_token, jwks, "RS256")["userId"] == new_user
    assert second.stop() == 0

    # And back to ES256: the same EC key signs again; nothing new is generated.
    third = serve()
    with third.client() as http:
        jwks_after = http.get("/.well-known/jwks.json").json()
        _, token = user_and_token(http, "es2@example.com")
    assert sorted(k["kid"] for k in jwks_after["keys"]) == sorted(k["kid"] for k in jwks["keys"])
    assert jwt.get_unverified_header(token)["kid"] == jwks_before["keys"][0]["kid"]


def test_serve_builds_the_control_api_before_answering(monkeypatch: pytest.MonkeyPatch) -> None:
    """The control API is built on first use in tests (issue 13), but `serve` builds it before it listens:
    otherwise the first /_mock request (a CI job's reset) waits ~60 ms for it."""
    import uvicorn

    from alloy_mock import cli

    seen: dict[str, Any] = {}

    def run(server: uvicorn.Server, sockets: list[socket.socket]) -> None:
        seen["built"] = server.config.app.control_api._api is not None
        for sock in sockets:
            sock.close()

    monkeypatch.setattr(uvicorn.Server, "run", run)
    monkeypatch.setattr(cli, "tune_gc_for_serving", lambda: None)  # not in the test process
    monkeypatch.setattr(cli.signal, "signal", lambda *args: None)
    args = cli.build_parser().parse_args(["serve", "--port", "0", "--db", ":memory:"])
    assert cli.serve(args) == 0
    assert seen == {"built": True}
