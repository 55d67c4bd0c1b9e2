"""All configuration in one place: defaults, environment variables and command-line flags.

Flags win over environment variables, which win over the defaults. `Settings.load()` validates
everything and raises ConfigError with a one-line message naming the flag or variable at fault.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import orjson

from .errors import StartupError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_DEV_KEY = "alloy-mock-dev-key"
DEFAULT_PROD_KEY = "alloy-mock-prod-key"
DEFAULT_ACCOUNT = "default"
DEFAULT_TOKEN_TTL = 1800  # seconds; the vendor documents "at most 30 minutes"
DEFAULT_ISSUER = "alloy-mock"
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
# What one request may take before the HTTP layer refuses it (http/protocol.py): a request line
# (method, target, version) of 8 KiB as in Apache, a header block of 64 KiB, and a few seconds to
# arrive in full (from its first byte), so that a stalled or trickling client cannot hold a connection.
DEFAULT_MAX_REQUEST_LINE = 8 * 1024
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_READ_TIMEOUT = 5.0
DB_FILE_NAME = "db.json"
ENV_PREFIX = "ALLOY_MOCK_"
# The API versions served: each is a path prefix (2023-12 is the main one; the SDKs also call the others).
API_VERSIONS = ("2023-01", "2023-06", "2023-12", "2024-03")
# The versions alloy-node 2.2.1 still calls, and the two current ones (reference §2).
OLD_VERSIONS = ("2023-01", "2023-06")
# A path that starts like a version prefix ("/2023-12/..."), served or not: the vendor API answers it (a 404 for
# an unknown version), and a fault's path, matched after the prefix, cannot start with one.
VERSION_LIKE = re.compile(r"^/\d{4}-\d{2}(?:/|$)")
CURRENT_VERSIONS = ("2023-12", "2024-03")
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
HOST_NAME = re.compile(r"\.?[a-z0-9_]([a-z0-9_-]{0,62}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,62}[a-z0-9_])?)*")

JwtAlgorithm = Literal["ES256", "RS256"]
LogFormat = Literal["text", "json"]
LOG_LEVELS = ("debug", "info", "warning", "error")
N = TypeVar("N", int, float)


class ConfigError(StartupError):
    """Configuration that cannot be used; the message is one line, fit for the terminal."""


@dataclass(frozen=True)
class Account:
    """One vendor account: a development and a production key, each with its own namespace."""

    name: str
    dev_key: str
    prod_key: str


@dataclass(frozen=True)
class Settings:
    """Everything the emulator can be told. Built directly (tests, the pytest plugin) the defaults
    keep nothing on disk; `Settings.load()` (the command line) defaults to a file in the data folder."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    db: str = ":memory:"  # a path, or ":memory:" to keep nothing
    fixtures: Path | None = None  # None: the bundled fixtures
    accounts: tuple[Account, ...] = (Account(DEFAULT_ACCOUNT, DEFAULT_DEV_KEY, DEFAULT_PROD_KEY),)
    token_ttl: int = DEFAULT_TOKEN_TTL
    jwt_algorithm: JwtAlgorithm = "ES256"
    signing_key: Path | None = None  # a PEM private key; None: generated and kept in the db
    issuer: str = DEFAULT_ISSUER
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_request_line: int = DEFAULT_MAX_REQUEST_LINE  # bytes; a longer request line gets a 414
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES  # bytes of all header lines; beyond: a 431
    read_timeout: float = DEFAULT_READ_TIMEOUT  # seconds for a request to arrive in full; then a 408
    access_log: bool = False  # one line per request on stdout, whatever the log level
    log_format: LogFormat = "text"  # of the access log: text, or one JSON object per line
    log_level: str = "warning"  # of the server's other messages (uvicorn's)
    admin_token: str | None = None  # protects the control API (/_mock) when set
    journal_size: int = 1000  # requests kept for GET /_mock/requests; 0 records nothing
    strict_runs: bool = False  # an unknown event, or one that runs no workflow, is a 400 instead of a quiet 200
    run_latency_ms: int = 0  # executions finish this long after /run/* answers (0: before it answers)
    execution_retention: int = 10_000  # executions kept per workflow and user; older ones are trimmed
    # Host names answered besides localhost, IP addresses and the vendor's hosts (http/host_check.py); "*": any.
    allowed_hosts: tuple[str, ...] = ()
    public_url: str | None = None  # where handed-out links point (install and OAuth links); None: the request's Host

    @property
    def default_account(self) -> Account:
        return self.accounts[0]

    @classmethod
    def load(cls, flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from flags (argparse names, None = not given) over ALLOY_MOCK_* variables."""
        source = _Source(flags or {}, os.environ if env is None else env)
        port = source.integer("port", DEFAULT_PORT, minimum=0, maximum=65535)
        db = source.text("db") or str(default_data_dir(source.env) / DB_FILE_NAME)
        if db != ":memory:":
            db = str(Path(db).expanduser())
        fixtures = source.path("fixtures")
        signing_key = source.path("signing_key")
        keys_file = source.path("keys_file")
        for name, path in (("fixtures", fixtures), ("signing_key", signing_key), ("keys_file", keys_file)):
            if path is not None and not path.exists():
                raise ConfigError(f"{source.describe(name)}: {path} does not exist")
        algorithm = (source.text("jwt_alg") or "ES256").upper()
        if algorithm not in ("ES256", "RS256"):
            raise ConfigError(f"{source.describe('jwt_alg')}: must be ES256 or RS256, not {algorithm!r}")
        accounts = [
            Account(
                DEFAULT_ACCOUNT,
                source.text("dev_key") or DEFAULT_DEV_KEY,
                source.text("prod_key") or DEFAULT_PROD_KEY,
            )
        ]
        if keys_file is not None:
            accounts.extend(_read_keys_file(keys_file))
        _check_accounts(accounts, source)
        admin_token = source.text("admin_token")
        if admin_token is not None and any(admin_token in (a.dev_key, a.prod_key) for a in accounts):
            raise ConfigError(f"{source.describe('admin_token')}: must differ from every API key")
        return cls(
            host=source.text("host") or DEFAULT_HOST,
            port=port,
            db=db,
            fixtures=fixtures,
            accounts=tuple(accounts),
            token_ttl=source.integer("token_ttl", DEFAULT_TOKEN_TTL, minimum=1, maximum=10 * 365 * 86400),
            jwt_algorithm=algorithm,  # type: ignore[arg-type]
            signing_key=signing_key,
            issuer=source.text("issuer") or DEFAULT_ISSUER,
            max_body_bytes=source.integer("max_body_bytes", DEFAULT_MAX_BODY_BYTES, minimum=1024, maximum=1 << 30),
            max_request_line=source.integer("max_request_line", DEFAULT_MAX_REQUEST_LINE, minimum=256, maximum=1 << 20),
            max_header_bytes=source.integer(
                "max_header_bytes", DEFAULT_MAX_HEADER_BYTES, minimum=1024, maximum=16 << 20
            ),
            read_timeout=source.number("read_timeout", DEFAULT_READ_TIMEOUT, minimum=0.01, maximum=3600),
            access_log=source.boolean("access_log"),
            log_format=source.choice("log_format", ("text", "json")),  # type: ignore[arg-type]
            log_level=source.choice("log_level", LOG_LEVELS, default="warning"),
            admin_token=admin_token,
            journal_size=source.integer("journal_size", 1000, minimum=0, maximum=1_000_000),
            public_url=_public_url(source),
            allowed_hosts=_allowed_hosts(source),
            strict_runs=source.boolean("strict_runs"),
            run_latency_ms=source.integer("run_latency", 0, minimum=0, maximum=60_000),
            execution_retention=source.integer("execution_retention", 10_000, minimum=1, maximum=10_000_000),
        )


def _public_url(source: _Source) -> str | None:
    """--public-url: an http(s) origin, optionally with a path prefix (kept without its trailing slash)."""
    value = source.text("public_url")
    if value is None:
        return None
    parsed = urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.query or parsed.fragment:
        raise ConfigError(f"{source.describe('public_url')}: must be an http(s) URL such as http://alloy-mock:8000")
    return value.rstrip("/")


def _allowed_hosts(source: _Source) -> tuple[str, ...]:
    """--allowed-hosts: comma-separated host names, ".example.com" for a domain and all below it, or "*"."""
    value = source.text("allowed_hosts")
    if value is None:
        return ()
    names = tuple(name.strip().lower() for name in value.split(",") if name.strip())
    for name in names:
        if name != "*" and not HOST_NAME.fullmatch(name):
            raise ConfigError(
                f"{source.describe('allowed_hosts')}: {name!r} is not a host name (give names such as "
                "alloy-mock,.example.test or *, separated by commas, without ports)"
            )
    return names


def default_data_dir(env: Mapping[str, str]) -> Path:
    """Where the database lives by default: $ALLOY_MOCK_DATA_DIR, else $XDG_DATA_HOME/alloy-mock."""
    if env.get("ALLOY_MOCK_DATA_DIR"):
        return Path(env["ALLOY_MOCK_DATA_DIR"]).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path("~/.local/share").expanduser())
    return Path(base) / "alloy-mock"


class _Source:
    """Reads one setting from the flags, else from the environment, and names it in errors."""

    def __init__(self, flags: Mapping[str, Any], env: Mapping[str, str]) -> None:
        self.flags = flags
        self.env = env

    def describe(self, name: str) -> str:
        """Where a setting came from: its flag, its variable, or (neither given) its default."""
        flag = "--" + name.replace("_", "-")
        if self.flags.get(name) is not None:
            return flag
        if self.env.get(ENV_PREFIX + name.upper()):
            return ENV_PREFIX + name.upper()
        return f"the default {flag}"

    def raw(self, name: str) -> Any:
        value = self.flags.get(name)
        if value is None:
            value = self.env.get(ENV_PREFIX + name.upper()) or None
        return value

    def text(self, name: str) -> str | None:
        value = self.raw(name)
        if value is None:
            return None
        value = str(value).strip()
        if not value:
            raise ConfigError(f"{self.describe(name)}: must not be empty")
        return value

    def path(self, name: str) -> Path | None:
        value = self.text(name)
        return None if value is None else Path(value).expanduser()

    def integer(self, name: str, default: int, minimum: int, maximum: int) -> int:
        return self._number(name, default, minimum, maximum, int, "a whole number")

    def number(self, name: str, default: float, minimum: float, maximum: float) -> float:
        """A decimal, such as 0.5 or 5 (seconds)."""
        return self._number(name, default, minimum, maximum, float, "a number")

    def _number(self, name: str, default: N, minimum: N, maximum: N, parse: Callable[[str], N], kind: str) -> N:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = parse(str(value).strip())
        except ValueError:
            raise ConfigError(f"{self.describe(name)}: must be {kind}, not {value!r}") from None
        if not minimum <= number <= maximum:  # also refuses nan
            raise ConfigError(f"{self.describe(name)}: must be between {minimum} and {maximum}, not {number}")
        return number

    def choice(self, name: str, choices: tuple[str, ...], default: str | None = None) -> str:
        """One of `choices` (any case); the first, unless another default is given."""
        value = self.text(name)
        if value is None:
            return default or choices[0]
        if value.lower() not in choices:
            raise ConfigError(f"{self.describe(name)}: must be one of {', '.join(choices)}, not {value!r}")
        return value.lower()

    def boolean(self, name: str) -> bool:
        """A yes/no setting (true/false, on/off, yes/no, 1/0), false unless given."""
        value = self.raw(name)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{self.describe(name)}: must be true or false, not {value!r}")


def _read_keys_file(path: Path) -> list[Account]:
    """A keys file: {"accounts": [{"name": ..., "devKey": ..., "prodKey": ...}, ...]}."""
    try:
        data = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the keys file: {exc.strerror}") from exc
    except orjson.JSONDecodeError as exc:
        raise ConfigError(f"{path}: the keys file is not valid JSON: {exc}") from exc
    entries = data.get("accounts") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f'{path}: expected {{"accounts": [{{"name", "devKey", "prodKey"}}, ...]}}')
    accounts = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: accounts[{i}]: must be an object")
        values = []
        for key in ("name", "devKey", "prodKey"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{path}: accounts[{i}].{key}: must be a non-empty string")
            values.append(value.strip())
        accounts.append(Account(*values))
    return accounts


def _check_accounts(accounts: list[Account], source: _Source) -> None:
    names: set[str] = set()
    keys: dict[str, str] = {}
    for account in accounts:
        if not ACCOUNT_NAME.match(account.name):
            raise ConfigError(f"account name {account.name!r}: use letters, digits, '-' and '_' only")
        if account.name in names:
            raise ConfigError(f"account name {account.name!r} is given twice")
        names.add(account.name)
        for env_name, key in (("dev", account.dev_key), ("prod", account.prod_key)):
            where = f"{account.name} {env_name}"
            if key in keys:
                if account.name == DEFAULT_ACCOUNT and keys[key] == f"{DEFAULT_ACCOUNT} dev":
                    raise ConfigError(
                        f"{source.describe('dev_key')} and {source.describe('prod_key')} are the same key; "
                        "each namespace needs its own"
                    )
                raise ConfigError(f"the same API key is given for {keys[key]} and {where}; each needs its own")
            keys[key] = where
