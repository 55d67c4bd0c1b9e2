"""HTML pages the emulator serves to browsers: the shared page frame and error page (http/modal.py serves the
modal's pages).

No external assets (CI machines are offline); every value from a request is HTML-escaped.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import HTMLResponse

from ..auth import InvalidToken, TokenClaims
from .request import emulator

STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:32rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:12px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin-top:0}.muted{color:#5b6475}.error{color:#a4161a}
button{font:inherit;padding:.55rem 1.2rem;border-radius:8px;border:1px solid #3056d3;cursor:pointer}
button.primary{background:#3056d3;color:#fff}button.secondary{background:#fff;color:#3056d3}
label{display:block;margin:.8rem 0 .2rem;font-weight:600}
input{font:inherit;width:100%;box-sizing:border-box;padding:.45rem;border:1px solid #9aa3b5;border-radius:6px}
.actions{display:flex;gap:.8rem;margin-top:1.4rem}
@media (max-width:36rem){body{background:#fff}main{margin:0;max-width:none;border-radius:0;box-shadow:none}}
code{background:#eef0f4;padding:0 .25rem;border-radius:4px}
"""


def page(title: str, body: str, status_code: int = 200) -> HTMLResponse:
    """A complete page; `body` is HTML the caller has escaped."""
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · alloy-mock</title><style>{STYLE}</style></head>"
        f"<body><main>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status_code, headers={"Cache-Control": "no-store"})


def error_page(title: str, message: str, status_code: int) -> HTMLResponse:
    return page(title, f'<h1>{escape(title)}</h1><p class="error" role="alert">{escape(message)}</p>', status_code)


def token_claims(request: Request) -> TokenClaims | HTMLResponse:
    """The verified claims of the page's `token` query parameter, or the error page to show instead."""
    token = request.query_params.get("token")
    if not token:
        return error_page("Link not valid", "This link has no token.", 401)
    em = emulator(request)
    try:
        claims = em.tokens.verify(token)
    except InvalidToken:
        return error_page("Link not valid", "This link's token is malformed, expired or not from this emulator.", 401)
    if em.users.by_id(claims.namespace, claims.user_id) is None:
        return error_page("Link not valid", "The user of this link no longer exists.", 401)
    return claims
