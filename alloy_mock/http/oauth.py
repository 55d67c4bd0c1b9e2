"""The emulator's OAuth consent page: where the OAuth links of the credentials endpoints lead.

GET /oauth/{app}/authorize?token=...[&redirectUri][&state][&<app properties>] shows a consent page; its form
posts the decision back. Allowing stores a credential of that app for the token's user (emulated tokens,
marked `emulated`) and redirects to `redirectUri` with `credentialId`, `app` (and `state`); denying
redirects with `error=access_denied`, as OAuth providers do. Without a browser, add `approve=true` (or
`approve=false`) to the GET. Without `redirectUri` the browser lands on /oauth/done, which says what happened.
"""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..auth import TokenClaims
from ..domain.errors import DomainError
from .pages import error_page, page, token_claims
from .request import emulator, path_param
from .routing import route

DONE_PATH = "/oauth/done"
MAX_FORM_BYTES = 16 * 1024
DECISIONS = ("approve", "deny")


def _with_query(url: str, extra: dict[str, str]) -> str:
    """`url` with `extra` added to its query string (keeping what it had)."""
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *extra.items()]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _redirect_target(request: Request) -> str:
    target = request.query_params.get("redirectUri")
    parsed = urlsplit(target or "")
    if target and parsed.scheme in ("http", "https") and parsed.netloc:
        return target
    return DONE_PATH


async def _decide(request: Request, claims: TokenClaims, app: str, approve: bool) -> Response:
    answer = {"app": app}
    state = request.query_params.get("state")
    if state is not None:
        answer["state"] = state
    if not approve:
        return RedirectResponse(_with_query(_redirect_target(request), {**answer, "error": "access_denied"}), 303)
    em = emulator(request)
    metadata = em.credentials.oauth_app(app)
    properties = {p.name: request.query_params.get(p.name, "") for p in metadata.properties}
    # (Held until on disk, like every answer: DurableResponsesMiddleware.)
    credential = em.credentials.create_emulated(claims.namespace, claims.user_id, metadata.name, properties)
    return RedirectResponse(
        _with_query(_redirect_target(request), {**answer, "credentialId": credential.credential_id}), 303
    )


async def authorize(request: Request) -> Response:
    claims = token_claims(request)
    if not isinstance(claims, TokenClaims):
        return claims
    app = path_param(request, "app")
    em = emulator(request)
    try:
        metadata = em.credentials.oauth_app(app)
    except DomainError as exc:
        return error_page("Not an OAuth app", exc.message, 400)
    if request.method == "POST":
        body = await request.body()
        if len(body) > MAX_FORM_BYTES:
            return error_page("Request too large", "The form is larger than expected.", 413)
        decision = dict(parse_qsl(body.decode("utf-8", "replace"))).get("decision")
        if decision not in DECISIONS:
            return error_page("Unknown decision", "The form must send decision=approve or decision=deny.", 400)
        return await _decide(request, claims, metadata.name, decision == "approve")
    approve = request.query_params.get("approve")
    if approve is not None:
        if approve.lower() not in ("true", "false"):
            return error_page("Unknown decision", "approve must be true or false.", 400)
        return await _decide(request, claims, metadata.name, approve.lower() == "true")
    user = em.users.by_id(claims.namespace, claims.user_id)
    username = user.username if user is not None else claims.user_id
    action = escape(f"{request.url.path}?{request.url.query}", quote=True)
    return page(
        f"Connect {metadata.name}",
        f'<h1>Connect <span data-testid="oauth-app">{escape(metadata.name)}</span></h1>'
        f"<p><strong>{escape(username)}</strong> is asked to let the integration use their "
        f"{escape(metadata.name)} account.</p>"
        '<p class="muted">alloy-mock emulates this consent screen: allowing stores a credential with emulated '
        "tokens.</p>"
        f'<form method="post" action="{action}"><div class="actions">'
        '<button class="primary" type="submit" name="decision" value="approve" id="oauth-allow">Allow</button>'
        '<button class="secondary" type="submit" name="decision" value="deny" id="oauth-deny">Deny</button>'
        "</div></form>",
    )


async def done(request: Request) -> Response:
    """Where the consent page redirects when no redirectUri was given."""
    error = request.query_params.get("error")
    app = escape(request.query_params.get("app", "the app"))
    if error:
        return page("Not connected", f'<h1>Not connected</h1><p role="status">Access to {app} was denied.</p>')
    credential = escape(request.query_params.get("credentialId", ""))
    return page(
        "Connected",
        f'<h1>Connected</h1><p role="status">The {app} credential was stored: '
        f'<code data-testid="credential-id">{credential}</code>. You can close this window.</p>',
    )


routes = [
    route("/oauth/{app}/authorize", GET=authorize, POST=authorize),
    route(DONE_PATH, GET=done),
]
