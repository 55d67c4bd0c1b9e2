"""User tokens: issuing, verifying with the published JWKS, and using them as x-alloy-user-token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.testclient import TestClient

from alloy_mock.auth import SigningKey
from alloy_mock.config import Settings
from alloy_mock.emulator import Emulator

from .conftest import API, DEV, PROD, ServerProcess
from .helpers import assert_ok, show

MakeUser = Callable[..., str]
USER_TOKEN = "x-alloy-user-token"
UNAUTHORIZED = {"message": "Unauthorized"}
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

ALGORITHMS = [
    pytest.param(Settings(), id="ES256"),
    pytest.param(Settings(jwt_algorithm="RS256"), id="RS256"),
]


# -- helpers --------------------------------------------------------------------------------------


def assert_unauthorized(response: httpx.Response) -> None:
    assert response.status_code == 401, show(response)
    assert response.headers["content-type"].split(";")[0].strip() == "application/json", response.headers
    assert response.json() == UNAUTHORIZED, response.text


def get_token(client: TestClient, ident: str, headers: dict[str, str] = DEV, path: str = "users") -> str:
    body = assert_ok(client.get(f"{API}/{path}/{ident}/token", headers=headers))
    assert set(body) == {"token"}, body
    assert isinstance(body["token"], str), body
    return str(body["token"])


def jwks(client: TestClient) -> dict[str, Any]:
    response = client.get("/.well-known/jwks.json")
    return assert_ok(response)  # type: ignore[no-any-return]


def verify(client: TestClient, token: str, settings: Settings) -> dict[str, Any]:
    """Verify a token as a third party would: with the published JWKS and PyJWT only."""
    key_set = jwt.PyJWKSet.from_dict(jwks(client))
    header = jwt.get_unverified_header(token)
    key = key_set[header["kid"]]
    return jwt.decode(token, key=key, algorithms=[settings.jwt_algorithm], issuer=settings.issuer)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64_json(value: Any) -> str:
    return b64(json.dumps(value, separators=(",", ":")).encode())


def unb64_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def other_key(algorithm: str) -> Any:
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def integrations_as(client: TestClient, token: str | bytes, version: str = "2024-03") -> httpx.Response:
    """What alloy-frontend sends: the user token, no Authorization, no userId."""
    return client.get(f"/{version}/integrations", headers={USER_TOKEN: token})  # type: ignore[dict-item]


@pytest.fixture
def frozen(emulator: Emulator) -> int:
    """Freeze the emulator's clock at a whole second close to the real time (so PyJWT's exp check agrees)."""
    now = int(time.time())
    emulator.clock.freeze(now)
    return now


# -- issuing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["users", "user"])
@pytest.mark.parametrize("by", ["id", "username"])
def test_token_by_both_paths_and_both_identifiers(
    client: TestClient, make_user: MakeUser, settings: Settings, path: str, by: str
) -> None:
    user_id = make_user("tok@example.com", "Tok")
    token = get_token(client, user_id if by == "id" else "tok@example.com", path=path)
    claims = verify(client, token, settings)
    assert claims["userId"] == user_id
    assert claims["username"] == "tok@example.com"


@pytest.mark.parametrize("query", ["?userId", "?userId=", "?userId=someone-else", "?foo=bar&userId=x"])
def test_stray_query_is_ignored(client: TestClient, make_user: MakeUser, settings: Settings, query: str) -> None:
    user_id = make_user("stray")
    make_user("someone-else")
    body = assert_ok(client.get(f"{API}/users/{user_id}/token{query}", headers=DEV))
    assert verify(client, body["token"], settings)["userId"] == user_id


@pytest.mark.parametrize("settings", ALGORITHMS)
def test_token_verifies_with_the_jwks(client: TestClient, make_user: MakeUser, settings: Settings) -> None:
    user_id = make_user("verified")
    token = get_token(client, user_id)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == settings.jwt_algorithm, header
    assert isinstance(header.get("kid"), str) and header["kid"], header

    key_set = jwks(client)
    assert set(key_set) == {"keys"}, key_set
    assert len(key_set["keys"]) == 1, key_set
    (jwk,) = key_set["keys"]
    assert jwk["kid"] == header["kid"], (jwk, header)
    assert jwk["alg"] == settings.jwt_algorithm, jwk
    assert jwk["use"] == "sig", jwk
    if settings.jwt_algorithm == "ES256":
        assert (jwk["kty"], jwk["crv"]) == ("EC", "P-256"), jwk
    else:
        assert jwk["kty"] == "RSA", jwk
    assert not PRIVATE_JWK_MEMBERS & set(jwk), f"the JWKS leaks private key material: {sorted(jwk)}"

    claims = verify(client, token, settings)
    assert claims["userId"] == user_id


@pytest.mark.parametrize("settings", ALGORITHMS)
def test_token_from_the_emulator_fails_verification_with_another_key(
    client: TestClient, make_user: MakeUser, settings: Settings
) -> None:
    token = get_token(client, make_user("x"))
    wrong = other_key(settings.jwt_algorithm).public_key()
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, key=wrong, algorithms=[settings.jwt_algorithm], issuer=settings.issuer)


def test_jwks_is_stable_and_cacheable(client: TestClient) -> None:
    first = client.get("/.well-known/jwks.json")
    assert_ok(first)
    assert "max-age" in first.headers.get("cache-control", ""), first.headers
    assert client.get("/.well-known/jwks.json").json() == first.json()


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(Settings(), id="defaults"),
        pytest.param(Settings(token_ttl=60), id="ttl-60"),
        pytest.param(Settings(token_ttl=7 * 86400, issuer="https://issuer.example.test"), id="week-custom-issuer"),
        pytest.param(Settings(jwt_algorithm="RS256", token_ttl=300, issuer="rs-issuer"), id="RS256-ttl-300"),
    ],
)
def test_claims(client: TestClient, make_user: MakeUser, settings: Settings, frozen: int) -> None:
    user_id = make_user("claims@example.com", "Claims")
    claims = verify(client, get_token(client, user_id), settings)
    assert claims["userId"] == user_id, claims
    assert claims["sub"] == user_id, claims
    assert claims["username"] == "claims@example.com", claims
    assert claims["namespace"] == "dev", claims
    assert claims["iss"] == settings.issuer, claims
    assert claims["iat"] == frozen, claims
    assert claims["exp"] == frozen + settings.token_ttl, claims
    assert claims["exp"] - claims["iat"] == settings.token_ttl, claims
    assert all(isinstance(claims[name], int) and not isinstance(claims[name], bool) for name in ("iat", "exp")), claims


def test_default_lifetime_is_30_minutes(client: TestClient, make_user: MakeUser, settings: Settings) -> None:
    claims = verify(client, get_token(client, make_user("ttl")), settings)
    assert claims["exp"] - claims["iat"] == 1800, claims
    assert claims["iss"] == "alloy-mock", claims


def test_prod_token_names_the_prod_namespace(client: TestClient, make_user: MakeUser, settings: Settings) -> None:
    user_id = make_user("prod-user", headers=PROD)
    claims = verify(client, get_token(client, user_id, headers=PROD), settings)
    assert (claims["userId"], claims["namespace"]) == (user_id, "prod"), claims


def test_username_claim_follows_a_rename(client: TestClient, make_user: MakeUser, settings: Settings) -> None:
    user_id = make_user("before")
    assert_ok(client.put(f"{API}/users/{user_id}", json={"username": "after"}, headers=DEV))
    claims = verify(client, get_token(client, "after"), settings)
    assert (claims["userId"], claims["username"]) == (user_id, "after"), claims


@pytest.mark.parametrize("path", ["users", "user"])
@pytest.mark.parametrize("ident", ["000000000000000000000000", "nobody", "None", "null"])
def test_token_for_unknown_user_is_404(client: TestClient, make_user: MakeUser, path: str, ident: str) -> None:
    make_user("somebody")
    response = client.get(f"{API}/{path}/{ident}/token", headers=DEV)
    assert response.status_code == 404, response.text
    assert response.json() == {"message": "User not found"}, response.text


@pytest.mark.parametrize(("owner", "other"), [(DEV, PROD), (PROD, DEV)], ids=["dev-user", "prod-user"])
@pytest.mark.parametrize("by", ["id", "username"])
def test_other_key_cannot_get_the_token(
    client: TestClient, make_user: MakeUser, owner: dict[str, str], other: dict[str, str], by: str
) -> None:
    user_id = make_user("guarded", headers=owner)
    for path in ("users", "user"):
        response = client.get(f"{API}/{path}/{user_id if by == 'id' else 'guarded'}/token", headers=other)
        assert response.status_code == 404, response.text
        assert response.json() == {"message": "User not found"}, response.text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}], ids=["no-key", "unknown-key"])
def test_token_needs_a_key(client: TestClient, make_user: MakeUser, headers: dict[str, str]) -> None:
    user_id = make_user("keyless")
    assert_unauthorized(client.get(f"{API}/users/{user_id}/token", headers=headers))
    # A user token is not an API key.
    token = get_token(client, user_id)
    assert_unauthorized(client.get(f"{API}/users/{user_id}/token", headers={USER_TOKEN: token}))
    assert_unauthorized(client.get(f"{API}/users/{user_id}/token", headers={"Authorization": f"Bearer {token}"}))


# -- the token as x-alloy-user-token (alloy-frontend) ------------------------------------------------


@pytest.mark.parametrize("settings", ALGORITHMS)
@pytest.mark.parametrize("version", ["2023-12", "2024-03"])
def test_valid_token_lists_the_users_integrations(client: TestClient, make_user: MakeUser, version: str) -> None:
    user_id = make_user("frontend")
    token = get_token(client, user_id)
    with_token = assert_ok(integrations_as(client, token, version))
    with_key = assert_ok(client.get(f"/{version}/integrations", params={"userId": user_id}, headers=DEV))
    assert with_token == with_key
    assert len(with_token["data"]) > 0, with_token


def test_valid_token_gets_one_integration(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("frontend")
    token = get_token(client, user_id)
    with_token = assert_ok(client.get("/2024-03/integrations/shopify", headers={USER_TOKEN: token}))
    with_key = assert_ok(client.get("/2024-03/integrations/shopify", params={"userId": user_id}, headers=DEV))
    assert with_token == with_key
    assert with_token["data"]["app"] == "Shopify", with_token


def test_prod_token_works(client: TestClient, make_user: MakeUser) -> None:
    token = get_token(client, make_user("prod-frontend", headers=PROD), headers=PROD)
    assert_ok(integrations_as(client, token))


def test_token_survives_a_rename(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("old-name")
    token = get_token(client, user_id)
    assert_ok(client.put(f"{API}/users/{user_id}", json={"username": "new-name"}, headers=DEV))
    assert_ok(integrations_as(client, token))


@pytest.mark.parametrize(
    "settings",
    [pytest.param(Settings(), id="default-ttl"), pytest.param(Settings(token_ttl=60), id="ttl-60")],
)
def test_token_expires_by_the_emulator_clock(
    client: TestClient, make_user: MakeUser, emulator: Emulator, settings: Settings, frozen: int
) -> None:
    token = get_token(client, make_user("expiring"))
    assert_ok(integrations_as(client, token))
    emulator.clock.advance(settings.token_ttl - 1)
    assert_ok(integrations_as(client, token))
    emulator.clock.advance(1)
    assert_unauthorized(integrations_as(client, token))
    emulator.clock.advance(86400)
    assert_unauthorized(integrations_as(client, token))


def test_expiry_on_a_running_clock(client: TestClient, make_user: MakeUser, emulator: Emulator) -> None:
    token = get_token(client, make_user("running"))
    emulator.clock.advance(1800 + 1)
    assert_unauthorized(integrations_as(client, token))


@pytest.mark.parametrize("settings", ALGORITHMS)
def test_forged_signature_same_kid(client: TestClient, make_user: MakeUser, settings: Settings) -> None:
    token = get_token(client, make_user("forged"))
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, other_key(settings.jwt_algorithm), algorithm=settings.jwt_algorithm, headers=header)
    assert jwt.get_unverified_header(forged)["kid"] == header["kid"]
    assert_unauthorized(integrations_as(client, forged))


def test_other_algorithm_same_kid(client: TestClient, make_user: MakeUser) -> None:
    """An RS256 token that claims the ES256 key's kid."""
    token = get_token(client, make_user("alg-swap"))
    claims = jwt.decode(token, options={"verify_signature": False})
    kid = jwt.get_unverified_header(token)["kid"]
    swapped = jwt.encode(claims, other_key("RS256"), algorithm="RS256", headers={"kid": kid})
    assert_unauthorized(integrations_as(client, swapped))


@pytest.mark.parametrize("with_kid", [True, False], ids=["with-kid", "without-kid"])
@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
@pytest.mark.parametrize("signature", ["", "AAAA"], ids=["unsigned", "junk-signature"])
def test_alg_none(client: TestClient, make_user: MakeUser, with_kid: bool, alg: str, signature: str) -> None:
    token = get_token(client, make_user("none"))
    header, payload, _ = token.split(".")
    new_header = {**unb64_json(header), "alg": alg}
    if not with_kid:
        new_header.pop("kid")
    assert_unauthorized(integrations_as(client, f"{b64_json(new_header)}.{payload}.{signature}"))


@pytest.mark.parametrize("settings", ALGORITHMS)
def test_hmac_with_the_public_key_as_secret(
    client: TestClient, make_user: MakeUser, emulator: Emulator, settings: Settings
) -> None:
    """The classic key-confusion attack: HS256 signed with the published public key."""
    token = get_token(client, make_user("confused"))
    header, payload, _ = token.split(".")
    public = emulator.tokens.active.private_key.public_key()
    for pem in (
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        json.dumps(jwks(client)["keys"][0]).encode(),
    ):
        new_header = b64_json({**unb64_json(header), "alg": "HS256"})
        signature = b64(hmac.new(pem, f"{new_header}.{payload}".encode(), hashlib.sha256).digest())
        assert_unauthorized(integrations_as(client, f"{new_header}.{payload}.{signature}"))


@pytest.mark.parametrize("kid", ["unknown", "", None], ids=["unknown", "empty", "absent"])
def test_unknown_kid(client: TestClient, make_user: MakeUser, kid: str | None) -> None:
    token = get_token(client, make_user("kid"))
    claims = jwt.decode(token, options={"verify_signature": False})
    headers = {} if kid is None else {"kid": kid}
    assert_unauthorized(integrations_as(client, jwt.encode(claims, other_key("ES256"), "ES256", headers=headers)))


@pytest.mark.parametrize("kid", [["x"], 5, {"a": 1}, True], ids=["list", "number", "object", "bool"])
def test_kid_of_the_wrong_type(client: TestClient, make_user: MakeUser, kid: Any) -> None:
    token = get_token(client, make_user("kid-type"))
    header, payload, signature = token.split(".")
    assert_unauthorized(
        integrations_as(client, f"{b64_json({**unb64_json(header), 'kid': kid})}.{payload}.{signature}")
    )


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        " ",
        "garbage",
        "a.b.c",
        "..",
        "a.b",
        "a.b.c.d.e",
        "eyJhbGciOiJFUzI1NiJ9",
        "eyJhbGciOiJFUzI1NiJ9.e30.",
        "null",
        "{}",
        "W10.W10.W10",  # [] . [] . []
        "x" * 10000,
    ],
)
def test_garbage_token(client: TestClient, garbage: str) -> None:
    assert_unauthorized(integrations_as(client, garbage))


def test_non_ascii_bytes_in_the_header(client: TestClient) -> None:
    assert_unauthorized(integrations_as(client, b"\xff\xfe\x80"))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + "x",
        lambda t: t[:-2],
        lambda t: t.rsplit(".", 1)[0] + ".",
        lambda t: t.rsplit(".", 1)[0],
        lambda t: "Bearer " + t,
        lambda t: t.replace(".", ". ", 1),
    ],
    ids=["appended", "truncated", "no-signature", "two-parts", "bearer-prefix", "space-inside"],
)
def test_mangled_token(client: TestClient, make_user: MakeUser, mangle: Callable[[str], str]) -> None:
    token = get_token(client, make_user("mangled"))
    assert_unauthorized(integrations_as(client, mangle(token)))


def test_token_of_a_deleted_user(client: TestClient, make_user: MakeUser) -> None:
    user_id = make_user("deleted")
    token = get_token(client, user_id)
    assert_ok(integrations_as(client, token))
    assert_ok(client.delete(f"{API}/users/{user_id}", headers=DEV))
    assert_unauthorized(integrations_as(client, token))
    # A new user with the same username is a different user: the old token must not open it.
    make_user("deleted")
    assert_unauthorized(integrations_as(client, token))


def test_token_of_a_deleted_user_does_not_resolve_by_username(client: TestClient, make_user: MakeUser) -> None:
    """The token names a user id; a user whose *username* equals that (deleted) id is someone else."""
    user_id = make_user("victim")
    token = get_token(client, user_id)
    assert_ok(client.delete(f"{API}/users/{user_id}", headers=DEV))
    make_user(user_id)  # anyone may pick a username that happens to be the old id
    assert_unauthorized(integrations_as(client, token))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"userId": "OTHER", "sub": "OTHER"}, id="other-user"),
        pytest.param({"exp": 4102444800}, id="exp-2100"),
        pytest.param({"namespace": "prod"}, id="namespace"),
        pytest.param({"username": "someone-else"}, id="username"),
        pytest.param({"iss": "evil"}, id="issuer"),
    ],
)
def test_tampered_payload(client: TestClient, make_user: MakeUser, change: dict[str, Any]) -> None:
    victim = make_user("victim")
    token = get_token(client, make_user("attacker"))
    header, payload, signature = token.split(".")
    claims = {**unb64_json(payload), **{k: victim if v == "OTHER" else v for k, v in change.items()}}
    tampered = f"{header}.{b64_json(claims)}.{signature}"
    assert_unauthorized(integrations_as(client, tampered))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"iss": "someone-else"}, id="wrong-issuer"),
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"iat": None}, id="no-iat"),
        pytest.param({"sub": None}, id="no-sub"),
        pytest.param({"exp": 1}, id="exp-1970"),
        pytest.param({"namespace": "staging"}, id="bad-namespace"),
        pytest.param({"namespace": None}, id="no-namespace"),
        pytest.param({"account": None}, id="no-account"),
        pytest.param({"sub": "000000000000000000000000", "userId": "000000000000000000000000"}, id="unknown-user"),
    ],
)
def test_emulator_signed_but_invalid_claims(
    client: TestClient, make_user: MakeUser, emulator: Emulator, change: dict[str, Any]
) -> None:
    """Correctly signed (with the emulator's own key) yet not acceptable."""
    token = get_token(client, make_user("signed"))
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(change)
    claims = {k: v for k, v in claims.items() if v is not None}
    assert_unauthorized(integrations_as(client, emulator.tokens.sign(claims)))


def test_authorization_header_takes_precedence(client: TestClient, make_user: MakeUser) -> None:
    """With an API key the request is a server request: the user comes from ?userId, the token is ignored."""
    token = get_token(client, make_user("frontend"))
    response = client.get("/2024-03/integrations", headers={USER_TOKEN: token, **DEV})
    assert response.status_code == 400, response.text
    assert response.json() == {"message": "userId is required"}, response.text
    assert_unauthorized(client.get("/2024-03/integrations", headers={USER_TOKEN: token, "Authorization": "Bearer x"}))


def test_no_token_and_no_key(client: TestClient) -> None:
    assert_unauthorized(client.get("/2024-03/integrations"))
    assert_unauthorized(client.get("/2024-03/integrations/shopify"))


# -- time claims, by the emulator's clock -----------------------------------------------------------


def signed_with(client: TestClient, emulator: Emulator, make_user: MakeUser, **claims: Any) -> str:
    """A token signed with the emulator's key, with the claims of a fresh token changed (None removes one)."""
    token = get_token(client, make_user(f"claims-{len(claims)}-{sorted(claims)}"))
    merged = {**jwt.decode(token, options={"verify_signature": False}), **claims}
    return emulator.tokens.sign({k: v for k, v in merged.items() if v is not None})


DAY = 86400


@pytest.mark.parametrize("shift", [DAY, -DAY, 0], ids=["clock-a-day-ahead", "clock-a-day-behind", "real-time"])
def test_nbf_of_now_is_valid_whatever_the_clock(
    client: TestClient, make_user: MakeUser, emulator: Emulator, shift: int
) -> None:
    """nbf is compared with the emulator's clock: a token valid from the emulator's "now" opens at once,
    even when that is a day ahead of the wall clock (PyJWT's own nbf check refused it)."""
    emulator.clock.freeze(time.time() + shift)
    now = int(emulator.clock.now())
    assert_ok(integrations_as(client, signed_with(client, emulator, make_user, nbf=now, iat=now)))


def test_nbf_in_the_emulators_future_is_refused(client: TestClient, make_user: MakeUser, emulator: Emulator) -> None:
    """With the clock a day behind, nbf = the wall clock's now is still in the emulator's future."""
    emulator.clock.freeze(time.time() - DAY)
    wall = int(time.time())
    token = signed_with(client, emulator, make_user, nbf=wall - 60, iat=int(emulator.clock.now()), exp=wall + 3600)
    assert_unauthorized(integrations_as(client, token))
    emulator.clock.reset()
    assert_ok(integrations_as(client, token))


def test_iat_in_the_emulators_future_is_refused(client: TestClient, make_user: MakeUser, emulator: Emulator) -> None:
    """A token issued later than the emulator's now is "not yet valid", as PyJWT says of a future iat.

    It happens when the clock is moved back after tokens were issued."""
    emulator.clock.advance(3600)
    token = get_token(client, make_user("issued-ahead"))
    assert_ok(integrations_as(client, token))
    emulator.clock.reset()
    assert_unauthorized(integrations_as(client, token))
    emulator.clock.advance(3600)
    assert_ok(integrations_as(client, token))


def test_tokens_issued_on_a_clock_far_ahead_open_while_it_stays_there(
    client: TestClient, make_user: MakeUser, emulator: Emulator
) -> None:
    emulator.clock.freeze(time.time() + 365 * DAY)
    token = get_token(client, make_user("next-year"))
    assert_ok(integrations_as(client, token))
    emulator.clock.advance(1799)
    assert_ok(integrations_as(client, token))
    emulator.clock.advance(1)
    assert_unauthorized(integrations_as(client, token))


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"nbf": "now"}, id="nbf-text"),
        pytest.param({"iat": "now"}, id="iat-text"),
        pytest.param({"exp": "4102444800"}, id="exp-text"),
        pytest.param({"exp": True}, id="exp-bool"),
        pytest.param({"nbf": [0]}, id="nbf-list"),
        pytest.param({"iat": {"at": 0}}, id="iat-object"),
    ],
)
def test_time_claims_that_are_not_numbers(
    client: TestClient, make_user: MakeUser, emulator: Emulator, claims: dict[str, Any]
) -> None:
    assert_unauthorized(integrations_as(client, signed_with(client, emulator, make_user, **claims)))


def test_fractional_time_claims_are_numbers_too(client: TestClient, make_user: MakeUser, emulator: Emulator) -> None:
    now = emulator.clock.now()
    assert_ok(integrations_as(client, signed_with(client, emulator, make_user, iat=now - 0.5, exp=now + 60.5)))


# -- the namespace claim, against the configured accounts ---------------------------------------------


def test_token_for_an_account_that_is_not_configured(
    client: TestClient, make_user: MakeUser, emulator: Emulator
) -> None:
    assert_unauthorized(integrations_as(client, signed_with(client, emulator, make_user, account="ghost")))


def test_token_of_an_account_removed_from_the_keys_file(serve: Callable[..., ServerProcess], tmp_path: Path) -> None:
    """Restarted on the same database without the keys-file account that issued it, a token opens nothing,
    though that account's users are still in the database."""
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps({"accounts": [{"name": "acme", "devKey": "acme-dev", "prodKey": "acme-prod"}]}))
    acme = {"Authorization": "Bearer acme-dev"}
    first = serve("--keys-file", str(keys))
    with first.client() as http:
        created = http.post(f"{API}/users", json={"username": "acme-user"}, headers=acme)
        assert created.status_code == 200, show(created)
        token = assert_ok(http.get(f"{API}/users/{created.json()['userId']}/token", headers=acme))["token"]
        default_user = assert_ok(http.post(f"{API}/users", json={"username": "default-user"}, headers=DEV))
        default_token = assert_ok(http.get(f"{API}/users/{default_user['userId']}/token", headers=DEV))["token"]
        assert_ok(http.get("/2024-03/integrations", headers={USER_TOKEN: token}))
    first.stop()

    second = serve()  # the same --db, no keys file
    with second.client() as http:
        assert_unauthorized(http.get("/2024-03/integrations", headers={USER_TOKEN: token}))
        assert_unauthorized(http.get("/2024-03/integrations/shopify", headers={USER_TOKEN: token}))
        assert_ok(http.get("/2024-03/integrations", headers={USER_TOKEN: default_token}))
    second.stop()

    third = serve("--keys-file", str(keys))  # the account is back: so are its tokens
    with third.client() as http:
        assert_ok(http.get("/2024-03/integrations", headers={USER_TOKEN: token}))


def test_public_jwk_is_what_pyjwt_makes_of_the_key() -> None:
    """The JWK is laid out by hand from the key's public numbers (PyJWT's import cost a session's first
    token ~80 ms): it must be exactly PyJWT's to_jwk, plus kid, alg and use. The EC keys are 600 fixed ones,
    among them coordinates whose first bytes are zero (kept: RFC 7518 wants all 32 bytes)."""
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    keys = [SigningKey(ec.derive_private_key(k, ec.SECP256R1())) for k in range(1, 601)]
    keys += [SigningKey.generate("RS256") for _ in range(3)]
    short = 0
    for key in keys:
        public = key.private_key.public_key()
        if isinstance(public, ec.EllipticCurvePublicKey):
            expected = ECAlgorithm.to_jwk(public, as_dict=True)
            numbers = public.public_numbers()
            short += min(numbers.x, numbers.y) < 2**248
        else:
            expected = RSAAlgorithm.to_jwk(public, as_dict=True)
        jwk = key.public_jwk
        assert list(jwk)[: len(expected)] == list(expected), jwk
        assert {k: jwk[k] for k in expected} == expected, (jwk, expected)
        assert (jwk["alg"], jwk["use"], jwk["kid"]) == (key.algorithm, "sig", key.kid)
    assert short > 0, "no EC key with a leading zero byte was checked"
