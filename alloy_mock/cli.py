"""The command line: `alloy-mock serve` (flags documented in the README and `--help`)."""

from __future__ import annotations

import argparse
import contextlib
import errno
import gc
import os
import signal
import socket
import sys
from collections.abc import Sequence

from . import __version__
from .config import (
    API_VERSIONS,
    DEFAULT_DEV_KEY,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_PROD_KEY,
    LOG_LEVELS,
    ConfigError,
    Settings,
)
from .errors import StartupError
from .http.access_log import log_to_stdout
from .http.host_check import is_loopback
from .http.protocol import http_protocol

PROG = "alloy-mock"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="A local emulator of the Alloy Embedded API.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = commands.add_parser(
        "serve",
        help="run the emulator",
        description="Run the emulator. Every flag can also be set with the ALLOY_MOCK_* variable named below; "
        "flags win over variables.",
    )
    # Defaults are None so that Settings.load() can tell "not given" from "given".
    options = [
        ("--host", "ALLOY_MOCK_HOST", f"address to bind (default {DEFAULT_HOST})"),
        ("--port", "ALLOY_MOCK_PORT", f"port (default {DEFAULT_PORT}; 0 picks a free one and prints it)"),
        ("--db", "ALLOY_MOCK_DB", "TinyDB JSON file (default: db.json in the data folder); :memory: keeps nothing"),
        ("--fixtures", "ALLOY_MOCK_FIXTURES", "seed data file or folder replacing the bundled fixtures"),
        ("--dev-key", "ALLOY_MOCK_DEV_KEY", f"API key of the development namespace (default {DEFAULT_DEV_KEY})"),
        ("--prod-key", "ALLOY_MOCK_PROD_KEY", f"API key of the production namespace (default {DEFAULT_PROD_KEY})"),
        ("--keys-file", "ALLOY_MOCK_KEYS_FILE", "JSON file of further accounts (see the README)"),
        ("--token-ttl", "ALLOY_MOCK_TOKEN_TTL", "user token lifetime in seconds (default 1800)"),
        ("--jwt-alg", "ALLOY_MOCK_JWT_ALG", "user token signature: ES256 (default) or RS256"),
        (
            "--signing-key",
            "ALLOY_MOCK_SIGNING_KEY",
            "PEM private key that signs tokens (default: generated, kept in the db)",
        ),
        ("--issuer", "ALLOY_MOCK_ISSUER", "`iss` claim of user tokens (default alloy-mock)"),
        ("--max-body-bytes", "ALLOY_MOCK_MAX_BODY_BYTES", "largest request body accepted (default 2 MiB)"),
        (
            "--max-request-line",
            "ALLOY_MOCK_MAX_REQUEST_LINE",
            "longest request line (method, target, version) in bytes; longer gets a 414 (default 8192)",
        ),
        (
            "--max-header-bytes",
            "ALLOY_MOCK_MAX_HEADER_BYTES",
            "largest header block of a request in bytes; larger gets a 431 (default 65536)",
        ),
        (
            "--read-timeout",
            "ALLOY_MOCK_READ_TIMEOUT",
            "seconds a request may take to arrive in full, from its first byte; then a 408 (default 5)",
        ),
        (
            "--allowed-hosts",
            "ALLOY_MOCK_ALLOWED_HOSTS",
            "host names answered besides localhost, IP addresses and the vendor's (comma-separated; "
            "'.example.test' for a domain, '*' for any; default: those only on loopback, any elsewhere)",
        ),
        ("--admin-token", "ALLOY_MOCK_ADMIN_TOKEN", "bearer token required by the control API /_mock (default: open)"),
        ("--journal-size", "ALLOY_MOCK_JOURNAL_SIZE", "requests kept for GET /_mock/requests (default 1000; 0: off)"),
        ("--run-latency", "ALLOY_MOCK_RUN_LATENCY", "milliseconds executions take to finish after /run/* (default 0)"),
        (
            "--execution-retention",
            "ALLOY_MOCK_EXECUTION_RETENTION",
            "executions kept per workflow and user (default 10000; older ones are trimmed)",
        ),
        (
            "--public-url",
            "ALLOY_MOCK_PUBLIC_URL",
            "origin of the links it hands out, e.g. http://alloy-mock:8000 (default: the request's Host)",
        ),
    ]
    for flag, env, text in options:
        metavar = flag.strip("-").upper().replace("-", "_")
        serve.add_argument(flag, default=None, metavar=metavar, help=f"{text} [{env}]")
    serve.add_argument(
        "--access-log", action="store_const", const=True, default=None, help="log every request [ALLOY_MOCK_ACCESS_LOG]"
    )
    serve.add_argument(
        "--strict-runs",
        action="store_const",
        const=True,
        default=None,
        help="answer 400 to a run of an unknown event or one that runs no workflow [ALLOY_MOCK_STRICT_RUNS]",
    )
    serve.add_argument(
        "--log-format",
        default=None,
        metavar="FORMAT",
        help="access log lines: text (default) or json, one object per line [ALLOY_MOCK_LOG_FORMAT]",
    )
    serve.add_argument(
        "--log-level",
        default=None,
        metavar="LEVEL",
        help=f"level of the server's other messages: {', '.join(LOG_LEVELS)} (default warning) [ALLOY_MOCK_LOG_LEVEL]",
    )
    check = commands.add_parser(
        "healthcheck",
        help="exit 0 if a local emulator answers /health (for container health checks)",
        description="GET /health at the configured host and port (ALLOY_MOCK_HOST, ALLOY_MOCK_PORT) "
        "and exit 0 if it answers 200.",
    )
    check.add_argument("--port", default=None, help="port to check [ALLOY_MOCK_PORT] (default 8000)")
    check.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for the answer (default 3)")
    return parser


def healthcheck(args: argparse.Namespace) -> int:
    """Used by the container's HEALTHCHECK, so it follows the port the server was given."""
    import urllib.error
    import urllib.request

    settings = Settings.load({"port": args.port}, env=os.environ)
    # A server bound to every address answers on loopback; one bound to a single address, only there.
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(settings.host, settings.host)
    url = f"http://[{host}]:{settings.port}/health" if ":" in host else f"http://{host}:{settings.port}/health"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as response:
            ok = response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"{PROG}: {url}: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1
    return 0 if ok else 1


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; raises ConfigError with a one-line reason (port in use, bad address)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: unknown address ({exc.strerror})") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        reason = "the port is already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from None
    sock.set_inheritable(True)
    return sock


def exposure_warning(sock: socket.socket, settings: Settings) -> str | None:
    """One line for stderr when the control API is open beyond this machine: bound to an address other
    than loopback (0.0.0.0 in a container, say) with no admin token. None when it is not."""
    if settings.admin_token is not None:
        return None
    host = str(sock.getsockname()[0])
    if is_loopback(host):  # an address it cannot read is not loopback: warn, to be safe
        return None
    return (
        f"{PROG}: warning: listening on {host} without an admin token: anyone who can reach this port can read, "
        "change and wipe the emulator's data through /_mock; set ALLOY_MOCK_ADMIN_TOKEN (or --admin-token)"
    )


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .app import create_app

    flags = {k: v for k, v in vars(args).items() if k != "command"}
    settings = Settings.load(flags)
    sock = bind(settings.host, settings.port)
    try:
        app = create_app(settings)
    except BaseException:
        sock.close()
        raise
    app.control_api.load()  # before the first request, which would otherwise wait for it (~60 ms)
    base = url_of(sock)
    account = settings.default_account
    data = settings.db if settings.db != ":memory:" else ":memory: (nothing is kept)"
    print(
        f"alloy-mock {__version__} listening on {base}\n"
        f"  API:      {base}/2023-12 (also {', '.join(v for v in API_VERSIONS if v != '2023-12')})\n"
        f"  dev key:  {account.dev_key}\n"
        f"  prod key: {account.prod_key}\n"
        + (f"  accounts: {', '.join(a.name for a in settings.accounts)}\n" if len(settings.accounts) > 1 else "")
        + f"  data:     {data}\n"
        f"  UI:       {base}/_mock/ui (the dashboard)\n"
        f"  JWKS:     {base}/.well-known/jwks.json",
        flush=True,
    )
    warning = exposure_warning(sock, settings)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)
    if settings.access_log:
        log_to_stdout()
    config = uvicorn.Config(
        app,
        http=http_protocol(settings),  # httptools with alloy-mock's limits and JSON errors (http/protocol.py)
        log_level=settings.log_level,
        access_log=False,  # alloy-mock's own access log instead (http/access_log.py), at any log level
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal; a stop that was asked
    # for and went cleanly should exit 0 (as `docker stop` and CI expect), not die of the signal.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    tune_gc_for_serving()
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def tune_gc_for_serving() -> None:
    """Set up the garbage collector for serving, once everything has been loaded.

    (The benchmark tools call this too, so that what they measure is what the server does.)
    """
    # Everything loaded so far (modules, the catalogue, every stored document) lives as long as the
    # server: keep it out of the garbage collector's full passes, which would otherwise walk all of it.
    gc.freeze()
    # Requests allocate many short-lived containers; collecting the young generation every 50,000
    # allocations rather than 700 spends ~4% fewer instructions per write (callgrind, bench/RESULTS.md)
    # and keeps at most a few MB of garbage cycles a little longer.
    gc.set_threshold(50_000, 20, 100)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            return serve(args)
        if args.command == "healthcheck":
            return healthcheck(args)
    except StartupError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 2


if __name__ == "__main__":  # pragma: no cover
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
