"""Identifiers in the vendor's formats."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import struct
import time

OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")
_counter = int.from_bytes(os.urandom(3), "big")
_process_bytes = os.urandom(5)


def new_object_id() -> str:
    """A 24-hex MongoDB-style ObjectId: 4 bytes of time, 5 random bytes per process, a 3-byte counter."""
    global _counter
    _counter = (_counter + 1) & 0xFFFFFF
    return (struct.pack(">I", int(time.time()) & 0xFFFFFFFF) + _process_bytes + _counter.to_bytes(3, "big")).hex()


def is_object_id(value: str) -> bool:
    return OBJECT_ID.match(value) is not None


# Execution ids need to be unique, not secret or unguessable: a random prefix per process (drawn again in
# a forked child) and a counter, formatted without a system call or a random draw per id.
_URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_nanoid_prefix = ""
_sequence = itertools.count(1)


def _draw_prefix() -> None:
    global _nanoid_prefix
    _nanoid_prefix = "".join(_URLSAFE[b & 63] for b in os.urandom(11))


def new_nanoid() -> str:
    """A 21-character URL-safe id, the shape of the vendor's executionIds (H4uUaCEjkA8Awi4xiNk-r)."""
    return _nanoid_prefix + "%010x" % next(_sequence)  # noqa: UP031 (printf-style costs less than ":010x")


def derived_uuid(*parts: str | int) -> str:
    """A UUID in the version 4 layout that the same parts always give (a hash of them): ids that a stored
    record can be rendered with again, unique as long as the parts are."""
    h = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


_draw_prefix()
os.register_at_fork(after_in_child=_draw_prefix)  # a forked child draws its own prefix
