"""Precomputed ECDSA nonces (alloy_mock/presign.py): valid signatures, each nonce used once, and a
helper process that starts late, stops with the emulator, and never takes a token down with it."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import os
import select
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from alloy_mock import presign
from alloy_mock.auth import SigningKey, TokenIssuer
from alloy_mock.config import Settings
from alloy_mock.emulator import Emulator
from alloy_mock.presign import CHUNK_BYTES, START_AFTER, N, Nonce, NoncePool

WAIT = 60  # seconds: generous for a loaded CI machine; every wait ends as soon as its event happens


def record(kinv: int, r: int) -> bytes:
    return kinv.to_bytes(32, "big") + r.to_bytes(32, "big")


def signature_r(token: str) -> int:
    part = token.rsplit(".", 1)[1]
    return int.from_bytes(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))[:32], "big")


def verify(tokens: TokenIssuer, token: str) -> dict[str, Any]:
    """As a third party would: PyJWT and the public key from the JWKS."""
    key = jwt.PyJWKSet.from_dict(tokens.jwks())[jwt.get_unverified_header(token)["kid"]]
    claims: dict[str, Any] = jwt.decode(token, key=key, algorithms=["ES256"], issuer=tokens.issuer)
    return claims


def issue(emulator: Emulator, count: int) -> list[str]:
    namespace = emulator.keys.namespaces[0]
    return [emulator.tokens.issue(namespace, f"user-{i}", f"user-{i}@example.com") for i in range(count)]


def record_takes(pool: NoncePool, monkeypatch: pytest.MonkeyPatch) -> list[Nonce | None]:
    """What each take() of `pool` returns from now on."""
    taken: list[Nonce | None] = []
    take = pool.take

    def recording() -> Nonce | None:
        taken.append(take())
        return taken[-1]

    monkeypatch.setattr(pool, "take", recording)
    return taken


def drain(pool: NoncePool) -> list[Nonce]:
    """Every nonce take() gives until it gives None."""
    got: list[Nonce] = []
    while (nonce := pool.take()) is not None:
        got.append(nonce)
        assert len(got) <= 100_000, "take() never runs dry"
    return got


def pool_of(emulator: Emulator) -> NoncePool:
    assert emulator.tokens.nonces is not None, "an ES256 emulator with the signing helper on has a pool"
    return emulator.tokens.nonces


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "alloy_mock" and r.levelno == logging.WARNING]


@pytest.fixture
def pipe() -> Iterator[tuple[NoncePool, int]]:
    """A pool reading from a pipe the test writes records to (the write end)."""
    read_end, write_end = os.pipe()
    pool = NoncePool(fd=read_end)
    yield pool, write_end
    pool.close()
    with contextlib.suppress(OSError):  # unless the test closed it already
        os.close(write_end)


# -- signatures -----------------------------------------------------------------------------------------


def test_tokens_signed_with_pool_nonces_verify(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    pool = pool_of(emulator)
    pool.start()
    assert pool.fill(300, timeout=WAIT) >= 300, "the helper did not deliver 300 nonces"
    taken = record_takes(pool, monkeypatch)
    tokens = issue(emulator, 300)
    assert len(taken) == 300 and None not in taken, "every token should have used a precomputed nonce"
    for i, (token, nonce) in enumerate(zip(tokens, taken, strict=True)):
        assert nonce is not None
        assert signature_r(token) == nonce[1], "the signature's r must be the pool's"
        assert verify(emulator.tokens, token)["sub"] == f"user-{i}"


def test_helper_records_are_valid_nonces() -> None:
    """k^-1 and r of each record belong together: a signature made with them verifies."""
    pool = NoncePool()
    try:
        pool.start()
        assert pool.fill(64, timeout=WAIT) >= 64
        key = ec.generate_private_key(ec.SECP256R1())
        d = key.private_numbers().private_value
        for i in range(64):
            nonce = pool.take()
            assert nonce is not None
            assert 0 < nonce[0] < N and 0 < nonce[1] < N
            message = f"message {i}".encode()
            signature = presign.sign(d, nonce, message)
            assert signature is not None
            r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            assert r == nonce[1]
            key.public_key().verify(encode_dss_signature(r, s), message, ec.ECDSA(hashes.SHA256()))
    finally:
        pool.close()


def test_zero_s_falls_back_to_openssl(pipe: tuple[NoncePool, int]) -> None:
    pool, write_end = pipe
    private_key = ec.generate_private_key(ec.SECP256R1())
    key = SigningKey(private_key)
    claims = {"sub": "zero", "iat": 1}
    signing_input = key.sign_jwt(claims).rsplit(".", 1)[0].encode()  # the same claims give the same input
    z = int.from_bytes(hashlib.sha256(signing_input).digest(), "big")
    d = private_key.private_numbers().private_value
    r = -z * pow(d, -1, N) % N  # then z + r*d = 0 (mod n), so s = 0 for any k^-1
    os.write(write_end, record(12345, r))
    token = key.sign_jwt(claims, nonces=pool)
    assert signature_r(token) != r, "s == 0 is no signature: OpenSSL must sign instead"
    jwt.decode(token, private_key.public_key(), algorithms=["ES256"])


def test_stranger_keys_never_use_the_pool(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    pool = pool_of(emulator)
    taken = record_takes(pool, monkeypatch)
    claims = emulator.tokens.claims(emulator.keys.namespaces[0], "u", "u")
    for how in ("wrong-key", "unknown-kid", "none"):
        emulator.tokens.sign_badly(claims, how)
    assert taken == [], "sign_badly() must not spend the active key's nonces"
    emulator.tokens.sign(claims)
    assert len(taken) == 1, "sign() asks the pool"


# -- each nonce once ------------------------------------------------------------------------------------


def test_no_nonce_is_handed_out_twice() -> None:
    pool = NoncePool()
    try:
        pool.start()
        nonces: list[Nonce] = []
        while len(nonces) < 3000:
            assert pool.fill(1, timeout=WAIT) >= 1, f"the helper stopped after {len(nonces)} nonces"
            nonces += drain(pool)
        assert len({r for _, r in nonces}) == len(nonces), "an r value was handed out twice"
        assert len({kinv for kinv, _ in nonces}) == len(nonces), "a k^-1 value was handed out twice"
    finally:
        pool.close()


def test_threads_never_share_a_nonce(pipe: tuple[NoncePool, int]) -> None:
    pool, write_end = pipe
    count = 4000  # more than a pipe holds: the writer blocks while the readers take

    def write() -> None:
        for first in range(1, count + 1, 64):
            os.write(write_end, b"".join(record(i, i) for i in range(first, min(first + 64, count + 1))))
        os.close(write_end)

    results: list[list[Nonce]] = [[] for _ in range(4)]

    def read(into: list[Nonce]) -> None:
        while True:
            nonce = pool.take()
            if nonce is not None:
                into.append(nonce)
                assert len(into) <= count
            elif pool.fill(1, WAIT) == 0 and not pool.alive:
                return

    threads = [threading.Thread(target=write)] + [threading.Thread(target=read, args=(r,)) for r in results]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
        assert not thread.is_alive()
    taken = [r for result in results for _, r in result]
    assert sorted(taken) == list(range(1, count + 1)), "each nonce exactly once, none lost"


def test_records_split_across_reads(pipe: tuple[NoncePool, int], caplog: pytest.LogCaptureFixture) -> None:
    pool, write_end = pipe
    expected = [(N - 1 - i, i * 7919 + 1) for i in range(6)]
    data = b"".join(record(kinv, r) for kinv, r in expected)
    got: list[Nonce] = []
    offset = 0
    for size in (1, 70, 1, 60, 100, 1, 151):  # 1, 71, 72, 132, 232, 233, 384 bytes: records split every time
        assert pool.take() is None, "a nonce with no complete record behind it"
        os.write(write_end, data[offset : offset + size])
        offset += size
        got += drain(pool)
        assert len(got) == offset // 64, f"after {offset} bytes"
    assert offset == len(data)
    assert got == expected
    assert warnings_of(caplog) == []
    os.close(write_end)
    assert pool.take() is None
    assert not pool.alive
    assert pool.take() is None
    assert len(warnings_of(caplog)) == 1, "the end of the pipe is logged, once"


# -- forks ----------------------------------------------------------------------------------------------


def test_a_forked_process_gets_nothing_ever(pipe: tuple[NoncePool, int], monkeypatch: pytest.MonkeyPatch) -> None:
    pool, write_end = pipe
    os.write(write_end, record(1, 2) + record(3, 4))
    monkeypatch.setattr(presign, "_forks", presign._forks + 1)  # what the after-fork hook does in a child
    assert pool.take() is None, "a forked child must not take the parent's nonces"
    monkeypatch.undo()
    assert pool.take() is None, "once seen in another process, the pool stays empty"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_forked_child_gets_nothing(pipe: tuple[NoncePool, int]) -> None:
    pool, write_end = pipe
    os.write(write_end, record(1, 2) + record(3, 4))
    assert pool.take() == (1, 2)  # the parent has (3, 4) buffered now
    report_read, report_write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child)
        try:
            os.write(report_write, b"none" if pool.take() is None else b"nonce")
        finally:
            os._exit(0)
    os.close(report_write)
    try:
        assert os.read(report_read, 16) == b"none", "the child took a nonce of its parent"
    finally:
        os.close(report_read)
        os.waitpid(child, 0)
    assert pool.take() == (3, 4), "the parent keeps its nonces"


# -- the helper process ---------------------------------------------------------------------------------


def test_helper_exits_quietly_when_the_reader_goes() -> None:
    helper = subprocess.Popen(
        [sys.executable, "-m", "alloy_mock.presign"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert helper.stdout is not None and helper.stderr is not None
    try:
        assert select.select([helper.stdout], [], [], WAIT)[0], "the helper wrote nothing"
        data = os.read(helper.stdout.fileno(), 65536)
        assert data and len(data) % CHUNK_BYTES == 0, f"writes come in whole {CHUNK_BYTES}-byte chunks: {len(data)}"
        helper.stdout.close()
        assert helper.wait(timeout=WAIT) == 0
        assert helper.stderr.read() == b"", "no traceback on a broken pipe"
    finally:
        helper.kill()
        helper.wait()
        helper.stderr.close()


def test_helper_refuses_to_write_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "records"
    with out.open("wb") as file:
        result = subprocess.run(
            [sys.executable, "-m", "alloy_mock.presign"],
            stdin=subprocess.DEVNULL,
            stdout=file,
            stderr=subprocess.PIPE,
            timeout=30,  # without the check it would fill the disk meanwhile
        )
    assert result.returncode == 2
    assert out.stat().st_size == 0
    assert b"must be a pipe" in result.stderr


def test_helper_gone_tokens_still_valid(
    emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    pool = pool_of(emulator)
    pool.start()
    assert pool.fill(1, timeout=WAIT) >= 1
    helper = pool.helper
    assert helper is not None
    helper.kill()
    helper.wait(timeout=WAIT)
    taken = record_takes(pool, monkeypatch)
    tokens: list[str] = []
    while pool.alive:  # what is buffered and still in the pipe is used up first
        assert len(tokens) < 5000, "the pool should notice the helper's end after at most a pipe's worth"
        tokens += issue(emulator, 1)
    assert any(taken), "the nonces delivered before the end are still good"
    tokens += issue(emulator, 20)
    assert taken[-20:] == [None] * 20, "no nonces after the helper's end"
    for token in tokens:
        verify(emulator.tokens, token)
    messages = warnings_of(caplog)
    assert len(messages) == 1, messages
    assert "signing helper exited" in messages[0]


def test_closed_pool_signs_with_openssl_quietly(emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    pool = pool_of(emulator)
    pool.start()
    assert pool.fill(1, timeout=WAIT) >= 1
    pool.close()
    pool.close()  # twice is fine
    assert pool.take() is None
    for token in issue(emulator, 5):
        verify(emulator.tokens, token)
    assert warnings_of(caplog) == [], "closing is not a problem to report"


def test_closed_pool_never_starts_a_helper() -> None:
    pool = NoncePool(start_after=1)
    pool.close()
    assert [pool.take() for _ in range(3)] == [None] * 3
    pool.start()
    assert pool.helper is None


def test_emulator_close_reaps_the_helper() -> None:
    emulator = Emulator.open(Settings())
    pool = pool_of(emulator)
    pool.start()
    helper = pool.helper
    assert helper is not None and helper.poll() is None
    emulator.close()
    assert helper.returncode is not None, "Emulator.close() must wait for the helper"
    assert not pool.alive and pool.take() is None
    pool.start()
    assert pool.helper is helper, "a closed pool starts no new helper"


def test_helper_starts_only_after_the_threshold(emulator: Emulator) -> None:
    pool = pool_of(emulator)
    issue(emulator, START_AFTER - 1)
    assert pool.helper is None, f"no helper process for fewer than {START_AFTER} tokens"
    issue(emulator, 1)
    assert pool.helper is not None and pool.alive, f"the helper starts at the {START_AFTER}th inline signature"


@pytest.mark.parametrize(
    "make_settings",
    [
        lambda: Settings(signing_helper=False),
        lambda: Settings.load({"signing_helper": "off", "db": ":memory:"}, {}),
        lambda: Settings.load({"db": ":memory:"}, {"ALLOY_MOCK_SIGNING_HELPER": "off"}),
    ],
    ids=["settings", "flag", "env"],
)
def test_signing_helper_off_never_spawns(make_settings: Callable[[], Settings]) -> None:
    emulator = Emulator.open(make_settings())
    try:
        assert emulator.tokens.nonces is None
        for token in issue(emulator, START_AFTER + 10):
            verify(emulator.tokens, token)
        assert emulator.tokens.nonces is None
    finally:
        emulator.close()


def test_rs256_never_spawns() -> None:
    emulator = Emulator.open(Settings(jwt_algorithm="RS256"))
    try:
        assert emulator.tokens.nonces is None, "RS256 has no use for ECDSA nonces"
        (token,) = issue(emulator, 1)
        key = jwt.PyJWKSet.from_dict(emulator.tokens.jwks())[jwt.get_unverified_header(token)["kid"]]
        jwt.decode(token, key=key, algorithms=["RS256"], issuer=emulator.tokens.issuer)
    finally:
        emulator.close()
