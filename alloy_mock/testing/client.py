"""`AlloyMock`: the handle the pytest fixtures give: URLs, API keys, and helpers over the control API (/_mock).

The helpers only send requests to the emulator's app (on the server's event loop, or in-process under
its lock), so its state is only ever touched the way a request touches it. The one exception is a full
reset(), the fixtures' step before every test: it calls what POST /_mock/reset calls (Emulator.reset_all),
in the same place (the server's loop, or under the in-process lock), without the request around it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict
from urllib.parse import quote, urlencode

import orjson

from ..config import Settings
from ..control.journal import decode_body

if TYPE_CHECKING:
    from ..control.models import ConnectionFaultName

DEFAULT_VERSION = "2023-12"
# How the emulator's 404 for a route it does not serve begins (http/errors.py not_found).
UNSERVED = "No route for "
SIGNATURES = ("valid", "wrong-key", "unknown-kid", "none")

# (method, absolute URL, JSON body or None, headers) -> (status, response body)
Send = Callable[[str, str, Any, Mapping[str, str]], tuple[int, bytes]]


class DribbleDelay(TypedDict):
    """WireMock's chunkedDribbleDelay: the answer's body in `numberOfChunks` chunks over `totalDuration` ms."""

    numberOfChunks: int
    totalDuration: int


class AlloyMockError(Exception):
    """A control API call that the emulator refused; the message has the call, status and answer."""


class AlloyMock:
    """A running emulator: where it is, its API keys, and shortcuts to its control API.

    `base_url` is the 2023-12 API root to give an SDK; `url(version)` gives the others.
    """

    def __init__(
        self, root_url: str, settings: Settings, send: Send, reset_all: Callable[[], None] | None = None
    ) -> None:
        self.root_url = root_url.rstrip("/")
        self.settings = settings
        self._send = send
        self._reset_all = reset_all

    def __repr__(self) -> str:
        return f"AlloyMock({self.base_url!r})"

    # -- where and with which key ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The 2023-12 API root, e.g. http://127.0.0.1:PORT/2023-12."""
        return self.url(DEFAULT_VERSION)

    def url(self, version: str = DEFAULT_VERSION) -> str:
        """The API root of a version: "2023-01", "2023-06", "2023-12" or "2024-03"."""
        return f"{self.root_url}/{version.strip('/')}"

    @property
    def jwks_url(self) -> str:
        """The public keys that sign user tokens."""
        return f"{self.root_url}/.well-known/jwks.json"

    @property
    def dev_key(self) -> str:
        """The API key of the development namespace ("dev")."""
        return self.settings.default_account.dev_key

    @property
    def prod_key(self) -> str:
        """The API key of the production namespace ("prod")."""
        return self.settings.default_account.prod_key

    def api_key(self, namespace: str = "dev") -> str:
        """The API key of a namespace: "dev", "prod", or "<account>.dev|prod" for further accounts."""
        account_name, _, env = namespace.rpartition(".")
        for account in self.settings.accounts:
            if account.name == (account_name or self.settings.default_account.name):
                if env == "dev":
                    return account.dev_key
                if env == "prod":
                    return account.prod_key
        raise ValueError(f"unknown namespace {namespace!r}: use 'dev', 'prod' or '<account>.dev|prod'")

    def _namespace_id(self, namespace: str) -> str:
        """The id the journal uses: "dev" is "default.dev"; "user-token" and "<account>.<env>" stay."""
        return f"{self.settings.default_account.name}.{namespace}" if namespace in ("dev", "prod") else namespace

    def headers(self, namespace: str = "dev") -> dict[str, str]:
        """Headers that authenticate as a namespace's API key."""
        return {"Authorization": f"Bearer {self.api_key(namespace)}"}

    # -- the control API ----------------------------------------------------------------------------

    def control(self, method: str, path: str, body: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """Call the control API (`path` below /_mock) and return the parsed answer; AlloyMockError if not 2xx."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        url = f"{self.root_url}/_mock/{path.lstrip('/')}".rstrip("/")
        if query:
            url += "?" + urlencode(query)
        # X-Alloy-Mock: what the control API wants on a write (also without a body) to know it is no web page's form.
        headers = {"Accept": "application/json", "X-Alloy-Mock": "1"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.settings.admin_token is not None:
            headers["Authorization"] = f"Bearer {self.settings.admin_token}"
        return self._call(method, url, body, headers)

    def _call(self, method: str, url: str, body: Any, headers: Mapping[str, str]) -> Any:
        """Send a request and return the parsed answer; AlloyMockError if not 2xx."""
        status, content = self._send(method.upper(), url, body, headers)
        answer = decode_body(content)
        if not 200 <= status < 300:
            raise AlloyMockError(f"{method.upper()} {url} -> {status}: {content[:500].decode('utf-8', 'replace')}")
        return answer

    def reset(self, namespace: str | None = None) -> None:
        """Back to the seed state. Without a namespace also clears the journal, faults and clock."""
        if namespace is None and self._reset_all is not None:
            self._reset_all()  # what POST /_mock/reset runs, a few microseconds instead of a request
        else:
            self.control("POST", "reset", {} if namespace is None else {"namespace": namespace})

    def create_user(
        self, username: str | None = None, full_name: str | None = None, namespace: str = "dev"
    ) -> dict[str, Any]:
        """Create a user (a unique username if none is given); returns {"userId", "username"[, "fullName"]}."""
        user: dict[str, Any] = {"username": username or f"user-{uuid.uuid4().hex[:12]}@example.com"}
        if full_name is not None:
            user["fullName"] = full_name
        created: dict[str, Any] = self.control("POST", "seed", {"namespace": namespace, "users": [user]})["data"][0]
        if full_name is not None:
            created["fullName"] = full_name
        return created

    def token(self, user: str | Mapping[str, Any], namespace: str = "dev") -> str:
        """A valid user token (JWT) for a user: a userId, a username, or a dict from `create_user`."""
        return str(self.mint_token(user, namespace)["token"])

    def mint_token(
        self,
        user: str | Mapping[str, Any],
        namespace: str = "dev",
        *,
        ttl: float | None = None,
        expired: bool = False,
        signature: str = "valid",
        claims: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A user token on demand, broken ones included: {"token", "claims"}.

        `signature` is "valid", "wrong-key", "unknown-kid" or "none"; `claims` adds or overrides claims.
        """
        if signature not in SIGNATURES:
            raise ValueError(f"signature must be one of {', '.join(SIGNATURES)}")
        body: dict[str, Any] = {"user": _user_ref(user), "namespace": namespace, "signature": signature}
        if ttl is not None:
            body["ttl"] = ttl
        if expired:
            body["expired"] = True
        if claims:
            body["claims"] = dict(claims)
        minted: dict[str, Any] = self.control("POST", "tokens", body)
        return minted

    # -- installs -------------------------------------------------------------------------------------

    def install(
        self,
        user: str | Mapping[str, Any],
        integration: str,
        workflows: Sequence[str] | None = None,
        values: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        version: int | None = None,
        namespace: str = "dev",
        active: bool = True,
        credential_ids: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Install an integration for a user, as the hosted modal would (2023-12 has no install endpoint).

        `user` is a userId, a username or a dict from `create_user`; `integration` an integrationId or
        name; `workflows` picks workflows by id or name (default: all of the integration's). `values` is
        {field name: value} (each value goes to every block with a field of that name) or the headless
        form [{workflowId, blockId, fields: [{name, value}]}]; required fields need one. `version`
        (default: the latest) applies to every workflow. An app the user has no credential of gets an
        emulated one; with several, `credential_ids` says which. Returns {"namespace", "userId",
        "integrationId", "data": [install]}, each install with workflowId, name, installedVersion, active,
        values and credentialIds. Raises AlloyMockError when the emulator refuses (nothing is written then).
        """
        body: dict[str, Any] = {"user": _user_ref(user), "integration": integration, "namespace": namespace}
        body["active"] = active
        if workflows is not None:
            body["workflows"] = list(workflows)
        if values is not None:
            body["values"] = values if isinstance(values, Mapping | str) else list(values)
        if version is not None:
            body["version"] = version
        if credential_ids is not None:
            body["credentialIds"] = list(credential_ids)
        installed: dict[str, Any] = self.control("POST", "installs", body)
        return installed

    def installs(self, user: str | Mapping[str, Any], namespace: str = "dev") -> dict[str, Any]:
        """A user's installs: {"namespace", "userId", "integrations": [installed integrationIds], "data":
        [install]} (values and credential ids, never credential secrets)."""
        found: dict[str, Any] = self.control(
            "GET", "installs", params={"user": _user_ref(user), "namespace": namespace}
        )
        return found

    def uninstall(self, user: str | Mapping[str, Any], integration: str, namespace: str = "dev") -> int:
        """Uninstall an integration and all its workflows for a user; returns how many workflows went."""
        params = {"user": _user_ref(user), "integration": integration, "namespace": namespace}
        removed: dict[str, Any] = self.control("DELETE", "installs", params=params)
        return int(removed["removed"])

    # -- request journal ----------------------------------------------------------------------------

    def requests(
        self,
        method: str | None = None,
        path: str | None = None,
        namespace: str | None = None,
        status: int | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Requests the API received, oldest first (the newest 100 unless `limit` says otherwise).

        `path` is a glob over the full path, e.g. "/2023-12/users/*"; `namespace` is "dev", "prod" or
        "<account>.dev|prod". Each entry has method, path, query, namespace, status, requestBody, responseBody.
        """
        params = {
            "method": method,
            "path": path,
            "namespace": None if namespace is None else self._namespace_id(namespace),
            "status": status,
            "since": since,
            "limit": limit,
        }
        entries: list[dict[str, Any]] = self.control("GET", "requests", params=params)["data"]
        return entries

    def clear_requests(self) -> None:
        """Empty the request journal."""
        self.control("DELETE", "requests")

    def recent_requests(self, limit: int = 20, since: int = 0) -> list[str]:
        """The last `limit` requests (after journal id `since`) as one line each, for failure reports."""
        answer = self.control("GET", "requests", params={"since": since or None, "limit": limit + 1})
        entries: list[dict[str, Any]] = answer["data"]
        if not answer.get("recording", True):
            return ["(the request journal is off: journal_size is 0)"]
        if not entries:
            return ["(no requests to the Alloy API were received)"]
        lines = [format_request(entry) for entry in entries[-limit:]]
        if len(entries) > limit:
            lines.insert(0, f"(earlier requests left out; the last {limit} follow)")
        return lines

    def last_request_id(self) -> int:
        """The journal id of the newest request, or 0."""
        entries = self.control("GET", "requests", params={"limit": 1})["data"]
        return int(entries[-1]["id"]) if entries else 0

    # -- faults ---------------------------------------------------------------------------------------

    def fault(
        self,
        status: int | None = None,
        *,
        method: str = "*",
        path: str = "*",
        namespace: str | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        delay_ms: int = 0,
        times: int | None = 1,
        connection_fault: ConnectionFaultName | None = None,
        chunked_dribble_delay: DribbleDelay | None = None,
        body_contains: Mapping[str, Any] | None = None,
        probability: float = 1.0,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Answer the next `times` matching requests (None: all, until cleared) with `status`/`body`, or delay them.

        `path` is a glob after the version prefix, e.g. "/users/*/token". The body defaults to the vendor's
        {"message": ...} for that status. `connection_fault` breaks the connection instead of answering
        ("CONNECTION_RESET_BY_PEER", "EMPTY_RESPONSE", "MALFORMED_RESPONSE_CHUNK", "RANDOM_DATA_THEN_CLOSE");
        `chunked_dribble_delay` sends the answer in chunks over a duration; `body_contains` matches only
        requests whose JSON body contains it; `probability` (with `seed` for repeatable runs) faults only
        that share of the matching requests. Returns the fault, with its "id".
        """
        spec: dict[str, Any] = {"method": method, "path": path, "delayMs": delay_ms, "times": times}
        optional = {
            "status": status,
            "namespace": namespace,
            "body": body,
            "headers": dict(headers) if headers else None,
            "connectionFault": connection_fault,
            "chunkedDribbleDelay": None if chunked_dribble_delay is None else dict(chunked_dribble_delay),
            "bodyContains": None if body_contains is None else dict(body_contains),
            "probability": None if probability == 1.0 else probability,
            "seed": seed,
        }
        spec.update({name: value for name, value in optional.items() if value is not None})
        added: dict[str, Any] = self.control("POST", "faults", spec)
        return added

    def faults(self) -> list[dict[str, Any]]:
        """The faults still set."""
        found: list[dict[str, Any]] = self.control("GET", "faults")["data"]
        return found

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    # -- clock ----------------------------------------------------------------------------------------

    def clock(self) -> dict[str, Any]:
        """{"now": epoch seconds, "iso", "frozen"}."""
        state: dict[str, Any] = self.control("GET", "clock")
        return state

    def freeze_clock(self, at: float | str | datetime | None = None) -> dict[str, Any]:
        """Stop the emulator's clock now, or at `at` (epoch seconds, ISO 8601 text, or an aware datetime)."""
        if isinstance(at, datetime):
            at = at.timestamp()
        state: dict[str, Any] = self.control("POST", "clock/freeze", {} if at is None else {"at": at})
        return state

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Move the clock forward (tokens expire, timestamps move) without waiting."""
        state: dict[str, Any] = self.control("POST", "clock/advance", {"seconds": seconds})
        return state

    def unfreeze_clock(self) -> dict[str, Any]:
        state: dict[str, Any] = self.control("POST", "clock/unfreeze")
        return state

    def reset_clock(self) -> dict[str, Any]:
        """Back to real time."""
        state: dict[str, Any] = self.control("POST", "clock/reset")
        return state

    # -- snapshots ------------------------------------------------------------------------------------

    def save_snapshot(self, name: str) -> None:
        """Remember the current data under `name`."""
        self.control("POST", "snapshots", {"name": name})

    def restore_snapshot(self, name: str) -> None:
        """Put back the data saved under `name`."""
        self.control("POST", f"snapshots/{name}/restore")

    # -- runs (executions of installed workflows) -------------------------------------------------------

    def fail_runs(
        self,
        workflow: str | None = None,
        user: str | Mapping[str, Any] | None = None,
        block: str | None = None,
        message: str | None = None,
        times: int | None = 1,
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """Make the next `times` runs (None: every run, until cleared) fail at a block; returns the rule.

        `workflow` is a workflow id or name (any workflow if None), `user` a userId, username or a dict from
        `create_user` (anyone if None), `block` a block id, name or app such as "shopify" (the first app
        block if None), `namespace` "dev", "prod" or "<account>.dev|prod" (every namespace if None).
        The failed execution shows in the logs, the errors and `totalErrors`.
        """
        spec: dict[str, Any] = {"times": times}
        for name, value in (("workflow", workflow), ("block", block), ("message", message)):
            if value is not None:
                spec[name] = value
        if user is not None:
            spec["user"] = _user_ref(user)
        if namespace is not None:
            spec["namespace"] = namespace
        rule: dict[str, Any] = self.control("POST", "run-failures", spec)
        return rule

    def run_failures(self) -> list[dict[str, Any]]:
        """The failure rules still set, each with its "hits" and "remaining" runs."""
        rules: list[dict[str, Any]] = self.control("GET", "run-failures")["data"]
        return rules

    def clear_run_failures(self) -> None:
        self.control("DELETE", "run-failures")

    def stub_block_output(
        self,
        workflow: str,
        block: str,
        output: Mapping[str, Any],
        user: str | Mapping[str, Any] | None = None,
        namespace: str | None = None,
    ) -> dict[str, Any]:
        """Make `block` (id, name or app) of `workflow` return `output` instead of the emulator's sample, in
        every run (of `user`, if given) until cleared; the next block gets it as its input. Returns the rule."""
        spec: dict[str, Any] = {"workflow": workflow, "block": block, "output": dict(output)}
        if user is not None:
            spec["user"] = _user_ref(user)
        if namespace is not None:
            spec["namespace"] = namespace
        rule: dict[str, Any] = self.control("POST", "block-outputs", spec)
        return rule

    def clear_block_outputs(self) -> None:
        self.control("DELETE", "block-outputs")

    def wait_for_executions(
        self, user: str | Mapping[str, Any] | None = None, namespace: str = "dev", timeout: float = 10.0
    ) -> bool:
        """With --run-latency: wait until the executions recorded so far (of `user`, or of anyone in the
        namespace) have finished. True once they have; False if a frozen clock keeps them running (advance it).
        AlloyMockError if they would take longer than `timeout` seconds (at most 60)."""
        body: dict[str, Any] = {"namespace": namespace, "timeoutMs": round(timeout * 1000)}
        if user is not None:
            body["user"] = _user_ref(user)
        return bool(self.control("POST", "executions/wait", body)["finished"])

    def logs(
        self,
        workflow: str,
        user: str | Mapping[str, Any] | None = None,
        namespace: str = "dev",
        *,
        error: bool = False,
        limit: int = 30,
        order: str = "desc",
    ) -> list[dict[str, Any]]:
        """A workflow's executions from the vendor API's GET /workflows/{workflow}/logs (first page, newest
        first), for `user` or everyone in the namespace; `error=True` keeps the failed ones."""
        params: dict[str, Any] = {"limit": limit, "order": order, "error": "true" if error else None}
        if user is not None:
            params["userId"] = _user_ref(user)
        query = urlencode({k: v for k, v in params.items() if v is not None})
        url = f"{self.base_url}/workflows/{quote(workflow, safe='')}/logs?{query}"
        entries: list[dict[str, Any]] = self._call("GET", url, None, self.headers(namespace))["data"]
        return entries


def format_request(entry: Mapping[str, Any]) -> str:
    """One journal entry on one line: id, method, path, namespace, status, then the error's `message` (with a
    hint when the emulator has no such route), or else the start of the response body."""
    query = f"?{entry['query']}" if entry.get("query") else ""
    body = entry.get("responseBody")
    status = entry.get("connectionFault") or entry.get("status")  # a broken connection had no status
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(status, int) and status >= 400 and isinstance(message, str):
        text = f"message: {message}"
        if status == 404 and message.startswith(UNSERVED):
            text += " (alloy-mock does not serve this route; GET /_mock/coverage lists the operations it serves)"
    else:
        text = "" if body is None else (body if isinstance(body, str) else orjson.dumps(body).decode())
        if len(text) > 120:
            text = text[:117] + "..."
    fault = f" (fault {entry['fault']})" if entry.get("fault") else ""
    namespace = entry.get("namespace") or "-"
    where = f"{entry.get('method')} {entry.get('path')}{query} [{namespace}]"
    return f"#{entry.get('id')} {where} -> {status}{fault} {text}"


def _user_ref(user: str | Mapping[str, Any]) -> str:
    if isinstance(user, str):
        return user
    ref = user.get("userId") or user.get("username")
    if not isinstance(ref, str):
        raise ValueError("user must be a userId, a username, or a dict with userId or username")
    return ref
