"""API keys and user tokens: which namespace a key opens, and the signed JWTs users get.

- An API key maps to one namespace: an account's development or production environment.
- User tokens are real JWTs signed with an asymmetric key (ES256 by default, RS256 on request),
  whose public half is published as a JWKS, so any JWT library can verify them. The `kid` is the
  key's RFC 7638 thumbprint.
- The signing keys are kept in the database (or read from a PEM file the user supplies), so
  tokens stay verifiable across restarts. Changing the algorithm adds a key; older keys stay in
  the JWKS so tokens they signed still verify.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import json
import math
import os
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .clock import Clock
from .config import Account, JwtAlgorithm
from .errors import StartupError
from .store import Store

Environment = Literal["dev", "prod"]
SIGNING_KEYS_META = "signing_keys"
PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
# Token ids: unique without a system call per token (random per process, then counted).
_JTI_PREFIX = os.urandom(6).hex()
_jti_counter = itertools.count(1)


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64_int(value: int, length: int | None = None) -> str:
    """A JWK's integer: big-endian bytes (`length` of them, else as few as it takes), base64url."""
    return _b64(value.to_bytes(length or (value.bit_length() + 7) // 8, "big")).decode()


class SigningKeyError(StartupError):
    """A supplied or stored signing key cannot be used."""


class InvalidToken(Exception):
    """A user token that is malformed, expired, not ours, or signed with another key."""


@dataclass(frozen=True)
class Namespace:
    """The data an API key opens: one account's development or production environment."""

    account: str
    env: Environment
    # "<account>.<env>", worked out once: every collection lookup of every request reads it.
    id: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", f"{self.account}.{self.env}")


class ApiKeys:
    """Maps API keys to namespaces."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self._namespaces: dict[str, Namespace] = {}
        for account in accounts:
            self._namespaces[account.dev_key] = Namespace(account.name, "dev")
            self._namespaces[account.prod_key] = Namespace(account.name, "prod")

    @property
    def namespaces(self) -> list[Namespace]:
        return list(self._namespaces.values())

    def namespace_for(self, authorization: str | None) -> Namespace | None:
        """The namespace of an `Authorization` header value: `Bearer <key>` (any case) or a bare key."""
        if not authorization:
            return None
        scheme, _, rest = authorization.strip().partition(" ")
        key = rest.strip() if scheme.lower() == "bearer" and rest.strip() else authorization.strip()
        return self._namespaces.get(key)


class SigningKey:
    """A private key with its algorithm, public JWK and `kid`.

    The JWK (and the `kid` drawn from it) is made on first use, from the public numbers that
    `cryptography` gives, laid out as PyJWT's `to_jwk` lays them out (tests/test_tokens.py compares the
    two): importing PyJWT for it cost a pytest session's first token 70-100 ms (issue 13).
    """

    def __init__(self, private_key: PrivateKey) -> None:
        self.private_key = private_key
        if isinstance(private_key, ec.EllipticCurvePrivateKey):
            if not isinstance(private_key.curve, ec.SECP256R1):
                raise SigningKeyError(f"EC signing keys must use the P-256 curve, not {private_key.curve.name}")
            self.algorithm: JwtAlgorithm = "ES256"
        else:
            self.algorithm = "RS256"

    @functools.cached_property
    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        jwk: dict[str, Any]
        if isinstance(public, ec.EllipticCurvePublicKey):
            point = public.public_numbers()  # RFC 7518 6.2.1: each coordinate as 32 big-endian bytes
            jwk = {"kty": "EC", "crv": "P-256", "x": _b64_int(point.x, 32), "y": _b64_int(point.y, 32)}
            required: tuple[str, ...] = ("crv", "kty", "x", "y")
        else:
            numbers = public.public_numbers()  # RFC 7518 6.3.1: unsigned big-endian, no leading zeros
            jwk = {"kty": "RSA", "key_ops": ["verify"], "n": _b64_int(numbers.n), "e": _b64_int(numbers.e)}
            required = ("e", "kty", "n")
        canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
        kid = _b64(hashlib.sha256(canonical.encode()).digest()).decode()
        return {**jwk, "kid": kid, "alg": self.algorithm, "use": "sig"}

    @property
    def kid(self) -> str:
        return str(self.public_jwk["kid"])

    @functools.cached_property
    def _header(self) -> bytes:
        return _b64(orjson.dumps({"alg": self.algorithm, "kid": self.kid, "typ": "JWT"})) + b"."

    def sign_jwt(self, claims: dict[str, Any], kid: str | None = None) -> str:
        """A compact JWS of `claims`, signed with this key (header: alg, kid, typ).

        Only the framing is written out here rather than through jwt.encode(): a token is minted on
        every token request, and PyJWT's generic path (stdlib json twice, header merging) costs as
        much as the signature. The header is encoded once per key; the signature itself is OpenSSL's,
        through `cryptography`. PyJWT verifies every token in the tests. `kid` overrides the header's
        key id (only for deliberately wrong tokens).
        """
        header = self._header
        if kid is not None:
            header = _b64(orjson.dumps({"alg": self.algorithm, "kid": kid, "typ": "JWT"})) + b"."
        signing_input = header + _b64(orjson.dumps(claims))
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey):
            # JWS wants r || s (RFC 7518 3.4), cryptography gives DER.
            r, s = decode_dss_signature(self.private_key.sign(signing_input, _ECDSA_SHA256))
            signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        else:
            signature = self.private_key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
        return (signing_input + b"." + _b64(signature)).decode()

    @classmethod
    def generate(cls, algorithm: JwtAlgorithm) -> SigningKey:
        if algorithm == "ES256":
            return cls(ec.generate_private_key(ec.SECP256R1()))
        return cls(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @classmethod
    def from_pem(cls, pem: bytes, source: str) -> SigningKey:
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"{source}: not an unencrypted PEM private key ({exc})") from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise SigningKeyError(f"{source}: only EC P-256 (ES256) and RSA (RS256) keys can sign tokens")
        try:
            return cls(key)
        except SigningKeyError as exc:
            raise SigningKeyError(f"{source}: {exc}") from None

    def to_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()


def load_signing_keys(
    store: Store, algorithm: JwtAlgorithm, supplied: Path | None
) -> tuple[SigningKey, list[SigningKey]]:
    """The active signing key and every key whose tokens should still verify.

    A supplied PEM file wins (its key type decides the algorithm). Otherwise the keys kept in the
    store are used, and a key for `algorithm` is generated and kept if there is none yet.
    """
    if supplied is not None:
        try:
            pem = supplied.read_bytes()
        except OSError as exc:
            raise SigningKeyError(f"{supplied}: cannot read the signing key: {exc.strerror}") from exc
        key = SigningKey.from_pem(pem, str(supplied))
        return key, [key]
    stored = store.get_meta(SIGNING_KEYS_META) or {"keys": []}
    keys = [SigningKey.from_pem(entry["pem"].encode(), "stored signing key") for entry in stored["keys"]]
    active = next((key for key in reversed(keys) if key.algorithm == algorithm), None)
    if active is None:
        active = SigningKey.generate(algorithm)
        keys.append(active)
        store.put_meta(SIGNING_KEYS_META, {"keys": [{"pem": key.to_pem()} for key in keys]})
    return active, keys


@dataclass(frozen=True)
class TokenClaims:
    namespace: Namespace
    user_id: str
    username: str | None
    claims: dict[str, Any]


class TokenIssuer:
    """Signs and verifies user tokens, by the emulator's clock, for the namespaces it serves."""

    def __init__(
        self,
        active: SigningKey,
        keys: list[SigningKey],
        issuer: str,
        ttl: int,
        clock: Clock,
        namespaces: Collection[Namespace],
    ) -> None:
        self.active = active
        self._all_keys = keys
        self.issuer = issuer
        self.ttl = ttl
        self._clock = clock
        self._namespaces = frozenset(namespaces)

    @functools.cached_property
    def _keys(self) -> dict[str, SigningKey]:
        return {key.kid: key for key in self._all_keys}

    def issue(self, namespace: Namespace, user_id: str, username: str | None, ttl: int | None = None) -> str:
        return self.sign(self.claims(namespace, user_id, username, ttl))

    def claims(
        self, namespace: Namespace, user_id: str, username: str | None, ttl: int | None = None
    ) -> dict[str, Any]:
        """The claims of a user token issued now (by the emulator's clock)."""
        now = int(self._clock.now())
        return {
            "iss": self.issuer,
            "sub": user_id,
            "iat": now,
            "exp": now + (self.ttl if ttl is None else ttl),
            "jti": f"{_JTI_PREFIX}{next(_jti_counter):x}",
            "userId": user_id,
            "username": username,
            "namespace": namespace.env,
            "account": namespace.account,
        }

    def sign(self, claims: dict[str, Any]) -> str:
        return self.active.sign_jwt(claims)

    def sign_badly(self, claims: dict[str, Any], how: str) -> str:
        """A token this emulator must reject, for negative tests: signed by a stranger key that
        claims our `kid` ("wrong-key"), by a stranger key with its own kid ("unknown-kid"), or
        not signed at all ("none")."""
        if how == "none":
            import jwt

            return jwt.encode(claims, "", algorithm="none")
        stranger = SigningKey.generate(self.active.algorithm)
        return stranger.sign_jwt(claims, kid=self.active.kid if how == "wrong-key" else None)

    def verify(self, token: str) -> TokenClaims:
        """The claims of a token this emulator signed, valid now and for a namespace it serves.

        PyJWT checks the signature and the issuer; the time claims are checked here against the
        emulator's clock (PyJWT would use the wall clock, so a frozen or advanced clock would refuse
        tokens for the wrong reason); and the namespace must belong to a configured account, so the
        tokens of an account removed from the keys file stop working.
        """
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(header.get("kid", ""))
            if key is None:
                raise InvalidToken("unknown signing key")
            claims = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=[key.algorithm],
                issuer=self.issuer,
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "require": ["exp", "iat", "sub"],
                },
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        _check_time_claims(claims, self._clock.now())
        env, account = claims.get("namespace"), claims.get("account")
        if env not in ("dev", "prod") or not isinstance(account, str):
            raise InvalidToken("the token names no namespace")
        namespace = Namespace(account, env)
        if namespace not in self._namespaces:
            raise InvalidToken(f"the token's namespace {namespace.id} is not served (no such account)")
        return TokenClaims(namespace, str(claims["sub"]), claims.get("username"), claims)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk for key in self._keys.values()]}


def _check_time_claims(claims: dict[str, Any], now: float) -> None:
    """exp, iat and nbf as PyJWT checks them (no leeway), but against `now`: the emulator's clock."""
    for name in ("exp", "iat", "nbf"):
        value = claims.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
        ):
            raise InvalidToken(f"the {name} claim must be a number of seconds")
    if claims["exp"] <= now:
        raise InvalidToken("the token has expired")
    if claims["iat"] > now:
        raise InvalidToken("the token is not yet valid (iat is in the future)")
    if claims.get("nbf") is not None and claims["nbf"] > now:
        raise InvalidToken("the token is not yet valid (nbf is in the future)")
