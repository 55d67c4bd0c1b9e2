"""Precomputed ECDSA nonces: an ES256 token then costs the server ~3 us of arithmetic, not ~30 us of OpenSSL.

An ECDSA signature's expensive part, the point k*G, does not depend on the message. A helper process
(`python -m alloy_mock.presign`: its own core and GIL) computes pairs (k^-1 mod n, r = (k*G).x mod n)
ahead of time and streams them through a pipe; the server finishes a signature with
s = k^-1 * (z + r*d) mod n. The helper blocks once the pipe is full, so it only uses CPU while the
server consumes nonces.

A nonce used twice gives the private key away: each pair is handed out once, never in a forked
child, and whenever no pair is ready (helper not started yet, behind, or gone) the caller signs
with OpenSSL as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import select
import stat
import subprocess
import sys
import threading
import time
from collections import deque

from cryptography.hazmat.primitives.asymmetric import ec

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # order of the P-256 group
RECORD_BYTES = 64  # k^-1 (32 bytes, big-endian), then r (32 bytes)
RECORDS_PER_CHUNK = 64
CHUNK_BYTES = RECORD_BYTES * RECORDS_PER_CHUNK  # 4096 <= PIPE_BUF: each write reaches the pipe whole
READ_BYTES = 65536  # a full pipe's worth
# Inline signatures before the helper is started: unit tests and short-lived servers never spawn a
# process, a server under load gets the helper within its first few hundred tokens.
START_AFTER = 200
STOP_TIMEOUT = 5.0  # seconds for the helper to exit after SIGTERM

Nonce = tuple[int, int]  # (k^-1 mod n, r)
log = logging.getLogger("alloy_mock")

# Forks since this module was loaded, counted in each child: a pool compares it with the count it
# was made under, which costs nothing, where os.getpid() on every token was a system call.
_forks = 0


def _count_fork() -> None:
    global _forks
    _forks += 1


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_count_fork)


def sign(d: int, nonce: Nonce, signing_input: bytes) -> bytes | None:
    """The ES256 signature (r || s) of `signing_input` by the private scalar `d`, with a precomputed
    nonce; None in the (astronomically rare) case s == 0, where the caller must sign another way."""
    kinv, r = nonce
    s = kinv * (int.from_bytes(hashlib.sha256(signing_input).digest(), "big") + r * d) % N
    return r.to_bytes(32, "big") + s.to_bytes(32, "big") if s else None


class NoncePool:
    """Hands out precomputed nonces, each exactly once, without ever blocking the caller.

    By default the pool starts its own helper process, after START_AFTER calls to take() found
    nothing (or at once with start()). Given `fd`, it reads records from that pipe instead (and
    owns the fd): the tests feed it by hand. Thread-safe; after a fork, the child gets nothing.
    """

    def __init__(self, fd: int | None = None, start_after: int = START_AFTER) -> None:
        self._generation = _forks  # -1 once this process turned out to be a forked child
        self._start_after = start_after
        self._misses = 0
        self._ready: deque[Nonce] = deque()
        self._partial = b""  # the start of a record whose end is still in the pipe
        self._fd = -1 if fd is None else fd
        self._helper: subprocess.Popen[bytes] | None = None
        self._done = False  # closed, or the helper is gone: no more nonces, no restart
        self._lock = threading.Lock()  # for reads, start and close; take()'s fast path needs none
        if fd is not None:
            os.set_blocking(fd, False)

    @property
    def helper(self) -> subprocess.Popen[bytes] | None:
        """The helper process, once started."""
        return self._helper

    @property
    def alive(self) -> bool:
        """Whether nonces can still arrive: started (or built around an fd), and not closed or gone."""
        return self._fd >= 0

    def take(self) -> Nonce | None:
        """A nonce (k^-1, r) never handed out before, or None: sign with OpenSSL instead."""
        if _forks != self._generation:
            self._generation = -1  # a forked child: nothing, ever (the parent hands out the same nonces)
            return None
        try:
            return self._ready.popleft()
        except IndexError:
            return self._refill()

    def start(self) -> None:
        """Start the helper now rather than after START_AFTER inline signatures."""
        with self._lock:
            if self._fd < 0 and not self._done and _forks == self._generation:
                self._spawn()

    def fill(self, count: int, timeout: float) -> int:
        """Wait until `count` nonces are buffered, the helper is gone, or `timeout` seconds have
        passed; returns how many are buffered. For tests and benchmarks: a server never waits."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._ready) < count and self._fd >= 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([self._fd], [], [], remaining)[0]:
                    break
                self._read()
            return len(self._ready)

    def close(self) -> None:
        """Stop and reap the helper and close the pipe. Safe to call twice."""
        if _forks != self._generation:  # a forked child: drop its copy of the pipe, leave the parent's helper be
            self._generation = -1
            fd, self._fd = self._fd, -1
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
            return
        with self._lock:
            self._stop(None)
            self._ready.clear()
        if self._helper is not None:
            self._helper.terminate()  # does nothing once it has been reaped
            try:
                self._helper.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._helper.kill()
                self._helper.wait()

    def _refill(self) -> Nonce | None:
        with self._lock:
            if self._ready:  # another thread refilled meanwhile
                return self._ready.popleft()
            if self._fd < 0:
                if not self._done:  # not started yet
                    self._misses += 1
                    if self._misses >= self._start_after:
                        self._spawn()
                return None
            self._read()
            return self._ready.popleft() if self._ready else None

    def _read(self) -> None:
        """Buffer what the pipe holds (lock held)."""
        try:
            data = os.read(self._fd, READ_BYTES)
        except BlockingIOError:
            return
        except OSError as exc:
            self._stop(f"cannot read from the signing helper ({exc})")
            return
        if not data:
            code = None if self._helper is None else self._helper.poll()
            self._stop("the signing helper exited" + ("" if code is None else f" (exit code {code})"))
            return
        if self._partial:
            data = self._partial + data
        end = len(data) - len(data) % RECORD_BYTES
        self._partial = data[end:]
        self._ready.extend(
            (int.from_bytes(data[i : i + 32], "big"), int.from_bytes(data[i + 32 : i + RECORD_BYTES], "big"))
            for i in range(0, end, RECORD_BYTES)
        )

    def _spawn(self) -> None:
        """Start the helper (lock held); if it cannot start, the pool is done."""
        try:
            read_end, write_end = os.pipe()
        except OSError as exc:
            self._stop(f"the signing helper did not start ({exc})")
            return
        try:
            # Its own session: Ctrl-C in the server's terminal does not reach it (it exits on EPIPE
            # once the server is gone instead, quietly).
            self._helper = subprocess.Popen(
                [sys.executable, "-m", "alloy_mock.presign"],
                stdin=subprocess.DEVNULL,
                stdout=write_end,
                start_new_session=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            os.close(read_end)
            self._stop(f"the signing helper did not start ({exc})")
            return
        finally:
            os.close(write_end)
        os.set_blocking(read_end, False)
        self._fd = read_end

    def _stop(self, problem: str | None) -> None:
        """No more nonces from the pipe (lock held), and no new helper; `problem`, if any, is logged
        (once: with the pipe closed, nothing calls this again but close())."""
        self._done = True
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)
        self._partial = b""
        if problem:
            log.warning("%s; user tokens are signed without precomputed nonces from now on", problem)


def _inverses(values: list[int]) -> list[int]:
    """The inverses mod N of `values` with a single pow() (Montgomery's trick): pow(k, -1, N) costs
    about as much as generating the key, three multiplications per value much less."""
    prefix = [1]
    for value in values:
        prefix.append(prefix[-1] * value % N)
    inverse = pow(prefix[-1], -1, N)
    result = [0] * len(values)
    for i in range(len(values) - 1, -1, -1):
        result[i] = inverse * prefix[i] % N
        inverse = inverse * values[i] % N
    return result


def _chunk(curve: ec.EllipticCurve) -> bytes:
    """RECORDS_PER_CHUNK fresh records. OpenSSL's key generation is a uniformly random k with k*G."""
    ks: list[int] = []
    rs: list[int] = []
    while len(ks) < RECORDS_PER_CHUNK:
        numbers = ec.generate_private_key(curve).private_numbers()
        r = numbers.public_numbers.x % N
        if r:  # r == 0 cannot sign
            ks.append(numbers.private_value)
            rs.append(r)
    return b"".join(kinv.to_bytes(32, "big") + r.to_bytes(32, "big") for kinv, r in zip(_inverses(ks), rs, strict=True))


def main() -> int:
    """The helper: write chunks of records to stdout (fd 1), blocking while the pipe is full, until
    the reader goes away."""
    if not stat.S_ISFIFO(os.fstat(1).st_mode):  # a terminal or a file would take records without end
        print("alloy-mock signing helper: stdout must be a pipe read by alloy-mock", file=sys.stderr)
        return 2
    curve = ec.SECP256R1()
    # Lowest priority: the helper takes the CPU the server, its clients and the load generator
    # leave over (measured: steadier and faster token throughput than at normal priority).
    os.nice(19)
    try:
        while True:
            os.write(1, _chunk(curve))
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
