"""The hosted modal's pages and the drop-in script, served from files of the package (alloy_mock/pages/).

- /forge-install: the iframe alloy-frontend 2.1.1 opens for install, edit and update (reference §7.2).
- /authenticate-app: the iframe of `authenticate` (§7.4).
- /embedded-install: the install link's page (§4.2 #12), the same form in a standalone page.
- /scripts/embedded.js: window.Alloy as alloy-frontend 2.1.1 defines it, pointed at the emulator's origin.
- /modal-assets/<file>: the pages' stylesheet and scripts.

Each page checks its token and target first: a missing, malformed, expired or forged token, or an unknown
integration, gets an error page (no form, no Install button). Otherwise the page is static HTML whose script
asks http/modal_api.py for the form. No external asset: a Content-Security-Policy allows only this origin.
"""

from __future__ import annotations

from html import escape
from importlib import resources

from starlette.requests import Request
from starlette.responses import Response

from ..auth import TokenClaims
from ..domain.errors import DomainError, NotFound, brief
from .errors import ApiError
from .modal_api import authenticate_target, page_params, query_of, target_of, verified
from .pages import page
from .request import path_param
from .routing import route

# The pages' files, read once (they ship in the wheel with the package).
ASSETS: dict[str, tuple[bytes, str]] = {
    name: ((resources.files("alloy_mock") / "pages" / name).read_bytes(), media_type)
    for name, media_type in {
        "modal.html": "text/html; charset=utf-8",
        "modal.css": "text/css; charset=utf-8",
        "modal.js": "text/javascript; charset=utf-8",
        "modal-dom.js": "text/javascript; charset=utf-8",
        "modal-fields.js": "text/javascript; charset=utf-8",
        "page-error.js": "text/javascript; charset=utf-8",
        "oauth-return.html": "text/html; charset=utf-8",
        "oauth-return.js": "text/javascript; charset=utf-8",
        "embedded.js": "text/javascript; charset=utf-8",
    }.items()
}
SERVED_AS_ASSETS = (
    "modal.css",
    "modal.js",
    "modal-dom.js",
    "modal-fields.js",
    "page-error.js",
    "oauth-return.html",
    "oauth-return.js",
)
# Only this origin: the pages load nothing from anywhere else (CI machines are offline), and run no inline script.
CSP = "default-src 'self'; img-src 'self' data:; frame-ancestors *; base-uri 'none'; form-action 'self'"


def asset(name: str, csp: bool = True) -> Response:
    body, media_type = ASSETS[name]
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if csp:
        headers["Content-Security-Policy"] = CSP
    return Response(body, media_type=media_type, headers=headers)


def modal_error(title: str, message: str, status_code: int) -> Response:
    """The error page of a modal: what went wrong, a Close button (it posts {closeModal: true} in an iframe)."""
    return page(
        title,
        f'<h1 id="modal-error-title">{escape(title)}</h1>'
        f'<p class="error" role="alert" id="modal-error-message">{escape(message)}</p>'
        '<div class="actions"><button class="secondary" type="button" id="modal-close">Close</button></div>'
        '<script src="/modal-assets/page-error.js"></script>',
        status_code,
    )


def _claims(request: Request) -> TokenClaims | Response:
    query = query_of(request)
    token = query.first("token")
    if not token:
        return modal_error("Link not valid", "This link has no token.", 401)
    try:
        return verified(request, token)
    except ApiError:
        return modal_error("Link not valid", "This link's token is malformed, expired or not from this emulator.", 401)


async def forge_install(request: Request) -> Response:
    claims = _claims(request)
    if not isinstance(claims, TokenClaims):
        return claims
    try:
        target_of(request, claims, page_params(query_of(request)))
    except DomainError as exc:
        status = 404 if isinstance(exc, NotFound) else 400
        return modal_error("Nothing to install", exc.message, status)
    return asset("modal.html")


async def authenticate_app(request: Request) -> Response:
    claims = _claims(request)
    if not isinstance(claims, TokenClaims):
        return claims
    try:
        authenticate_target(request, claims, query_of(request))
    except DomainError as exc:
        status = 404 if isinstance(exc, NotFound) else 400
        return modal_error("Nothing to connect", exc.message, status)
    return asset("modal.html")


async def modal_asset(request: Request) -> Response:
    name = path_param(request, "name")
    if name not in SERVED_AS_ASSETS:
        raise ApiError(404, f"No modal asset {brief(name)!r}")
    return asset(name)


async def embedded_script(request: Request) -> Response:
    return asset("embedded.js", csp=False)


routes = [
    route("/forge-install", GET=forge_install),
    route("/embedded-install", GET=forge_install),
    route("/authenticate-app", GET=authenticate_app),
    route("/modal-assets/{name}", GET=modal_asset),
    route("/scripts/embedded.js", GET=embedded_script),
]
