"""Settings.load(): flags over ALLOY_MOCK_* variables over defaults, and one-line errors naming the culprit."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alloy_mock.config import (
    DEFAULT_ACCOUNT,
    DEFAULT_DEV_KEY,
    DEFAULT_ISSUER,
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_PROD_KEY,
    DEFAULT_TOKEN_TTL,
    Account,
    ConfigError,
    Settings,
    default_data_dir,
)


@pytest.fixture
def existing(tmp_path: Path) -> dict[str, Path]:
    """Files that exist, for the settings that check their path."""
    paths = {
        "flag_fixtures": tmp_path / "flag-fixtures.json",
        "env_fixtures": tmp_path / "env-fixtures.json",
        "flag_key": tmp_path / "flag.pem",
        "env_key": tmp_path / "env.pem",
    }
    for path in paths.values():
        path.write_text("{}")
    return paths


def load(flags: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> Settings:
    """Settings.load with an explicit (empty by default) environment, never the real one."""
    return Settings.load(flags or {}, env or {"ALLOY_MOCK_DATA_DIR": "/nonexistent/alloy-mock-test-data"})


def config_error(flags: dict[str, Any] | None = None, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(flags, env)
    message = str(caught.value)
    assert "\n" not in message, f"config errors must be one line: {message!r}"
    return message


def write_keys_file(path: Path, accounts: Any) -> Path:
    path.write_text(json.dumps(accounts))
    return path


# -- precedence --------------------------------------------------------------------------------------


# (setting attribute, flag name, env var, flag value, env value, expected from flag, from env, default)
SIMPLE_SETTINGS = [
    ("host", "host", "ALLOY_MOCK_HOST", "0.0.0.0", "::1", "0.0.0.0", "::1", "127.0.0.1"),
    ("port", "port", "ALLOY_MOCK_PORT", "9001", "9002", 9001, 9002, 8000),
    ("db", "db", "ALLOY_MOCK_DB", "/tmp/flag.json", "/tmp/env.json", "/tmp/flag.json", "/tmp/env.json", None),
    ("token_ttl", "token_ttl", "ALLOY_MOCK_TOKEN_TTL", "60", "120", 60, 120, DEFAULT_TOKEN_TTL),
    ("jwt_algorithm", "jwt_alg", "ALLOY_MOCK_JWT_ALG", "RS256", "ES256", "RS256", "ES256", "ES256"),
    ("issuer", "issuer", "ALLOY_MOCK_ISSUER", "flag-iss", "env-iss", "flag-iss", "env-iss", DEFAULT_ISSUER),
    (
        "max_body_bytes",
        "max_body_bytes",
        "ALLOY_MOCK_MAX_BODY_BYTES",
        "4096",
        "8192",
        4096,
        8192,
        DEFAULT_MAX_BODY_BYTES,
    ),
    ("max_request_line", "max_request_line", "ALLOY_MOCK_MAX_REQUEST_LINE", "300", "400", 300, 400, 8192),
    ("max_header_bytes", "max_header_bytes", "ALLOY_MOCK_MAX_HEADER_BYTES", "2000", "3000", 2000, 3000, 65536),
    ("read_timeout", "read_timeout", "ALLOY_MOCK_READ_TIMEOUT", "0.25", " 30 ", 0.25, 30.0, 5.0),
    ("access_log", "access_log", "ALLOY_MOCK_ACCESS_LOG", True, "false", True, False, False),
    ("log_format", "log_format", "ALLOY_MOCK_LOG_FORMAT", "json", "TEXT", "json", "text", "text"),
    ("log_level", "log_level", "ALLOY_MOCK_LOG_LEVEL", "info", "Debug", "info", "debug", "warning"),
    ("strict_runs", "strict_runs", "ALLOY_MOCK_STRICT_RUNS", True, "1", True, True, False),
    ("run_latency_ms", "run_latency", "ALLOY_MOCK_RUN_LATENCY", "250", "40", 250, 40, 0),
    ("execution_retention", "execution_retention", "ALLOY_MOCK_EXECUTION_RETENTION", "3", "50", 3, 50, 10_000),
]


@pytest.mark.parametrize(
    ("attribute", "flag", "env_var", "flag_value", "env_value", "from_flag", "from_env", "default"),
    SIMPLE_SETTINGS,
    ids=[s[0] for s in SIMPLE_SETTINGS],
)
def test_flag_beats_env_beats_default(
    attribute: str,
    flag: str,
    env_var: str,
    flag_value: Any,
    env_value: str,
    from_flag: Any,
    from_env: Any,
    default: Any,
) -> None:
    base_env = {"ALLOY_MOCK_DATA_DIR": "/data-dir"}
    if default is None:  # the db default depends on the data folder
        default = "/data-dir/db.json"
    assert getattr(load({}, base_env), attribute) == default, f"default of {attribute}"
    assert getattr(load({flag: None}, base_env), attribute) == default, "a None flag means 'not given'"
    assert getattr(load({}, {**base_env, env_var: env_value}), attribute) == from_env, f"{env_var} sets {attribute}"
    assert getattr(load({flag: flag_value}, base_env), attribute) == from_flag, f"--{flag} sets {attribute}"
    both = load({flag: flag_value}, {**base_env, env_var: env_value})
    assert getattr(both, attribute) == from_flag, f"--{flag} must win over {env_var}"


@pytest.mark.parametrize(
    ("attribute", "flag", "env_var", "flag_file", "env_file"),
    [
        ("fixtures", "fixtures", "ALLOY_MOCK_FIXTURES", "flag_fixtures", "env_fixtures"),
        ("signing_key", "signing_key", "ALLOY_MOCK_SIGNING_KEY", "flag_key", "env_key"),
    ],
)
def test_path_settings_flag_beats_env_beats_default(
    existing: dict[str, Path], attribute: str, flag: str, env_var: str, flag_file: str, env_file: str
) -> None:
    flag_path, env_path = existing[flag_file], existing[env_file]
    assert getattr(load(), attribute) is None
    assert getattr(load({}, {env_var: str(env_path)}), attribute) == env_path
    assert getattr(load({flag: str(flag_path)}), attribute) == flag_path
    assert getattr(load({flag: str(flag_path)}, {env_var: str(env_path)}), attribute) == flag_path


def test_keys_flag_beats_env_beats_default() -> None:
    assert load().accounts == (Account(DEFAULT_ACCOUNT, DEFAULT_DEV_KEY, DEFAULT_PROD_KEY),)
    env = {"ALLOY_MOCK_DEV_KEY": "env-dev", "ALLOY_MOCK_PROD_KEY": "env-prod"}
    assert load({}, env).default_account == Account(DEFAULT_ACCOUNT, "env-dev", "env-prod")
    flags = {"dev_key": "flag-dev", "prod_key": "flag-prod"}
    assert load(flags).default_account == Account(DEFAULT_ACCOUNT, "flag-dev", "flag-prod")
    assert load(flags, env).default_account == Account(DEFAULT_ACCOUNT, "flag-dev", "flag-prod")
    # Mixed: each key on its own.
    assert load({"dev_key": "flag-dev"}, env).default_account == Account(DEFAULT_ACCOUNT, "flag-dev", "env-prod")
    assert load({}, {"ALLOY_MOCK_PROD_KEY": "env-prod"}).default_account == Account(
        DEFAULT_ACCOUNT, DEFAULT_DEV_KEY, "env-prod"
    )


def test_keys_file_flag_beats_env(tmp_path: Path) -> None:
    flag_file = write_keys_file(tmp_path / "flag.json", {"accounts": [{"name": "f", "devKey": "fd", "prodKey": "fp"}]})
    env_file = write_keys_file(tmp_path / "env.json", {"accounts": [{"name": "e", "devKey": "ed", "prodKey": "ep"}]})
    assert [a.name for a in load({}, {"ALLOY_MOCK_KEYS_FILE": str(env_file)}).accounts] == [DEFAULT_ACCOUNT, "e"]
    both = load({"keys_file": str(flag_file)}, {"ALLOY_MOCK_KEYS_FILE": str(env_file)})
    assert [a.name for a in both.accounts] == [DEFAULT_ACCOUNT, "f"]


def test_values_are_stripped_and_jwt_alg_is_case_insensitive() -> None:
    settings = load({"port": " 8080 ", "host": " localhost ", "jwt_alg": "rs256", "dev_key": " dk "})
    assert (settings.port, settings.host, settings.jwt_algorithm) == (8080, "localhost", "RS256")
    assert settings.default_account.dev_key == "dk"


def test_empty_env_var_counts_as_unset() -> None:
    settings = load({}, {"ALLOY_MOCK_PORT": "", "ALLOY_MOCK_HOST": "", "ALLOY_MOCK_DATA_DIR": "/d"})
    assert (settings.port, settings.host) == (8000, "127.0.0.1")


def test_port_zero_is_allowed() -> None:
    assert load({"port": "0"}).port == 0


def test_memory_db_is_kept_verbatim() -> None:
    assert load({"db": ":memory:"}).db == ":memory:"
    assert load({}, {"ALLOY_MOCK_DB": ":memory:"}).db == ":memory:"


def test_db_path_expands_the_home_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load({"db": "~/x/db.json"}).db == str(tmp_path / "x" / "db.json")


@pytest.mark.parametrize("value", ["1", "true", "YES", "on"])
def test_access_log_truthy_env(value: str) -> None:
    assert load({}, {"ALLOY_MOCK_ACCESS_LOG": value}).access_log is True


@pytest.mark.parametrize("value", ["0", "false", "No", "off"])
def test_access_log_falsy_env(value: str) -> None:
    assert load({}, {"ALLOY_MOCK_ACCESS_LOG": value}).access_log is False


def test_load_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOY_MOCK_PORT", "9123")
    monkeypatch.setenv("ALLOY_MOCK_DB", ":memory:")
    assert Settings.load({}).port == 9123
    assert Settings.load({"port": "9124"}).port == 9124


def test_settings_built_directly_keep_nothing_on_disk() -> None:
    assert Settings().db == ":memory:"


# -- the default db path -----------------------------------------------------------------------------


def test_default_db_under_alloy_mock_data_dir(tmp_path: Path) -> None:
    env = {"ALLOY_MOCK_DATA_DIR": str(tmp_path / "data"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert Settings.load({}, env).db == str(tmp_path / "data" / "db.json"), "ALLOY_MOCK_DATA_DIR wins over XDG"


def test_default_db_under_xdg_data_home(tmp_path: Path) -> None:
    assert Settings.load({}, {"XDG_DATA_HOME": str(tmp_path)}).db == str(tmp_path / "alloy-mock" / "db.json")


def test_default_db_under_home_without_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    expected = tmp_path / ".local" / "share" / "alloy-mock" / "db.json"
    assert Settings.load({}, {}).db == str(expected)


def test_data_dir_expands_the_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_dir({"ALLOY_MOCK_DATA_DIR": "~/d"}) == tmp_path / "d"


def test_db_flag_and_env_beat_the_data_dir(tmp_path: Path) -> None:
    env = {"ALLOY_MOCK_DATA_DIR": str(tmp_path / "data")}
    assert Settings.load({}, {**env, "ALLOY_MOCK_DB": str(tmp_path / "e.json")}).db == str(tmp_path / "e.json")
    assert Settings.load({"db": str(tmp_path / "f.json")}, env).db == str(tmp_path / "f.json")


def test_loading_settings_creates_no_files(tmp_path: Path) -> None:
    Settings.load({}, {"ALLOY_MOCK_DATA_DIR": str(tmp_path / "data")})
    assert list(tmp_path.iterdir()) == [], "Settings.load must not create the data folder"


# -- errors name the flag or the variable ------------------------------------------------------------


@pytest.mark.parametrize(
    ("flag", "env_var", "value", "expected"),
    [
        ("port", "ALLOY_MOCK_PORT", "abc", "must be a whole number, not 'abc'"),
        ("port", "ALLOY_MOCK_PORT", "70000", "must be between 0 and 65535, not 70000"),
        ("port", "ALLOY_MOCK_PORT", "-1", "must be between 0 and 65535, not -1"),
        ("port", "ALLOY_MOCK_PORT", "80.5", "must be a whole number"),
        ("token_ttl", "ALLOY_MOCK_TOKEN_TTL", "0", "must be between 1 and"),
        ("token_ttl", "ALLOY_MOCK_TOKEN_TTL", "soon", "must be a whole number"),
        ("max_body_bytes", "ALLOY_MOCK_MAX_BODY_BYTES", "10", "must be between 1024 and"),
        ("max_body_bytes", "ALLOY_MOCK_MAX_BODY_BYTES", "2GB", "must be a whole number"),
        ("max_request_line", "ALLOY_MOCK_MAX_REQUEST_LINE", "100", "must be between 256 and"),
        ("max_request_line", "ALLOY_MOCK_MAX_REQUEST_LINE", "8k", "must be a whole number"),
        ("max_header_bytes", "ALLOY_MOCK_MAX_HEADER_BYTES", "99999999999", "must be between 1024 and"),
        ("read_timeout", "ALLOY_MOCK_READ_TIMEOUT", "0", "must be between 0.01 and 3600, not 0.0"),
        ("read_timeout", "ALLOY_MOCK_READ_TIMEOUT", "5s", "must be a number, not '5s'"),
        ("read_timeout", "ALLOY_MOCK_READ_TIMEOUT", "nan", "must be between 0.01 and 3600, not nan"),
        ("read_timeout", "ALLOY_MOCK_READ_TIMEOUT", "inf", "must be between 0.01 and 3600, not inf"),
        ("jwt_alg", "ALLOY_MOCK_JWT_ALG", "HS256", "must be ES256 or RS256, not 'HS256'"),
        ("jwt_alg", "ALLOY_MOCK_JWT_ALG", "none", "must be ES256 or RS256"),
        ("fixtures", "ALLOY_MOCK_FIXTURES", "/nonexistent/fixtures", "/nonexistent/fixtures does not exist"),
        ("signing_key", "ALLOY_MOCK_SIGNING_KEY", "/nonexistent/key.pem", "/nonexistent/key.pem does not exist"),
        ("access_log", "ALLOY_MOCK_ACCESS_LOG", "maybe", "must be true or false, not 'maybe'"),
        ("log_format", "ALLOY_MOCK_LOG_FORMAT", "yaml", "must be one of text, json, not 'yaml'"),
        ("log_level", "ALLOY_MOCK_LOG_LEVEL", "loud", "must be one of debug, info, warning, error, not 'loud'"),
        ("strict_runs", "ALLOY_MOCK_STRICT_RUNS", "sometimes", "must be true or false, not 'sometimes'"),
        ("run_latency", "ALLOY_MOCK_RUN_LATENCY", "-5", "must be between 0 and 60000"),
        ("run_latency", "ALLOY_MOCK_RUN_LATENCY", "60001", "must be between 0 and 60000"),
        ("run_latency", "ALLOY_MOCK_RUN_LATENCY", "0.5", "must be a whole number"),
        ("execution_retention", "ALLOY_MOCK_EXECUTION_RETENTION", "0", "must be between 1 and 10000000"),
        ("execution_retention", "ALLOY_MOCK_EXECUTION_RETENTION", "many", "must be a whole number"),
    ],
)
def test_bad_value_names_the_flag_or_the_variable(flag: str, env_var: str, value: str, expected: str) -> None:
    cli_flag = "--" + flag.replace("_", "-")
    from_flag = config_error({flag: value})
    assert from_flag.startswith(f"{cli_flag}: "), f"should name {cli_flag}: {from_flag}"
    assert expected in from_flag
    assert env_var not in from_flag
    from_env = config_error({}, {env_var: value})
    assert from_env.startswith(f"{env_var}: "), f"should name {env_var}: {from_env}"
    assert expected in from_env
    assert cli_flag not in from_env


@pytest.mark.parametrize("flag", ["host", "db", "dev_key", "prod_key", "issuer", "fixtures", "keys_file"])
@pytest.mark.parametrize("value", ["", "   "])
def test_empty_flag_is_an_error(flag: str, value: str) -> None:
    cli_flag = "--" + flag.replace("_", "-")
    assert config_error({flag: value}) == f"{cli_flag}: must not be empty"


def test_whitespace_env_var_is_an_error() -> None:
    assert config_error({}, {"ALLOY_MOCK_HOST": "  "}) == "ALLOY_MOCK_HOST: must not be empty"


# -- the same key for two namespaces ------------------------------------------------------------------


def test_same_dev_and_prod_key_from_flags() -> None:
    message = config_error({"dev_key": "k", "prod_key": "k"})
    assert "--dev-key" in message and "--prod-key" in message and "same key" in message, message


def test_same_dev_and_prod_key_from_env() -> None:
    message = config_error({}, {"ALLOY_MOCK_DEV_KEY": "k", "ALLOY_MOCK_PROD_KEY": " k "})
    assert "ALLOY_MOCK_DEV_KEY" in message and "ALLOY_MOCK_PROD_KEY" in message and "same key" in message, message


def test_same_key_mixed_flag_and_env() -> None:
    message = config_error({"dev_key": "k"}, {"ALLOY_MOCK_PROD_KEY": "k"})
    assert "--dev-key" in message and "ALLOY_MOCK_PROD_KEY" in message, message


def test_dev_key_equal_to_the_default_prod_key_does_not_blame_an_unset_variable() -> None:
    # Only --dev-key was given; ALLOY_MOCK_PROD_KEY is not set, so the message must not name it.
    message = config_error({"dev_key": DEFAULT_PROD_KEY})
    assert "--dev-key" in message, message
    assert "ALLOY_MOCK_PROD_KEY" not in message, f"names a variable that is not set: {message}"


# -- keys file -------------------------------------------------------------------------------------


def test_keys_file_adds_accounts_after_the_default(tmp_path: Path) -> None:
    keys = write_keys_file(
        tmp_path / "keys.json",
        {
            "accounts": [
                {"name": "acme", "devKey": "acme-dev", "prodKey": "acme-prod"},
                {"name": "globex_2", "devKey": " globex-dev ", "prodKey": "globex-prod"},
            ]
        },
    )
    settings = load({"keys_file": str(keys)})
    assert settings.accounts == (
        Account(DEFAULT_ACCOUNT, DEFAULT_DEV_KEY, DEFAULT_PROD_KEY),
        Account("acme", "acme-dev", "acme-prod"),
        Account("globex_2", "globex-dev", "globex-prod"),
    )
    assert settings.default_account.name == DEFAULT_ACCOUNT


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "the keys file is not valid JSON"),
        ("[]", 'expected {"accounts": [{"name", "devKey", "prodKey"}, ...]}'),
        ("{}", 'expected {"accounts"'),
        ('{"accounts": []}', 'expected {"accounts"'),
        ('{"accounts": {"name": "a"}}', 'expected {"accounts"'),
        ('{"accounts": ["acme"]}', "accounts[0]: must be an object"),
        ('{"accounts": [{"name": "a", "devKey": "d"}]}', "accounts[0].prodKey: must be a non-empty string"),
        (
            '{"accounts": [{"name": "a", "devKey": 5, "prodKey": "p"}]}',
            "accounts[0].devKey: must be a non-empty string",
        ),
        ('{"accounts": [{"name": " ", "devKey": "d", "prodKey": "p"}]}', "accounts[0].name: must be a non-empty"),
        (
            '{"accounts": [{"name": "a", "devKey": "d", "prodKey": "p"}, {"name": "b", "devKey": "d2"}]}',
            "accounts[1].prodKey",
        ),
    ],
)
def test_keys_file_validation_names_the_file_and_entry(tmp_path: Path, content: str, expected: str) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text(content)
    message = config_error({"keys_file": str(keys)})
    assert message.startswith(f"{keys}: "), f"should name the keys file: {message}"
    assert expected in message, message


def test_keys_file_missing_names_the_flag(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    message = config_error({"keys_file": str(missing)})
    assert str(missing) in message, message
    assert "--keys-file" in message, f"should name the flag, like --fixtures and --signing-key do: {message}"
    message = config_error({}, {"ALLOY_MOCK_KEYS_FILE": str(missing)})
    assert "ALLOY_MOCK_KEYS_FILE" in message, f"should name the variable: {message}"


@pytest.mark.parametrize(
    ("accounts", "expected"),
    [
        (
            [
                {"name": "acme", "devKey": "shared", "prodKey": "p1"},
                {"name": "globex", "devKey": "d2", "prodKey": "shared"},
            ],
            "the same API key is given for acme dev and globex prod",
        ),
        (
            [{"name": "acme", "devKey": "same", "prodKey": "same"}],
            "the same API key is given for acme dev and acme prod",
        ),
        (
            [{"name": "acme", "devKey": DEFAULT_DEV_KEY, "prodKey": "p1"}],
            "the same API key is given for default dev and acme dev",
        ),
        (
            [{"name": "acme", "devKey": "d1", "prodKey": DEFAULT_PROD_KEY}],
            "the same API key is given for default prod and acme prod",
        ),
        (
            [{"name": "acme", "devKey": "d1", "prodKey": "p1"}, {"name": "acme", "devKey": "d2", "prodKey": "p2"}],
            "account name 'acme' is given twice",
        ),
        ([{"name": "default", "devKey": "d1", "prodKey": "p1"}], "account name 'default' is given twice"),
        ([{"name": "a.b", "devKey": "d1", "prodKey": "p1"}], "account name 'a.b': use letters, digits"),
        ([{"name": "a/b", "devKey": "d1", "prodKey": "p1"}], "account name 'a/b'"),
        ([{"name": "x" * 65, "devKey": "d1", "prodKey": "p1"}], "account name"),
    ],
    ids=[
        "across-accounts",
        "within-account",
        "default-dev",
        "default-prod",
        "duplicate-name",
        "name-default",
        "dot-in-name",
        "slash-in-name",
        "name-too-long",
    ],
)
def test_keys_file_duplicates_and_names(tmp_path: Path, accounts: list[dict[str, str]], expected: str) -> None:
    keys = write_keys_file(tmp_path / "keys.json", {"accounts": accounts})
    message = config_error({"keys_file": str(keys)})
    assert expected in message, message


def test_keys_file_key_clashing_with_custom_dev_key(tmp_path: Path) -> None:
    keys = write_keys_file(tmp_path / "keys.json", {"accounts": [{"name": "acme", "devKey": "d", "prodKey": "mine"}]})
    message = config_error({"keys_file": str(keys), "dev_key": "mine"})
    assert "default dev" in message and "acme prod" in message, message
